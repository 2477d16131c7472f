#include "sys/file_kind.h"

#include <sys/stat.h>

#include <cerrno>

#include "sys/error.h"

namespace netmon {

std::string non_regular_kind(int fd, const std::string& path) {
  struct stat st {};
  if (::fstat(fd, &st) < 0) throw Error(errno_message(path + ": cannot stat", errno));
  switch (st.st_mode & S_IFMT) {
    case S_IFREG:
      return "";
    case S_IFIFO:
      return "a FIFO";
    case S_IFDIR:
      return "a directory";
    case S_IFCHR:
      return "a character device";
    case S_IFBLK:
      return "a block device";
    case S_IFSOCK:
      return "a socket";
  }
  return "not a file";
}

}  // namespace netmon

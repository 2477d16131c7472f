// Errors that end the agent (bad input, setup failures). Recoverable
// conditions are returned, not thrown; main() turns an Error into one line on
// stderr and a non-zero exit.
#pragma once

#include <stdexcept>
#include <string>

namespace netmon {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& what, int exit_code = 1)
      : std::runtime_error(what), exit_code_(exit_code) {}
  int exit_code() const { return exit_code_; }

 private:
  int exit_code_;
};

// A mistake on the command line (or in an option's value, such as
// --listen's address): main prints it with a hint and exits 2.
class UsageError : public Error {
 public:
  explicit UsageError(const std::string& what) : Error(what, 2) {}
};

// "what: strerror(err)" for errno-style failures.
std::string errno_message(const std::string& what, int err);

}  // namespace netmon

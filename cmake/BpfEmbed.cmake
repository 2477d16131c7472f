# cmake -DSKELETON=in.skel.h -DOBJECT=x.bpf.o -DNAME=name -DOUTPUT=out.skel.h -P BpfEmbed.cmake
#
# Rewrites the body of name__elf_bytes() in a bpftool skeleton so that it
# returns OBJECT's bytes instead of those the skeleton was generated from.
# Used for big-endian targets: see BpfObject.cmake. Fails loudly if the
# skeleton does not have the shape bpftool 7.x gives it, rather than
# embedding the wrong object.
foreach(var SKELETON OBJECT NAME OUTPUT)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "BpfEmbed.cmake: ${var} is not set")
  endif()
endforeach()

file(READ ${SKELETON} text)
set(head "static inline const void *${NAME}__elf_bytes(size_t *sz)\n{\n")
string(FIND "${text}" "${head}" begin)
if(begin EQUAL -1)
  message(FATAL_ERROR "BpfEmbed.cmake: no ${NAME}__elf_bytes() definition in ${SKELETON}")
endif()
string(LENGTH "${head}" head_len)
math(EXPR body_begin "${begin} + ${head_len}")
string(SUBSTRING "${text}" ${body_begin} -1 rest)
# The body is `*sz = N; return (const void *)"...";` and ends at the first
# line that closes the function.
string(FIND "${rest}" "\";\n}\n" body_len)
if(body_len EQUAL -1)
  message(FATAL_ERROR "BpfEmbed.cmake: ${NAME}__elf_bytes() in ${SKELETON} has no string body")
endif()
string(SUBSTRING "${rest}" 0 ${body_len} body)
if(NOT body MATCHES "^\t\\*sz = [0-9]+;\n\treturn \\(const void \\*\\)\"")
  message(FATAL_ERROR "BpfEmbed.cmake: unexpected ${NAME}__elf_bytes() body in ${SKELETON}")
endif()
math(EXPR tail_begin "${body_len} + 2") # keep `";`
string(SUBSTRING "${rest}" ${tail_begin} -1 tail)
string(SUBSTRING "${text}" 0 ${body_begin} before)

file(SIZE ${OBJECT} size)
file(READ ${OBJECT} hex HEX)
# \xNN for every byte, 32 bytes to a continued line like bpftool's. Every
# escape is followed by a backslash or the end of the string, so none of
# them swallows the next byte's digits.
string(REPEAT "[0-9a-f]" 64 line_of_hex)
string(REGEX REPLACE "(${line_of_hex})" "\\1\n" hex "${hex}")
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "\\\\x\\1" escaped "${hex}")
string(REPLACE "\n" "\\\n" escaped "${escaped}")
file(WRITE ${OUTPUT}.tmp
     "${before}\t*sz = ${size};\n\treturn (const void *)\"\\\n${escaped}\";${tail}")
file(RENAME ${OUTPUT}.tmp ${OUTPUT})

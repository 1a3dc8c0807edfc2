# Turns a file into a C++ source defining `std::string_view <SYMBOL>()`.
# Usage: cmake -DINPUT=file -DOUTPUT=out.cc -DSYMBOL=name -DNAMESPACE=ns -P embed.cmake
if(EXISTS "${INPUT}")
  file(READ "${INPUT}" hex HEX)
else()
  set(hex "")
endif()
string(LENGTH "${hex}" hexlen)
math(EXPR size "${hexlen} / 2")
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "'\\\\x\\1'," body "${hex}")
file(WRITE "${OUTPUT}.tmp"
"// Generated from ${INPUT} by cmake/embed.cmake. Do not edit.\n#include <string_view>\nnamespace ${NAMESPACE} {\nnamespace { const char kData[] = {${body} 0}; }\nstd::string_view ${SYMBOL}() { return std::string_view(kData, ${size}); }\n}\n")
file(COPY_FILE "${OUTPUT}.tmp" "${OUTPUT}" ONLY_IF_DIFFERENT)

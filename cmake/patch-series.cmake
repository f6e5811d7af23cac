# SPDX-License-Identifier: AGPL-3.0-or-later
# Applies every patch named in SERIES (one per line, # comments) to the
# current directory with patch -p1, in order; the first that does not apply
# stops the build, naming it.
file(STRINGS "${SERIES}" names)
get_filename_component(dir "${SERIES}" DIRECTORY)
foreach(name IN LISTS names)
  string(STRIP "${name}" name)
  if(name STREQUAL "" OR name MATCHES "^#")
    continue()
  endif()
  execute_process(COMMAND patch -p1 --forward --batch --quiet -i "${dir}/${name}"
    RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "bundled libssh: ${name} does not apply:\n${out}")
  endif()
endforeach()

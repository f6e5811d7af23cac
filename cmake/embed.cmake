# SPDX-License-Identifier: AGPL-3.0-or-later
# Turns the unit templates into C string literals, so that `tether setup`
# installs exactly the units in units/ without depending on where they were
# installed. Run with -DSYSTEM=... -DUSER=... -DOUT=...
function(embed_as_c_string var file out)
  file(READ "${file}" text)
  string(REPLACE "\\" "\\\\" text "${text}")
  string(REPLACE "\"" "\\\"" text "${text}")
  string(REPLACE "\n" "\\n\"\n\"" text "${text}")
  set(${out} "static const char ${var}[] =\n\"${text}\";\n" PARENT_SCOPE)
endfunction()
embed_as_c_string(UNIT_SYSTEM_TEMPLATE "${SYSTEM}" sys)
embed_as_c_string(UNIT_USER_TEMPLATE "${USER}" usr)
file(WRITE "${OUT}.new" "/* Generated from units/ by cmake/embed.cmake. */\n${sys}\n${usr}")
file(COPY_FILE "${OUT}.new" "${OUT}" ONLY_IF_DIFFERENT)

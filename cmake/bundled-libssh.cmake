# SPDX-License-Identifier: AGPL-3.0-or-later
# TETHER_BUNDLED_LIBSSH: libssh built from the tarball in src/libssh (its
# SHA-256 checked), with the patch series there applied, linked statically.
# Defines the imported target tether_bundled_libssh and the compile
# definition TETHER_LIBSSH_CHANNEL_WINDOW (the SSH_OPTIONS_CHANNEL_WINDOW
# patch). Whoever ships this build tracks libssh's security releases: see
# docs/libssh.md.
include(ExternalProject)
find_package(OpenSSL REQUIRED)
find_package(ZLIB REQUIRED)
find_program(PATCH_PROGRAM patch REQUIRED)

set(libssh_dir ${CMAKE_CURRENT_SOURCE_DIR}/src/libssh)
file(STRINGS ${libssh_dir}/SHA256SUMS libssh_sum REGEX "libssh-0.10.6.tar.xz$")
string(REGEX MATCH "^[0-9a-f]+" libssh_sha256 "${libssh_sum}")
# The build directory is named for the patch series' contents: a changed
# patch reconfigures (CMAKE_CONFIGURE_DEPENDS) and rebuilds libssh afresh.
file(GLOB libssh_patches ${libssh_dir}/patches/*)
set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS
  ${libssh_patches} ${libssh_dir}/SHA256SUMS)
set(libssh_series_text "")
foreach(f IN LISTS libssh_patches)
  file(READ ${f} text)
  string(APPEND libssh_series_text "${text}")
endforeach()
string(SHA256 libssh_series_hash "${libssh_series_text}")
string(SUBSTRING ${libssh_series_hash} 0 12 libssh_series_hash)
set(libssh_prefix ${CMAKE_CURRENT_BINARY_DIR}/libssh-${libssh_series_hash})
set(libssh_lib ${libssh_prefix}/lib/libssh.a)

ExternalProject_Add(libssh_bundled
  URL ${libssh_dir}/libssh-0.10.6.tar.xz
  URL_HASH SHA256=${libssh_sha256}
  DOWNLOAD_EXTRACT_TIMESTAMP TRUE
  PREFIX ${libssh_prefix}
  PATCH_COMMAND ${CMAKE_COMMAND} -DSERIES=${libssh_dir}/patches/series
    -P ${CMAKE_CURRENT_SOURCE_DIR}/cmake/patch-series.cmake
  CMAKE_ARGS
    -DCMAKE_INSTALL_PREFIX=${libssh_prefix}
    -DCMAKE_INSTALL_LIBDIR=lib
    -DCMAKE_BUILD_TYPE=Release
    -DCMAKE_C_COMPILER=${CMAKE_C_COMPILER}
    -DCMAKE_POSITION_INDEPENDENT_CODE=ON
    -DBUILD_SHARED_LIBS=OFF
    -DWITH_EXAMPLES=OFF
    -DWITH_GSSAPI=OFF
    -DWITH_PCAP=OFF
    -DWITH_SFTP=OFF
    -DWITH_SYMBOL_VERSIONING=OFF
    -DUNIT_TESTING=OFF
  BUILD_BYPRODUCTS ${libssh_lib}
  LOG_CONFIGURE ON LOG_BUILD ON LOG_INSTALL ON LOG_PATCH ON
  LOG_OUTPUT_ON_FAILURE ON)

file(MAKE_DIRECTORY ${libssh_prefix}/include)
add_library(tether_bundled_libssh STATIC IMPORTED GLOBAL)
set_target_properties(tether_bundled_libssh PROPERTIES
  IMPORTED_LOCATION ${libssh_lib}
  INTERFACE_INCLUDE_DIRECTORIES ${libssh_prefix}/include
  INTERFACE_COMPILE_DEFINITIONS "LIBSSH_STATIC=1;TETHER_LIBSSH_CHANNEL_WINDOW=1"
  INTERFACE_LINK_LIBRARIES "OpenSSL::Crypto;ZLIB::ZLIB;Threads::Threads")
add_dependencies(tether_bundled_libssh libssh_bundled)

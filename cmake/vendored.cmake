# The header-only dependencies from a folder instead of the system's
# packages, for a machine that has a compiler, CMake and LibTorch but no
# Debian packages and no network (the GPU machine of scripts/gpu_check.sh).
# `scripts/gpu_check.sh --vendor DIR` fills DIR/include from Debian's
# CLI11, spdlog, fmt, nlohmann-json and zlib headers; spdlog and fmt are
# used header-only, and zlib's library is the system's libz.so.1.
set(vendor_include ${PTSCOPE_VENDOR_DIR}/include)
foreach(header CLI/CLI.hpp spdlog/spdlog.h fmt/format-inl.h nlohmann/json.hpp zlib.h)
  if(NOT EXISTS ${vendor_include}/${header})
    message(FATAL_ERROR "PTSCOPE_VENDOR_DIR: ${vendor_include}/${header} is missing; "
                        "fill the folder with scripts/gpu_check.sh --vendor DIR")
  endif()
endforeach()

add_library(CLI11::CLI11 INTERFACE IMPORTED)
set_target_properties(CLI11::CLI11 PROPERTIES INTERFACE_INCLUDE_DIRECTORIES ${vendor_include})

add_library(nlohmann_json::nlohmann_json INTERFACE IMPORTED)
set_target_properties(nlohmann_json::nlohmann_json PROPERTIES INTERFACE_INCLUDE_DIRECTORIES ${vendor_include})

# Debian's spdlog uses an external fmt (its tweakme.h says SPDLOG_FMT_EXTERNAL);
# without SPDLOG_COMPILED_LIB both are header-only.
add_library(spdlog::spdlog INTERFACE IMPORTED)
set_target_properties(spdlog::spdlog PROPERTIES
  INTERFACE_INCLUDE_DIRECTORIES ${vendor_include}
  INTERFACE_COMPILE_DEFINITIONS "SPDLOG_HEADER_ONLY;SPDLOG_FMT_EXTERNAL;FMT_HEADER_ONLY")

# The library itself comes with every glibc system, often without the
# development symlink libz.so.
find_library(PTSCOPE_ZLIB_LIBRARY NAMES z libz.so.1 REQUIRED)
add_library(ZLIB::ZLIB UNKNOWN IMPORTED)
set_target_properties(ZLIB::ZLIB PROPERTIES
  IMPORTED_LOCATION ${PTSCOPE_ZLIB_LIBRARY}
  INTERFACE_INCLUDE_DIRECTORIES ${vendor_include})
message(STATUS "Header-only dependencies from ${vendor_include}; zlib ${PTSCOPE_ZLIB_LIBRARY}")

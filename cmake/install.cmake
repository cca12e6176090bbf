# What `cmake --install build --prefix P` puts where, and the CMake package
# that lets another project `find_package(ptscope)` and link the library.
#
#   P/bin/ptscope                          the CLI
#   P/lib/ptscope/libptscope_torch.so      its LibTorch plugin (Backend::load looks here)
#   P/include/ptscope/*.h                  the public API
#   P/lib/libptscope_*.a                   the stages the public API needs
#   P/lib/cmake/ptscope/                   ptscope-config.cmake, version, targets
#   P/share/man/man1/ptscope.1, P/share/bash-completion/completions/ptscope
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(PTSCOPE_PLUGIN_INSTALL_DIR ${CMAKE_INSTALL_LIBDIR}/ptscope)
set(PTSCOPE_CMAKE_INSTALL_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/ptscope)

# The plugin's place relative to the executable, the one fact Backend::load
# needs to find an installed plugin.
file(RELATIVE_PATH plugin_from_bin
  /${CMAKE_INSTALL_BINDIR} /${PTSCOPE_PLUGIN_INSTALL_DIR})
target_compile_definitions(ptscope_backend PRIVATE PTSCOPE_PLUGIN_DIR_FROM_BIN="${plugin_from_bin}")

# ptscope::ptscope: load_checkpoint (readers, and below them torch_format,
# scan, io, model) and summarize/estimate (analysis). Static libraries carry their
# link order in the exported targets.
add_library(ptscope_library INTERFACE)
target_link_libraries(ptscope_library INTERFACE ptscope_readers ptscope_analysis)
target_compile_features(ptscope_library INTERFACE cxx_std_17)
set_target_properties(ptscope_library PROPERTIES EXPORT_NAME ptscope)
add_library(ptscope::ptscope ALIAS ptscope_library)

install(TARGETS ptscope RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
if(TARGET ptscope_torch)
  # A LibTorch outside the system's library folders stays found once installed.
  set_target_properties(ptscope_torch PROPERTIES INSTALL_RPATH_USE_LINK_PATH ON)
  install(TARGETS ptscope_torch LIBRARY DESTINATION ${PTSCOPE_PLUGIN_INSTALL_DIR})
endif()

install(TARGETS ptscope_library ptscope_readers ptscope_torch_format ptscope_scan ptscope_io
                ptscope_analysis ptscope_model
  EXPORT ptscope-targets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(DIRECTORY include/ptscope DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}
  FILES_MATCHING PATTERN "*.h")
install(EXPORT ptscope-targets NAMESPACE ptscope:: DESTINATION ${PTSCOPE_CMAKE_INSTALL_DIR})

configure_package_config_file(cmake/ptscope-config.cmake.in
  ${PROJECT_BINARY_DIR}/ptscope-config.cmake
  INSTALL_DESTINATION ${PTSCOPE_CMAKE_INSTALL_DIR})
# 0.x: no compatibility promised between minor versions.
write_basic_package_version_file(${PROJECT_BINARY_DIR}/ptscope-config-version.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/ptscope-config.cmake
              ${PROJECT_BINARY_DIR}/ptscope-config-version.cmake
  DESTINATION ${PTSCOPE_CMAKE_INSTALL_DIR})

install(FILES docs/ptscope.1 DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
install(FILES completions/ptscope.bash
  DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions RENAME ptscope)

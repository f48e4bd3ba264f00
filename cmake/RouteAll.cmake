# Shared build helpers: every service gets the same targets and warning flags.

set(ROUTEALL_WARNINGS -Wall -Wextra -Werror -Wno-unused-parameter)

# routeall_warnings(target): warnings are errors for code we write, never for generated code.
function(routeall_warnings target)
  target_compile_options(${target} PRIVATE ${ROUTEALL_WARNINGS})
endfunction()

# routeall_embed_migrations(target dir): compiles every dir/*.sql into the target as
# routeall::<ns>::kMigrations so a binary never depends on files beside it at run time.
function(routeall_embed_migrations target dir ns)
  file(GLOB sql_files CONFIGURE_DEPENDS ${dir}/*.sql)
  list(SORT sql_files)
  set(out ${CMAKE_CURRENT_BINARY_DIR}/${target}_migrations.cc)
  string(REPLACE ";" "|" sql_arg "${sql_files}")
  add_custom_command(
    OUTPUT ${out}
    COMMAND ${CMAKE_COMMAND} -DOUT=${out} -DNS=${ns} "-DFILES=${sql_arg}"
            -P ${PROJECT_SOURCE_DIR}/cmake/embed_migrations.cmake
    DEPENDS ${sql_files} ${PROJECT_SOURCE_DIR}/cmake/embed_migrations.cmake
    COMMENT "Embedding migrations for ${target}"
    # Quoted as one argument: the "|"-joined list must not reach the shell as a pipe.
    VERBATIM)
  target_sources(${target} PRIVATE ${out})
endfunction()

# routeall_add_service(name SOURCES ... TESTS ... DEPS ... [MIGRATIONS dir])
# gives routeall_<name>_lib, routeall_<name> (from main.cc) and routeall_<name>_test.
function(routeall_add_service name)
  cmake_parse_arguments(ARG "" "MIGRATIONS" "SOURCES;TESTS;DEPS;PGTESTS" ${ARGN})
  set(lib routeall_${name}_lib)
  add_library(${lib} STATIC ${ARG_SOURCES})
  target_include_directories(${lib} PUBLIC ${PROJECT_SOURCE_DIR})
  target_link_libraries(${lib} PUBLIC routeall_common ${ARG_DEPS})
  routeall_warnings(${lib})
  if(ARG_MIGRATIONS)
    routeall_embed_migrations(${lib} ${ARG_MIGRATIONS} ${name})
  endif()

  add_executable(routeall_${name} main.cc)
  target_link_libraries(routeall_${name} PRIVATE ${lib})
  routeall_warnings(routeall_${name})

  if(ARG_TESTS)
    add_executable(routeall_${name}_test ${ARG_TESTS})
    target_link_libraries(routeall_${name}_test PRIVATE ${lib} routeall_testing GTest::gmock GTest::gtest_main)
    routeall_warnings(routeall_${name}_test)
    gtest_discover_tests(routeall_${name}_test PROPERTIES LABELS unit)
  endif()
  if(ARG_PGTESTS)
    add_executable(routeall_${name}_pgtest ${ARG_PGTESTS})
    target_link_libraries(routeall_${name}_pgtest PRIVATE ${lib} routeall_testing GTest::gmock GTest::gtest_main)
    routeall_warnings(routeall_${name}_pgtest)
    gtest_discover_tests(routeall_${name}_pgtest PROPERTIES LABELS integration DISCOVERY_TIMEOUT 30)
  endif()
endfunction()

# Fails when the product binary contains test-only code: symbols of the
# registry's fault injection (namespace rte::registry::testing, FaultInjector)
# or its route strings (/_admin/...).
#   cmake -DBINARY=path/to/realtime-events -P check_product_binary.cmake
if(NOT BINARY OR NOT EXISTS "${BINARY}")
  message(FATAL_ERROR "BINARY not given or missing: '${BINARY}'")
endif()

execute_process(COMMAND nm -C "${BINARY}" OUTPUT_VARIABLE symbols RESULT_VARIABLE nm_rc)
if(NOT nm_rc EQUAL 0)
  message(FATAL_ERROR "nm -C ${BINARY} failed (${nm_rc})")
endif()
execute_process(COMMAND strings -a "${BINARY}" OUTPUT_VARIABLE text RESULT_VARIABLE strings_rc)
if(NOT strings_rc EQUAL 0)
  message(FATAL_ERROR "strings ${BINARY} failed (${strings_rc})")
endif()

# Sanity: the check sees real symbols and strings (a stripped or wrong file
# would pass vacuously).
if(NOT symbols MATCHES "rte::registry::RegistryServer")
  message(FATAL_ERROR "no rte::registry::RegistryServer symbol in ${BINARY}: is it the gateway, unstripped?")
endif()
if(NOT text MATCHES "Schema not found")
  message(FATAL_ERROR "no \"Schema not found\" string in ${BINARY}: cannot check its strings")
endif()

set(found "")
foreach(pattern "rte::registry::testing::" "FaultInjector" "FaultMode")
  string(FIND "${symbols}" "${pattern}" at)
  if(NOT at EQUAL -1)
    list(APPEND found "symbol ${pattern}")
  endif()
endforeach()
foreach(pattern "/_admin/" "injected fault")
  string(FIND "${text}" "${pattern}" at)
  if(NOT at EQUAL -1)
    list(APPEND found "string \"${pattern}\"")
  endif()
endforeach()
if(found)
  list(JOIN found ", " what)
  message(FATAL_ERROR "${BINARY} contains test-only code: ${what}")
endif()
message(STATUS "${BINARY}: no test-only symbols or routes")

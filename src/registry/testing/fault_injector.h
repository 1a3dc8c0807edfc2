// FaultInjector: test-only fault switches for RegistryServer, installed as
// its RequestHook (RegistryServerOptions::hook). Every registry request gets
// the current fault: an error status (401, 403, 404, 429, 500, 503), a delay
// before the answer (kSlow, or any mode's delay), or a dropped connection
// (the server closes it without answering). Also counts requests per path.
// Its own routes, served without authentication, let a test process switch
// faults from outside:
//   POST /_admin/faults {"mode":"none"|"401"|"403"|"404"|"429"|"500"|"503"|"slow"|"drop",
//                        "delay_ms":N}
//   GET  /_admin/stats  -> {"requests","connections","authorized","schemas"}
// Linked by tests, benchmarks and rte-test-registry only (library
// rte_registry_testing); the realtime-events binary must not contain it
// (the CTest product_binary_has_no_test_code checks).
// Thread: OnRequest runs on the server thread; Set and RequestsFor from any
// thread (one internal mutex).
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "registry/registry_server.h"

namespace rte::registry::testing {

enum class FaultMode {
  kNone,
  kUnauthorized,     // 401
  kForbidden,        // 403
  kNotFound,         // 404
  kTooManyRequests,  // 429
  kServerError,      // 500
  kUnavailable,      // 503
  kSlow,             // answered normally after the delay
  kDrop,             // connection closed without an answer (after the delay)
};

// "none", "401", "403", "404", "429", "500", "503", "slow", "drop".
const char* FaultModeName(FaultMode mode);
std::optional<FaultMode> ParseFaultMode(std::string_view name);

class FaultInjector final : public RequestHook {
 public:
  // `delay` applies in any mode (it is the point of kSlow).
  void Set(FaultMode mode, std::chrono::milliseconds delay = std::chrono::milliseconds(0));

  // Registry requests seen per decoded path (e.g. "/schemas/ids/1").
  uint64_t RequestsFor(std::string_view path) const;

  HookDecision OnRequest(const RegistryServer& server, const HookRequest& request) override;

 private:
  HookDecision AdminRoute(const RegistryServer& server, const HookRequest& request);
  HookDecision Inject();
  void Count(std::string_view path);

  mutable std::mutex mu_;
  FaultMode mode_ = FaultMode::kNone;
  std::chrono::milliseconds delay_{0};
  std::map<std::string, uint64_t, std::less<>> per_path_;
};

}  // namespace rte::registry::testing

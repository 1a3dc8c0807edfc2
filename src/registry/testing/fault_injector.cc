#include "registry/testing/fault_injector.h"

#include <boost/json.hpp>

namespace rte::registry::testing {
namespace json = boost::json;

namespace {

constexpr size_t kMaxCountedPaths = 10'000;

struct ModeInfo {
  FaultMode mode;
  const char* name;
  unsigned status;  // 0: no error answer
  int64_t error_code;
  const char* message;
};
constexpr ModeInfo kModes[] = {
    {FaultMode::kNone, "none", 0, 0, ""},
    {FaultMode::kUnauthorized, "401", 401, 401, "Unauthorized (injected fault)"},
    {FaultMode::kForbidden, "403", 403, 40301, "User is denied operation (injected fault)"},
    {FaultMode::kNotFound, "404", 404, 40403, "Schema not found (injected fault)"},
    {FaultMode::kTooManyRequests, "429", 429, 42901, "Request rate limit exceeded (injected fault)"},
    {FaultMode::kServerError, "500", 500, 50001, "Error in the backend data store (injected fault)"},
    {FaultMode::kUnavailable, "503", 503, 50003, "Service unavailable (injected fault)"},
    {FaultMode::kSlow, "slow", 0, 0, ""},
    {FaultMode::kDrop, "drop", 0, 0, ""},
};

const ModeInfo& Info(FaultMode mode) {
  for (const ModeInfo& m : kModes) {
    if (m.mode == mode) return m;
  }
  return kModes[0];
}

HookReply Error(unsigned status, int64_t code, std::string_view message) {
  return HookReply{status, json::serialize(json::object{{"error_code", code}, {"message", message}}), {}};
}

HookDecision Own(HookReply reply) {
  HookDecision d;
  d.own_route = true;
  d.reply = std::move(reply);
  return d;
}

}  // namespace

const char* FaultModeName(FaultMode mode) { return Info(mode).name; }

std::optional<FaultMode> ParseFaultMode(std::string_view name) {
  for (const ModeInfo& m : kModes) {
    if (name == m.name) return m.mode;
  }
  return std::nullopt;
}

void FaultInjector::Set(FaultMode mode, std::chrono::milliseconds delay) {
  std::lock_guard lock(mu_);
  mode_ = mode;
  delay_ = delay;
}

uint64_t FaultInjector::RequestsFor(std::string_view path) const {
  std::lock_guard lock(mu_);
  auto it = per_path_.find(path);
  return it == per_path_.end() ? 0 : it->second;
}

HookDecision FaultInjector::OnRequest(const RegistryServer& server, const HookRequest& request) {
  if (request.path.rfind("/_admin/", 0) == 0) return AdminRoute(server, request);
  Count(request.path);
  return Inject();
}

void FaultInjector::Count(std::string_view path) {
  std::lock_guard lock(mu_);
  // Bounded: a client sending endless distinct paths cannot grow it forever.
  if (auto it = per_path_.find(path); it != per_path_.end()) {
    ++it->second;
  } else if (per_path_.size() < kMaxCountedPaths) {
    per_path_.emplace(std::string(path), 1);
  }
}

HookDecision FaultInjector::Inject() {
  FaultMode mode;
  HookDecision d;
  {
    std::lock_guard lock(mu_);
    mode = mode_;
    d.delay = delay_;
  }
  const ModeInfo& info = Info(mode);
  d.drop = mode == FaultMode::kDrop;
  if (info.status != 0) {
    d.reply = Error(info.status, info.error_code, info.message);
    if (info.status == 401) d.reply->www_authenticate = "Basic realm=\"schema-registry\"";
  }
  return d;
}

HookDecision FaultInjector::AdminRoute(const RegistryServer& server, const HookRequest& request) {
  if (request.path == "/_admin/faults" && request.method == "POST") {
    boost::system::error_code ec;
    json::value v = json::parse(request.body, ec);
    const json::object* o = ec ? nullptr : v.if_object();
    const json::value* mode = o ? o->if_contains("mode") : nullptr;
    const json::value* delay = o ? o->if_contains("delay_ms") : nullptr;
    std::optional<FaultMode> parsed =
        mode && mode->is_string() ? ParseFaultMode(mode->get_string()) : std::nullopt;
    if (!parsed) {
      return Own(Error(400, 400,
                       "expected {\"mode\":\"none\"|\"401\"|\"403\"|\"404\"|\"429\"|\"500\"|\"503\"|"
                       "\"slow\"|\"drop\",\"delay_ms\":N}"));
    }
    int64_t delay_ms = 0;
    if (delay && !delay->is_null()) {
      if (!delay->is_int64() || delay->get_int64() < 0 || delay->get_int64() > 600'000) {
        return Own(Error(400, 400, "delay_ms must be an integer in [0, 600000]"));
      }
      delay_ms = delay->get_int64();
    }
    Set(*parsed, std::chrono::milliseconds(delay_ms));
    return Own(HookReply{
        200, json::serialize(json::object{{"mode", FaultModeName(*parsed)}, {"delay_ms", delay_ms}}), {}});
  }
  if (request.path == "/_admin/stats" && request.method == "GET") {
    return Own(HookReply{200,
                         json::serialize(json::object{{"requests", server.requests()},
                                                      {"connections", server.connections_accepted()},
                                                      {"authorized", server.authorized_requests()},
                                                      {"schemas", server.store().schema_count()}}),
                         {}});
  }
  return Own(Error(404, 404, "HTTP 404 Not Found"));
}

}  // namespace rte::registry::testing

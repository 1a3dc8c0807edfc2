// RegistryServer: our own schema registry, speaking the subset of the
// Confluent Schema Registry REST API that serializers and this gateway use
// (register, look up by id / subject / version / schema, list subjects and
// versions), with optional HTTP Basic auth and fault switches for tests
// (401, 404, 500, slow), over HTTP or HTTPS. Used by unit and integration tests and by the
// embedded demo. Data lives in a RegistryStore and survives Stop()/Start().
//
// Routes (JSON bodies, Content-Type application/vnd.schemaregistry.v1+json):
//   POST /subjects/{s}/versions      {"schema","schemaType"?,"references"?} -> {"id"}
//   POST /subjects/{s}               same body -> {"subject","version","id","schema",...}
//   GET  /schemas/ids/{id}           -> {"schema","schemaType"?,"references"?}
//   GET  /schemas/ids/{id}/schema    -> the schema text itself
//   GET  /schemas/types, /config, /subjects, /subjects/{s}/versions
//   GET  /subjects/{s}/versions/{n|latest}[/schema]
//   POST /_admin/faults {"mode":"none"|"401"|"404"|"500"|"slow","delay_ms":N}
//   GET  /_admin/stats  -> {"requests","connections",...}   (admin: no auth)
// Errors: {"error_code":40401|40402|40403|42201|42202|401|...,"message":"..."}.
//
// Owner: a test, the demo, or rte-test-registry. Thread: serves on its own
// thread; every public method is thread-safe. Start/Stop are not reentrant
// (call them from one thread).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "registry/registry_store.h"

namespace rte::registry {

enum class FaultMode { kNone, kUnauthorized, kNotFound, kServerError, kSlow };

// "none", "401", "404", "500", "slow".
const char* FaultModeName(FaultMode mode);
std::optional<FaultMode> ParseFaultMode(std::string_view name);

struct RegistryServerOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 0;      // 0: pick a free port (kept across Stop/Start)
  std::string user_info;  // "key:secret": require Basic auth; empty = open
  size_t max_body_bytes = 1u << 20;
  std::chrono::seconds idle_timeout{30};
  // PEM certificate chain and private key: serve HTTPS instead of HTTP.
  std::string tls_cert_pem;
  std::string tls_key_pem;
};

class RegistryServer {
 public:
  explicit RegistryServer(RegistryServerOptions options);
  ~RegistryServer();
  RegistryServer(const RegistryServer&) = delete;
  RegistryServer& operator=(const RegistryServer&) = delete;

  // Binds and starts serving. After Stop(), binds the same port again.
  Status Start();
  // Closes the listener and every connection (clients see a refused
  // connection), waits for the server thread to end. Keeps the data.
  void Stop();
  bool running() const { return running_; }

  uint16_t port() const { return port_; }
  std::string url() const;  // http://host:port (https:// with TLS)

  // In-process registration (the demo, tests): same rules as the REST route.
  Result<int32_t> Register(std::string_view subject, std::string schema_text,
                           SchemaType type = SchemaType::kAvro,
                           std::vector<SchemaReference> references = {});
  RegistryStore& store() { return store_; }

  // Applies to every non-admin request. delay applies in any mode (it is the
  // point of kSlow): the answer is sent after waiting that long.
  void SetFault(FaultMode mode, std::chrono::milliseconds delay = std::chrono::milliseconds(0));

  // Non-admin requests served (any status), requests per path (decoded path
  // without query, e.g. "/schemas/ids/1"), and TCP connections accepted.
  uint64_t requests() const { return requests_; }
  uint64_t RequestsFor(std::string_view path) const;
  uint64_t connections_accepted() const { return connections_; }
  // Authorization header values seen, for tests: how many requests carried
  // exactly the expected credentials.
  uint64_t authorized_requests() const { return authorized_; }

 private:
  struct Impl;
  friend struct Impl;

  RegistryServerOptions options_;
  RegistryStore store_;
  std::unique_ptr<Impl> impl_;
  std::atomic<bool> running_{false};
  std::atomic<uint16_t> port_{0};

  mutable std::mutex mu_;  // guards the fault switch and per-path counts
  FaultMode fault_ = FaultMode::kNone;
  std::chrono::milliseconds fault_delay_{0};
  std::map<std::string, uint64_t, std::less<>> per_path_;
  std::atomic<uint64_t> requests_{0};
  std::atomic<uint64_t> connections_{0};
  std::atomic<uint64_t> authorized_{0};
};

}  // namespace rte::registry

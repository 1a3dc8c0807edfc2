// RegistryServer: our own schema registry, speaking the subset of the
// Confluent Schema Registry REST API that serializers and this gateway use
// (register, look up by id / subject / version / schema, list subjects and
// versions), with optional HTTP Basic auth, over HTTP or HTTPS. Used by the
// embedded demo and by tests. Data lives in a RegistryStore and survives
// Stop()/Start(). It has no fault switches and no admin routes: tests add
// those through a RequestHook (registry/testing/fault_injector.h, a test-only
// library that the product binary does not link).
//
// Routes (JSON bodies, Content-Type application/vnd.schemaregistry.v1+json):
//   POST /subjects/{s}/versions      {"schema","schemaType"?,"references"?} -> {"id"}
//   POST /subjects/{s}               same body -> {"subject","version","id","schema",...}
//   GET  /schemas/ids/{id}           -> {"schema","schemaType"?,"references"?}
//   GET  /schemas/ids/{id}/schema    -> the schema text itself
//   GET  /schemas/types, /config, /subjects, /subjects/{s}/versions
//   GET  /subjects/{s}/versions/{n|latest}[/schema]
// Errors: {"error_code":40401|40402|40403|42201|42202|401|...,"message":"..."}.
//
// Owner: the demo, a test, or rte-test-registry. Thread: serves on its own
// thread; every public method is thread-safe; the hook is called on the
// server thread. Start/Stop are not reentrant
// (call them from one thread).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "registry/registry_store.h"

namespace rte::registry {

class RegistryServer;

// A request as a RequestHook sees it (decoded path, no query).
struct HookRequest {
  std::string_view method;
  std::string_view path;
  std::string_view body;
};

// An answer a RequestHook gives instead of the route's.
struct HookReply {
  unsigned status = 200;
  std::string body;               // JSON
  std::string www_authenticate;   // sent when not empty
};

// What a RequestHook decides for one request. The default serves it normally.
struct HookDecision {
  // The hook served a route of its own (`reply`): sent at once, without
  // authentication, delay or counting in requests().
  bool own_route = false;
  std::optional<HookReply> reply;      // answer this instead of the route
  std::chrono::milliseconds delay{0};  // wait this long before answering
  bool drop = false;                   // close the connection instead of answering
};

// Seam for tests (fault injection, control routes); the demo uses none.
// Thread: OnRequest is called on the server thread, for every request,
// before authentication; it must not block.
class RequestHook {
 public:
  virtual ~RequestHook() = default;
  virtual HookDecision OnRequest(const RegistryServer& server, const HookRequest& request) = 0;
};

struct RegistryServerOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 0;      // 0: pick a free port (kept across Stop/Start)
  std::string user_info;  // "key:secret": require Basic auth; empty = open
  size_t max_body_bytes = 1u << 20;
  std::chrono::seconds idle_timeout{30};
  // PEM certificate chain and private key: serve HTTPS instead of HTTP.
  std::string tls_cert_pem;
  std::string tls_key_pem;
  RequestHook* hook = nullptr;  // not owned; must outlive the server
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
  const RegistryStore& store() const { return store_; }

  // Requests served (any status; not the hook's own routes), and TCP
  // connections accepted.
  uint64_t requests() const { return requests_; }
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

  std::atomic<uint64_t> requests_{0};
  std::atomic<uint64_t> connections_{0};
  std::atomic<uint64_t> authorized_{0};
};

}  // namespace rte::registry

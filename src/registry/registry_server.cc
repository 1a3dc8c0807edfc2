#include "registry/registry_server.h"

#include <fmt/format.h>
#include <openssl/crypto.h>
#include <spdlog/spdlog.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/json.hpp>
#include <boost/url/parse.hpp>
#include <charconv>
#include <optional>
#include <set>
#include <thread>
#include <variant>

#include "base/io_loop.h"
#include "registry/http_client.h"

namespace rte::registry {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;
namespace json = boost::json;
using asio::ip::tcp;

namespace {

constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);
constexpr const char* kContentType = "application/vnd.schemaregistry.v1+json";

using Request = http::request<http::string_body>;
using Response = http::response<http::string_body>;

Response MakeResponse(unsigned status, std::string body) {
  Response res{static_cast<http::status>(status), 11};
  res.set(http::field::server, "rte-registry");
  res.set(http::field::content_type, kContentType);
  res.body() = std::move(body);
  return res;
}

Response JsonResponse(const json::value& v, unsigned status = 200) {
  return MakeResponse(status, json::serialize(v));
}

Response ErrorResponse(unsigned status, int64_t error_code, std::string_view message) {
  json::object o;
  o["error_code"] = error_code;
  o["message"] = message;
  return JsonResponse(o, status);
}

json::value SchemaJson(const StoredSchema& s) {
  json::object o;
  o["schema"] = s.text;
  if (s.type != SchemaType::kAvro) o["schemaType"] = SchemaTypeName(s.type);
  if (!s.references.empty()) {
    json::array refs;
    for (const SchemaReference& r : s.references) {
      refs.push_back(json::object{{"name", r.name}, {"subject", r.subject}, {"version", r.version}});
    }
    o["references"] = std::move(refs);
  }
  return o;
}

json::value VersionJson(const SubjectVersion& v) {
  json::object o = SchemaJson(*v.schema).as_object();
  o["subject"] = v.subject;
  o["version"] = v.version;
  o["id"] = v.schema->id;
  return o;
}

struct SchemaBody {
  std::string schema;
  SchemaType type = SchemaType::kAvro;
  std::vector<SchemaReference> references;
};

// Parses a register / lookup body. On failure returns the error response.
std::variant<SchemaBody, Response> ParseSchemaBody(const std::string& body) {
  boost::system::error_code ec;
  json::value v = json::parse(body, ec);
  if (ec) return ErrorResponse(400, 400, "request body is not JSON: " + ec.message());
  const json::object* o = v.if_object();
  if (!o) return ErrorResponse(400, 400, "request body is not a JSON object");
  SchemaBody out;
  const json::value* schema = o->if_contains("schema");
  if (!schema || !schema->is_string()) {
    return ErrorResponse(422, 42201, "Invalid schema: \"schema\" must be a string");
  }
  out.schema = std::string(schema->get_string());
  if (const json::value* t = o->if_contains("schemaType"); t && !t->is_null()) {
    std::optional<SchemaType> type =
        t->is_string() ? ParseSchemaType(t->get_string()) : std::nullopt;
    if (!type) return ErrorResponse(422, 42201, "Invalid schema: unknown schemaType");
    out.type = *type;
  }
  if (const json::value* r = o->if_contains("references"); r && !r->is_null()) {
    if (!r->is_array()) return ErrorResponse(422, 42201, "Invalid schema: bad references");
    for (const json::value& item : r->get_array()) {
      const json::object* ro = item.if_object();
      const json::value* name = ro ? ro->if_contains("name") : nullptr;
      const json::value* subject = ro ? ro->if_contains("subject") : nullptr;
      const json::value* version = ro ? ro->if_contains("version") : nullptr;
      if (!name || !name->is_string() || !subject || !subject->is_string() || !version ||
          !version->is_int64() || version->get_int64() < 1 || version->get_int64() > INT32_MAX) {
        return ErrorResponse(422, 42201, "Invalid schema: bad reference");
      }
      out.references.push_back(SchemaReference{std::string(name->get_string()),
                                               std::string(subject->get_string()),
                                               static_cast<int32_t>(version->get_int64())});
    }
  }
  return out;
}

std::optional<int32_t> ParsePositiveInt(std::string_view s) {
  int32_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || v < 1) return std::nullopt;
  return v;
}

// -1 for latest; nullopt if invalid.
std::optional<int32_t> ParseVersion(std::string_view s) {
  if (s == "latest" || s == "-1") return -1;
  return ParsePositiveInt(s);
}

Response InvalidVersion(std::string_view v) {
  return ErrorResponse(422, 42202,
                       fmt::format("The specified version '{}' is not a valid version id. Allowed "
                                   "values are between [1, 2^31-1] and the string \"latest\"",
                                   std::string(v.substr(0, 64))));
}

Response SubjectNotFound(std::string_view s) {
  return ErrorResponse(404, 40401, fmt::format("Subject '{}' not found.", std::string(s)));
}

}  // namespace

struct RegistryServer::Impl {
  // A live connection, registered so Stop() can close it.
  struct Conn {
    Conn(tcp::socket s, asio::ssl::context* ssl) : delay(s.get_executor()) {
      if (ssl) {
        tls.emplace(std::move(s), *ssl);
      } else {
        plain.emplace(std::move(s));
      }
    }
    beast::tcp_stream& Tcp() { return tls ? beast::get_lowest_layer(*tls) : *plain; }
    std::optional<beast::tcp_stream> plain;
    std::optional<beast::ssl_stream<beast::tcp_stream>> tls;
    asio::steady_timer delay;
  };

  explicit Impl(RegistryServer& o) : owner(o), acceptor(ioc) {}

  RegistryServer& owner;
  asio::io_context ioc{1};
  tcp::acceptor acceptor;
  std::unique_ptr<asio::ssl::context> ssl;  // set when serving HTTPS
  std::thread thread;
  std::string expected_auth;
  // Server thread only.
  std::set<Conn*> conns;
  bool stopping = false;

  void CloseAll() {
    stopping = true;
    boost::system::error_code ec;
    acceptor.close(ec);
    for (Conn* c : conns) {
      c->delay.cancel();
      c->Tcp().socket().shutdown(tcp::socket::shutdown_both, ec);
      c->Tcp().close();
    }
  }

  asio::awaitable<void> AcceptLoop() {
    for (;;) {
      auto [ec, socket] = co_await acceptor.async_accept(kTuple);
      if (stopping || ec == asio::error::operation_aborted) co_return;
      if (ec) {
        // E.g. out of file descriptors: back off a little instead of spinning.
        asio::steady_timer pause(ioc, std::chrono::milliseconds(50));
        co_await pause.async_wait(kTuple);
        continue;
      }
      ++owner.connections_;
      asio::co_spawn(ioc, Session(std::move(socket)), [](std::exception_ptr ep) {
        if (!ep) return;
        try {
          std::rethrow_exception(ep);
        } catch (const std::exception& ex) {
          spdlog::error("registry server: session failed: {}", ex.what());
        } catch (...) {
        }
      });
    }
  }

  asio::awaitable<void> Session(tcp::socket socket) {
    Conn conn(std::move(socket), ssl.get());
    if (stopping) co_return;
    conns.insert(&conn);
    struct Unregister {
      Impl* impl;
      Conn* conn;
      ~Unregister() { impl->conns.erase(conn); }
    } unregister{this, &conn};

    if (conn.tls) {
      conn.Tcp().expires_after(owner.options_.idle_timeout);
      auto [hec] = co_await conn.tls->async_handshake(asio::ssl::stream_base::server, kTuple);
      if (hec || stopping) co_return;
      co_await Serve(*conn.tls, conn);
    } else {
      co_await Serve(*conn.plain, conn);
    }
    boost::system::error_code ec;
    conn.Tcp().socket().shutdown(tcp::socket::shutdown_send, ec);
  }

  template <class Stream>
  asio::awaitable<void> Serve(Stream& stream, Conn& conn) {
    beast::flat_buffer buffer;
    for (;;) {
      http::request_parser<http::string_body> parser;
      parser.body_limit(owner.options_.max_body_bytes);
      conn.Tcp().expires_after(owner.options_.idle_timeout);
      auto [rec, rn] = co_await http::async_read(stream, buffer, parser, kTuple);
      if (rec || stopping) co_return;
      Request req = parser.release();

      Handled handled = Handle(req);
      if (handled.delay.count() > 0) {
        conn.delay.expires_after(handled.delay);
        co_await conn.delay.async_wait(kTuple);
        if (stopping) co_return;
      }
      if (handled.drop) co_return;  // Session closes the connection unanswered
      Response& res = handled.response;
      res.keep_alive(req.keep_alive());
      res.prepare_payload();
      conn.Tcp().expires_after(owner.options_.idle_timeout);
      auto [wec, wn] = co_await http::async_write(stream, res, kTuple);
      if (wec || !res.keep_alive() || stopping) co_return;
    }
  }

  // The answer to one request, and what the hook asked for around it.
  struct Handled {
    Response response;
    std::chrono::milliseconds delay{0};
    bool drop = false;
  };

  static Response HookResponse(const HookReply& r) {
    Response res = MakeResponse(r.status, r.body);
    if (!r.www_authenticate.empty()) res.set(http::field::www_authenticate, r.www_authenticate);
    return res;
  }

  Handled Handle(const Request& req) {
    auto parsed = boost::urls::parse_origin_form(req.target());
    if (!parsed) return {ErrorResponse(400, 400, "bad request target")};
    HookDecision decision;
    if (owner.options_.hook) {
      const std::string path = parsed->path();
      decision = owner.options_.hook->OnRequest(
          owner, HookRequest{req.method_string(), path, req.body()});
      if (decision.own_route && decision.reply) return {HookResponse(*decision.reply)};
    }
    ++owner.requests_;
    Handled out{Response{}, decision.delay, decision.drop};
    if (!expected_auth.empty()) {
      const auto got = req[http::field::authorization];
      const bool match = got.size() == expected_auth.size() &&
                         CRYPTO_memcmp(got.data(), expected_auth.data(), got.size()) == 0;
      if (!match) {
        out.response = ErrorResponse(401, 401, "Unauthorized");
        out.response.set(http::field::www_authenticate, "Basic realm=\"schema-registry\"");
        return out;
      }
      ++owner.authorized_;
    }
    if (decision.reply) {
      out.response = HookResponse(*decision.reply);
      return out;
    }
    std::vector<std::string> seg;
    for (auto s : parsed->segments()) seg.push_back(std::string(s));
    out.response = Route(req.method(), seg, req.body());
    return out;
  }

  Response Route(http::verb method, const std::vector<std::string>& seg,
                 const std::string& body) {
    RegistryStore& store = owner.store_;
    const bool get = method == http::verb::get;
    const bool post = method == http::verb::post;
    const size_t n = seg.size();
    auto not_allowed = [] { return ErrorResponse(405, 405, "HTTP 405 Method Not Allowed"); };

    if (n >= 3 && seg[0] == "schemas" && seg[1] == "ids" && n <= 4) {
      if (!get) return not_allowed();
      if (n == 4 && seg[3] != "schema") return ErrorResponse(404, 404, "HTTP 404 Not Found");
      std::optional<int32_t> id = ParsePositiveInt(seg[2]);
      auto schema = id ? store.GetById(*id) : nullptr;
      if (!schema) return ErrorResponse(404, 40403, "Schema not found");
      if (n == 4) return MakeResponse(200, schema->text);
      return JsonResponse(SchemaJson(*schema));
    }
    if (n == 2 && seg[0] == "schemas" && seg[1] == "types") {
      if (!get) return not_allowed();
      return JsonResponse(json::array{"JSON", "PROTOBUF", "AVRO"});
    }
    if (n == 1 && seg[0] == "config") {
      if (!get) return not_allowed();
      return JsonResponse(json::object{{"compatibilityLevel", "NONE"}});
    }
    if (n == 1 && seg[0] == "subjects") {
      if (!get) return not_allowed();
      json::array a;
      for (const std::string& s : store.Subjects()) a.push_back(json::string(s));
      return JsonResponse(a);
    }
    if (n >= 2 && seg[0] == "subjects") {
      const std::string& subject = seg[1];
      if (n == 2) {  // POST /subjects/{s}: is this schema registered under s?
        if (!post) return not_allowed();
        auto body_or = ParseSchemaBody(body);
        if (auto* r = std::get_if<Response>(&body_or)) return std::move(*r);
        const SchemaBody& b = std::get<SchemaBody>(body_or);
        if (!store.HasSubject(subject)) return SubjectNotFound(subject);
        auto found = store.Find(subject, b.schema, b.type, b.references);
        if (!found) return ErrorResponse(404, 40403, "Schema not found");
        return JsonResponse(VersionJson(*found));
      }
      if (seg[2] != "versions" || n > 5) return ErrorResponse(404, 404, "HTTP 404 Not Found");
      if (n == 3) {
        if (post) {
          auto body_or = ParseSchemaBody(body);
          if (auto* r = std::get_if<Response>(&body_or)) return std::move(*r);
          SchemaBody& b = std::get<SchemaBody>(body_or);
          Result<int32_t> id =
              store.Register(subject, std::move(b.schema), b.type, std::move(b.references));
          if (!id.ok()) return ErrorResponse(422, 42201, id.error().message);
          return JsonResponse(json::object{{"id", *id}});
        }
        if (!get) return not_allowed();
        if (!store.HasSubject(subject)) return SubjectNotFound(subject);
        json::array a;
        for (int32_t v : store.Versions(subject)) a.push_back(v);
        return JsonResponse(a);
      }
      if (!get) return not_allowed();
      if (n == 5 && seg[4] != "schema") return ErrorResponse(404, 404, "HTTP 404 Not Found");
      std::optional<int32_t> version = ParseVersion(seg[3]);
      if (!version) return InvalidVersion(seg[3]);
      if (!store.HasSubject(subject)) return SubjectNotFound(subject);
      auto v = store.GetVersion(subject, *version);
      if (!v) return ErrorResponse(404, 40402, "Version not found.");
      if (n == 5) return MakeResponse(200, v->schema->text);
      return JsonResponse(VersionJson(*v));
    }
    return ErrorResponse(404, 404, "HTTP 404 Not Found");
  }
};

RegistryServer::RegistryServer(RegistryServerOptions options) : options_(std::move(options)) {}

RegistryServer::~RegistryServer() { Stop(); }

std::string RegistryServer::url() const {
  const bool tls = !options_.tls_cert_pem.empty();
  // With TLS the name must match the certificate, so keep the host as given.
  const std::string host =
      !tls && options_.host == "localhost" ? std::string("127.0.0.1") : options_.host;
  return fmt::format("{}://{}:{}", tls ? "https" : "http", host, port_.load());
}

Status RegistryServer::Start() {
  if (running_) return Status();
  auto impl = std::make_unique<Impl>(*this);
  if (!options_.user_info.empty()) impl->expected_auth = BasicAuthValue(options_.user_info);
  if (!options_.tls_cert_pem.empty()) {
    try {
      impl->ssl = std::make_unique<asio::ssl::context>(asio::ssl::context::tls_server);
      impl->ssl->set_options(asio::ssl::context::default_workarounds |
                             asio::ssl::context::no_sslv2 | asio::ssl::context::no_sslv3);
      impl->ssl->use_certificate_chain(
          asio::buffer(options_.tls_cert_pem.data(), options_.tls_cert_pem.size()));
      impl->ssl->use_private_key(
          asio::buffer(options_.tls_key_pem.data(), options_.tls_key_pem.size()),
          asio::ssl::context::pem);
    } catch (const boost::system::system_error& e) {
      return MakeError(Errc::kInvalidArgument,
                       fmt::format("registry server TLS certificate or key rejected: {}",
                                   e.code().message()));
    }
  }
  boost::system::error_code ec;
  const std::string host = options_.host == "localhost" ? "127.0.0.1" : options_.host;
  const asio::ip::address address = asio::ip::make_address(host, ec);
  if (ec) {
    return MakeError(Errc::kInvalidArgument,
                     fmt::format("registry server host '{}' is not an IP address", options_.host));
  }
  const uint16_t port = port_ != 0 ? port_.load() : options_.port;
  tcp::endpoint endpoint(address, port);
  impl->acceptor.open(endpoint.protocol(), ec);
  if (!ec) impl->acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) impl->acceptor.bind(endpoint, ec);
  if (!ec) impl->acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return MakeError(Errc::kUnavailable, fmt::format("registry server cannot listen on {}:{}: {}",
                                                     host, port, ec.message()));
  }
  port_ = impl->acceptor.local_endpoint(ec).port();
  Impl* raw = impl.get();
  asio::co_spawn(raw->ioc, raw->AcceptLoop(), [](std::exception_ptr ep) {
    if (!ep) return;
    try {
      std::rethrow_exception(ep);
    } catch (const std::exception& ex) {
      spdlog::error("registry server: accept loop failed: {}", ex.what());
    } catch (...) {
    }
  });
  raw->thread = std::thread([raw] { RunIoLoop(raw->ioc, "registry server"); });
  impl_ = std::move(impl);
  running_ = true;
  return Status();
}

void RegistryServer::Stop() {
  if (!impl_) return;
  Impl* raw = impl_.get();
  asio::post(raw->ioc, [raw] { raw->CloseAll(); });
  if (raw->thread.joinable()) raw->thread.join();
  impl_.reset();
  running_ = false;
}

Result<int32_t> RegistryServer::Register(std::string_view subject, std::string schema_text,
                                         SchemaType type,
                                         std::vector<SchemaReference> references) {
  return store_.Register(subject, std::move(schema_text), type, std::move(references));
}

}  // namespace rte::registry

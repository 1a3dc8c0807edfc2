#include "registry/schema_registry_client.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <boost/url/encode.hpp>
#include <boost/url/rfc/pchars.hpp>
#include <future>
#include <map>
#include <optional>
#include <set>

#include "base/io_loop.h"
#include "base/check.h"
#include "registry/backoff.h"
#include "registry/http_client.h"

namespace rte::registry {
namespace asio = boost::asio;
namespace json = boost::json;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

namespace {

constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);

// What /schemas/ids/{id} and /subjects/{s}/versions/{v} have in common.
struct ParsedSchema {
  SchemaType type = SchemaType::kAvro;
  std::string text;
  std::vector<SchemaReference> references;
};

Result<ParsedSchema> ParseSchemaBody(std::string_view body, size_t max_references) {
  boost::system::error_code ec;
  json::value v = json::parse(body, ec);
  if (ec) return MakeError(Errc::kInvalidArgument, "response is not JSON: " + ec.message());
  const json::object* obj = v.if_object();
  if (!obj) return MakeError(Errc::kInvalidArgument, "response is not a JSON object");
  const json::value* schema = obj->if_contains("schema");
  if (!schema || !schema->is_string()) {
    return MakeError(Errc::kInvalidArgument, "response has no \"schema\" string");
  }
  ParsedSchema out;
  out.text = std::string(schema->get_string());
  if (const json::value* t = obj->if_contains("schemaType"); t && !t->is_null()) {
    const json::string* ts = t->if_string();
    std::optional<SchemaType> type = ts ? ParseSchemaType(*ts) : std::nullopt;
    if (!type) {
      return MakeError(Errc::kUnsupported,
                       fmt::format("unknown schemaType {}", json::serialize(*t).substr(0, 64)));
    }
    out.type = *type;
  }
  if (const json::value* r = obj->if_contains("references"); r && !r->is_null()) {
    const json::array* refs = r->if_array();
    if (!refs) return MakeError(Errc::kInvalidArgument, "\"references\" is not an array");
    if (refs->size() > max_references) {
      return MakeError(Errc::kOutOfRange, fmt::format("{} references exceed the limit {}",
                                                      refs->size(), max_references));
    }
    for (const json::value& item : *refs) {
      const json::object* ro = item.if_object();
      const json::value* name = ro ? ro->if_contains("name") : nullptr;
      const json::value* subject = ro ? ro->if_contains("subject") : nullptr;
      const json::value* version = ro ? ro->if_contains("version") : nullptr;
      if (!name || !name->is_string() || !subject || !subject->is_string() || !version ||
          !version->is_int64() || version->get_int64() < 1 ||
          version->get_int64() > INT32_MAX) {
        return MakeError(Errc::kInvalidArgument,
                         "a reference lacks a string name, a string subject or a positive "
                         "integer version");
      }
      out.references.push_back(SchemaReference{std::string(name->get_string()),
                                               std::string(subject->get_string()),
                                               static_cast<int32_t>(version->get_int64())});
    }
  }
  return out;
}

// "(40403) Schema not found" from a Confluent error body, or a bit of the body.
std::string ErrorDetail(const HttpResponse& res) {
  boost::system::error_code ec;
  json::value v = json::parse(res.body, ec);
  if (!ec) {
    if (const json::object* o = v.if_object()) {
      const json::value* code = o->if_contains("error_code");
      const json::value* msg = o->if_contains("message");
      if (msg && msg->is_string()) {
        std::string m(msg->get_string().subview().substr(0, 200));
        if (code && code->is_int64()) return fmt::format("{} (error_code {})", m, code->get_int64());
        return m;
      }
    }
  }
  std::string snippet = res.body.substr(0, 120);
  for (char& c : snippet) {
    if (static_cast<unsigned char>(c) < 0x20) c = ' ';
  }
  return snippet.empty() ? "empty body" : snippet;
}

bool IsTransient(const Error& e) { return e.code == Errc::kUnavailable; }

}  // namespace

struct SchemaRegistryClient::Impl {
  struct Entry {
    LookupResult::State state = LookupResult::State::kPending;
    std::shared_ptr<const RegisteredSchema> schema;
    Error error;
    Clock::time_point retry_at{};
    uint64_t completions = 0;  // fetch attempts finished, for FetchBlocking
    bool failure_logged = false;
    bool permanent = false;                       // Failed for good: records are skipped
    std::optional<Clock::time_point> not_found_since;  // first 404 of the current run
  };
  // One per id being fetched. Client thread only.
  struct Task {
    explicit Task(asio::io_context& ioc) : timer(ioc) {}
    asio::steady_timer timer;  // backoff waits; cancelled to wake early
    bool wake = false;         // FetchBlocking asked for a fetch now
  };
  struct ResolveState {
    std::vector<std::pair<std::string, int32_t>> stack;
    std::set<std::pair<std::string, int32_t>> done;
    std::vector<ResolvedReference> out;
  };

  Impl(SchemaRegistryClientSettings s, RegistryUrl u)
      : settings(std::move(s)),
        url(std::move(u)),
        retry_backoff(settings.retry_backoff_initial, settings.retry_backoff_max,
                      std::random_device{}()),
        quarantine_backoff(settings.quarantine_backoff_initial, settings.quarantine_backoff_max,
                           std::random_device{}()) {}

  // Declared first: destroyed last, after everything bound to it.
  asio::io_context ioc{1};

  SchemaRegistryClientSettings settings;
  RegistryUrl url;
  std::thread thread;
  std::thread::id thread_id;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work;

  // Shared between threads, guarded by mu.
  mutable std::mutex mu;
  std::condition_variable cv;
  std::unordered_map<int32_t, Entry> entries;
  size_t unresolved = 0;
  std::function<void(int32_t)> on_settled;
  std::string auth_error;  // the last 401/403, until a fetch is answered otherwise

  std::atomic<uint64_t> requests{0}, failures{0}, hits{0}, misses{0}, quarantined{0}, cached{0};
  std::atomic<uint64_t> connections_opened{0}, permanent_ids{0};
  std::array<std::atomic<uint64_t>, kRegistryErrorKinds> errors_by_kind{};

  // Client thread only.
  std::unique_ptr<HttpClient> http;
  std::unordered_map<int32_t, std::shared_ptr<Task>> tasks;
  std::map<std::pair<std::string, int32_t>, std::shared_ptr<const ParsedSchema>> ref_cache;
  Backoff retry_backoff;
  Backoff quarantine_backoff;
  bool stopping = false;

  asio::awaitable<Result<HttpResponse>> Get(std::string target) {
    ++requests;
    Result<HttpResponse> r = co_await http->Get(std::move(target));
    connections_opened = http->connections_opened();
    if (!r.ok() || r->status != 200) ++failures;
    co_return r;
  }

  // Maps a non-200 answer to an Error; `what` names the thing asked for.
  Error StatusError(const HttpResponse& res, const std::string& what) const {
    const std::string detail = ErrorDetail(res);
    switch (res.status) {
      case 401:
        return MakeError(Errc::kUnauthenticated,
                         fmt::format("schema registry at {} rejected credentials (401){}: {}",
                                     url.Redacted(),
                                     settings.user_info.empty() && url.user_info.empty()
                                         ? " and no user_info is configured"
                                         : "",
                                     detail));
      case 403:
        return MakeError(Errc::kPermissionDenied,
                         fmt::format("schema registry at {} denied access to {} (403): {}",
                                     url.Redacted(), what, detail));
      case 404:
        return MakeError(Errc::kNotFound, fmt::format("{} not found in the schema registry: {}",
                                                      what, detail));
      case 408:
      case 429:
        return MakeError(Errc::kUnavailable,
                         fmt::format("schema registry answered HTTP {} for {}: {}", res.status,
                                     what, detail));
      default:
        if (res.status >= 500) {
          return MakeError(Errc::kUnavailable,
                           fmt::format("schema registry answered HTTP {} for {}: {}", res.status,
                                       what, detail));
        }
        return MakeError(Errc::kInvalidArgument,
                         fmt::format("schema registry answered HTTP {} for {}: {}", res.status,
                                     what, detail));
    }
  }

  asio::awaitable<Result<std::shared_ptr<const ParsedSchema>>> GetSubjectVersion(
      const std::string& subject, int32_t version) {
    const auto key = std::make_pair(subject, version);
    if (auto it = ref_cache.find(key); it != ref_cache.end()) co_return it->second;
    const std::string target =
        fmt::format("/subjects/{}/versions/{}",
                    boost::urls::encode(subject, boost::urls::pchars), version);
    const std::string what = fmt::format("subject '{}' version {}", subject, version);
    Result<HttpResponse> res = co_await Get(target);
    if (!res.ok()) co_return res.error();
    if (res->status != 200) co_return StatusError(*res, what);
    Result<ParsedSchema> parsed = ParseSchemaBody(res->body, settings.max_references);
    if (!parsed.ok()) {
      co_return MakeError(parsed.error().code,
                          fmt::format("bad response for {}: {}", what, parsed.error().message));
    }
    auto shared = std::make_shared<const ParsedSchema>(std::move(*parsed));
    ref_cache.emplace(key, shared);
    co_return shared;
  }

  // Depth-first, post-order: a schema lands in st.out after all it references.
  asio::awaitable<Status> ResolveReferences(int32_t id, const std::vector<SchemaReference>& refs,
                                            int depth, ResolveState& st) {
    for (const SchemaReference& ref : refs) {
      auto key = std::make_pair(ref.subject, ref.version);
      if (st.done.count(key)) continue;
      if (std::find(st.stack.begin(), st.stack.end(), key) != st.stack.end()) {
        co_return MakeError(Errc::kInvalidArgument,
                            fmt::format("schema id {}: reference cycle through subject '{}' "
                                        "version {}",
                                        id, ref.subject, ref.version));
      }
      if (depth >= settings.max_reference_depth) {
        co_return MakeError(Errc::kOutOfRange,
                            fmt::format("schema id {}: references nested deeper than {}", id,
                                        settings.max_reference_depth));
      }
      if (st.out.size() + st.stack.size() >= settings.max_references) {
        co_return MakeError(Errc::kOutOfRange,
                            fmt::format("schema id {}: more than {} referenced schemas", id,
                                        settings.max_references));
      }
      auto fetched = co_await GetSubjectVersion(ref.subject, ref.version);
      if (stopping) co_return MakeError(Errc::kUnavailable, "client is shutting down");
      if (!fetched.ok()) {
        co_return MakeError(fetched.error().code,
                            fmt::format("schema id {}: cannot resolve reference '{}': {}", id,
                                        ref.name, fetched.error().message));
      }
      std::shared_ptr<const ParsedSchema> child = *fetched;
      st.stack.push_back(key);
      Status sub = co_await ResolveReferences(id, child->references, depth + 1, st);
      st.stack.pop_back();
      if (!sub.ok()) co_return sub;
      st.done.insert(key);
      st.out.push_back(
          ResolvedReference{ref.name, ref.subject, ref.version, child->type, child->text});
    }
    co_return Status();
  }

  asio::awaitable<Result<std::shared_ptr<const RegisteredSchema>>> FetchOnce(int32_t id) {
    const std::string what = fmt::format("schema id {}", id);
    Result<HttpResponse> res = co_await Get(fmt::format("/schemas/ids/{}", id));
    if (!res.ok()) co_return res.error();
    if (res->status != 200) co_return StatusError(*res, what);
    Result<ParsedSchema> parsed = ParseSchemaBody(res->body, settings.max_references);
    if (!parsed.ok()) {
      co_return MakeError(parsed.error().code,
                          fmt::format("bad registry response for {}: {}", what,
                                      parsed.error().message));
    }
    auto schema = std::make_shared<RegisteredSchema>();
    schema->id = id;
    schema->type = parsed->type;
    schema->schema_text = std::move(parsed->text);
    schema->references = std::move(parsed->references);
    if (!schema->references.empty()) {
      ResolveState st;
      Status s = co_await ResolveReferences(id, schema->references, 0, st);
      if (!s.ok()) co_return s.error();
      schema->resolved_references = std::move(st.out);
    }
    co_return std::shared_ptr<const RegisteredSchema>(std::move(schema));
  }

  // Waits on the task's timer until `until`, or until woken / shut down.
  asio::awaitable<void> Sleep(Task& task, Clock::time_point until) {
    if (task.wake || stopping) co_return;
    task.timer.expires_at(until);
    co_await task.timer.async_wait(kTuple);
  }

  asio::awaitable<Result<std::shared_ptr<const RegisteredSchema>>> FetchWithRetries(int32_t id,
                                                                                    Task& task) {
    for (int attempt = 0;; ++attempt) {
      task.wake = false;
      auto r = co_await FetchOnce(id);
      if (!r.ok()) ++errors_by_kind[static_cast<size_t>(ClassifyRegistryError(r.error()))];
      if (r.ok() || stopping || !IsTransient(r.error()) || attempt >= settings.max_retries) {
        co_return r;
      }
      co_await Sleep(task, Clock::now() + retry_backoff.Delay(attempt));
      if (stopping) co_return r;
    }
  }

  // Fetches until Ready (or shutdown), waiting out a growing backoff after
  // each failure. `start_at` delays the first attempt.
  asio::awaitable<void> FetchLoop(int32_t id, std::shared_ptr<Task> task,
                                  Clock::time_point start_at) {
    if (start_at > Clock::now()) co_await Sleep(*task, start_at);
    for (int failures_in_row = 0; !stopping; ++failures_in_row) {
      auto r = co_await FetchWithRetries(id, *task);
      if (stopping) break;
      if (r.ok()) {
        tasks.erase(id);
        PublishReady(id, std::move(*r));
        co_return;
      }
      const Clock::time_point retry_at = NextTry(id, r.error(), failures_in_row);
      PublishFailed(id, r.error(), retry_at);
      co_await Sleep(*task, retry_at);
    }
    tasks.erase(id);
  }

  // When a failed id is fetched again: after the backoff, but a 404 still in
  // its grace period is tried again at the latest when the grace ends, so it
  // becomes permanent (and its records move on) on time.
  Clock::time_point NextTry(int32_t id, const Error& error, int failures_in_row) {
    const Clock::time_point now = Clock::now();
    Clock::time_point at = now + quarantine_backoff.Delay(failures_in_row);
    if (ClassifyRegistryError(error) != RegistryErrorKind::kNotFound) return at;
    std::lock_guard lock(mu);
    const Entry& e = entries[id];
    if (e.permanent) return at;
    if (!e.not_found_since) return std::min(at, now + settings.not_found_grace);
    return std::min(at, std::max(now, *e.not_found_since + settings.not_found_grace));
  }

  void PublishReady(int32_t id, std::shared_ptr<const RegisteredSchema> schema) {
    std::function<void(int32_t)> callback;
    bool had_failed = false;
    const SchemaType type = schema->type;
    const size_t reference_count = schema->resolved_references.size();
    {
      std::lock_guard lock(mu);
      Entry& e = entries[id];
      had_failed = e.failure_logged;
      if (e.state == LookupResult::State::kFailed) --quarantined;
      if (e.permanent) --permanent_ids;
      e.permanent = false;
      e.not_found_since.reset();
      auth_error.clear();
      if (e.state != LookupResult::State::kReady) {
        --unresolved;
        ++cached;
      }
      e.state = LookupResult::State::kReady;
      e.schema = std::move(schema);
      e.error = Error{};
      ++e.completions;
      callback = on_settled;
    }
    cv.notify_all();
    spdlog::log(had_failed ? spdlog::level::info : spdlog::level::debug,
                "schema registry: schema id {} resolved ({}, {} referenced schemas)", id,
                SchemaTypeName(type), reference_count);
    Notify(callback, id);
  }

  static void Notify(const std::function<void(int32_t)>& callback, int32_t id) {
    if (!callback) return;
    try {
      callback(id);
    } catch (const std::exception& ex) {
      spdlog::error("schema registry: OnSettled callback for id {} threw: {}", id, ex.what());
    } catch (...) {
      spdlog::error("schema registry: OnSettled callback for id {} threw", id);
    }
  }

  // Whether a failure of this kind makes the id permanent now. Caller holds mu.
  bool BecomesPermanent(Entry& e, RegistryErrorKind kind, Clock::time_point now) const {
    switch (kind) {
      case RegistryErrorKind::kUnsupported:
        return true;
      case RegistryErrorKind::kNotFound:
        if (!e.not_found_since) e.not_found_since = now;
        return now - *e.not_found_since >= settings.not_found_grace;
      case RegistryErrorKind::kTransient:
      case RegistryErrorKind::kAuth:
        break;
    }
    // A registry that is down or refusing us says nothing about the id: an
    // id that was permanent stays so; a 404 run is not interrupted.
    return e.permanent;
  }

  // Caller holds mu. Auth failures are remembered until a fetch is answered
  // by a registry that accepted the credentials.
  void TrackAuth(RegistryErrorKind kind, const Error& error) {
    if (kind == RegistryErrorKind::kAuth) {
      auth_error = error.message;
    } else if (kind != RegistryErrorKind::kTransient) {
      auth_error.clear();
    }
  }

  void PublishFailed(int32_t id, const Error& error, Clock::time_point retry_at) {
    const RegistryErrorKind kind = ClassifyRegistryError(error);
    const Clock::time_point now = Clock::now();
    bool first_failure = false;
    bool became_permanent = false;
    std::function<void(int32_t)> callback;
    {
      std::lock_guard lock(mu);
      Entry& e = entries[id];
      if (e.state == LookupResult::State::kReady) return;  // cannot happen; keep the schema
      if (e.state != LookupResult::State::kFailed) ++quarantined;
      e.state = LookupResult::State::kFailed;
      e.error = error;
      e.retry_at = retry_at;
      ++e.completions;
      first_failure = !e.failure_logged;
      e.failure_logged = true;
      const bool permanent = BecomesPermanent(e, kind, now);
      became_permanent = permanent && !e.permanent;
      if (became_permanent) ++permanent_ids;
      e.permanent = permanent;
      TrackAuth(kind, error);
      if (became_permanent) callback = on_settled;
    }
    cv.notify_all();
    // Each id is logged once at warning level, and again when it becomes
    // permanent; repeats go to debug.
    const auto in_ms = std::chrono::duration_cast<milliseconds>(retry_at - now).count();
    spdlog::log(first_failure || became_permanent ? spdlog::level::warn : spdlog::level::debug,
                "schema registry: cannot resolve schema id {}: {} [{}] {} ({}next try in {} ms)",
                id, RegistryErrorKindName(kind), ErrcName(error.code), error.message,
                became_permanent ? "permanent: its records are skipped; " : "", in_ms);
    if (became_permanent) Notify(callback, id);
  }

  // Client thread. Starts the fetch task for `id` unless one runs; `wake`
  // cuts a running task's backoff short.
  void StartFetch(int32_t id, bool wake, Clock::time_point start_at = {}) {
    if (stopping) return;
    if (auto it = tasks.find(id); it != tasks.end()) {
      if (wake) {
        it->second->wake = true;
        it->second->timer.cancel();
      }
      return;
    }
    {
      std::lock_guard lock(mu);
      auto it = entries.find(id);
      if (it == entries.end() || it->second.state == LookupResult::State::kReady) return;
    }
    auto task = std::make_shared<Task>(ioc);
    tasks.emplace(id, task);
    asio::co_spawn(ioc, FetchLoop(id, task, start_at), [this, id](std::exception_ptr ep) {
      if (!ep) return;
      std::string what = "unknown exception";
      try {
        std::rethrow_exception(ep);
      } catch (const std::exception& ex) {
        what = ex.what();
      } catch (...) {
      }
      tasks.erase(id);
      if (stopping) return;
      const Clock::time_point retry_at = Clock::now() + settings.quarantine_backoff_max;
      PublishFailed(id, MakeError(Errc::kInternal, "fetch failed: " + what), retry_at);
      // Without a task the id would never be retried: start a fresh one that
      // first waits, so a repeating failure cannot spin.
      asio::post(ioc, [this, id, retry_at] { StartFetch(id, false, retry_at); });
    });
  }

  void Shutdown() {
    stopping = true;
    http->Shutdown();
    for (auto& [id, task] : tasks) task->timer.cancel();
  }
};

Result<std::unique_ptr<SchemaRegistryClient>> SchemaRegistryClient::Create(
    SchemaRegistryClientSettings settings) {
  Result<RegistryUrl> url = ParseRegistryUrl(settings.url);
  if (!url.ok()) return url.error();
  if (settings.user_info.empty()) settings.user_info = url->user_info;
  if (!settings.user_info.empty() && settings.user_info.find(':') == std::string::npos) {
    return MakeError(Errc::kInvalidArgument,
                     "schema registry user info must be 'key:secret' (no ':' found)");
  }
  if (settings.request_timeout.count() <= 0) {
    return MakeError(Errc::kInvalidArgument, "schema registry request timeout must be positive");
  }
  if (settings.max_retries < 0) settings.max_retries = 0;
  if (settings.max_reference_depth < 1) settings.max_reference_depth = 1;

  auto impl = std::make_unique<Impl>(settings, *url);
  HttpClientOptions http_options;
  http_options.url = *url;
  http_options.user_info = settings.user_info;
  http_options.timeout = settings.request_timeout;
  http_options.max_body_bytes = settings.max_response_bytes;
  http_options.max_connections = settings.max_connections;
  http_options.ca_file = settings.ca_file;
  auto http = HttpClient::Create(impl->ioc, std::move(http_options));
  if (!http.ok()) return http.error();
  impl->http = std::move(*http);
  impl->work.emplace(impl->ioc.get_executor());
  Impl* raw = impl.get();
  std::promise<std::thread::id> started;
  auto started_future = started.get_future();
  impl->thread = std::thread([raw, &started] {
    started.set_value(std::this_thread::get_id());
    RunIoLoop(raw->ioc, "schema registry client");
  });
  impl->thread_id = started_future.get();
  spdlog::info("schema registry client for {} ({})", url->Redacted(),
               settings.user_info.empty() ? "no auth" : "basic auth");
  RegistryUrl url_copy = *url;
  return std::unique_ptr<SchemaRegistryClient>(
      new SchemaRegistryClient(std::move(impl), std::move(url_copy)));
}

SchemaRegistryClient::SchemaRegistryClient(std::unique_ptr<Impl> impl, RegistryUrl url)
    : impl_(std::move(impl)), url_(std::move(url)) {
  url_.user_info.clear();
}

SchemaRegistryClient::~SchemaRegistryClient() {
  Impl* impl = impl_.get();
  asio::post(impl->ioc, [impl] { impl->Shutdown(); });
  impl->work.reset();
  if (impl->thread.joinable()) impl->thread.join();
}

LookupResult SchemaRegistryClient::Lookup(int32_t id) {
  Impl& d = *impl_;
  {
    std::lock_guard lock(d.mu);
    auto it = d.entries.find(id);
    if (it != d.entries.end()) {
      const Impl::Entry& e = it->second;
      switch (e.state) {
        case LookupResult::State::kReady:
          ++d.hits;
          return LookupResult::Ready(e.schema);
        case LookupResult::State::kPending:
          ++d.misses;
          return LookupResult::Pending();
        case LookupResult::State::kFailed:
          ++d.misses;
          return LookupResult::Failed(e.error, e.retry_at, e.permanent);
      }
    }
    ++d.misses;
    if (d.unresolved >= d.settings.max_unresolved_ids) {
      return LookupResult::Failed(
          MakeError(Errc::kResourceExhausted,
                    fmt::format("schema id {}: {} ids are already unresolved", id, d.unresolved)),
          Clock::now() + d.settings.quarantine_backoff_initial);
    }
    d.entries.emplace(id, Impl::Entry{});
    ++d.unresolved;
  }
  spdlog::debug("schema registry: schema id {} not cached; fetching", id);
  asio::post(d.ioc, [&d, id] { d.StartFetch(id, false); });
  return LookupResult::Pending();
}

void SchemaRegistryClient::SetOnSettled(std::function<void(int32_t)> callback) {
  std::lock_guard lock(impl_->mu);
  impl_->on_settled = std::move(callback);
}

std::string SchemaRegistryClient::AuthFailure() const {
  std::lock_guard lock(impl_->mu);
  return impl_->auth_error;
}

Result<std::shared_ptr<const RegisteredSchema>> SchemaRegistryClient::FetchBlocking(
    int32_t id, milliseconds timeout) {
  Impl& d = *impl_;
  RTE_CHECK(std::this_thread::get_id() != d.thread_id);
  const auto deadline = Clock::now() + timeout;
  std::unique_lock lock(d.mu);
  auto it = d.entries.find(id);
  if (it != d.entries.end() && it->second.state == LookupResult::State::kReady) {
    ++d.hits;
    return it->second.schema;
  }
  if (it == d.entries.end()) {
    if (d.unresolved >= d.settings.max_unresolved_ids) {
      return MakeError(Errc::kResourceExhausted,
                       fmt::format("schema id {}: {} ids are already unresolved", id,
                                   d.unresolved));
    }
    it = d.entries.emplace(id, Impl::Entry{}).first;
    ++d.unresolved;
  }
  ++d.misses;
  const uint64_t start = it->second.completions;
  asio::post(d.ioc, [&d, id] { d.StartFetch(id, true); });
  const bool done = d.cv.wait_until(lock, deadline, [&] {
    const Impl::Entry& e = d.entries[id];
    return e.state == LookupResult::State::kReady || e.completions > start;
  });
  const Impl::Entry& e = d.entries[id];
  if (e.state == LookupResult::State::kReady) return e.schema;
  if (done) return e.error;
  std::string last = e.state == LookupResult::State::kFailed ? "; last error: " + e.error.message
                                                             : std::string();
  return MakeError(Errc::kUnavailable,
                   fmt::format("timed out after {} ms waiting for schema id {} from {}{}",
                               timeout.count(), id, url_.Redacted(), last));
}

Status SchemaRegistryClient::CheckConnectivity() {
  Impl& d = *impl_;
  RTE_CHECK(std::this_thread::get_id() != d.thread_id);
  auto promise = std::make_shared<std::promise<Status>>();
  std::future<Status> future = promise->get_future();
  asio::co_spawn(
      d.ioc,
      [&d, promise]() -> asio::awaitable<void> {
        Result<HttpResponse> res = co_await d.Get("/subjects");
        if (!res.ok()) {
          promise->set_value(MakeError(
              Errc::kUnavailable,
              fmt::format("cannot reach schema registry: {}", res.error().message)));
        } else if (res->status != 200) {
          promise->set_value(d.StatusError(*res, "GET /subjects"));
        } else {
          promise->set_value(Status());
        }
      },
      [promise](std::exception_ptr ep) {
        if (!ep) return;
        try {
          promise->set_value(MakeError(Errc::kInternal, "connectivity check failed"));
        } catch (...) {
        }
      });
  if (future.wait_for(d.settings.request_timeout + std::chrono::seconds(2)) !=
      std::future_status::ready) {
    return MakeError(Errc::kUnavailable,
                     fmt::format("schema registry at {} did not answer within {} ms",
                                 url_.Redacted(), d.settings.request_timeout.count()));
  }
  return future.get();
}

SchemaRegistryClient::Counters SchemaRegistryClient::counters() const {
  const Impl& d = *impl_;
  Counters c;
  c.requests = d.requests.load();
  c.failures = d.failures.load();
  c.cache_hits = d.hits.load();
  c.cache_misses = d.misses.load();
  c.quarantined_ids = d.quarantined.load();
  c.cached_ids = d.cached.load();
  c.connections_opened = d.connections_opened.load();
  for (size_t k = 0; k < c.errors.size(); ++k) c.errors[k] = d.errors_by_kind[k].load();
  c.permanent_ids = d.permanent_ids.load();
  return c;
}

}  // namespace rte::registry

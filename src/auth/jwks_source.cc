#include "auth/jwks_source.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "base/io_loop.h"
#include "registry/backoff.h"
#include "registry/http_client.h"
#include "registry/registry_url.h"

namespace rte::auth {
namespace asio = boost::asio;
using SteadyClock = std::chrono::steady_clock;

struct JwksSource::Impl {
  JwksSourceOptions options;
  std::string redacted_url;
  std::string target;  // appended to the URL's path by HttpClient::Get

  asio::io_context ioc;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work;
  std::unique_ptr<registry::HttpClient> http;
  asio::steady_timer timer{ioc};
  std::thread thread;

  // Guarded by mu.
  mutable std::mutex mu;
  mutable std::condition_variable first_cv;
  std::shared_ptr<const KeySet> current;
  bool started = false;
  bool stopped = false;

  std::atomic<uint64_t> ok_count{0};
  std::atomic<uint64_t> failed_count{0};
  std::atomic<uint64_t> rate_limited_count{0};

  // JWKS thread only.
  bool stopping = false;
  bool fetching = false;
  std::optional<SteadyClock::time_point> last_fetch_start;
  std::vector<std::function<void()>> waiting;
  registry::Backoff backoff{std::chrono::milliseconds(1000), std::chrono::milliseconds(60000),
                            static_cast<uint64_t>(SteadyClock::now().time_since_epoch().count())};
  int failures = 0;

  void RunDone(std::function<void()>& done) {
    try {
      if (done) done();
    } catch (const std::exception& e) {
      spdlog::error("JWKS refresh callback threw: {}", e.what());
    } catch (...) {
      spdlog::error("JWKS refresh callback threw");
    }
  }

  void CompleteWaiting() {
    std::vector<std::function<void()>> list;
    list.swap(waiting);
    for (auto& f : list) RunDone(f);
  }

  // One GET; true when a usable key set replaced the current one.
  asio::awaitable<bool> FetchOnce() {
    std::string problem;
    try {
      Result<registry::HttpResponse> res = co_await http->Get(target);
      if (!res.ok()) {
        problem = res.error().message;
      } else if (res->status != 200) {
        problem = fmt::format("HTTP status {}", res->status);
      } else {
        size_t skipped = 0;
        auto keys = KeySet::FromJwks(res->body, &skipped);
        if (!keys.ok()) {
          problem = keys.error().message;
        } else {
          const size_t n = (*keys)->keys().size();
          bool first = false;
          ok_count.fetch_add(1, std::memory_order_relaxed);  // counted before it is visible
          {
            std::lock_guard lock(mu);
            first = current == nullptr;
            current = std::move(*keys);
          }
          first_cv.notify_all();
          if (first || failures > 0) {
            spdlog::info("JWKS {}: {} keys ({} skipped)", redacted_url, n, skipped);
          } else {
            spdlog::debug("JWKS {}: refreshed, {} keys ({} skipped)", redacted_url, n, skipped);
          }
          failures = 0;
          co_return true;
        }
      }
    } catch (const std::exception& e) {
      problem = e.what();
    }
    failed_count.fetch_add(1, std::memory_order_relaxed);
    ++failures;
    if (!stopping) {
      spdlog::warn("JWKS {}: fetch failed ({}); keeping the previous keys", redacted_url, problem);
    }
    co_return false;
  }

  asio::awaitable<void> Loop() {
    while (!stopping) {
      fetching = true;
      last_fetch_start = SteadyClock::now();
      const bool ok = co_await FetchOnce();
      fetching = false;
      CompleteWaiting();
      if (stopping) break;
      auto delay = options.refresh;
      if (!ok) delay = std::min(delay, backoff.Delay(failures - 1));
      timer.expires_after(delay);
      // Ends on expiry, or early (cancel) for RequestRefresh or Stop.
      co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
    }
    CompleteWaiting();
  }

  // JWKS thread.
  void OnRefreshRequest(std::function<void()> done) {
    if (stopping) {
      RunDone(done);
      return;
    }
    if (fetching) {
      waiting.push_back(std::move(done));
      return;
    }
    if (last_fetch_start && SteadyClock::now() - *last_fetch_start < options.min_refresh) {
      rate_limited_count.fetch_add(1, std::memory_order_relaxed);
      RunDone(done);
      return;
    }
    waiting.push_back(std::move(done));
    timer.cancel();  // wakes Loop, which fetches (or, before its first run, fetches anyway)
  }
};

Result<std::unique_ptr<JwksSource>> JwksSource::Create(JwksSourceOptions options) {
  std::string_view text = options.url;
  if (text.find('#') != std::string_view::npos) {
    return MakeError(Errc::kInvalidArgument, "JWT_JWKS_URL must not have a fragment");
  }
  // ParseRegistryUrl takes no query and drops a trailing slash: put both back
  // in the request target.
  std::string query;
  if (size_t q = text.find('?'); q != std::string_view::npos) {
    query = std::string(text.substr(q));
    text = text.substr(0, q);
  }
  const bool trailing_slash = !text.empty() && text.back() == '/';
  auto url = registry::ParseRegistryUrl(text);
  if (!url.ok()) {
    std::string message = url.error().message;
    const std::string from = "schema registry URL";
    if (size_t p = message.find(from); p != std::string::npos) message.replace(p, from.size(), "URL");
    return MakeError(Errc::kInvalidArgument, "JWT_JWKS_URL: " + message);
  }
  if (options.refresh.count() <= 0) {
    return MakeError(Errc::kInvalidArgument, "JWT_JWKS_REFRESH must be positive");
  }
  if (options.min_refresh.count() < 0) options.min_refresh = std::chrono::milliseconds(0);
  if (options.timeout.count() <= 0) options.timeout = std::chrono::milliseconds(5000);

  auto impl = std::make_unique<Impl>();
  impl->target = (trailing_slash || url->base_path.empty() ? "/" : "") + query;
  impl->redacted_url = url->Redacted();
  impl->backoff = registry::Backoff(options.retry_initial, options.retry_max,
                                    static_cast<uint64_t>(SteadyClock::now().time_since_epoch().count()));
  registry::HttpClientOptions http_options;
  http_options.url = *url;
  http_options.user_info = url->user_info;
  http_options.accept = "application/json";
  http_options.timeout = options.timeout;
  http_options.max_body_bytes = options.max_body_bytes;
  http_options.max_connections = 1;
  impl->options = std::move(options);
  auto http = registry::HttpClient::Create(impl->ioc, std::move(http_options));
  if (!http.ok()) return MakeError(Errc::kInvalidArgument, "JWT_JWKS_URL: " + http.error().message);
  impl->http = std::move(*http);
  return std::unique_ptr<JwksSource>(new JwksSource(std::move(impl)));
}

JwksSource::JwksSource(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

JwksSource::~JwksSource() { Stop(); }

void JwksSource::Start() {
  Impl* d = impl_.get();
  {
    std::lock_guard lock(d->mu);
    if (d->started || d->stopped) return;
    d->started = true;
  }
  d->work.emplace(d->ioc.get_executor());
  asio::co_spawn(d->ioc, d->Loop(), [d](std::exception_ptr ep) {
    if (!ep) return;
    try {
      std::rethrow_exception(ep);
    } catch (const std::exception& e) {
      spdlog::error("JWKS {}: refresh loop ended: {}", d->redacted_url, e.what());
    } catch (...) {
      spdlog::error("JWKS {}: refresh loop ended", d->redacted_url);
    }
  });
  d->thread = std::thread([d] { RunIoLoop(d->ioc, "JWKS"); });
}

void JwksSource::Stop() {
  Impl* d = impl_.get();
  {
    std::lock_guard lock(d->mu);
    if (d->stopped) return;
    d->stopped = true;
  }
  d->first_cv.notify_all();
  asio::post(d->ioc, [d] {
    d->stopping = true;
    d->http->Shutdown();
    d->timer.cancel();
  });
  d->work.reset();
  if (d->thread.joinable()) d->thread.join();
}

bool JwksSource::WaitFirst(std::chrono::milliseconds timeout) const {
  std::unique_lock lock(impl_->mu);
  return impl_->first_cv.wait_for(lock, timeout,
                                  [this] { return impl_->current != nullptr || impl_->stopped; }) &&
         impl_->current != nullptr;
}

std::shared_ptr<const KeySet> JwksSource::Current() const {
  std::lock_guard lock(impl_->mu);
  return impl_->current;
}

void JwksSource::RequestRefresh(std::function<void()> done) {
  Impl* d = impl_.get();
  asio::post(d->ioc, [d, done = std::move(done)]() mutable { d->OnRefreshRequest(std::move(done)); });
}

uint64_t JwksSource::fetches_ok() const { return impl_->ok_count.load(std::memory_order_relaxed); }
uint64_t JwksSource::fetches_failed() const {
  return impl_->failed_count.load(std::memory_order_relaxed);
}
uint64_t JwksSource::refreshes_rate_limited() const {
  return impl_->rate_limited_count.load(std::memory_order_relaxed);
}

}  // namespace rte::auth

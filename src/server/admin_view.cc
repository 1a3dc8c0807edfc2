#include "server/admin_view.h"

#include <boost/json.hpp>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <chrono>

namespace rte::server {

Result<ClientQuery> ParseClientQuery(const std::map<std::string, std::string>& params) {
  ClientQuery q;
  for (const auto& [key, value] : params) {
    if (key == "sort") {
      if (value == "queue") {
        q.sort = ClientSort::kQueue;
      } else if (value == "age") {
        q.sort = ClientSort::kAge;
      } else {
        return Error{Errc::kInvalidArgument, "sort must be queue or age"};
      }
    } else if (key == "limit") {
      size_t n = 0;
      const auto* end = value.data() + value.size();
      auto [ptr, ec] = std::from_chars(value.data(), end, n);
      if (ec != std::errc() || ptr != end || n < 1 || n > 1000) {
        return Error{Errc::kInvalidArgument, "limit must be an integer from 1 to 1000"};
      }
      q.limit = n;
    }
  }
  return q;
}

void SelectClients(std::vector<ClientInfo>* clients, const ClientQuery& q) {
  auto before = [&](const ClientInfo& a, const ClientInfo& b) {
    if (q.sort == ClientSort::kQueue && a.queued_bytes != b.queued_bytes) return a.queued_bytes > b.queued_bytes;
    if (a.connected_ms != b.connected_ms) return a.connected_ms < b.connected_ms;
    return a.id < b.id;
  };
  const size_t keep = std::min(q.limit, clients->size());
  std::partial_sort(clients->begin(), clients->begin() + static_cast<std::ptrdiff_t>(keep), clients->end(), before);
  clients->resize(keep);
}

std::string RenderClientsJson(const std::vector<ClientInfo>& selected, size_t total) {
  boost::json::array arr;
  for (const ClientInfo& c : selected) {
    boost::json::array orgs;
    for (const auto& o : c.organizations) orgs.emplace_back(o);
    boost::json::object o{{"id", c.id},
                          {"endpoint", metrics::kEndpointNames[static_cast<size_t>(c.endpoint)]},
                          {"remote", c.remote},
                          {"user_id", c.user_id},
                          {"any_organization", c.any_organization},
                          {"organizations", std::move(orgs)},
                          {"subscriptions", c.subscriptions},
                          {"queued_bytes", c.queued_bytes},
                          {"events_sent", c.events_sent},
                          {"events_dropped", c.events_dropped},
                          {"connected_ms", c.connected_ms}};
    arr.push_back(std::move(o));
  }
  return boost::json::serialize(boost::json::object{{"total", total}, {"clients", std::move(arr)}});
}

bool AdminTokenMatches(std::string_view configured, std::string_view authorization) {
  if (configured.empty()) return false;
  constexpr std::string_view kScheme = "bearer ";
  if (authorization.size() < kScheme.size()) return false;
  for (size_t i = 0; i < kScheme.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(authorization[i])) != kScheme[i]) return false;
  }
  std::string_view token = authorization.substr(kScheme.size());
  while (!token.empty() && token.front() == ' ') token.remove_prefix(1);
  while (!token.empty() && token.back() == ' ') token.remove_suffix(1);
  // Compare every byte whatever the first difference (the length is not secret).
  unsigned char diff = token.size() == configured.size() ? 0 : 1;
  for (size_t i = 0; i < configured.size(); ++i) {
    diff |= static_cast<unsigned char>(configured[i] ^ (i < token.size() ? token[i] : 0));
  }
  return diff == 0;
}

void RateSampler::Start() {
  thread_ = std::thread([this] {
    auto last = std::chrono::steady_clock::now();
    std::unique_lock lock(mu_);
    while (!stop_) {
      cv_.wait_for(lock, std::chrono::seconds(1), [&] { return stop_; });
      if (stop_) break;
      lock.unlock();
      const auto now = std::chrono::steady_clock::now();
      const double seconds = std::chrono::duration<double>(now - last).count();
      last = now;
      const int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                                 std::chrono::system_clock::now().time_since_epoch())
                                 .count();
      Sample(seconds, now_ms);
      lock.lock();
    }
  });
}

void RateSampler::Stop() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void RateSampler::Sample(double seconds, int64_t now_ms) {
  RateTotals now = read_();  // outside the lock: reads relaxed atomics only
  std::lock_guard lock(mu_);
  if (have_last_ && seconds > 0) {
    auto rate = [&](uint64_t a, uint64_t b) { return b >= a ? static_cast<double>(b - a) / seconds : 0.0; };
    history_.push_back({now_ms, rate(last_.records, now.records), rate(last_.deliveries, now.deliveries)});
    if (history_.size() > kHistory) history_.pop_front();
    channel_rates_.assign(now.channel_records.size(), {0.0, 0.0});
    for (size_t c = 0; c < now.channel_records.size(); ++c) {
      const uint64_t r0 = c < last_.channel_records.size() ? last_.channel_records[c] : 0;
      const uint64_t d0 = c < last_.channel_deliveries.size() ? last_.channel_deliveries[c] : 0;
      const uint64_t d1 = c < now.channel_deliveries.size() ? now.channel_deliveries[c] : 0;
      channel_rates_[c] = {rate(r0, now.channel_records[c]), rate(d0, d1)};
    }
  }
  last_ = std::move(now);
  have_last_ = true;
}

std::vector<RateSample> RateSampler::History() const {
  std::lock_guard lock(mu_);
  return {history_.begin(), history_.end()};
}

std::vector<std::pair<double, double>> RateSampler::ChannelRates() const {
  std::lock_guard lock(mu_);
  return channel_rates_;
}

}  // namespace rte::server

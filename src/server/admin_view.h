// The admin view's data: who is connected (ClientInfo, gathered from every
// worker), events/s over the last minutes (RateSampler), the JSON of
// /api/admin/..., and the ADMIN_TOKEN check.
#pragma once

#include <array>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "base/result.h"
#include "metrics/stats.h"

namespace rte::server {

// One connection, as /api/admin/clients shows it.
// Thread: a value; built on the session's worker, read anywhere.
struct ClientInfo {
  std::string id;  // "<worker>-<n>": unique within this process
  metrics::Endpoint endpoint = metrics::Endpoint::kWs;
  std::string remote;
  std::string user_id;
  bool any_organization = false;           // AUTH_MODE none
  std::vector<std::string> organizations;  // of the principal (empty before auth)
  size_t subscriptions = 0;
  size_t queued_bytes = 0;
  uint64_t events_sent = 0;
  uint64_t events_dropped = 0;
  int64_t connected_ms = 0;  // since the epoch
};

enum class ClientSort { kQueue, kAge };

// ?sort=queue|age&limit=N (1..1000, default 50).
struct ClientQuery {
  ClientSort sort = ClientSort::kQueue;
  size_t limit = 50;
};
// `params`: the request's decoded query parameters.
Result<ClientQuery> ParseClientQuery(const std::map<std::string, std::string>& params);

// Keeps the first `q.limit` of `clients` in `q.sort` order: most queued bytes
// first (the slowest clients), or longest connected first.
void SelectClients(std::vector<ClientInfo>* clients, const ClientQuery& q);
std::string RenderClientsJson(const std::vector<ClientInfo>& selected, size_t total);

// `authorization` is the request's Authorization header; true when it is
// "Bearer <configured>" and `configured` is not empty. Constant time in the
// token's content.
bool AdminTokenMatches(std::string_view configured, std::string_view authorization);

// Running totals that RateSampler turns into per-second rates.
struct RateTotals {
  uint64_t records = 0;     // polled from Kafka
  uint64_t deliveries = 0;  // event frames queued to clients
  std::vector<uint64_t> channel_records;     // by channel id: routed + skipped + rejected
  std::vector<uint64_t> channel_deliveries;  // by channel id
};

struct RateSample {
  int64_t t_ms = 0;  // since the epoch
  double records_per_second = 0;
  double deliveries_per_second = 0;
};

// Samples RateTotals once a second on a thread of its own and keeps the last
// kHistory samples, plus each channel's latest rates.
// Thread: Start/Stop on one thread (main); History/ChannelRates from any.
class RateSampler {
 public:
  static constexpr size_t kHistory = 120;

  explicit RateSampler(std::function<RateTotals()> read) : read_(std::move(read)) {}
  ~RateSampler() { Stop(); }
  void Start();
  void Stop();

  std::vector<RateSample> History() const;
  // Latest per-channel rates: (records/s, deliveries/s) by channel id.
  std::vector<std::pair<double, double>> ChannelRates() const;

  // One sampling step, `seconds` after the previous one (the thread calls it; tests too).
  void Sample(double seconds, int64_t now_ms);

 private:
  std::function<RateTotals()> read_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  bool have_last_ = false;         // guarded by mu_
  RateTotals last_;                // guarded by mu_
  std::deque<RateSample> history_;  // guarded by mu_
  std::vector<std::pair<double, double>> channel_rates_;  // guarded by mu_
  std::thread thread_;
};

}  // namespace rte::server

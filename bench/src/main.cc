// realtime-events-bench: load generator for the Realtime Events gateway.
//
//   realtime-events-bench run SCENARIO.yaml [--gateway-url U] [--bootstrap B] [--registry R] [--gateway-pid P] [--out F]
//   realtime-events-bench create-topic --bootstrap B --topic T [--partitions N]
//   realtime-events-bench env SCENARIO.yaml      (shell variables for bench/run)
//
// bench/README.md describes the scenario keys and the output.
#include <arpa/inet.h>
#include <netdb.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <boost/json.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <memory>
#include <optional>
#include <thread>

#include "avro_value.h"
#include "client.h"
#include "histogram.h"
#include "procstat.h"
#include "producer.h"
#include "scenario.h"

namespace rte::bench {
namespace {

namespace json = boost::json;

std::atomic<bool> g_interrupted{false};

void OnSignal(int) { g_interrupted = true; }

void SleepMs(int ms) { std::this_thread::sleep_for(std::chrono::milliseconds(ms)); }

double NowS() { return static_cast<double>(MonotonicUs()) / 1e6; }

// ---- loopback guard ------------------------------------------------------

bool IsLoopbackHost(const std::string& host) {
  if (host == "localhost" || host == "::1" || host == "[::1]") return true;
  in_addr a{};
  if (inet_pton(AF_INET, host.c_str(), &a) == 1) return (ntohl(a.s_addr) >> 24) == 127;
  return false;
}

struct HostPort {
  std::string host;
  uint16_t port = 0;
};

std::optional<HostPort> ParseHttpUrl(const std::string& url) {
  std::string rest = url;
  if (rest.rfind("http://", 0) == 0) rest = rest.substr(7);
  else if (rest.rfind("ws://", 0) == 0) rest = rest.substr(5);
  else return std::nullopt;
  rest = rest.substr(0, rest.find('/'));
  auto colon = rest.rfind(':');
  if (colon == std::string::npos) return HostPort{rest, 80};
  try {
    return HostPort{rest.substr(0, colon), static_cast<uint16_t>(std::stoi(rest.substr(colon + 1)))};
  } catch (...) {
    return std::nullopt;
  }
}

std::string CheckLoopback(const Scenario& s) {
  auto hp = ParseHttpUrl(s.gateway_url);
  if (!hp) return "gateway_url must be http://127.x.y.z:PORT, got " + s.gateway_url;
  if (!IsLoopbackHost(hp->host)) return "refusing a non-loopback gateway: " + hp->host;
  if (s.value_format == "avro") {
    auto r = ParseHttpUrl(s.registry_url);
    if (!r || s.registry_url.rfind("http://", 0) != 0)
      return "value_format avro needs --registry http://127.x.y.z:PORT (or registry_url:), got '" + s.registry_url + "'";
    if (!IsLoopbackHost(r->host)) return "refusing a non-loopback schema registry: " + r->host;
  }
  if (s.source == "kafka") {
    std::string b = s.bootstrap;
    size_t start = 0;
    while (start <= b.size()) {
      auto comma = b.find(',', start);
      std::string item = b.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
      if (auto p = item.find("://"); p != std::string::npos) item = item.substr(p + 3);
      std::string host = item.substr(0, item.rfind(':'));
      if (!item.empty() && !IsLoopbackHost(host)) return "refusing a non-loopback Kafka bootstrap: " + item;
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
  }
  return "";
}

// ---- blocking HTTP/1.1 with Connection: close (the gateway's /api/stats, the registry) ----

struct HttpResult {
  int status = 0;        // 0: no answer
  std::string body;
};

HttpResult Http(const HostPort& hp, const std::string& method, const std::string& path, const std::string& body = "",
                const std::string& content_type = "", int timeout_s = 1) {
  HttpResult out;
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return out;
  timeval tv{timeout_s, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(hp.port);
  inet_pton(AF_INET, hp.host == "localhost" ? "127.0.0.1" : hp.host.c_str(), &sa.sin_addr);
  std::string resp;
  if (connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0) {
    std::string req = method + " " + path + " HTTP/1.1\r\nHost: " + hp.host + "\r\nConnection: close\r\n";
    if (!content_type.empty()) req += "Content-Type: " + content_type + "\r\n";
    if (method != "GET") req += "Content-Length: " + std::to_string(body.size()) + "\r\n";
    req += "\r\n" + body;
    if (send(fd, req.data(), req.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(req.size())) {
      char b[8192];
      ssize_t n;
      while ((n = recv(fd, b, sizeof b, 0)) > 0 && resp.size() < (1u << 20)) resp.append(b, static_cast<size_t>(n));
    }
  }
  close(fd);
  auto end = resp.find("\r\n\r\n");
  if (resp.compare(0, 9, "HTTP/1.1 ") != 0 || end == std::string::npos || resp.size() < 12) return out;
  out.status = std::atoi(resp.substr(9, 3).c_str());
  out.body = resp.substr(end + 4);
  return out;
}

std::optional<json::object> GetJson(const HostPort& hp, const std::string& path) {
  HttpResult r = Http(hp, "GET", path);
  if (r.status != 200) return std::nullopt;
  boost::system::error_code ec;
  auto v = json::parse(r.body, ec);
  if (ec || !v.is_object()) return std::nullopt;
  return v.as_object();
}

// Registers avro::kSchema as SUBJECT's latest version (Confluent REST:
// POST /subjects/{subject}/versions) and returns its id, or throws.
int32_t RegisterSchema(const std::string& registry_url, const std::string& subject) {
  auto hp = ParseHttpUrl(registry_url);
  if (!hp) throw std::runtime_error("bad registry URL " + registry_url);
  std::string base = registry_url.substr(7);
  base = base.find('/') == std::string::npos ? "" : base.substr(base.find('/'));
  while (!base.empty() && base.back() == '/') base.pop_back();
  std::string body = json::serialize(json::object{{"schema", avro::kSchema}});
  HttpResult r;
  for (int attempt = 0; attempt < 10; ++attempt) {  // the registry may still be starting
    r = Http(*hp, "POST", base + "/subjects/" + subject + "/versions", body, "application/vnd.schemaregistry.v1+json", 5);
    if (r.status == 200 || (r.status >= 400 && r.status < 500)) break;
    SleepMs(300);
  }
  boost::system::error_code ec;
  auto v = json::parse(r.body, ec);
  if (r.status != 200 || ec || !v.is_object() || !v.as_object().contains("id") || !v.as_object().at("id").is_int64())
    throw std::runtime_error(fmt::format("registering the value schema as {} at {}: HTTP {} {}", subject, registry_url,
                                         r.status, r.body.substr(0, 300)));
  return static_cast<int32_t>(v.as_object().at("id").as_int64());
}

int64_t JInt(const json::object& o, const char* k) {
  auto it = o.find(k);
  if (it == o.end()) return -1;
  if (it->value().is_int64()) return it->value().as_int64();
  if (it->value().is_uint64()) return static_cast<int64_t>(it->value().as_uint64());
  return -1;
}

// ---- totals over client threads -------------------------------------------

struct Totals {
  uint64_t deliveries = 0, tracked_deliveries = 0, losses = 0, duplicates = 0, foreign = 0, other = 0, pings = 0,
           bytes = 0, reads = 0;
  uint64_t attempts = 0, ready = 0, open = 0, failed = 0, failed_connect = 0, failed_timeout = 0, failed_status = 0,
           failed_ws = 0, failed_closed = 0;
  uint64_t closed_unexpected = 0, closed_by_server = 0, closed_1013 = 0, closed_1008 = 0, closed_other = 0,
           churn_closed = 0, parked = 0;
  uint64_t first_attempt_us = 0, last_ready_us = 0;
};

Totals Sum(const std::vector<std::unique_ptr<ClientThread>>& ts) {
  Totals t;
  auto L = [](const std::atomic<uint64_t>& a) { return a.load(std::memory_order_relaxed); };
  for (const auto& th : ts) {
    const Counters& c = th->counters;
    t.deliveries += L(c.deliveries);
    t.tracked_deliveries += L(c.tracked_deliveries);
    t.losses += L(c.losses);
    t.duplicates += L(c.duplicates);
    t.foreign += L(c.foreign);
    t.other += L(c.other_messages);
    t.pings += L(c.pings);
    t.bytes += L(c.bytes);
    t.reads += L(c.reads);
    t.attempts += L(c.attempts);
    t.ready += L(c.ready);
    t.open += L(c.open);
    t.failed += L(c.failed);
    t.failed_connect += L(c.failed_connect);
    t.failed_timeout += L(c.failed_timeout);
    t.failed_status += L(c.failed_status);
    t.failed_ws += L(c.failed_ws);
    t.failed_closed += L(c.failed_closed);
    t.closed_unexpected += L(c.closed_unexpected);
    t.closed_by_server += L(c.closed_by_server);
    t.closed_1013 += L(c.closed_1013);
    t.closed_1008 += L(c.closed_1008);
    t.closed_other += L(c.closed_other_code);
    t.churn_closed += L(c.churn_closed);
    t.parked += L(c.stalled_parked);
    uint64_t f = L(c.first_attempt_us);
    if (f && (!t.first_attempt_us || f < t.first_attempt_us)) t.first_attempt_us = f;
    t.last_ready_us = std::max(t.last_ready_us, L(c.last_ready_us));
  }
  return t;
}

Snapshot Latency(const std::vector<std::unique_ptr<ClientThread>>& ts) {
  Snapshot s;
  for (const auto& th : ts) th->latency.AddTo(s);
  return s;
}
Snapshot Handshakes(const std::vector<std::unique_ptr<ClientThread>>& ts) {
  Snapshot s;
  for (const auto& th : ts) th->handshake.AddTo(s);
  return s;
}

std::string Ms(uint64_t us) {
  if (us >= 10'000'000) return fmt::format("{:.1f}s", static_cast<double>(us) / 1e6);
  if (us >= 100'000) return fmt::format("{:.0f}ms", static_cast<double>(us) / 1e3);
  return fmt::format("{:.2f}ms", static_cast<double>(us) / 1e3);
}

std::string Count(double v) {
  if (v >= 1e6) return fmt::format("{:.2f}M", v / 1e6);
  if (v >= 1e4) return fmt::format("{:.1f}k", v / 1e3);
  return fmt::format("{:.0f}", v);
}

json::object LatencyJson(const Snapshot& s) {
  return {{"count", s.total},
          {"p50_us", s.Quantile(0.5)},
          {"p90_us", s.Quantile(0.9)},
          {"p99_us", s.Quantile(0.99)},
          {"p999_us", s.Quantile(0.999)},
          {"max_us", s.max}};
}

// ---- the run ---------------------------------------------------------------

struct Options {
  std::string scenario;
  std::string gateway_url, bootstrap, out, token, target = "gateway", source, registry;
  std::optional<std::string> org_prefix;
  std::string assert_stalled;
  int max_gateway_rss_mb = -1;
  int gateway_pid = 0;
  double max_seconds = 0;
  int connections = -1, duration = -1, threads = 0;
  bool quiet = false;
};

class Bench {
 public:
  Bench(Scenario& scn, const Options& o) : scn_(scn), opt_(o), shared_(scn) {}
  int Run();

 private:
  void ConnectTo(int n, int step_index);
  void WaitSubscribed(int expected_subs);
  void Tick(int step_index, double offered_dps);  // one progress sample
  json::object RunStep(int i, const Step& st);
  uint64_t ExpectedTracked() const;
  int64_t FreshReceived();  // the gateway's records_received now, else the last sample's
  double SubsPerStream() const;

  Scenario& scn_;
  Options opt_;
  Shared shared_;
  HostPort gw_;
  std::vector<std::unique_ptr<ClientThread>> threads_;
  std::unique_ptr<Producer> producer_;
  int opened_ = 0;
  bool stats_ok_ = false;
  double t0_ = 0;
  // per-second sampling state
  double last_t_ = 0;
  Totals last_totals_;
  Snapshot last_lat_;
  ProcSample last_proc_;
  int64_t last_received_ = -1, last_skipped_ = -1;
  uint64_t peak_rss_kb_ = 0;
  json::array samples_;
  std::vector<int> subs_per_stream_;  // tracked (non-stalled) subscriptions of the opened connections
  std::vector<std::string> notes_;
  std::string value_schema_ids_;   // "topic-value=ID ..." (Avro values)
};

double Bench::SubsPerStream() const {
  // Average subscribers per stream over all configured connections.
  int k = scn_.endpoint == "ws" ? std::max(1, scn_.subscriptions_per_connection) : 1;
  double subs = static_cast<double>(scn_.connections) * std::min(k, scn_.Streams());
  return std::max(1.0, subs / scn_.Streams());
}

uint64_t Bench::ExpectedTracked() const {
  if (!producer_) return 0;
  uint64_t e = 0;
  const auto& p = producer_->produced();
  for (size_t s = 0; s < p.size(); ++s) e += p[s].load(std::memory_order_relaxed) * static_cast<uint64_t>(subs_per_stream_[s]);
  return e;
}

int64_t Bench::FreshReceived() {
  if (stats_ok_)
    if (auto st = GetJson(gw_, "/api/stats"); st && JInt(*st, "records_received") >= 0)
      return JInt(*st, "records_received");
  return last_received_;
}

// The gateway's record counters (/api/stats) that say whether the bench's
// records were read as meant: any key or value error, or a record rejected
// for any reason, means the measurement is of the wrong path.
struct GatewayRecords {
  bool ok = false;
  int64_t received = 0, skipped = 0, routed = 0, parked = 0, key_errors = 0, value_errors = 0;
  std::vector<std::pair<std::string, int64_t>> rejected;
};

GatewayRecords ReadGatewayRecords(const std::optional<json::object>& st) {
  GatewayRecords g;
  if (!st || JInt(*st, "records_received") < 0) return g;
  g.ok = true;
  g.received = JInt(*st, "records_received");
  g.skipped = std::max<int64_t>(0, JInt(*st, "records_skipped"));
  g.routed = std::max<int64_t>(0, JInt(*st, "records_routed"));
  g.parked = std::max<int64_t>(0, JInt(*st, "records_parked"));
  g.key_errors = std::max<int64_t>(0, JInt(*st, "key_errors"));
  g.value_errors = std::max<int64_t>(0, JInt(*st, "value_errors"));
  if (auto it = st->find("rejected"); it != st->end() && it->value().is_object())
    for (const auto& kv : it->value().as_object())
      g.rejected.emplace_back(std::string(kv.key()), kv.value().is_int64()    ? kv.value().as_int64()
                                                     : kv.value().is_uint64() ? static_cast<int64_t>(kv.value().as_uint64())
                                                                              : 0);
  return g;
}

void Bench::ConnectTo(int n, int step_index) {
  if (n <= opened_) return;
  double start = NowS();
  int begin = opened_;
  double rate = scn_.connect_rate;
  double deadline = start + scn_.connect_timeout_s;
  double next_tick = start + 1;
  while (!g_interrupted) {
    double now = NowS();
    Totals t = Sum(threads_);
    uint64_t inflight = t.attempts - t.ready - t.failed;
    if (opened_ < n) {
      int allowed = rate > 0 ? static_cast<int>((now - start) * rate) + 1 - (opened_ - begin) : n;
      int room = scn_.max_inflight_connects - static_cast<int>(inflight);
      int k = std::min({allowed, room, n - opened_, 2000});
      for (int i = 0; i < k; ++i, ++opened_) {
        auto id = static_cast<uint32_t>(opened_);
        threads_[id % threads_.size()]->Open(id, true);
        if (!scn_.StalledConn(id))
          for (const auto& sp : scn_.SubsOf(id)) subs_per_stream_[sp.stream]++;
      }
    } else if (t.ready + t.failed >= static_cast<uint64_t>(opened_)) {
      break;
    }
    if (now >= next_tick) {
      Tick(step_index, 0);
      next_tick += 1;
    }
    if (now > deadline) {
      notes_.push_back(fmt::format("connect phase timed out after {} s", scn_.connect_timeout_s));
      break;
    }
    SleepMs(opened_ < n ? 1 : 10);
  }
}

void Bench::WaitSubscribed(int expected_subs) {
  // /getEvents has no acknowledgement: wait until the gateway reports the
  // subscriptions (its interest is applied by then, docs/architecture.md),
  // then settle a little. Without /api/stats, just settle.
  if (stats_ok_) {
    double deadline = NowS() + 10;
    while (NowS() < deadline && !g_interrupted) {
      auto st = GetJson(gw_, "/api/stats");
      if (st && JInt(*st, "subscriptions") >= expected_subs) break;
      SleepMs(50);
    }
  }
  SleepMs(static_cast<int>(scn_.settle_s * 1000));
}

void Bench::Tick(int step_index, double offered_dps) {
  double now = NowS();
  double dt = now - last_t_;
  if (dt <= 0) return;
  Totals t = Sum(threads_);
  Snapshot lat = Latency(threads_);
  Snapshot d = lat.Since(last_lat_);
  ProcSample p = ReadProc(opt_.gateway_pid);
  double dps = static_cast<double>(t.deliveries - last_totals_.deliveries) / dt;
  double cpu = p.ok && last_proc_.ok ? static_cast<double>(p.cpu_us - last_proc_.cpu_us) / (dt * 1e4) : -1;
  if (p.ok) peak_rss_kb_ = std::max(peak_rss_kb_, p.rss_kb);
  int64_t received = -1, skipped = -1, gw_conns = -1;
  if (stats_ok_) {
    if (auto st = GetJson(gw_, "/api/stats")) {
      received = JInt(*st, "records_received");
      skipped = JInt(*st, "records_skipped");
      gw_conns = JInt(*st, "connections");
    }
  }
  double rps = received >= 0 && last_received_ >= 0 ? static_cast<double>(received - last_received_) / dt : -1;
  json::object s{{"t", std::round((now - t0_) * 10) / 10},
                 {"step", step_index},
                 {"offered_deliveries_per_s", offered_dps},
                 {"deliveries_per_s", std::round(dps)},
                 {"p50_us", d.Quantile(0.5)},
                 {"p99_us", d.Quantile(0.99)},
                 {"max_us", d.max},
                 {"connections", t.open},
                 {"losses", t.losses},
                 {"duplicates", t.duplicates},
                 {"produced", producer_ ? producer_->total() : 0}};
  if (p.ok) {
    s["gateway_rss_kb"] = p.rss_kb;
    s["gateway_cpu_pct"] = std::round(cpu * 10) / 10;
  }
  if (received >= 0) {
    s["gateway_records_received"] = received;
    s["gateway_records_skipped"] = skipped;
    s["gateway_connections"] = gw_conns;
    if (rps >= 0) s["gateway_records_per_s"] = std::round(rps);
  }
  samples_.push_back(s);
  if (!opt_.quiet) {
    std::string line = fmt::format("[{:6.1f}s] step {} deliveries/s {:>7}", now - t0_, step_index, Count(dps));
    if (offered_dps > 0) line += fmt::format(" (offered {})", Count(offered_dps));
    line += fmt::format(" p50 {} p99 {} conns {} loss {} dup {}", Ms(d.Quantile(0.5)), Ms(d.Quantile(0.99)), t.open,
                        t.losses, t.duplicates);
    if (t.failed) line += fmt::format(" failed {}", t.failed);
    if (rps >= 0) line += fmt::format(" gw records/s {}", Count(rps));
    if (p.ok) line += fmt::format(" | gw rss {:.1f}MB cpu {:.0f}%", static_cast<double>(p.rss_kb) / 1024, cpu);
    std::puts(line.c_str());
    std::fflush(stdout);
  }
  last_t_ = now;
  last_totals_ = t;
  last_lat_ = std::move(lat);
  last_proc_ = p;
  if (received >= 0) last_received_ = received, last_skipped_ = skipped;
}

json::object Bench::RunStep(int i, const Step& st) {
  json::object r;
  r["step"] = i;
  // S3-style steps: more connections first.
  if (st.connections > 0 && st.connections > opened_) {
    rlimit rl{};
    getrlimit(RLIMIT_NOFILE, &rl);
    if (static_cast<rlim_t>(st.connections) + 64 > rl.rlim_cur) {
      std::string why = fmt::format("step {}: {} connections need RLIMIT_NOFILE >= {} (this process has {}): skipped",
                                    i, st.connections, st.connections + 64, rl.rlim_cur);
      std::fprintf(stderr, "bench: %s\n", why.c_str());
      notes_.push_back(why);
      r["skipped"] = why;
      return r;
    }
    Totals before = Sum(threads_);
    double t = NowS();
    ConnectTo(st.connections, i);
    Totals after = Sum(threads_);
    r["connect_s"] = NowS() - t;
    r["connected"] = after.ready - before.ready;
    r["connect_failures"] = after.failed - before.failed;
    WaitSubscribed(0);
  }
  double avg = SubsPerStream();
  double rps = st.records_per_s > 0 ? st.records_per_s : st.deliveries_per_s / avg;
  bool produce = producer_ && (rps > 0 || st.max_rate);
  double offered_dps = produce ? (st.max_rate ? 0 : rps * avg) : 0;
  Totals t_start = Sum(threads_);
  Snapshot lat_start = Latency(threads_);
  // The gateway's counter read now (not the last sample, up to 1 s old), so
  // that records and CPU cover the same window.
  int64_t rec_start = FreshReceived();
  ProcSample p_start = ReadProc(opt_.gateway_pid);
  uint64_t produced_start = producer_ ? producer_->total() : 0;
  uint64_t expected_start = ExpectedTracked();
  if (!opt_.quiet)
    std::printf("== step %d: %s for %d s (%d connections)\n", i,
                produce ? (st.max_rate ? std::string("records as fast as possible")
                                       : fmt::format("{} records/s = {} deliveries/s", Count(rps), Count(rps * avg)))
                              .c_str()
                        : "no production",
                st.duration_s, static_cast<int>(t_start.open));
  shared_.stall_active = true;
  double start = NowS();
  if (produce) producer_->Run(st.max_rate ? 0 : rps, st.duration_s);
  double end = start + st.duration_s;
  double next_tick = last_t_ + 1;
  double churn_done = 0;
  size_t churn_rr = 0;
  double hold_end = end + (st.duration_s == 0 ? scn_.hold_s : 0);
  while (NowS() < std::max(end, hold_end) && !g_interrupted) {
    double now = NowS();
    if (st.churn > 0 && now < end) {
      int due = static_cast<int>((now - start) * st.churn - churn_done);
      if (due > 0) {
        threads_[churn_rr++ % threads_.size()]->Churn(due);
        churn_done += due;
      }
    }
    if (now >= next_tick) {
      Tick(i, offered_dps);
      next_tick += 1;
    }
    SleepMs(5);
  }
  if (producer_) producer_->Stop();
  double prod_end = NowS();
  Totals t_prod = Sum(threads_);
  int64_t rec_prod = FreshReceived();
  ProcSample p_prod = ReadProc(opt_.gateway_pid);
  uint64_t produced = producer_ ? producer_->total() - produced_start : 0;
  uint64_t expected = ExpectedTracked() - expected_start;
  // Drain: until every tracked client has every record, or drain_s.
  double drain_start = NowS();
  bool drained = !produce;
  if (produce) {
    producer_->Flush(std::max(1000, scn_.drain_s * 1000));
    while (!g_interrupted && NowS() < drain_start + scn_.drain_s) {
      if (Sum(threads_).tracked_deliveries - t_start.tracked_deliveries >= expected) {
        drained = true;
        break;
      }
      if (NowS() >= next_tick) {
        Tick(i, 0);
        next_tick += 1;
      }
      SleepMs(5);
    }
  }
  double drain_s = NowS() - drain_start;
  Totals t_end = Sum(threads_);
  Snapshot lat = Latency(threads_).Since(lat_start);
  ProcSample p_end = ReadProc(opt_.gateway_pid);
  double dur = std::max(1e-3, prod_end - start);
  uint64_t deliveries = t_end.deliveries - t_start.deliveries;
  uint64_t in_window = t_prod.deliveries - t_start.deliveries;
  r["duration_s"] = std::round(dur * 100) / 100;
  r["offered_records_per_s"] = st.max_rate ? -1.0 : std::round(rps);
  r["offered_deliveries_per_s"] = std::round(offered_dps);
  r["produced_records"] = produced;
  r["produced_records_per_s"] = std::round(static_cast<double>(produced) / dur);
  r["expected_deliveries"] = expected;
  r["deliveries"] = deliveries;
  r["delivered_per_s"] = std::round(static_cast<double>(in_window) / dur);
  r["backlog_at_end"] = static_cast<int64_t>(expected) - static_cast<int64_t>(t_prod.tracked_deliveries - t_start.tracked_deliveries);
  r["drained"] = drained;
  r["drain_s"] = std::round(drain_s * 100) / 100;
  r["latency"] = LatencyJson(lat);
  r["losses"] = t_end.losses - t_start.losses;
  r["duplicates"] = t_end.duplicates - t_start.duplicates;
  r["foreign"] = t_end.foreign - t_start.foreign;
  r["closed_by_server"] = t_end.closed_by_server - t_start.closed_by_server;
  r["closed_1013"] = t_end.closed_1013 - t_start.closed_1013;
  r["connections"] = t_end.open;
  if (st.churn > 0) {
    r["churn_offered_per_s"] = st.churn;
    r["churn_closed"] = t_end.churn_closed - t_start.churn_closed;
    r["churn_reopened"] = (t_end.ready - t_start.ready);
    r["churn_per_s"] = std::round(static_cast<double>(t_end.ready - t_start.ready) / dur);
    r["churn_failures"] = t_end.failed - t_start.failed;
  }
  if (p_end.ok && p_start.ok) {
    double cpu_us = static_cast<double>(p_end.cpu_us - p_start.cpu_us);
    double wall = NowS() - start;
    r["gateway_cpu_pct"] = std::round(cpu_us / (wall * 1e4) * 10) / 10;
    r["gateway_cpu_pct_production"] = std::round(static_cast<double>(p_prod.cpu_us - p_start.cpu_us) / (dur * 1e4) * 10) / 10;
    r["gateway_cpu_us_per_delivery"] = deliveries ? std::round(cpu_us / static_cast<double>(deliveries) * 100) / 100 : 0.0;
    r["gateway_rss_kb"] = p_end.rss_kb;
    r["gateway_rss_kb_start"] = p_start.rss_kb;
    if (t_end.open) r["gateway_rss_bytes_per_connection_total"] = std::round(static_cast<double>(p_end.rss_kb) * 1024 / t_end.open);
  }
  if (rec_start >= 0 && rec_prod >= 0) {
    r["gateway_records_per_s"] = std::round(static_cast<double>(rec_prod - rec_start) / dur);
    // The best one-second sample of this step.
    double best = 0;
    for (const auto& v : samples_) {
      const auto& o = v.as_object();
      if (o.at("step").as_int64() == i && o.contains("gateway_records_per_s"))
        best = std::max(best, o.at("gateway_records_per_s").to_number<double>());
    }
    r["gateway_records_per_s_peak"] = best;
    if (p_prod.ok && p_start.ok && rec_prod > rec_start) {
      double us = static_cast<double>(p_prod.cpu_us - p_start.cpu_us) / static_cast<double>(rec_prod - rec_start);
      r["gateway_cpu_us_per_record"] = std::round(us * 1000) / 1000;
      if (us > 0) r["gateway_records_per_core_s"] = std::round(1e6 / us);
    }
  }
  if (!opt_.quiet) {
    std::printf("== step %d: delivered %s/s, p50 %s p99 %s max %s, losses %llu, dups %llu%s\n", i,
                Count(static_cast<double>(in_window) / dur).c_str(), Ms(lat.Quantile(0.5)).c_str(),
                Ms(lat.Quantile(0.99)).c_str(), Ms(lat.max).c_str(),
                static_cast<unsigned long long>(t_end.losses - t_start.losses),
                static_cast<unsigned long long>(t_end.duplicates - t_start.duplicates),
                drained ? "" : fmt::format(" (NOT drained after {} s)", scn_.drain_s).c_str());
    std::fflush(stdout);
  }
  return r;
}

int Bench::Run() {
  // Limits.
  rlimit rl{};
  getrlimit(RLIMIT_NOFILE, &rl);
  if (rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
  if (static_cast<rlim_t>(scn_.connections) + 64 > rl.rlim_cur) {
    std::fprintf(stderr, "bench: %d connections need RLIMIT_NOFILE >= %d; the limit is %llu\n", scn_.connections,
                 scn_.connections + 64, static_cast<unsigned long long>(rl.rlim_cur));
    return 2;
  }
  gw_ = *ParseHttpUrl(scn_.gateway_url);
  boost::system::error_code ec;
  auto addr = asio::ip::make_address(gw_.host == "localhost" ? "127.0.0.1" : gw_.host, ec);
  if (ec) {
    std::fprintf(stderr, "bench: bad gateway host %s\n", gw_.host.c_str());
    return 2;
  }
  shared_.server = asio::ip::tcp::endpoint(addr, gw_.port);
  shared_.host_header = gw_.host + ":" + std::to_string(gw_.port);
  subs_per_stream_.assign(static_cast<size_t>(scn_.Streams()), 0);

  bool any_production = false;
  for (const auto& st : scn_.steps) any_production |= st.records_per_s > 0 || st.deliveries_per_s > 0 || st.max_rate;
  if (scn_.source == "kafka" && any_production) {
    if (scn_.bootstrap.empty()) {
      std::fprintf(stderr, "bench: source kafka needs --bootstrap (or bootstrap: in the scenario)\n");
      return 2;
    }
    try {
      std::vector<int32_t> ids;
      if (scn_.value_format == "avro") {
        // TopicNameStrategy, as Confluent's serializer registers them.
        for (const auto& t : scn_.topics) ids.push_back(RegisterSchema(scn_.registry_url, t + "-value"));
        std::string list;
        for (size_t i = 0; i < ids.size(); ++i) list += fmt::format("{}{}-value={}", i ? " " : "", scn_.topics[i], ids[i]);
        if (!opt_.quiet) std::printf("== Avro values: schema ids %s at %s\n", list.c_str(), scn_.registry_url.c_str());
        value_schema_ids_ = list;
      }
      producer_ = std::make_unique<Producer>(scn_, scn_.bootstrap, std::move(ids));
    } catch (const std::exception& e) {
      std::fprintf(stderr, "bench: %s\n", e.what());
      return 2;
    }
  }

  t0_ = last_t_ = NowS();
  last_proc_ = ReadProc(opt_.gateway_pid);
  ProcSample baseline = last_proc_;
  GatewayRecords records_before;
  if (scn_.stats) {
    auto st = GetJson(gw_, "/api/stats");
    stats_ok_ = st.has_value();
    if (st) last_received_ = JInt(*st, "records_received");
    records_before = ReadGatewayRecords(st);
  }
  if (opt_.gateway_pid && !baseline.ok) notes_.push_back("gateway pid " + std::to_string(opt_.gateway_pid) + " not readable in /proc");

  for (int i = 0; i < scn_.threads; ++i) {
    threads_.push_back(std::make_unique<ClientThread>(shared_, i));
    threads_.back()->Start();
  }

  if (!opt_.quiet)
    std::printf("== %s: %d connections on %s (%s), %d organizations, %d streams, source %s\n", scn_.name.c_str(),
                scn_.connections, scn_.endpoint.c_str(), scn_.gateway_url.c_str(), scn_.organizations, scn_.Streams(),
                scn_.source.c_str());
  // Connect phase.
  double c_start = NowS();
  ConnectTo(scn_.connections, 0);
  double c_end = NowS();
  Totals tc = Sum(threads_);
  Snapshot hs = Handshakes(threads_);
  double up_span = tc.last_ready_us > tc.first_attempt_us ? static_cast<double>(tc.last_ready_us - tc.first_attempt_us) / 1e6 : 0;
  json::object connect{{"target", scn_.connections},
                       {"ready", tc.ready},
                       {"failures", tc.failed},
                       {"failed_connect", tc.failed_connect},
                       {"failed_timeout", tc.failed_timeout},
                       {"failed_status", tc.failed_status},
                       {"failed_ws", tc.failed_ws},
                       {"failed_closed", tc.failed_closed},
                       {"seconds", std::round((c_end - c_start) * 100) / 100},
                       {"connect_rate_offered", scn_.connect_rate},
                       {"upgrades_per_s", up_span > 0 ? std::round(static_cast<double>(tc.ready) / up_span) : 0.0},
                       {"handshake", LatencyJson(hs)}};
  if (!opt_.quiet)
    std::printf("== connected %llu/%d in %.2f s (%.0f upgrades/s, handshake p50 %s p99 %s), %llu failures\n",
                static_cast<unsigned long long>(tc.ready), scn_.connections, c_end - c_start,
                up_span > 0 ? static_cast<double>(tc.ready) / up_span : 0.0, Ms(hs.Quantile(0.5)).c_str(),
                Ms(hs.Quantile(0.99)).c_str(), static_cast<unsigned long long>(tc.failed));
  int subs_expected = 0;
  for (int id = 0; id < opened_; ++id) subs_expected += static_cast<int>(scn_.SubsOf(static_cast<uint32_t>(id)).size());
  WaitSubscribed(static_cast<int>(subs_expected - tc.failed));
  ProcSample after_connect = ReadProc(opt_.gateway_pid);
  if (baseline.ok && after_connect.ok && tc.ready) {
    connect["gateway_rss_kb_before"] = baseline.rss_kb;
    connect["gateway_rss_kb_after"] = after_connect.rss_kb;
    connect["gateway_rss_bytes_per_connection"] =
        std::round((static_cast<double>(after_connect.rss_kb) - static_cast<double>(baseline.rss_kb)) * 1024 / tc.ready);
  }

  json::array steps;
  for (size_t i = 0; i < scn_.steps.size() && !g_interrupted; ++i) {
    auto r = RunStep(static_cast<int>(i) + 1, scn_.steps[i]);
    if (baseline.ok && r.contains("gateway_rss_kb") && r.contains("connections") && r.at("connections").as_uint64() > 0)
      r["gateway_rss_bytes_per_connection"] = std::round(
          (r.at("gateway_rss_kb").to_number<double>() - static_cast<double>(baseline.rss_kb)) * 1024 /
          r.at("connections").to_number<double>());
    steps.push_back(std::move(r));
  }

  // Stalled clients read again so we see how the server closed them.
  shared_.stall_active = false;
  if (scn_.stalled_fraction > 0) {
    for (auto& t : threads_) t->Unpark();
    SleepMs(1500);
  }
  // Losses at the tail: each tracked client against what was produced for its stream.
  std::vector<uint64_t> produced(static_cast<size_t>(scn_.Streams()), 0);
  if (producer_) {
    for (size_t s = 0; s < produced.size(); ++s) produced[s] = producer_->produced()[s].load();
  } else if (scn_.source == "server") {
    for (auto& t : threads_) t->MaxSeq(produced);
  }
  // A server still working through a backlog when the run ends has not lost
  // what it has not delivered yet: that shortfall is reported apart.
  bool still_flowing = false;
  if (producer_ && !g_interrupted) {
    uint64_t a = Sum(threads_).tracked_deliveries;
    if (a < ExpectedTracked()) {
      SleepMs(1500);
      still_flowing = Sum(threads_).tracked_deliveries > a;
    }
  }
  FinalStats fin;
  for (auto& t : threads_) {
    FinalStats f = t->Finalize(produced);
    fin.tail_losses += f.tail_losses;
    fin.tracked += f.tracked;
    fin.stalled += f.stalled;
    fin.stalled_closed += f.stalled_closed;
    fin.stalled_1013 += f.stalled_1013;
    fin.open_at_end += f.open_at_end;
    fin.never_saw += f.never_saw;
  }
  Totals tf = Sum(threads_);
  Snapshot all = Latency(threads_);
  ProcSample pf = ReadProc(opt_.gateway_pid);
  GatewayRecords records_after = stats_ok_ ? ReadGatewayRecords(GetJson(gw_, "/api/stats")) : GatewayRecords{};
  for (auto& t : threads_) t->CloseAll();
  std::vector<std::string> errors;
  for (auto& t : threads_)
    for (auto& e : t->Errors()) errors.push_back(e);
  for (auto& t : threads_) t->Stop();

  uint64_t undelivered = 0;
  if (still_flowing) {
    undelivered = fin.tail_losses;
    fin.tail_losses = 0;
    notes_.push_back(fmt::format("the server was still delivering when the run ended: {} deliveries missing at the "
                                 "end are reported as undelivered, not lost",
                                 undelivered));
  }
  uint64_t losses = tf.losses + fin.tail_losses;
  json::object totals{{"deliveries", tf.deliveries},
                      {"losses", losses},
                      {"losses_gaps", tf.losses},
                      {"losses_tail", fin.tail_losses},
                      {"undelivered_at_end", undelivered},
                      {"duplicates", tf.duplicates},
                      {"foreign", tf.foreign},
                      {"other_messages", tf.other},
                      {"pings", tf.pings},
                      {"bytes", tf.bytes},
                      {"reads", tf.reads},
                      {"tracked_connections", fin.tracked},
                      {"open_at_end", fin.open_at_end},
                      {"closed_unexpected", tf.closed_unexpected},
                      {"closed_by_server", tf.closed_by_server},
                      {"closed_1013", tf.closed_1013},
                      {"closed_1008", tf.closed_1008},
                      {"stalled", fin.stalled},
                      {"stalled_closed", fin.stalled_closed},
                      {"stalled_closed_1013", fin.stalled_1013},
                      {"latency", LatencyJson(all)}};
  if (producer_) {
    totals["produced"] = producer_->total();
    totals["produce_errors"] = producer_->errors();
    totals["producer_queue_full"] = producer_->queue_full();
    if (!producer_->last_error().empty()) totals["produce_error"] = producer_->last_error();
  }
  if (pf.ok) {
    totals["gateway_rss_kb"] = pf.rss_kb;
    totals["gateway_rss_kb_peak"] = std::max(peak_rss_kb_, pf.hwm_kb);
    totals["gateway_cpu_s"] = static_cast<double>(pf.cpu_us - baseline.cpu_us) / 1e6;
  }
  ProcSample self = ReadProc(getpid());
  totals["bench_cpu_s"] = static_cast<double>(self.cpu_us) / 1e6;
  // What the gateway did with the records, over the whole run (/api/stats).
  std::vector<std::string> rejected_what;
  int64_t rejected_total = 0, routed = 0;
  if (records_before.ok && records_after.ok) {
    auto d = [](int64_t a, int64_t b) { return std::max<int64_t>(0, a - b); };
    routed = d(records_after.routed, records_before.routed);
    json::object g{{"received", d(records_after.received, records_before.received)},
                   {"skipped", d(records_after.skipped, records_before.skipped)},
                   {"routed", routed},
                   {"parked", d(records_after.parked, records_before.parked)},
                   {"key_errors", d(records_after.key_errors, records_before.key_errors)},
                   {"value_errors", d(records_after.value_errors, records_before.value_errors)}};
    if (int64_t k = d(records_after.key_errors, records_before.key_errors)) rejected_what.push_back(fmt::format("key_errors +{}", k));
    if (int64_t v = d(records_after.value_errors, records_before.value_errors))
      rejected_what.push_back(fmt::format("value_errors +{}", v));
    json::object rej;
    for (const auto& [name, after] : records_after.rejected) {
      int64_t before = 0;
      for (const auto& [n, b] : records_before.rejected)
        if (n == name) before = b;
      rej[name] = d(after, before);
      rejected_total += d(after, before);
      if (after > before) rejected_what.push_back(fmt::format("rejected {} +{}", name, after - before));
    }
    g["rejected"] = std::move(rej);
    totals["gateway_records"] = std::move(g);
  }

  // Verdict.
  std::vector<std::string> broken;
  if (scn_.assert_no_loss) {
    if (losses) broken.push_back(fmt::format("{} losses", losses));
    if (undelivered) broken.push_back(fmt::format("{} deliveries still missing at the end", undelivered));
    if (tf.duplicates) broken.push_back(fmt::format("{} duplicates", tf.duplicates));
    if (tf.foreign) broken.push_back(fmt::format("{} foreign records", tf.foreign));
    if (tf.closed_unexpected) broken.push_back(fmt::format("{} connections closed by the server", tf.closed_unexpected));
    if (tc.failed || tf.failed) broken.push_back(fmt::format("{} connection failures", tf.failed));
    if (fin.never_saw) broken.push_back(fmt::format("{} subscriptions saw no record", fin.never_saw));
    if (producer_ && producer_->errors()) broken.push_back(fmt::format("{} produce errors", producer_->errors()));
    if (producer_ && producer_->total() == 0) broken.push_back("nothing was produced");
    if (tf.deliveries == 0) broken.push_back("nothing was delivered");
  }
  // (A stalled client may never see the 1013 close frame: it sits behind
  // what the client did not read; the gateway's own count says why it closed.)
  const auto stalled_stats = scn_.assert_stalled.empty() ? std::nullopt : GetJson(gw_, "/api/stats");
  if (scn_.assert_stalled == "close") {
    const int64_t slow = stalled_stats ? JInt(*stalled_stats, "slow_consumer_closes") : -1;
    if (fin.stalled == 0 || fin.stalled_closed != fin.stalled || slow != static_cast<int64_t>(fin.stalled))
      broken.push_back(fmt::format("SLOW_CLIENT_POLICY=close: {} of {} stalled clients closed, {} closed as slow "
                                   "consumers by the gateway (want all, and only them)",
                                   fin.stalled_closed, fin.stalled, slow));
  }
  if (scn_.assert_stalled == "drop") {
    const auto& st = stalled_stats;
    const int64_t gaps = st ? JInt(*st, "gaps_sent") : -1;
    if (fin.stalled == 0 || fin.stalled_closed != 0 || gaps <= 0)
      broken.push_back(fmt::format("SLOW_CLIENT_POLICY=drop: {} of {} stalled clients closed (want none), {} gap "
                                   "messages sent (want some)",
                                   fin.stalled_closed, fin.stalled, gaps));
  }
  if (scn_.max_gateway_rss_mb > 0 && static_cast<int64_t>(peak_rss_kb_ / 1024) > scn_.max_gateway_rss_mb)
    broken.push_back(fmt::format("the gateway's RSS peaked at {} MB, over max_gateway_rss_mb {}", peak_rss_kb_ / 1024,
                                 scn_.max_gateway_rss_mb));
  // Always (when the target has /api/stats): a record the gateway rejected
  // means the bench measured some other path than the one it meant to.
  if (!rejected_what.empty())
    broken.push_back(fmt::format("the gateway rejected records ({}): the bench's {} values do not match its channel "
                                 "formats",
                                 fmt::join(rejected_what, ", "), scn_.value_format));
  if (records_before.ok && records_after.ok && producer_ && producer_->total() > 0 && scn_.connections > 0 &&
      routed == 0 && !g_interrupted)
    broken.push_back("the gateway routed no record (records_routed did not grow)");
  if (g_interrupted) broken.push_back("interrupted");

  // Summary table.
  std::printf("\n%s (target %s): %d connections on /%s, %d organizations, %d B %s records, source %s\n",
              scn_.name.c_str(), opt_.target.c_str(), scn_.connections, scn_.endpoint.c_str(), scn_.organizations,
              scn_.record_bytes, scn_.value_format == "avro" ? "Avro" : "JSON", scn_.source.c_str());
  std::printf("connect: %llu ready, %llu failed, %.0f upgrades/s, handshake p50 %s p99 %s\n",
              static_cast<unsigned long long>(tc.ready), static_cast<unsigned long long>(tc.failed),
              up_span > 0 ? static_cast<double>(tc.ready) / up_span : 0.0, Ms(hs.Quantile(0.5)).c_str(),
              Ms(hs.Quantile(0.99)).c_str());
  if (connect.contains("gateway_rss_bytes_per_connection"))
    std::printf("gateway RSS %.1f MB -> %.1f MB after connecting: %.0f B per connection\n",
                static_cast<double>(baseline.rss_kb) / 1024, static_cast<double>(after_connect.rss_kb) / 1024,
                connect.at("gateway_rss_bytes_per_connection").to_number<double>());
  std::printf("%-4s %10s %10s %10s %9s %9s %9s %9s %9s %7s %6s %7s %8s %9s\n", "step", "offered/s", "delivered/s",
              "records/s", "p50", "p90", "p99", "p99.9", "max", "losses", "dups", "cpu%", "us/deliv", "rss MB");
  for (const auto& v : steps) {
    const auto& r = v.as_object();
    if (r.contains("skipped")) {
      std::printf("%-4lld skipped: %s\n", static_cast<long long>(r.at("step").as_int64()), r.at("skipped").as_string().c_str());
      continue;
    }
    const auto& l = r.at("latency").as_object();
    auto num = [&](const json::object& o, const char* k) { return o.contains(k) ? o.at(k).to_number<double>() : -1.0; };
    double recs = num(r, "gateway_records_per_s") >= 0 ? num(r, "gateway_records_per_s") : num(r, "produced_records_per_s");
    std::printf("%-4lld %10s %10s %10s %9s %9s %9s %9s %9s %7.0f %6.0f %7.1f %8.2f %9.1f%s\n",
                static_cast<long long>(r.at("step").as_int64()), Count(num(r, "offered_deliveries_per_s")).c_str(),
                Count(num(r, "delivered_per_s")).c_str(), Count(recs).c_str(), Ms(l.at("p50_us").to_number<uint64_t>()).c_str(),
                Ms(l.at("p90_us").to_number<uint64_t>()).c_str(), Ms(l.at("p99_us").to_number<uint64_t>()).c_str(),
                Ms(l.at("p999_us").to_number<uint64_t>()).c_str(), Ms(l.at("max_us").to_number<uint64_t>()).c_str(),
                num(r, "losses"), num(r, "duplicates"), num(r, "gateway_cpu_pct"), num(r, "gateway_cpu_us_per_delivery"),
                num(r, "gateway_rss_kb") / 1024, r.at("drained").as_bool() ? "" : "  (not drained)");
  }
  for (const auto& v : steps) {
    const auto& r = v.as_object();
    if (r.contains("churn_per_s"))
      std::printf("step %lld churn: %.0f closed and reopened per s (offered %.0f), %lld failures\n",
                  static_cast<long long>(r.at("step").as_int64()), r.at("churn_per_s").to_number<double>(),
                  r.at("churn_offered_per_s").to_number<double>(), static_cast<long long>(r.at("churn_failures").to_number<double>()));
    if (r.contains("gateway_records_per_core_s") && r.at("offered_records_per_s").to_number<double>() < 0)
      std::printf("step %lld gateway ingest: %.0f records/s (best second %.0f) at %.3f us CPU per record = %.0f records/s per core\n",
                  static_cast<long long>(r.at("step").as_int64()), r.at("gateway_records_per_s").to_number<double>(),
                  r.at("gateway_records_per_s_peak").to_number<double>(), r.at("gateway_cpu_us_per_record").to_number<double>(),
                  r.at("gateway_records_per_core_s").to_number<double>());
  }
  std::printf("total: %llu deliveries, %llu losses (%llu gaps + %llu at the end), %llu duplicates, %llu foreign, "
              "%llu closed by the server (%llu with 1013)\n",
              static_cast<unsigned long long>(tf.deliveries), static_cast<unsigned long long>(losses),
              static_cast<unsigned long long>(tf.losses), static_cast<unsigned long long>(fin.tail_losses),
              static_cast<unsigned long long>(tf.duplicates), static_cast<unsigned long long>(tf.foreign),
              static_cast<unsigned long long>(tf.closed_by_server), static_cast<unsigned long long>(tf.closed_1013));
  if (scn_.stalled_fraction > 0)
    std::printf("stalled: %llu clients stopped reading, %llu closed by the server (%llu with 1013)\n",
                static_cast<unsigned long long>(fin.stalled), static_cast<unsigned long long>(fin.stalled_closed),
                static_cast<unsigned long long>(fin.stalled_1013));
  if (totals.contains("gateway_records")) {
    const auto& g = totals.at("gateway_records").as_object();
    std::printf("gateway records: %lld received, %lld skipped (no subscriber), %lld routed, %lld key errors, "
                "%lld value errors, %lld rejected\n",
                static_cast<long long>(g.at("received").as_int64()), static_cast<long long>(g.at("skipped").as_int64()),
                static_cast<long long>(g.at("routed").as_int64()), static_cast<long long>(g.at("key_errors").as_int64()),
                static_cast<long long>(g.at("value_errors").as_int64()), static_cast<long long>(rejected_total));
  }
  if (pf.ok)
    std::printf("gateway: RSS %.1f MB (peak %.1f MB), CPU %.1f s\n", static_cast<double>(pf.rss_kb) / 1024,
                static_cast<double>(std::max(peak_rss_kb_, pf.hwm_kb)) / 1024,
                static_cast<double>(pf.cpu_us - baseline.cpu_us) / 1e6);
  for (const auto& n : notes_) std::printf("note: %s\n", n.c_str());
  if (!errors.empty()) {
    std::printf("first errors:\n");
    for (const auto& e : errors) std::printf("  %s\n", e.c_str());
  }
  std::printf("%s\n", broken.empty() ? "OK" : fmt::format("FAILED: {}", fmt::join(broken, ", ")).c_str());

  if (!opt_.out.empty()) {
    json::array notes, errs, brk;
    for (auto& n : notes_) notes.push_back(json::string(n));
    for (auto& e : errors) errs.push_back(json::string(e));
    for (auto& b : broken) brk.push_back(json::string(b));
    json::object scn{{"name", scn_.name},
                     {"connections", scn_.connections},
                     {"endpoint", scn_.endpoint},
                     {"organizations", scn_.organizations},
                     {"properties_per_org", scn_.properties_per_org},
                     {"subscriptions_per_connection", scn_.subscriptions_per_connection},
                     {"streams", scn_.Streams()},
                     {"record_bytes", scn_.record_bytes},
                     {"value_format", scn_.value_format},
                     {"stalled_fraction", scn_.stalled_fraction},
                     {"connect_rate", scn_.connect_rate},
                     {"source", scn_.source},
                     {"threads", scn_.threads},
                     {"scenario_file", opt_.scenario}};
    if (!value_schema_ids_.empty()) scn["value_schema_ids"] = value_schema_ids_;
    char host[256] = {};
    gethostname(host, sizeof host - 1);
    json::object doc{{"scenario", scn},
                     {"target", opt_.target},
                     {"host", host},
                     {"cores", std::thread::hardware_concurrency()},
                     {"started_unix_s", static_cast<double>(RealtimeUs()) / 1e6 - (NowS() - t0_)},
                     {"gateway_pid", opt_.gateway_pid},
                     {"connect", connect},
                     {"steps", steps},
                     {"totals", totals},
                     {"samples", samples_},
                     {"notes", notes},
                     {"errors", errs},
                     {"failed", brk},
                     {"ok", broken.empty()}};
    std::ofstream f(opt_.out);
    f << json::serialize(doc) << "\n";
    if (!f) {
      std::fprintf(stderr, "bench: cannot write %s\n", opt_.out.c_str());
      return 2;
    }
    std::printf("results: %s\n", opt_.out.c_str());
  }
  return broken.empty() ? 0 : 1;
}

double HardLimit(const Scenario& s) {
  double t = s.connect_timeout_s + 2 * s.settle_s + 15;
  for (const auto& st : s.steps)
    t += st.duration_s + s.drain_s + (st.duration_s == 0 ? s.hold_s : 0) + 3 +
         (st.connections > 0 ? s.connect_timeout_s + 10 + s.settle_s : 0);
  return std::min(t, s.max_seconds);
}

int RunCommand(Options& o) {
  Scenario scn;
  try {
    scn = LoadScenario(o.scenario);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench: %s\n", e.what());
    return 2;
  }
  if (!o.gateway_url.empty()) scn.gateway_url = o.gateway_url;
  if (!o.bootstrap.empty()) scn.bootstrap = o.bootstrap;
  if (!o.registry.empty()) scn.registry_url = o.registry;
  if (!o.token.empty()) scn.token = o.token;
  if (o.connections >= 0) scn.connections = o.connections;
  if (o.duration >= 0)
    for (auto& st : scn.steps) st.duration_s = o.duration;
  if (o.threads > 0) scn.threads = o.threads;
  if (!o.source.empty()) scn.source = o.source;
  if (o.org_prefix) scn.org_prefix = *o.org_prefix;
  if (!o.assert_stalled.empty()) {
    if (o.assert_stalled != "close" && o.assert_stalled != "drop") {
      std::fprintf(stderr, "bench: --assert-stalled must be close or drop\n");
      return 2;
    }
    scn.assert_stalled = o.assert_stalled;
  }
  if (o.max_seconds > 0) scn.max_seconds = o.max_seconds;
  if (o.max_gateway_rss_mb >= 0) scn.max_gateway_rss_mb = o.max_gateway_rss_mb;
  if (std::string e = CheckLoopback(scn); !e.empty()) {
    std::fprintf(stderr, "bench: %s\n", e.c_str());
    return 2;
  }
  // Hard time limit: whatever happens, the process ends.
  double limit = HardLimit(scn);
  std::thread([limit] {
    double end = NowS() + limit;
    while (NowS() < end) SleepMs(200);
    g_interrupted = true;
    std::fprintf(stderr, "bench: time limit of %.0f s reached; finishing\n", limit);
    double hard = NowS() + 20;
    while (NowS() < hard) SleepMs(200);
    std::fprintf(stderr, "bench: still running 20 s after the time limit; exiting\n");
    std::fflush(stdout);
    std::_Exit(3);
  }).detach();
  Bench b(scn, o);
  return b.Run();
}

int EnvCommand(const std::string& path) {
  Scenario s;
  try {
    s = LoadScenario(path);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench: %s\n", e.what());
    return 2;
  }
  std::string ct;
  for (size_t i = 0; i < s.channels.size(); ++i) ct += (i ? " " : "") + s.channels[i] + "=" + s.topics[i];
  double total = 0;
  for (const auto& st : s.steps) total += st.duration_s;
  std::printf("SCN_NAME='%s'\nSCN_SOURCE='%s'\nSCN_CHANNEL_TOPICS='%s'\nSCN_PARTITIONS=%d\nSCN_SEND_QUEUE_BYTES=%lld\n"
              "SCN_CONNECTIONS=%d\nSCN_ORGANIZATIONS=%d\nSCN_RECORD_BYTES=%d\nSCN_HARD_LIMIT=%.0f\nSCN_DURATION=%.0f\n"
              "SCN_VALUE_FORMAT='%s'\n",
              s.name.c_str(), s.source.c_str(), ct.c_str(), s.partitions, static_cast<long long>(s.send_queue_bytes),
              s.MaxConnections(), s.organizations, s.record_bytes, HardLimit(s), total, s.value_format.c_str());
  // For a server that makes the records itself (source: server): the first step's rate.
  if (!s.steps.empty()) {
    const Step& st = s.steps.front();
    int k = s.endpoint == "ws" ? std::max(1, s.subscriptions_per_connection) : 1;
    double avg = std::max(1.0, static_cast<double>(s.connections) * std::min(k, s.Streams()) / s.Streams());
    double rps = st.records_per_s > 0 ? st.records_per_s : st.deliveries_per_s / avg;
    std::printf("SCN_RECORDS_PER_S=%.0f\n", rps);
  }
  return 0;
}

}  // namespace
}  // namespace rte::bench

int main(int argc, char** argv) {
  using namespace rte::bench;
  signal(SIGPIPE, SIG_IGN);
  signal(SIGINT, OnSignal);
  signal(SIGTERM, OnSignal);
  CLI::App app{"realtime-events-bench: load generator for the Realtime Events gateway (loopback only)"};
  app.require_subcommand(1);
  Options o;
  auto* run = app.add_subcommand("run", "run a scenario");
  run->add_option("scenario", o.scenario, "scenario YAML file")->required()->check(CLI::ExistingFile);
  run->add_option("--gateway-url", o.gateway_url, "http://127.0.0.1:PORT of the server under test");
  run->add_option("--bootstrap", o.bootstrap, "Kafka bootstrap (127.0.0.1:PORT)");
  run->add_option("--registry", o.registry, "schema registry http://127.0.0.1:PORT (value_format: avro)");
  run->add_option("--gateway-pid", o.gateway_pid, "pid of the server under test (RSS and CPU from /proc)");
  run->add_option("--out", o.out, "JSON results file");
  run->add_option("--token", o.token, "sent as Authorization: Bearer");
  run->add_option("--target", o.target, "name of the server under test, for the report");
  run->add_option("--max-seconds", o.max_seconds, "cap on the whole run");
  run->add_option("--connections", o.connections, "override connections");
  run->add_option("--duration", o.duration, "override every step's duration_s");
  run->add_option("--threads", o.threads, "client io threads");
  run->add_flag("--quiet", o.quiet, "no progress lines");
  run->add_option("--assert-stalled", o.assert_stalled,
                  "close | drop: how the gateway must treat stalled clients (see assert_stalled in bench/README.md)");
  run->add_option("--source", o.source, "override source: kafka | server | none");
  run->add_option("--max-gateway-rss-mb", o.max_gateway_rss_mb,
                  "override the scenario's max_gateway_rss_mb (0: no bound), e.g. for a sanitizer build");
  run->add_option("--org-prefix", o.org_prefix, "organization names are PREFIX0, PREFIX1, ... (default o)");
  std::string bootstrap, topic;
  int partitions = 4;
  auto* ct = app.add_subcommand("create-topic", "create a topic (librdkafka admin API) and wait for its leaders");
  ct->add_option("--bootstrap", bootstrap)->required();
  ct->add_option("--topic", topic)->required();
  ct->add_option("--partitions", partitions);
  std::string env_path;
  auto* env = app.add_subcommand("env", "print the scenario's settings as shell variables (for bench/run)");
  env->add_option("scenario", env_path)->required()->check(CLI::ExistingFile);
  CLI11_PARSE(app, argc, argv);
  if (*run) return RunCommand(o);
  if (*env) return EnvCommand(env_path);
  if (*ct) {
    auto host = bootstrap.substr(0, bootstrap.rfind(':'));
    if (!IsLoopbackHost(host)) {
      std::fprintf(stderr, "bench: refusing a non-loopback bootstrap %s\n", bootstrap.c_str());
      return 2;
    }
    std::string e = CreateTopic(bootstrap, topic, partitions, 30000);
    if (!e.empty()) {
      std::fprintf(stderr, "bench: %s\n", e.c_str());
      return 1;
    }
    return 0;
  }
  return 0;
}

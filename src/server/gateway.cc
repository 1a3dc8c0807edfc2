#include "server/gateway.h"

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/json.hpp>
#include <spdlog/spdlog.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fmt/format.h>

#include <fstream>
#include <sstream>

#include "base/build_info.h"
#include "metrics/process_stats.h"
#include "metrics/prometheus.h"

namespace rte::server {

std::string_view EmbeddedIndexHtml();  // generated from web/index.html
std::string_view EmbeddedAdminHtml();  // web/admin.html
std::string_view EmbeddedClientJs();   // clients/js/src/index.js

void Dispatcher::Deliver(uint64_t workers, routing::EventPtr event) {
  while (workers) {
    int w = __builtin_ctzll(workers);
    workers &= workers - 1;
    if (static_cast<size_t>(w) < pending_.size()) pending_[w].push_back(event);
  }
}

void Dispatcher::Flush() {
  for (size_t w = 0; w < pending_.size(); ++w) {
    if (pending_[w].empty()) continue;
    std::vector<routing::EventPtr> batch;
    batch.swap(pending_[w]);
    pending_[w].reserve(batch.size());
    workers_[w]->PostEvents(std::move(batch));
  }
}

bool Dispatcher::Overloaded() {
  size_t worst = 0;
  for (const Worker* w : workers_) worst = std::max(worst, w->backlog_events());
  overloaded_ = worst > (overloaded_ ? kLowBacklog : kHighBacklog);
  return overloaded_;
}

session::SessionOptions MakeSessionOptions(const config::Settings& s) {
  session::SessionOptions o;
  o.ping_interval = std::chrono::seconds(s.server.ping_interval_s);
  o.idle_timeout = std::chrono::seconds(s.EffectiveIdleTimeoutS());
  o.write_timeout = std::chrono::seconds(s.server.heart_beat_interval_s);
  o.max_message_bytes = s.server.max_frame_bytes;
  o.send_queue_bytes = s.server.send_queue_bytes;
  o.slow_client_drop = s.server.slow_client_drop;
  o.max_subscriptions = s.server.max_subscriptions;
  o.auth_timeout = std::chrono::seconds(s.auth.auth_timeout_s);
  o.token_leeway = std::chrono::seconds(s.auth.jwt_leeway_s);
  o.command_rate = s.limits.command_rate;
  o.command_burst = s.limits.command_burst;
  o.max_id_length = s.limits.max_id_length;
  return o;
}

HttpOptions MakeHttpOptions(const config::Settings& s) {
  HttpOptions o;
  o.handshake_timeout = std::chrono::seconds(s.limits.handshake_timeout_s);
  o.max_header_bytes = s.limits.max_header_bytes;
  o.max_body_bytes = s.limits.max_body_bytes;
  o.allowed_origins = s.limits.allowed_origins;
  return o;
}

namespace {
std::vector<Worker*> Raw(const std::vector<std::unique_ptr<Worker>>& ws) {
  std::vector<Worker*> out;
  for (const auto& w : ws) out.push_back(w.get());
  return out;
}
}  // namespace

Gateway::Gateway(config::Settings settings, ingest::FramedDecoder* framed, auth::Authenticator& authenticator,
                 const registry::SchemaRegistryClient* registry)
    : settings_(std::move(settings)),
      authenticator_(authenticator),
      registry_(registry),
      // With REDIS_URL the per-user limit is the cluster's (checked after the upgrade, close 1008).
      limits_(settings_.limits.max_connections_per_ip,
              settings_.cluster.redis_url.empty() ? settings_.limits.max_connections_per_user : 0),
      channels_(settings_.channels),
      recent_(settings_.kafka.replay_window_bytes, settings_.kafka.replay_window_records),
      replay_(settings_, channels_, framed,
              ingest::ReplayLimits{settings_.kafka.replay_max_records,
                                   std::chrono::milliseconds(settings_.kafka.replay_timeout_ms)},
              &recent_),
      workers_([this] {
        std::vector<std::unique_ptr<Worker>> ws;
        const int n = std::min(settings_.server.workers, routing::kMaxWorkers);
        for (int i = 0; i < n; ++i) {
          ws.push_back(std::make_unique<Worker>(i, channels_, MakeSessionOptions(settings_), MakeHttpOptions(settings_),
                                                interest_updates_, *this, authenticator_, limits_, &replay_));
        }
        return ws;
      }()),
      dispatcher_(std::make_unique<Dispatcher>(Raw(workers_))),
      consumer_(settings_, channels_, interest_updates_, *dispatcher_, ingest_stats_, framed, &recent_) {
  interest_updates_.SetAppliedCallback([this](int worker, uint64_t seq) {
    if (static_cast<size_t>(worker) < workers_.size()) workers_[worker]->OnInterestApplied(seq);
  });
  if (!settings_.server.web_root.empty()) {
    std::ifstream in(settings_.server.web_root + "/index.html");
    std::stringstream ss;
    ss << in.rdbuf();
    index_html_ = ss.str();
    if (index_html_.empty()) spdlog::warn("WEB_ROOT: {}/index.html not found; using the built-in page", settings_.server.web_root);
  }
  if (index_html_.empty()) index_html_ = std::string(EmbeddedIndexHtml());
}

Gateway::~Gateway() { Stop(); }

Result<uint16_t> Gateway::Start() {
  if (!settings_.limits.tls_cert_file.empty()) {
    auto tls = MakeServerTlsContext(settings_.limits.tls_cert_file, settings_.limits.tls_key_file);
    if (!tls) return tls.error();
    tls_ = std::move(*tls);
  }
  auto fd = OpenListener(settings_.server.bind_address, settings_.server.port);
  if (!fd) return fd.error();
  sockaddr_storage local{};
  socklen_t len = sizeof local;
  ::getsockname(*fd, reinterpret_cast<sockaddr*>(&local), &len);
  const uint16_t port = ntohs(local.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&local)->sin6_port
                                                          : reinterpret_cast<sockaddr_in*>(&local)->sin_port);
  for (auto& w : workers_) {
    if (Status s = w->Listen(*fd, tls_.get()); !s) {
      ::close(*fd);
      return s.error();
    }
  }
  ::close(*fd);  // every worker holds its own descriptor of the socket
  char host[256] = {};
  ::gethostname(host, sizeof host - 1);
  host_name_ = host;
  node_name_ = settings_.cluster.node_name.empty() ? fmt::format("{}:{}", host_name_, port) : settings_.cluster.node_name;
  if (Status s = StartCluster(port); !s) return s.error();
  if (Status s = consumer_.Start(); !s) return s.error();
  if (Status s = replay_.Start(); !s) return s.error();
  for (auto& w : workers_) {
    w->WatchKafkaOutage(&ingest_stats_.kafka_outage);
    w->SetCluster(cluster_.get());
    w->Start();
  }
  sampler_.Start();
  started_ = true;
  return port;
}

void Gateway::Stop() {
  if (!started_ || stopped_) return;
  stopped_ = true;
  // Drain: /readyz turns 503 and no new connection is accepted; Kafka input
  // stops; then every client gets what it has queued and a close 1001 with
  // a reconnect hint, within DRAIN_TIMEOUT. A client that reconnects
  // elsewhere resumes from its last positions.
  shutting_down_.store(true, std::memory_order_relaxed);
  for (auto& w : workers_) w->StopAccepting();
  consumer_.Stop();
  const auto deadline = session::Clock::now() + std::chrono::seconds(settings_.server.drain_timeout_s);
  spdlog::info("draining connections (at most {} s, DRAIN_TIMEOUT)", settings_.server.drain_timeout_s);
  for (auto& w : workers_) w->Drain(deadline);
  for (auto& w : workers_) w->Join();
  sampler_.Stop();
  if (cluster_) cluster_->Stop();  // after the sessions closed: removes this node's entries
  replay_.Stop();  // after the workers: a replay's completion is posted to one
}

void Gateway::RunUntilSignal() {
  boost::asio::io_context ioc;
  boost::asio::signal_set signals(ioc, SIGINT, SIGTERM);
  signals.async_wait([](const boost::system::error_code&, int sig) {
    spdlog::info("signal {}: shutting down", sig);
  });
  ioc.run();
  Stop();
}

bool Gateway::Ready() const {
  return !shutting_down_.load(std::memory_order_relaxed) && ingest_stats_.ready.Get() == 1 && authenticator_.ready() && (!registry_ || registry_->AuthFailure().empty());
}

std::string Gateway::Readiness(bool* ready) const {
  std::vector<std::string> why;
  if (shutting_down_.load(std::memory_order_relaxed)) why.push_back("shutting down (draining connections)");
  if (KafkaOutage()) {
    why.push_back("Kafka is not answering (an outage: connections stay open, clients got a status message, "
                  "delivery continues where it stopped when Kafka returns)");
  } else if (ingest_stats_.ready.Get() != 1) {
    why.push_back("Kafka partitions not assigned yet (or Kafka not answering)");
  }
  if (!authenticator_.ready()) why.push_back("the JWKS not fetched yet");
  if (registry_) {
    if (std::string refused = registry_->AuthFailure(); !refused.empty()) {
      why.push_back("the schema registry refuses the gateway's credentials: " + refused);
    }
  }
  *ready = why.empty();
  std::string text = why.empty() ? "ready\n" : "not ready: ";
  for (size_t i = 0; i < why.size(); ++i) text += (i ? "; " : "") + why[i] + (i + 1 == why.size() ? "\n" : "");
  const auto now = std::chrono::steady_clock::now();
  for (const ingest::ParkedPartition& p : consumer_.ParkedPartitions()) {
    const auto waited = std::chrono::duration_cast<std::chrono::seconds>(now - p.since).count();
    text += fmt::format("waiting: {}[{}] at offset {} for schema {} ({} s): {}{}{}\n", p.topic, p.partition,
                        p.offset, p.schema_id, waited, ingest::DecodeWaitName(p.wait), p.error.empty() ? "" : ": ",
                        p.error);
  }
  return text;
}

namespace {

// Every per-worker counter, once: its Prometheus name (summed per worker
// label there) and its /api/stats name (summed over workers).
struct WorkerCounter {
  const char* prometheus;
  const char* json;
  const char* help;
  const metrics::Counter metrics::WorkerStats::*counter;
};
constexpr WorkerCounter kWorkerCounters[] = {
    {"rte_connections_opened_total", "connections_opened", "WebSocket connections opened", &metrics::WorkerStats::connections_opened},
    {"rte_connections_closed_total", "connections_closed", "WebSocket connections closed", &metrics::WorkerStats::connections_closed},
    {"rte_deliveries_total", "deliveries", "event messages queued to clients", &metrics::WorkerStats::deliveries},
    {"rte_sent_bytes_total", "bytes_sent", "bytes written to clients' sockets", &metrics::WorkerStats::bytes_written},
    {"rte_queued_bytes_total", "bytes_queued", "bytes queued to clients (events, replies, control frames)", &metrics::WorkerStats::bytes_queued},
    {"rte_worker_events_total", "events_in", "events handed to the worker for fan-out", &metrics::WorkerStats::events_in},
    {"rte_admin_refusals_total", "admin_refusals", "admin API requests without the right ADMIN_TOKEN", &metrics::WorkerStats::admin_refusals},
    {"rte_writes_total", "writes", "gather writes to sockets", &metrics::WorkerStats::writes},
    {"rte_write_holds_total", "write_holds", "fan-out passes that waited so their writes carry more frames (load over one frame per write)", &metrics::WorkerStats::write_holds},
    {"rte_commands_total", "commands", "client commands", &metrics::WorkerStats::commands},
    {"rte_bad_commands_total", "bad_commands", "client commands answered with an error", &metrics::WorkerStats::bad_commands},
    {"rte_bad_frames_total", "bad_frames", "protocol violations, oversized or binary frames", &metrics::WorkerStats::bad_frames},
    {"rte_slow_consumer_closes_total", "slow_consumer_closes", "clients closed for exceeding the send queue", &metrics::WorkerStats::slow_consumer_closes},
    {"rte_slow_consumer_drops_total", "slow_consumer_drops", "events dropped from slow clients' queues (SLOW_CLIENT_POLICY=drop)", &metrics::WorkerStats::slow_consumer_drops},
    {"rte_gaps_sent_total", "gaps_sent", "gap messages sent after dropping events", &metrics::WorkerStats::gaps_sent},
    {"rte_idle_closes_total", "idle_closes", "clients closed for idleness", &metrics::WorkerStats::idle_closes},
    {"rte_write_timeouts_total", "write_timeouts", "clients dropped for a stalled write", &metrics::WorkerStats::write_timeouts},
    {"rte_http_requests_total", "http_requests", "HTTP requests", &metrics::WorkerStats::http_requests},
    {"rte_rejected_upgrades_total", "rejected_upgrades", "WebSocket upgrades refused or closed at once", &metrics::WorkerStats::rejected_upgrades},
    {"rte_http_bad_requests_total", "http_bad_requests", "unparsable or oversized HTTP requests (answered once, then closed)", &metrics::WorkerStats::http_bad_requests},
    {"rte_handshake_timeouts_total", "handshake_timeouts", "requests not complete within HANDSHAKE_TIMEOUT", &metrics::WorkerStats::handshake_timeouts},
    {"rte_tls_handshake_errors_total", "tls_handshake_errors", "TLS handshakes that failed", &metrics::WorkerStats::tls_handshake_errors},
    {"rte_accept_errors_total", "accept_errors", "accept failures such as running out of file descriptors", &metrics::WorkerStats::accept_errors},
    {"rte_rate_limited_commands_total", "rate_limited_commands", "client commands over COMMAND_RATE/COMMAND_BURST", &metrics::WorkerStats::rate_limited_commands},
};

}  // namespace

std::string Gateway::MetricsText() const {
  metrics::PrometheusText p;
  p.Gauge("rte_build_info", "the gateway's version and git commit (value 1)", 1,
          fmt::format("version=\"{}\",commit=\"{}\"", BuildVersion(), BuildCommit()));
  IngestMetrics(p);
  ChannelMetrics(p);
  PartitionMetrics(p);
  WorkerMetrics(p);
  ClusterMetrics(p);
  ProcessMetrics(p);
  return p.text();
}

void Gateway::IngestMetrics(metrics::PrometheusText& p) const {
  const auto& i = ingest_stats_;
  p.Counter("rte_records_received_total", "Kafka records polled", i.records_received.Get());
  p.Counter("rte_records_skipped_total", "records with no subscriber for their tenant (value not decoded)", i.records_skipped.Get());
  p.Counter("rte_records_routed_total", "records rendered and handed to workers", i.records_routed.Get());
  p.Counter("rte_record_errors_total", "records rejected, by the part that could not be decoded", i.key_errors.Get(), "part=\"key\"");
  p.Counter("rte_record_errors_total", "records rejected, by the part that could not be decoded", i.value_errors.Get(), "part=\"value\"");
  p.Counter("rte_records_parked_total", "records that waited for their schema (first sighting of an id, or registry down)", i.records_parked.Get());
  p.Counter("rte_kafka_errors_total", "librdkafka errors", i.consumer_errors.Get());
  p.Counter("rte_kafka_partition_changes_total", "partitions assigned / unassigned (PARTITION_AWARE follows the subscriptions)",
            i.partitions_assigned.Get(), "change=\"assign\"");
  p.Counter("rte_kafka_partition_changes_total", "partitions assigned / unassigned (PARTITION_AWARE follows the subscriptions)",
            i.partitions_unassigned.Get(), "change=\"unassign\"");
  p.Counter("rte_backpressure_waits_total", "consume calls skipped while a worker's fan-out backlog was over its bound", i.backpressure_waits.Get());
  p.Gauge("rte_kafka_assigned_partitions", "partitions this instance reads", static_cast<double>(i.assigned_partitions.Get()));
  p.Gauge("rte_interest_keys", "(channel, tenant) pairs with subscribers", static_cast<double>(i.interest_keys.Get()));
  p.Gauge("rte_ready", "1 when Kafka partitions are assigned", static_cast<double>(i.ready.Get()));
  p.Gauge("rte_kafka_outage", "1 while Kafka does not answer (connections stay open)", static_cast<double>(i.kafka_outage.Get()));
  p.Gauge("rte_parked_partitions", "partitions paused waiting for a schema (/readyz lists them)",
          static_cast<double>(i.parked_partitions.Get()));
  for (size_t r = 0; r < metrics::kRejectReasonNames.size(); ++r) {
    p.Counter("rte_rejected_records_total", "records not delivered because they cannot be decoded or routed, by reason",
              i.rejected[r].Get(), "reason=\"" + std::string(metrics::kRejectReasonNames[r]) + "\"");
  }
  for (auto [outcome, counter] : {std::pair{"produced", &i.dead_letters_produced},
                                  std::pair{"dropped", &i.dead_letters_dropped},
                                  std::pair{"failed", &i.dead_letters_failed}}) {
    p.Counter("rte_dead_letters_total", "rejected records for DLQ_TOPIC, by outcome", counter->Get(),
              fmt::format("outcome=\"{}\"", outcome));
  }
  if (registry_) {
    const auto c = registry_->counters();
    for (size_t k = 0; k < c.errors.size(); ++k) {
      p.Counter("rte_registry_errors_total", "failed schema registry fetches, by kind", c.errors[k],
                "kind=\"" + std::string(registry::RegistryErrorKindName(static_cast<registry::RegistryErrorKind>(k))) +
                    "\"");
    }
    p.Counter("rte_registry_cache_lookups_total",
              "schema lookups that reached the registry client, by whether its cache had the schema (each decoding "
              "thread asks once per schema id, then uses its parsed copy)",
              c.cache_hits, "result=\"hit\"");
    p.Counter("rte_registry_cache_lookups_total",
              "schema lookups that reached the registry client, by whether its cache had the schema (each decoding "
              "thread asks once per schema id, then uses its parsed copy)",
              c.cache_misses, "result=\"miss\"");
    p.Counter("rte_registry_requests_total", "HTTP requests sent to the schema registry", c.requests);
    p.Gauge("rte_registry_cached_schemas", "schemas in the registry client's cache", static_cast<double>(c.cached_ids));
    p.Gauge("rte_registry_permanent_ids", "schema ids whose records are skipped (not found past the grace period, unsupported)",
            static_cast<double>(c.permanent_ids));
    p.Gauge("rte_registry_auth_failing", "1 while the schema registry refuses the gateway's credentials",
            registry_->AuthFailure().empty() ? 0 : 1);
  }
  p.Counter("rte_replays_total", "resumes (since / since_time) served, by outcome", replay_.jobs_recovered(),
            "result=\"recovered\"");
  p.Counter("rte_replays_total", "resumes (since / since_time) served, by outcome", replay_.jobs_not_recovered(),
            "result=\"not_recovered\"");
  p.Counter("rte_replay_records_read_total", "records the replay consumer read from Kafka", replay_.records_read());
  p.Counter("rte_replayed_events_total", "events replayed to resuming clients", replay_.events_replayed());
  p.Counter("rte_replay_window_hits_total", "partitions of resumes served from the in-memory window (no broker read)",
            replay_.window_hits());
  p.Gauge("rte_replay_window_bytes", "bytes of recent records kept in memory for resumes", static_cast<double>(recent_.bytes()));
  p.Histogram("rte_ingest_freshness_seconds", "age of records (now - Kafka timestamp) when the ingest thread polls them",
              IngestFreshness());
  p.Histogram("rte_delivery_freshness_seconds",
              "age of events (now - Kafka timestamp) when the writes that sent them to their sessions ended (once per event and worker)",
              DeliveryFreshness());
}

void Gateway::ChannelMetrics(metrics::PrometheusText& p) const {
  static_assert(config::kMaxChannels == metrics::kMaxChannels);
  const size_t n = std::min(channels_.size(), metrics::kMaxChannels);
  auto label = [&](size_t c) {
    return "channel=\"" + metrics::EscapeLabelValue(channels_.Get(static_cast<routing::ChannelId>(c)).name) + "\"";
  };
  for (size_t c = 0; c < n; ++c) {
    const int64_t subs = SumWorkers([c](const metrics::WorkerStats& s) { return s.channel_subscriptions[c].Get(); });
    p.Gauge("rte_channel_subscriptions", "active subscriptions, by channel", static_cast<double>(subs), label(c));
  }
  for (size_t c = 0; c < n; ++c) {
    const auto& k = ingest_stats_.channels[c];
    for (auto [outcome, counter] : {std::pair{"routed", &k.routed}, std::pair{"skipped", &k.skipped},
                                    std::pair{"rejected", &k.rejected}}) {
      p.Counter("rte_channel_records_total",
                "records read for a channel, by outcome: routed (decoded, sent to subscribers), skipped (no "
                "subscriber for the tenant), rejected (undecodable or no tenant)",
                counter->Get(), label(c) + fmt::format(",outcome=\"{}\"", outcome));
    }
  }
  for (size_t c = 0; c < n; ++c) {
    const int64_t sum = SumWorkers([c](const metrics::WorkerStats& s) { return s.channel_deliveries[c].Get(); });
    p.Counter("rte_channel_deliveries_total", "event messages queued to clients, by channel", static_cast<uint64_t>(sum),
              label(c));
  }
}

void Gateway::PartitionMetrics(metrics::PrometheusText& p) const {
  const auto progress = consumer_.Progress();
  auto label = [](const ingest::PartitionProgress& pp) {
    return fmt::format("topic=\"{}\",partition=\"{}\"", metrics::EscapeLabelValue(pp.topic), pp.partition);
  };
  for (const auto& pp : progress) {
    p.Gauge("rte_partition_position", "next offset the gateway reads in the partition (-1: none read yet)",
            static_cast<double>(pp.position), label(pp));
  }
  for (const auto& pp : progress) {
    p.Gauge("rte_partition_high_watermark", "the partition's high watermark as of the last fetch (-1: not known yet)",
            static_cast<double>(pp.high_watermark), label(pp));
  }
  int64_t total = 0;
  for (const auto& pp : progress) {
    total += pp.lag();
    p.Gauge("rte_partition_lag", "records in the partition not read by the gateway yet (high watermark - position)",
            static_cast<double>(pp.lag()), label(pp));
  }
  p.Gauge("rte_consumer_lag", "records not read yet, over every partition", static_cast<double>(total));
}

void Gateway::WorkerMetrics(metrics::PrometheusText& p) const {
  for (const auto& f : kWorkerCounters) {
    for (const auto& w : workers_) {
      p.Counter(f.prometheus, f.help, (w->worker_stats().*f.counter).Get(), "worker=\"" + std::to_string(w->index()) + "\"");
    }
  }
  for (size_t r = 0; r < metrics::kAuthFailureReasons.size(); ++r) {
    uint64_t sum = 0;
    for (const auto& w : workers_) sum += w->worker_stats().auth_failures[r].Get();
    p.Counter("rte_auth_failures_total", "credentials or subscriptions refused, by reason", sum,
              "reason=\"" + std::string(metrics::kAuthFailureReasons[r]) + "\"");
  }
  for (size_t r = 0; r < metrics::kRejectionNames.size(); ++r) {
    uint64_t sum = 0;
    for (const auto& w : workers_) sum += w->worker_stats().rejected_connections[r].Get();
    p.Counter("rte_rejected_connections_total", "connections refused before or at the upgrade, by reason", sum,
              "reason=\"" + std::string(metrics::kRejectionNames[r]) + "\"");
  }
  for (size_t e = 0; e < metrics::kEndpointNames.size(); ++e) {
    const int64_t sum = SumWorkers([e](const metrics::WorkerStats& s) { return s.connections_by_endpoint[e].Get(); });
    p.Gauge("rte_connections", "open WebSocket connections, by endpoint", static_cast<double>(sum),
            fmt::format("endpoint=\"{}\"", metrics::kEndpointNames[e]));
  }
  for (const auto& w : workers_) {
    p.Gauge("rte_fanout_backlog", "events waiting for fan-out", static_cast<double>(w->worker_stats().backlog.Get()),
            "worker=\"" + std::to_string(w->index()) + "\"");
  }
  for (const auto& w : workers_) {
    p.Gauge("rte_send_queue_bytes", "bytes queued in the connections' send queues, not written yet",
            static_cast<double>(w->worker_stats().queued_bytes.Get()), "worker=\"" + std::to_string(w->index()) + "\"");
  }
  for (const auto& w : workers_) {
    p.Gauge("rte_subscriptions", "active subscriptions", static_cast<double>(w->worker_stats().subscriptions.Get()),
            "worker=\"" + std::to_string(w->index()) + "\"");
  }
}

void Gateway::ProcessMetrics(metrics::PrometheusText& p) const {
  const auto proc = metrics::ProcessStats::Read();
  p.FloatCounter("process_cpu_seconds_total", "user and system CPU time spent, in seconds", proc.cpu_seconds);
  p.Gauge("process_resident_memory_bytes", "resident memory size in bytes", static_cast<double>(proc.resident_bytes));
  p.Gauge("process_virtual_memory_bytes", "virtual memory size in bytes", static_cast<double>(proc.virtual_bytes));
  p.Gauge("process_open_fds", "open file descriptors", static_cast<double>(proc.open_fds));
  p.Gauge("process_max_fds", "the limit of open file descriptors (RLIMIT_NOFILE)", static_cast<double>(proc.max_fds));
  p.Gauge("process_start_time_seconds", "start time of the process since the epoch, in seconds", proc.start_time_seconds);
  p.Gauge("process_threads", "threads of the process", static_cast<double>(proc.threads));
  p.Gauge("rte_uptime_seconds", "seconds since the gateway started",
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start_time_).count());
}

metrics::HistogramSnapshot Gateway::IngestFreshness() const {
  metrics::HistogramSnapshot h;
  h.Add(ingest_stats_.ingest_freshness);
  return h;
}

metrics::HistogramSnapshot Gateway::DeliveryFreshness() const {
  metrics::HistogramSnapshot h;
  for (const auto& w : workers_) h.Add(w->worker_stats().delivery_freshness);
  return h;
}

std::string Gateway::StatsJson() const {
  boost::json::object o;
  const auto& i = ingest_stats_;
  o["ready"] = Ready();
  o["kafka_outage"] = KafkaOutage();
  o["records_received"] = i.records_received.Get();
  o["records_skipped"] = i.records_skipped.Get();
  o["records_routed"] = i.records_routed.Get();
  o["key_errors"] = i.key_errors.Get();
  o["value_errors"] = i.value_errors.Get();
  o["decode_errors"] = i.key_errors.Get() + i.value_errors.Get();
  o["records_parked"] = i.records_parked.Get();
  o["parked_partitions"] = i.parked_partitions.Get();
  o["replays_recovered"] = replay_.jobs_recovered();
  o["replays_not_recovered"] = replay_.jobs_not_recovered();
  o["replayed_events"] = replay_.events_replayed();
  o["replay_window_hits"] = replay_.window_hits();
  o["replay_records_read"] = replay_.records_read();
  // Quantiles as bucket upper bounds, in ms (-1: no sample yet).
  const auto ingest = IngestFreshness();
  const auto delivery = DeliveryFreshness();
  o["ingest_freshness_p50_ms"] = static_cast<double>(ingest.QuantileUs(0.5)) / 1000;
  o["ingest_freshness_p99_ms"] = static_cast<double>(ingest.QuantileUs(0.99)) / 1000;
  o["delivery_freshness_p50_ms"] = static_cast<double>(delivery.QuantileUs(0.5)) / 1000;
  o["delivery_freshness_p99_ms"] = static_cast<double>(delivery.QuantileUs(0.99)) / 1000;
  boost::json::object rejected;
  for (size_t r = 0; r < metrics::kRejectReasonNames.size(); ++r) {
    rejected[metrics::kRejectReasonNames[r]] = i.rejected[r].Get();
  }
  o["rejected"] = std::move(rejected);
  o["kafka_errors"] = i.consumer_errors.Get();
  o["assigned_partitions"] = i.assigned_partitions.Get();
  o["interest_keys"] = i.interest_keys.Get();
  int64_t connections = 0, subscriptions = 0;
  for (const auto& w : workers_) {
    connections += w->worker_stats().connections.Get();
    subscriptions += w->worker_stats().subscriptions.Get();
  }
  o["connections"] = connections;
  o["subscriptions"] = subscriptions;
  for (const auto& f : kWorkerCounters) {
    uint64_t sum = 0;
    for (const auto& w : workers_) sum += (w->worker_stats().*f.counter).Get();
    o[f.json] = sum;
  }
  o["workers"] = workers_.size();
  return boost::json::serialize(o);
}

std::string Gateway::ChannelsJson() const {
  boost::json::array arr;
  for (size_t i = 0; i < channels_.size(); ++i) {
    const auto& ch = channels_.Get(static_cast<routing::ChannelId>(i));
    arr.push_back(boost::json::object{{"name", ch.name},
                                      {"topic", ch.topic},
                                      {"key_format", config::PayloadFormatName(ch.key_format)},
                                      {"value_format", config::PayloadFormatName(ch.value_format)},
                                      {"tenant_field", ch.tenant_field.text},
                                      {"property_field", ch.property_field ? ch.property_field->text : ""}});
  }
  return boost::json::serialize(boost::json::object{{"channels", std::move(arr)}});
}

std::string Gateway::IndexHtml() const { return index_html_; }

std::string_view Gateway::ClientJs() const { return EmbeddedClientJs(); }

std::string_view Gateway::AdminHtml() const { return EmbeddedAdminHtml(); }

bool Gateway::AdminAuthorized(std::string_view authorization) const {
  return AdminTokenMatches(settings_.server.admin_token, authorization);
}

RateTotals Gateway::ReadRateTotals() const {
  RateTotals t;
  t.records = ingest_stats_.records_received.Get();
  const size_t n = std::min(channels_.size(), metrics::kMaxChannels);
  t.channel_records.resize(n);
  t.channel_deliveries.resize(n);
  for (size_t c = 0; c < n; ++c) {
    const auto& k = ingest_stats_.channels[c];
    t.channel_records[c] = k.total();
  }
  for (const auto& w : workers_) {
    t.deliveries += w->worker_stats().deliveries.Get();
    for (size_t c = 0; c < n; ++c) t.channel_deliveries[c] += w->worker_stats().channel_deliveries[c].Get();
  }
  return t;
}

std::string Gateway::AdminSummaryJson() const {
  namespace json = boost::json;
  json::object o;
  o["node"] = node_name_;
  o["version"] = BuildVersion();
  o["commit"] = BuildCommit();
  o["uptime_seconds"] = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_time_).count();
  o["ready"] = Ready();
  o["kafka"] = KafkaOutage() ? "unavailable" : "available";
  json::object conns;
  int64_t total = 0;
  for (size_t e = 0; e < metrics::kEndpointNames.size(); ++e) {
    const int64_t sum = SumWorkers([e](const metrics::WorkerStats& s) { return s.connections_by_endpoint[e].Get(); });
    conns[metrics::kEndpointNames[e]] = sum;
    total += sum;
  }
  conns["total"] = total;
  o["connections"] = std::move(conns);
  const auto history = sampler_.History();
  json::array hist;
  for (const RateSample& r : history) {
    hist.push_back(json::object{{"t", r.t_ms},
                                {"records_per_second", r.records_per_second},
                                {"deliveries_per_second", r.deliveries_per_second}});
  }
  o["rates"] = json::object{{"records_per_second", history.empty() ? 0.0 : history.back().records_per_second},
                            {"deliveries_per_second", history.empty() ? 0.0 : history.back().deliveries_per_second}};
  o["history"] = std::move(hist);
  const auto rates = sampler_.ChannelRates();
  json::array chans;
  for (size_t c = 0; c < std::min(channels_.size(), metrics::kMaxChannels); ++c) {
    const auto& ch = channels_.Get(static_cast<routing::ChannelId>(c));
    const auto& k = ingest_stats_.channels[c];
    const int64_t subs = SumWorkers([c](const metrics::WorkerStats& s) { return s.channel_subscriptions[c].Get(); });
    const int64_t deliveries = SumWorkers([c](const metrics::WorkerStats& s) { return s.channel_deliveries[c].Get(); });
    chans.push_back(json::object{{"channel", ch.name},
                                 {"topic", ch.topic},
                                 {"subscriptions", subs},
                                 {"records_per_second", c < rates.size() ? rates[c].first : 0.0},
                                 {"deliveries_per_second", c < rates.size() ? rates[c].second : 0.0},
                                 {"records_total", k.total()},
                                 {"deliveries_total", deliveries},
                                 {"skipped_total", k.skipped.Get()},
                                 {"rejected_total", k.rejected.Get()}});
  }
  o["channels"] = std::move(chans);
  json::array parts;
  for (const auto& pp : consumer_.Progress()) {
    parts.push_back(json::object{{"topic", pp.topic},
                                 {"partition", pp.partition},
                                 {"position", pp.position},
                                 {"high_watermark", pp.high_watermark},
                                 {"lag", pp.lag()}});
  }
  o["partitions"] = std::move(parts);
  const auto delivery = DeliveryFreshness();
  o["freshness"] = json::object{{"p50_ms", static_cast<double>(delivery.QuantileUs(0.5)) / 1000},
                                {"p99_ms", static_cast<double>(delivery.QuantileUs(0.99)) / 1000}};
  o["send_queue_bytes"] = SumWorkers([](const metrics::WorkerStats& s) { return s.queued_bytes.Get(); });
  o["slow_consumer_closes"] = SumWorkers([](const metrics::WorkerStats& s) { return s.slow_consumer_closes.Get(); });
  o["slow_consumer_drops"] = SumWorkers([](const metrics::WorkerStats& s) { return s.slow_consumer_drops.Get(); });
  return json::serialize(o);
}

void Gateway::AdminClients(const ClientQuery& query, std::function<void(std::string json)> done) {
  // Each worker lists its own sessions on its thread; the last to answer
  // selects and renders.
  struct Gather {
    std::mutex mu;
    size_t left = 0;
    std::vector<ClientInfo> all;
    ClientQuery query;
    std::function<void(std::string)> done;
  };
  auto g = std::make_shared<Gather>();
  g->left = workers_.size();
  g->query = query;
  g->done = std::move(done);
  for (auto& w : workers_) {
    boost::asio::post(w->io(), [g, worker = w.get()] {
      std::vector<ClientInfo> mine = worker->Clients();
      bool last = false;
      {
        std::lock_guard lock(g->mu);
        for (auto& c : mine) g->all.push_back(std::move(c));
        last = --g->left == 0;
      }
      if (!last) return;
      const size_t total = g->all.size();
      SelectClients(&g->all, g->query);
      g->done(RenderClientsJson(g->all, total));
    });
  }
}

}  // namespace rte::server

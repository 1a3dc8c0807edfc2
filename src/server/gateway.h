// Gateway: the whole server. Wires the ingest thread (Kafka consumer), the
// workers (sessions, indexes, HTTP), and the dispatcher between them; serves
// the HTTP API; runs until a signal; shuts down in two phases (stop input:
// listeners and Kafka; then close sessions and wait for the loops).
// Owner: main. Thread: constructed, started and stopped on the main thread;
// the HttpApi methods are called from worker threads.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "auth/authenticator.h"
#include "cluster/cluster_state.h"
#include "config/settings.h"
#include "ingest/kafka_consumer.h"
#include "ingest/payload_decoder.h"
#include "metrics/prometheus.h"
#include "metrics/stats.h"
#include "registry/schema_registry_client.h"
#include "routing/channel_table.h"
#include "routing/event.h"
#include "routing/interest.h"
#include "server/admin_view.h"
#include "server/http_api.h"
#include "server/tls.h"
#include "server/worker.h"

namespace rte::server {

// Routes events from the ingest thread to workers, one post per worker per batch.
// Thread: ingest thread only.
class Dispatcher final : public routing::EventSink {
 public:
  explicit Dispatcher(std::vector<Worker*> workers) : workers_(std::move(workers)), pending_(workers_.size()) {}
  void Deliver(uint64_t workers, routing::EventPtr event) override;
  void Flush() override;
  // Over kHighBacklog events waiting at any worker; stays so until every
  // worker is under kLowBacklog.
  bool Overloaded() override;

  static constexpr size_t kHighBacklog = 8192;
  static constexpr size_t kLowBacklog = 2048;

 private:
  bool overloaded_ = false;
  std::vector<Worker*> workers_;
  std::vector<std::vector<routing::EventPtr>> pending_;
};

class Gateway final : public HttpApi {
 public:
  // `framed` decodes Confluent-framed payloads (may be null); it and
  // `authenticator` (started by the caller) must outlive this. `registry`
  // (may be null), the client behind `framed`, is asked for its error counts
  // and whether it is refused credentials (then the gateway is not ready).
  Gateway(config::Settings settings, ingest::FramedDecoder* framed, auth::Authenticator& authenticator,
          const registry::SchemaRegistryClient* registry = nullptr);
  ~Gateway() override;

  // Binds the listener and starts every thread. Returns the bound port.
  Result<uint16_t> Start();
  // Stops everything (idempotent). Thread: main.
  void Stop();
  // Blocks until SIGINT/SIGTERM, then stops.
  void RunUntilSignal();

  // Test hook for schema availability (from the registry client's thread).
  void SchemaReady(int32_t id) { consumer_.SchemaReady(id); }

  // HttpApi
  bool Ready() const override;
  std::string Readiness(bool* ready) const override;
  bool tls() const { return tls_ != nullptr; }
  // True during a Kafka outage (workers tell their clients: Worker::WatchKafkaOutage).
  bool KafkaOutage() const { return ingest_stats_.kafka_outage.Get() == 1; }
  std::string MetricsText() const override;
  std::string StatsJson() const override;
  std::string ChannelsJson() const override;
  std::string IndexHtml() const override;
  std::string_view ClientJs() const override;
  bool AdminEnabled() const override { return !settings_.server.admin_token.empty(); }
  bool AdminAuthorized(std::string_view authorization) const override;
  std::string_view AdminHtml() const override;
  std::string AdminSummaryJson() const override;
  void AdminClients(const ClientQuery& query, std::function<void(std::string json)> done) override;
  void AdminCluster(std::string_view route, std::map<std::string, std::string> params,
                    std::function<void(int status, std::string json)> done) override;  // cluster_admin.cc

  metrics::IngestStats& ingest_stats() { return ingest_stats_; }

 private:
  // Freshness histograms summed over their writers (for /metrics and /api/stats).
  metrics::HistogramSnapshot IngestFreshness() const;
  metrics::HistogramSnapshot DeliveryFreshness() const;
  // One statistic summed over the workers: get(WorkerStats&) -> its value.
  template <class Get>
  int64_t SumWorkers(Get get) const {
    int64_t sum = 0;
    for (const auto& w : workers_) sum += static_cast<int64_t>(get(w->worker_stats()));
    return sum;
  }
  // Running totals for the admin view's rates (read by sampler_'s thread).
  RateTotals ReadRateTotals() const;
  // Metric families, one job each (MetricsText calls them in order).
  void IngestMetrics(metrics::PrometheusText& p) const;
  void ChannelMetrics(metrics::PrometheusText& p) const;
  void PartitionMetrics(metrics::PrometheusText& p) const;
  void WorkerMetrics(metrics::PrometheusText& p) const;
  void ProcessMetrics(metrics::PrometheusText& p) const;
  void ClusterMetrics(metrics::PrometheusText& p) const;
  // REDIS_URL: joins the cluster as this node (listening on `port`). Before the workers start.
  Status StartCluster(uint16_t port);

  config::Settings settings_;
  auth::Authenticator& authenticator_;
  const registry::SchemaRegistryClient* registry_;
  session::ConnectionLimits limits_;
  routing::ChannelTable channels_;
  routing::InterestUpdates interest_updates_;
  metrics::IngestStats ingest_stats_;
  std::atomic<bool> shutting_down_{false};  // set by Stop (main thread); read by /readyz on workers
  ingest::RecentRecords recent_;  // the in-memory window of recent records (ingest appends, replay reads)
  ingest::ReplayService replay_;  // resumes (since / since_time); before the workers that use it
  std::vector<std::unique_ptr<Worker>> workers_;
  std::unique_ptr<Dispatcher> dispatcher_;
  ingest::KafkaConsumer consumer_;
  std::unique_ptr<boost::asio::ssl::context> tls_;  // TLS_CERT_FILE: every listener speaks TLS
  std::string index_html_;
  std::string host_name_;   // gethostname(), read once in Start
  std::string node_name_;   // NODE_NAME, or host:port once listening
  std::unique_ptr<cluster::ClusterState> cluster_;  // REDIS_URL; null without
  const std::chrono::steady_clock::time_point start_time_ = std::chrono::steady_clock::now();
  RateSampler sampler_{[this] { return ReadRateTotals(); }};
  bool started_ = false;
  bool stopped_ = false;
};

session::SessionOptions MakeSessionOptions(const config::Settings& s);
HttpOptions MakeHttpOptions(const config::Settings& s);

}  // namespace rte::server

// KafkaConsumer: the ingest thread. Every gateway instance reads every
// partition of every configured topic itself: partitions are assigned
// explicitly (no consumer-group membership, no commits), starting at the end
// (or beginning, or a timestamp), and partitions that appear later are found
// by a periodic metadata refresh and read from their beginning. Records go
// through the RecordRouter; interest updates from workers are applied between
// batches. librdkafka reconnects by itself across broker restarts.
// Slow control work (metadata, watermark and offsets-for-times queries, which
// block for up to seconds) runs on a control thread of its own, which hands
// new partitions with resolved start offsets to the ingest thread; the
// ingest thread only assigns them, so delivery never waits on a query.
// A record whose schema is not available parks its partition (paused at
// that offset; others keep flowing) until the schema is settled (SchemaReady)
// or, as a fallback, for at most a second; then the partition is sought back
// to the record and resumed. Parked partitions are published for /readyz and
// the metrics (ParkedPartitions).
// Thread: Start/Stop from the main thread; Run and the methods it calls on
// the ingest thread; ControlLoop/ResolveNewPartitions on the control thread;
// they share only the members marked "guarded by control_mu_";
// ParkedPartitions from any thread (guarded by parked_mu_).
//
// Partition-aware mode (PARTITION_AWARE): only the partitions holding the
// current subscribers' tenants are assigned (Kafka's default partitioner over
// the key bytes each channel's partition_key makes; ingest/partitioner.h).
// The control thread publishes partition counts (metadata refresh); the ingest
// thread maps each (channel, tenant) with interest to its partition and asks
// the control thread for partitions it does not read yet; the control thread
// queries their high watermark (a concrete offset) and hands them over; the
// ingest thread assigns them there and only then reports the interest updates
// that waited for them as applied, so a `subscribed` acknowledgement still
// means every record produced afterwards is delivered. A partition whose last
// tenant left is unassigned after PARTITION_LINGER_MS.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <map>
#include <set>
#include <memory>
#include <optional>
#include <unordered_map>
#include <string>
#include <thread>
#include <vector>

#include "base/result.h"
#include "config/settings.h"
#include "ingest/dead_letter_queue.h"
#include "ingest/partitioner.h"
#include "ingest/payload_decoder.h"
#include "ingest/recent_records.h"
#include "ingest/record_router.h"
#include "metrics/stats.h"
#include "routing/channel_table.h"
#include "routing/event.h"
#include "routing/interest.h"

struct rd_kafka_s;
struct rd_kafka_queue_s;
struct rd_kafka_message_s;
struct rd_kafka_metadata;

namespace rte::ingest {

// librdkafka log callback writing to spdlog (for every rd_kafka_t we create).
void KafkaLogToSpdlog(const rd_kafka_s* rk, int level, const char* facility, const char* message);

// A partition waiting for a schema, as /readyz shows it.
struct ParkedPartition {
  std::string topic;
  int32_t partition = 0;
  int64_t offset = 0;       // the record it waits at
  int32_t schema_id = -1;
  DecodeWait wait = DecodeWait::kFetching;
  std::string error;        // the registry's last error, if any
  std::chrono::steady_clock::time_point since;
};

// Where the gateway is in one partition (for /metrics and /admin).
struct PartitionProgress {
  std::string topic;
  int32_t partition = 0;
  int64_t position = -1;        // next offset to read (last read + 1); -1: nothing read yet
  int64_t high_watermark = -1;  // as of the last fetch response; -1: not known yet
  // Records behind the high watermark (0 when either is not known).
  int64_t lag() const { return position >= 0 && high_watermark >= position ? high_watermark - position : 0; }
};

class KafkaConsumer {
 public:
  KafkaConsumer(const config::Settings& settings, const routing::ChannelTable& channels,
                routing::InterestUpdates& interest_updates, routing::EventSink& sink,
                metrics::IngestStats& stats, FramedDecoder* framed, RecentRecords* recent = nullptr);
  ~KafkaConsumer();
  KafkaConsumer(const KafkaConsumer&) = delete;
  KafkaConsumer& operator=(const KafkaConsumer&) = delete;

  // Creates the librdkafka client (a bad property fails here, named) and
  // starts the ingest thread. Broker availability is not required.
  Status Start();
  // Stops the thread and destroys the client. Idempotent.
  void Stop();

  // Asks the ingest thread to retry records parked on `schema_id`.
  // Thread: any.
  void SchemaReady(int32_t schema_id);

  // The partitions waiting for a schema now. Thread: any.
  std::vector<ParkedPartition> ParkedPartitions() const;

  // Position and high watermark of every partition handed to the ingest
  // thread, sorted by topic and partition. Local lookups in librdkafka (the
  // values of the last fetch), never a broker request. Thread: any.
  std::vector<PartitionProgress> Progress() const;

 private:
  void Run();
  struct Assignment {
    std::string topic;
    int32_t partition;
    int64_t offset;
  };
  // Control thread: refreshes metadata and resolves where each partition not
  // handed over yet starts. False if the metadata could not be read.
  bool ResolveNewPartitions(std::vector<Assignment>* out);
  // Control thread: every topic's metadata (blocks up to 3 s); null when
  // Kafka did not answer (logged). The caller frees it.
  const struct ::rd_kafka_metadata* FetchMetadata();  // (a function of that name hides the type)
  void ControlLoop();
  // Ingest thread: assigns what the control thread handed over.
  void ApplyAssignments();
  void ApplyInterestUpdates();

  // --- Partition-aware mode (aware_) ---
  using TopicPartition = std::pair<std::string, int32_t>;
  // A partition the ingest thread wants read, for the control thread.
  struct Want {
    std::string topic;
    int32_t partition;
    bool from_beginning;  // a partition created after its tenants subscribed: all of it is new
  };
  // Control thread: publishes the partition count of each configured topic.
  bool RefreshPartitionCounts();
  // Control thread: resolves the high watermark of each wanted partition
  // (concrete start offsets); those whose query failed go to *failed.
  void ResolveWanted(const std::vector<Want>& wants, std::vector<Assignment>* out, std::vector<Want>* failed);
  // Ingest thread: takes new partition counts from the control thread and
  // moves the tenants whose partition they change.
  void TakePartitionCounts();
  // Ingest thread: the partition of a (channel, tenant), if its topic exists.
  std::optional<TopicPartition> PartitionOf(const routing::TenantKey& key);
  // Ingest thread: counts `key` on its partition (+1) or off it (-1).
  void CountTenant(const routing::TenantKey& key, int delta);
  // Ingest thread: reports the held interest updates whose partitions are
  // assigned as applied (per worker, in order).
  void ReleaseHeld();
  // Ingest thread: asks for wanted partitions, unassigns lingering ones.
  void SyncPartitions(std::chrono::steady_clock::time_point now);
  void Unassign(const std::vector<TopicPartition>& partitions);
  void HandleMessage(rd_kafka_message_s* msg);
  // Pauses the record's partition at it until its schema is settled.
  void Park(const char* topic, int32_t partition, int64_t offset);
  // A record of a waiting partition went through: it waits no more.
  void Unpark(const char* topic, int32_t partition);
  void PublishParked();
  void RetryParked();
  // Fills `batch` with what is ready (waiting up to 50 ms for the first
  // record). Returns the count, or -1 on error.
  ssize_t ConsumeBatch(std::vector<rd_kafka_message_s*>& batch);

  const config::Settings& settings_;
  const routing::ChannelTable& channels_;
  routing::InterestUpdates& interest_updates_;
  routing::EventSink& sink_;
  metrics::IngestStats& stats_;
  PayloadDecoder decoder_;
  routing::InterestTable interest_;  // ingest thread only
  RecordRouter router_;
  DeadLetterQueue dead_letters_;
  RecentRecords* recent_;  // every record polled goes here too (resumes); may be null
  std::vector<routing::InterestUpdate> updates_scratch_;

  rd_kafka_s* rk_ = nullptr;
  mutable std::mutex rk_mu_;  // Progress() (any thread) vs Stop() destroying rk_
  rd_kafka_queue_s* queue_ = nullptr;
  std::thread thread_;
  std::thread control_thread_;
  std::atomic<bool> stop_{false};
  size_t assigned_count_ = 0;  // ingest thread only

  // Control thread only.
  bool initial_done_ = false;
  std::chrono::steady_clock::time_point last_metadata_ok_;
  // Partitions seen at start-up whose configured start is not resolved yet.
  std::set<std::pair<std::string, int32_t>> start_pending_;

  mutable std::mutex control_mu_;
  std::condition_variable control_cv_;
  std::set<std::pair<std::string, int32_t>> known_;  // handed over (or being); guarded by control_mu_
  std::vector<Assignment> to_assign_;                // guarded by control_mu_
  uint64_t handed_generation_ = 0;                    // guarded by control_mu_
  uint64_t applied_generation_ = 0;                   // guarded by control_mu_

  // Partitions paused on a missing schema: (topic, partition) -> offset to
  // resume from, and the schema they wait for. Ingest thread only.
  struct Parked {
    int64_t offset;
    int32_t schema_id;
  };
  std::map<std::pair<std::string, int32_t>, Parked> parked_;
  // Partitions waiting at a record, paused or being retried (they stay here
  // until a record of theirs goes through). Ingest thread only.
  std::map<std::pair<std::string, int32_t>, ParkedPartition> waiting_;
  std::atomic<bool> schema_ready_{false};

  // Partition-aware mode.
  const bool aware_;
  std::vector<PartitionKeyTemplate> key_templates_;  // by channel id
  // Ingest thread only:
  struct PartitionState {
    int tenants = 0;                // (channel, tenant) keys with interest mapped here
    bool assigned = false;
    bool requested = false;         // handed to the control thread, not assigned yet
    bool from_beginning = false;    // new partition: read it from its beginning
    std::chrono::steady_clock::time_point idle_since;  // when tenants became 0
    std::chrono::steady_clock::time_point retry_at;    // after a failed assignment
  };
  std::map<TopicPartition, PartitionState> partitions_;
  std::unordered_map<routing::TenantKey, TopicPartition, routing::TenantKeyHash> key_partition_;
  std::map<std::string, int32_t> counts_;  // partitions per topic, as last taken
  bool counts_known_ = false;
  uint64_t counts_taken_ = 0;
  std::vector<routing::InterestUpdate> held_;  // drained, not reported applied yet (seq order)
  std::vector<routing::InterestUpdate> release_scratch_;
  bool sync_due_ = false;
  std::chrono::steady_clock::time_point next_sync_;
  std::string key_scratch_;
  // Guarded by control_mu_:
  std::map<std::string, int32_t> published_counts_;
  std::atomic<uint64_t> counts_generation_{0};  // written under control_mu_
  std::vector<Want> want_;
  mutable std::mutex parked_mu_;
  std::vector<ParkedPartition> parked_snapshot_;  // guarded by parked_mu_
};

}  // namespace rte::ingest

// ReplayService: serves subscriptions that resume (`since`: the last offset a
// client saw per partition; `since_time`: a point in time) from Kafka, whose
// log is the history. One thread with its own librdkafka consumer (no group,
// explicit assignments) takes one job at a time: it resolves the start of
// each partition (since + 1, or offsets-for-times), reads up to the high
// watermark taken when the job starts, keeps the records of the job's
// tenant (and property) and renders them with a RecordRouter exactly as the
// live path does. The live path never waits for it: the client's live events
// are held by its session meanwhile and spliced after the replay by offset.
// Bounded: at most kMaxPending jobs wait (more are answered at once, not
// recovered); a job reads at most `max_records` records and gives up after
// `timeout`. A job is `recovered` only when nothing can be missing: every
// start was at or after the log start and the job read to the end.
// Thread: Submit and counters from any thread; `done` runs on the replay
// thread; Start/Stop from the main thread.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "base/result.h"
#include "config/settings.h"
#include "ingest/payload_decoder.h"
#include "ingest/recent_records.h"
#include "routing/channel_table.h"
#include "routing/event.h"

struct rd_kafka_s;

namespace rte::ingest {

struct ReplayRequest {
  routing::ChannelId channel = 0;
  std::string tenant;
  std::string property;                            // empty: every property
  std::vector<std::pair<int32_t, int64_t>> since;  // last offset seen, per partition
  int64_t since_time_ms = -1;                      // >= 0: every partition, from this time on
};

struct ReplayResult {
  std::vector<routing::EventPtr> events;  // partition by partition, each in offset order
  bool recovered = false;
  std::string why;  // when not recovered
  // Per partition replayed: the first offset NOT replayed (the live stream
  // carries on from there; live events before it are duplicates).
  std::vector<std::pair<int32_t, int64_t>> next;
  int64_t records_read = 0;  // records read from Kafka for this job (all tenants)
};

struct ReplayLimits {
  int64_t max_records = 100000;                    // REPLAY_MAX_RECORDS
  std::chrono::milliseconds timeout{10000};        // REPLAY_TIMEOUT_MS
};

class ReplayService {
 public:
  static constexpr size_t kMaxPending = 256;
  using Done = std::function<void(ReplayResult)>;

  // `recent` (may be null): the in-memory window served before Kafka is read.
  ReplayService(const config::Settings& settings, const routing::ChannelTable& channels, FramedDecoder* framed,
                ReplayLimits limits, const RecentRecords* recent = nullptr);
  ~ReplayService();
  ReplayService(const ReplayService&) = delete;
  ReplayService& operator=(const ReplayService&) = delete;

  Status Start();
  void Stop();

  // Queues a job; `done` runs on the replay thread when it is finished (or
  // at once, not recovered, when too many jobs wait or the service stopped).
  void Submit(ReplayRequest request, Done done);

  uint64_t jobs_recovered() const { return recovered_.load(std::memory_order_relaxed); }
  uint64_t jobs_not_recovered() const { return not_recovered_.load(std::memory_order_relaxed); }
  uint64_t records_read() const { return records_read_.load(std::memory_order_relaxed); }
  uint64_t events_replayed() const { return events_replayed_.load(std::memory_order_relaxed); }
  // Partitions of resumes served from the in-memory window (no broker read).
  uint64_t window_hits() const { return window_hits_.load(std::memory_order_relaxed); }

 private:
  struct Job {
    ReplayRequest request;
    Done done;
  };
  void Run();
  ReplayResult Execute(const ReplayRequest& request);
  // Start offsets (partition, offset) of the job, before clamping to the log.
  Result<std::vector<std::pair<int32_t, int64_t>>> Starts(const ReplayRequest& request, const std::string& topic);
  void Finish(Job& job, ReplayResult result);

  const config::Settings& settings_;
  const routing::ChannelTable& channels_;
  // The ingest thread's decoder keeps caches of its own: the replay thread
  // decodes with a fork of it (made in Start).
  FramedDecoder* framed_;
  std::unique_ptr<FramedDecoder> own_framed_;
  const ReplayLimits limits_;
  rd_kafka_s* rk_ = nullptr;

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Job> pending_;
  bool stop_ = false;
  std::atomic<bool> stopping_{false};  // a running job gives up (Stop must not wait for it)
  std::thread thread_;

  std::atomic<uint64_t> recovered_{0};
  std::atomic<uint64_t> not_recovered_{0};
  std::atomic<uint64_t> records_read_{0};
  std::atomic<uint64_t> events_replayed_{0};
  std::atomic<uint64_t> window_hits_{0};
  const RecentRecords* recent_;
};

}  // namespace rte::ingest

#include "ingest/replay_service.h"

#include <librdkafka/rdkafka.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <limits>

#include "ingest/kafka_client.h"
#include "ingest/record_router.h"
#include "metrics/stats.h"
#include "routing/interest.h"

namespace rte::ingest {
namespace {

using Clock = std::chrono::steady_clock;
constexpr int kQueryTimeoutMs = 5000;

// Keeps what a RecordRouter hands over.
class CollectingSink final : public routing::EventSink {
 public:
  void Deliver(uint64_t, routing::EventPtr event) override { events.push_back(std::move(event)); }
  void Flush() override {}
  std::vector<routing::EventPtr> events;
};

// One partition of a job.
struct Part {
  int32_t partition = 0;
  int64_t next = 0;  // next offset to read
  int64_t end = 0;   // high watermark when the job started
  std::vector<routing::EventPtr> events;
  bool done() const { return next >= end; }
};

}  // namespace

ReplayService::ReplayService(const config::Settings& settings, const routing::ChannelTable& channels,
                             FramedDecoder* framed, ReplayLimits limits, const RecentRecords* recent)
    : settings_(settings), channels_(channels), framed_(framed), limits_(limits), recent_(recent) {}

ReplayService::~ReplayService() { Stop(); }

Status ReplayService::Start() {
  if (framed_) own_framed_ = framed_->Fork();
  auto conf = MakeKafkaConf(settings_.kafka,
                            {{"group.id", settings_.kafka.group_id + "-replay", ""},
                             {"enable.auto.commit", "false", ""},
                             {"enable.auto.offset.store", "false", ""},
                             {"enable.partition.eof", "true", ""},  // the end of a partition ends its part
                             {"allow.auto.create.topics", "false", ""},
                             {"fetch.wait.max.ms", "100", ""},
                             {"queued.max.messages.kbytes", "16384", ""},
                             {"client.id", "realtime-events-replay", ""}},
                            "replay consumer");
  if (!conf) return conf.error();
  char err[512];
  rk_ = rd_kafka_new(RD_KAFKA_CONSUMER, *conf, err, sizeof err);
  if (!rk_) {
    rd_kafka_conf_destroy(*conf);
    return MakeError(Errc::kInvalidArgument, std::string("replay consumer: ") + err);
  }
  rd_kafka_poll_set_consumer(rk_);
  thread_ = std::thread([this] { Run(); });
  return {};
}

void ReplayService::Stop() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  stopping_.store(true, std::memory_order_relaxed);
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  std::deque<Job> left;
  {
    std::lock_guard lock(mu_);
    left.swap(pending_);
  }
  for (Job& job : left) {
    ReplayResult r;
    r.why = "the gateway is shutting down";
    Finish(job, std::move(r));
  }
  if (rk_) {
    rd_kafka_destroy_flags(rk_, RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE);
    rk_ = nullptr;
  }
}

void ReplayService::Submit(ReplayRequest request, Done done) {
  Job job{std::move(request), std::move(done)};
  {
    std::lock_guard lock(mu_);
    if (!stop_ && pending_.size() < kMaxPending && rk_) {
      pending_.push_back(std::move(job));
      cv_.notify_one();
      return;
    }
  }
  ReplayResult r;
  r.why = "replay unavailable (too many resumes at once, or shutting down)";
  Finish(job, std::move(r));
}

void ReplayService::Run() {
  while (true) {
    Job job;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [&] { return stop_ || !pending_.empty(); });
      if (stop_) return;
      job = std::move(pending_.front());
      pending_.pop_front();
    }
    Finish(job, Execute(job.request));
  }
}

void ReplayService::Finish(Job& job, ReplayResult result) {
  (result.recovered ? recovered_ : not_recovered_).fetch_add(1, std::memory_order_relaxed);
  records_read_.fetch_add(static_cast<uint64_t>(result.records_read), std::memory_order_relaxed);
  events_replayed_.fetch_add(result.events.size(), std::memory_order_relaxed);
  if (!result.recovered) spdlog::info("replay: not recovered: {}", result.why);
  job.done(std::move(result));
}

Result<std::vector<std::pair<int32_t, int64_t>>> ReplayService::Starts(const ReplayRequest& request,
                                                                      const std::string& topic) {
  std::vector<std::pair<int32_t, int64_t>> starts;
  if (request.since_time_ms < 0) {
    for (const auto& [partition, last_seen] : request.since) starts.emplace_back(partition, last_seen + 1);
    return starts;
  }
  // since_time: every partition of the topic, from the first record at or
  // after that time (none: nothing to replay there).
  rd_kafka_topic_t* rkt = rd_kafka_topic_new(rk_, topic.c_str(), nullptr);
  const rd_kafka_metadata_t* md = nullptr;
  rd_kafka_resp_err_t err = rd_kafka_metadata(rk_, 0, rkt, &md, kQueryTimeoutMs);
  rd_kafka_topic_destroy(rkt);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR || md->topic_cnt != 1 || md->topics[0].err) {
    if (md) rd_kafka_metadata_destroy(md);
    return MakeError(Errc::kUnavailable, "partitions of " + topic + ": " + rd_kafka_err2str(err));
  }
  rd_kafka_topic_partition_list_t* list = rd_kafka_topic_partition_list_new(md->topics[0].partition_cnt);
  for (int i = 0; i < md->topics[0].partition_cnt; ++i) {
    rd_kafka_topic_partition_list_add(list, topic.c_str(), md->topics[0].partitions[i].id)->offset =
        request.since_time_ms;
  }
  rd_kafka_metadata_destroy(md);
  err = rd_kafka_offsets_for_times(rk_, list, kQueryTimeoutMs);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    rd_kafka_topic_partition_list_destroy(list);
    return MakeError(Errc::kUnavailable, std::string("offsets for since_time: ") + rd_kafka_err2str(err));
  }
  for (int i = 0; i < list->cnt; ++i) {
    const auto& tp = list->elems[i];
    // -1: no record at or after that time yet: start at the end.
    starts.emplace_back(tp.partition, tp.offset < 0 ? std::numeric_limits<int64_t>::max() : tp.offset);
  }
  rd_kafka_topic_partition_list_destroy(list);
  return starts;
}

ReplayResult ReplayService::Execute(const ReplayRequest& request) {
  ReplayResult out;
  const std::string& topic = channels_.Get(request.channel).topic;
  const auto deadline = Clock::now() + limits_.timeout;
  auto starts = Starts(request, topic);
  if (!starts) {
    out.why = starts.error().message;
    return out;
  }
  // The live path's pipeline, for one tenant: other tenants' records are
  // skipped before their value is decoded.
  routing::InterestTable interest;
  interest.Apply({routing::TenantKey{request.channel, request.tenant}, 0, true, 0});
  CollectingSink sink;
  metrics::IngestStats stats;  // this job's own; the totals are the service's counters
  PayloadDecoder decoder(own_framed_.get());
  RecordRouter router(channels_, decoder, interest, sink, stats);
  // Routes one record into `part`; false when its schema never came.
  auto route = [&](Part& part, const RecordView& view) {
    RecordRouter::Outcome outcome = router.Route(view);
    while (outcome == RecordRouter::Outcome::kPending && Clock::now() < deadline &&
           !stopping_.load(std::memory_order_relaxed)) {
      // A schema the registry client is still fetching: this thread may wait.
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      outcome = router.Route(view);
    }
    if (outcome == RecordRouter::Outcome::kPending) return false;
    for (routing::EventPtr& ev : sink.events) {
      if (ev->channel == request.channel && (request.property.empty() || ev->property == request.property)) {
        part.events.push_back(std::move(ev));
      }
    }
    sink.events.clear();
    part.next = view.offset + 1;
    return true;
  };

  bool complete = true;
  std::vector<Part> parts;
  rd_kafka_topic_partition_list_t* assignment = rd_kafka_topic_partition_list_new(static_cast<int>(starts->size()));
  for (auto [partition, start] : *starts) {
    // In memory: the window holds every record from `start` up to where the
    // live stream already is (the subscription was in effect before this job).
    if (recent_ && start != std::numeric_limits<int64_t>::max()) {
      if (auto records = recent_->From(topic, partition, start)) {
        Part part{partition, start, start, {}};
        for (const RecentRecords::Record& rec : *records) {
          if (!route(part, rec.View())) {
            complete = false;
            out.why = "a schema was not available in time";
            break;
          }
        }
        part.end = part.next;
        window_hits_.fetch_add(1, std::memory_order_relaxed);
        parts.push_back(std::move(part));
        continue;
      }
    }
    int64_t low = 0, high = 0;
    rd_kafka_resp_err_t err =
        rd_kafka_query_watermark_offsets(rk_, topic.c_str(), partition, &low, &high, kQueryTimeoutMs);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      rd_kafka_topic_partition_list_destroy(assignment);
      out.why = topic + "[" + std::to_string(partition) + "]: " + rd_kafka_err2str(err);
      return out;
    }
    if (start < low) {
      complete = false;
      out.why = topic + "[" + std::to_string(partition) + "] starts at offset " + std::to_string(low) +
                " now: older records were deleted";
      start = low;
    }
    start = std::min(start, high);
    parts.push_back(Part{partition, start, high, {}});
    if (start < high) rd_kafka_topic_partition_list_add(assignment, topic.c_str(), partition)->offset = start;
  }
  if (assignment->cnt > 0) rd_kafka_assign(rk_, assignment);
  rd_kafka_topic_partition_list_destroy(assignment);

  auto unfinished = [&] { return std::any_of(parts.begin(), parts.end(), [](const Part& p) { return !p.done(); }); };
  while (unfinished()) {
    if (stopping_.load(std::memory_order_relaxed)) {
      complete = false;
      out.why = "the gateway is shutting down";
      break;
    }
    if (Clock::now() >= deadline) {
      complete = false;
      out.why = "the replay took longer than REPLAY_TIMEOUT_MS";
      break;
    }
    if (out.records_read >= limits_.max_records) {
      complete = false;
      out.why = "more than REPLAY_MAX_RECORDS records to read";
      break;
    }
    rd_kafka_message_t* msg = rd_kafka_consumer_poll(rk_, 100);
    if (!msg) continue;
    auto part = std::find_if(parts.begin(), parts.end(), [&](const Part& p) { return p.partition == msg->partition; });
    if (msg->err == RD_KAFKA_RESP_ERR__PARTITION_EOF && part != parts.end() && !part->done()) {
      // Nothing more to read there (what is left below the watermark are
      // transaction markers, which are never delivered).
      part->next = part->end;
      rd_kafka_message_destroy(msg);
      continue;
    }
    if (msg->err || part == parts.end() || part->done() || msg->offset < part->next) {
      if (msg->err && msg->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
        spdlog::warn("replay consumer: {}", rd_kafka_message_errstr(msg));
      }
      rd_kafka_message_destroy(msg);
      continue;
    }
    ++out.records_read;
    const bool routed = route(*part, ViewOfMessage(msg));
    rd_kafka_message_destroy(msg);
    if (!routed) {
      complete = false;
      out.why = "a schema was not available in time";
      break;
    }
  }
  rd_kafka_assign(rk_, nullptr);
  for (Part& p : parts) {
    out.next.emplace_back(p.partition, p.next);
    for (auto& ev : p.events) out.events.push_back(std::move(ev));
  }
  out.recovered = complete;
  return out;
}

}  // namespace rte::ingest

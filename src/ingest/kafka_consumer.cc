#include "ingest/kafka_consumer.h"

#include <librdkafka/rdkafka.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <set>

#include "ingest/kafka_client.h"

namespace rte::ingest {
namespace {

using Clock = std::chrono::steady_clock;
// Without a metadata answer for this long, Kafka counts as unreachable.
constexpr auto kUnreachableAfter = std::chrono::seconds(10);

}  // namespace

void KafkaLogToSpdlog(const rd_kafka_t*, int level, const char* fac, const char* buf) {
  if (level <= 3) {
    spdlog::error("kafka {}: {}", fac, buf);
  } else if (level <= 4) {
    spdlog::warn("kafka {}: {}", fac, buf);
  } else if (level <= 6) {
    spdlog::info("kafka {}: {}", fac, buf);
  } else {
    spdlog::debug("kafka {}: {}", fac, buf);
  }
}

namespace {

void ErrorCallback(rd_kafka_t*, int err, const char* reason, void* opaque) {
  auto* stats = static_cast<metrics::IngestStats*>(opaque);
  stats->consumer_errors.Add();
  // Transport errors while a broker restarts are expected; librdkafka retries.
  auto code = static_cast<rd_kafka_resp_err_t>(err);
  if (code == RD_KAFKA_RESP_ERR__TRANSPORT || code == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN) {
    spdlog::warn("kafka: {} ({})", reason, rd_kafka_err2name(code));
  } else {
    spdlog::error("kafka: {} ({})", reason, rd_kafka_err2name(code));
  }
}

}  // namespace

KafkaConsumer::KafkaConsumer(const config::Settings& settings, const routing::ChannelTable& channels,
                             routing::InterestUpdates& interest_updates, routing::EventSink& sink,
                             metrics::IngestStats& stats, FramedDecoder* framed, RecentRecords* recent)
    : settings_(settings),
      channels_(channels),
      interest_updates_(interest_updates),
      sink_(sink),
      stats_(stats),
      decoder_(framed),
      router_(channels, decoder_, interest_, sink, stats),
      dead_letters_(settings, stats),
      recent_(recent),
      aware_(settings.kafka.partition_aware) {
  for (size_t id = 0; id < channels_.size(); ++id) {
    key_templates_.emplace_back(channels_.Get(static_cast<routing::ChannelId>(id)).partition_key);
  }
}

KafkaConsumer::~KafkaConsumer() { Stop(); }

Status KafkaConsumer::Start() {
  const auto& k = settings_.kafka;
  auto made = MakeKafkaConf(k,
                            {{"group.id", k.group_id, "KAFKA_GROUP_ID"},
                             {"session.timeout.ms", std::to_string(k.session_timeout_ms), "KAFKA_SESSION_TIMEOUT"},
                             {"enable.auto.commit", "false", ""},
                             {"enable.auto.offset.store", "false", ""},
                             {"enable.partition.eof", "false", ""},
                             {"allow.auto.create.topics", "false", ""},
                             {"fetch.wait.max.ms", "100", ""},
                             {"fetch.error.backoff.ms", "100", ""},
                             {"socket.nagle.disable", "true", ""},
                             {"queued.max.messages.kbytes", "32768", ""},
                             {"reconnect.backoff.max.ms", "2000", ""},
                             {"client.id", "realtime-events", ""}},
                            "librdkafka");
  if (!made) return made.error();
  rd_kafka_conf_t* conf = *made;
  char err[512];
  if (Status s = dead_letters_.Start(); !s) {
    rd_kafka_conf_destroy(conf);
    return s.error();
  }
  rd_kafka_conf_set_error_cb(conf, ErrorCallback);
  rd_kafka_conf_set_opaque(conf, &stats_);
  rk_ = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof err);
  if (!rk_) {
    rd_kafka_conf_destroy(conf);
    return MakeError(Errc::kInvalidArgument, std::string("kafka client: ") + err);
  }
  rd_kafka_poll_set_consumer(rk_);
  queue_ = rd_kafka_queue_get_consumer(rk_);
  // A subscription change wakes the poll so it takes effect within
  // microseconds, not at the end of the poll timeout.
  interest_updates_.SetWakeCallback([q = queue_] { rd_kafka_queue_yield(q); });
  if (aware_) {
    spdlog::info("kafka: partition-aware: reading only the partitions of subscribed tenants (linger {} ms)",
                 settings_.kafka.partition_linger_ms);
    if (settings_.kafka.start != config::StartPosition::kEnd) {
      spdlog::warn("kafka: partition-aware: KAFKA_START_FROM is not used; a partition is read from its end when "
                   "its first subscriber arrives");
    }
  }
  stop_ = false;
  thread_ = std::thread([this] { Run(); });
  control_thread_ = std::thread([this] { ControlLoop(); });
  return {};
}

void KafkaConsumer::Stop() {
  interest_updates_.SetWakeCallback(nullptr);  // before the queue goes away
  {
    std::lock_guard lock(control_mu_);
    stop_ = true;
  }
  control_cv_.notify_all();
  if (control_thread_.joinable()) control_thread_.join();
  if (thread_.joinable()) thread_.join();
  dead_letters_.Stop();
  if (queue_) {
    rd_kafka_queue_destroy(queue_);
    queue_ = nullptr;
  }
  std::lock_guard rk_lock(rk_mu_);
  if (rk_) {
    // No group membership to leave; skip consumer close (it can hang in
    // librdkafka 2.0.x when a partition was lost).
    rd_kafka_destroy_flags(rk_, RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE);
    rk_ = nullptr;
  }
}

std::vector<PartitionProgress> KafkaConsumer::Progress() const {
  std::set<std::pair<std::string, int32_t>> known;
  {
    std::lock_guard lock(control_mu_);
    known = known_;
  }
  std::vector<PartitionProgress> out;
  std::lock_guard rk_lock(rk_mu_);
  if (!rk_ || known.empty()) return out;
  rd_kafka_topic_partition_list_t* list = rd_kafka_topic_partition_list_new(static_cast<int>(known.size()));
  for (const auto& [topic, partition] : known) rd_kafka_topic_partition_list_add(list, topic.c_str(), partition);
  rd_kafka_position(rk_, list);  // local: the offset after the last record handed to us
  for (int i = 0; i < list->cnt; ++i) {
    const rd_kafka_topic_partition_t& tp = list->elems[i];
    PartitionProgress p;
    p.topic = tp.topic;
    p.partition = tp.partition;
    p.position = tp.offset >= 0 ? tp.offset : -1;
    int64_t low = -1, high = -1;
    if (rd_kafka_get_watermark_offsets(rk_, tp.topic, tp.partition, &low, &high) == RD_KAFKA_RESP_ERR_NO_ERROR &&
        high >= 0) {
      p.high_watermark = high;
    }
    out.push_back(std::move(p));
  }
  rd_kafka_topic_partition_list_destroy(list);
  return out;
}

void KafkaConsumer::SchemaReady(int32_t) { schema_ready_.store(true, std::memory_order_release); }

const rd_kafka_metadata_t* KafkaConsumer::FetchMetadata() {
  stats_.metadata_refreshes.Add();
  const rd_kafka_metadata_t* md = nullptr;
  rd_kafka_resp_err_t e = rd_kafka_metadata(rk_, 1, nullptr, &md, 3000);
  if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
    spdlog::warn("kafka metadata: {}", rd_kafka_err2str(e));
    return nullptr;
  }
  return md;
}

bool KafkaConsumer::ResolveNewPartitions(std::vector<Assignment>* out) {
  const rd_kafka_metadata_t* md = FetchMetadata();
  if (!md) return false;
  std::set<std::pair<std::string, int32_t>> known;
  {
    std::lock_guard lock(control_mu_);
    known = known_;
  }
  std::set<std::string> wanted(channels_.topics().begin(), channels_.topics().end());
  rd_kafka_topic_partition_list_t* add = rd_kafka_topic_partition_list_new(16);
  std::set<std::string> seen;
  for (int t = 0; t < md->topic_cnt && !stop_.load(std::memory_order_relaxed); ++t) {
    const auto& topic = md->topics[t];
    if (!wanted.count(topic.topic) || topic.err != RD_KAFKA_RESP_ERR_NO_ERROR) continue;
    seen.insert(topic.topic);
    for (int p = 0; p < topic.partition_cnt; ++p) {
      const int32_t partition = topic.partitions[p].id;
      auto key = std::make_pair(std::string(topic.topic), partition);
      if (known.count(key)) continue;
      // Partitions known at start-up start where configured, even when their
      // start could only be resolved at a later refresh; partitions that
      // appear later are new, so all of them is read.
      if (!initial_done_) start_pending_.insert(key);
      int64_t offset = RD_KAFKA_OFFSET_BEGINNING;
      if (start_pending_.count(key)) {
        switch (settings_.kafka.start) {
          case config::StartPosition::kBeginning:
            offset = RD_KAFKA_OFFSET_BEGINNING;
            break;
          case config::StartPosition::kTimestamp:
            offset = settings_.kafka.start_timestamp_ms;
            break;
          case config::StartPosition::kEnd: {
            // Resolve the end now, so that "ready" means every record
            // produced from here on will be delivered. On failure the
            // partition waits for the next refresh (and ready stays false).
            int64_t lo = 0, hi = 0;
            rd_kafka_resp_err_t qe = rd_kafka_query_watermark_offsets(rk_, topic.topic, partition, &lo, &hi, 5000);
            if (qe != RD_KAFKA_RESP_ERR_NO_ERROR) {
              spdlog::warn("kafka: end offset of {}[{}] unknown ({}); retrying", topic.topic, partition, rd_kafka_err2str(qe));
              continue;
            }
            offset = hi;
            break;
          }
        }
      }
      rd_kafka_topic_partition_list_add(add, topic.topic, partition)->offset = offset;
    }
  }
  rd_kafka_metadata_destroy(md);
  if (!initial_done_ && settings_.kafka.start == config::StartPosition::kTimestamp && add->cnt > 0) {
    if (rd_kafka_offsets_for_times(rk_, add, 10000) != RD_KAFKA_RESP_ERR_NO_ERROR) {
      spdlog::warn("kafka: offsets_for_times failed; starting those partitions at the end");
      for (int i = 0; i < add->cnt; ++i) add->elems[i].offset = RD_KAFKA_OFFSET_END;
    }
    for (int i = 0; i < add->cnt; ++i) {
      if (add->elems[i].offset < 0) add->elems[i].offset = RD_KAFKA_OFFSET_END;  // no record that late
    }
  }
  for (const auto& t : wanted) {
    if (!seen.count(t) && !initial_done_) spdlog::warn("kafka: topic \"{}\" does not exist (yet); will pick it up when it does", t);
  }
  {
    std::lock_guard lock(control_mu_);
    for (int i = 0; i < add->cnt; ++i) {
      out->push_back({add->elems[i].topic, add->elems[i].partition, add->elems[i].offset});
      known_.insert({add->elems[i].topic, add->elems[i].partition});
      start_pending_.erase({add->elems[i].topic, add->elems[i].partition});
    }
  }
  rd_kafka_topic_partition_list_destroy(add);
  initial_done_ = true;
  return true;
}

bool KafkaConsumer::RefreshPartitionCounts() {
  const rd_kafka_metadata_t* md = FetchMetadata();
  if (!md) return false;
  std::set<std::string> wanted(channels_.topics().begin(), channels_.topics().end());
  std::map<std::string, int32_t> counts;
  for (int t = 0; t < md->topic_cnt; ++t) {
    const auto& topic = md->topics[t];
    if (!wanted.count(topic.topic) || topic.err != RD_KAFKA_RESP_ERR_NO_ERROR || topic.partition_cnt <= 0) continue;
    counts[topic.topic] = topic.partition_cnt;
  }
  rd_kafka_metadata_destroy(md);
  if (!initial_done_) {
    for (const auto& t : wanted) {
      if (!counts.count(t)) spdlog::warn("kafka: topic \"{}\" does not exist (yet); will pick it up when it does", t);
    }
  }
  bool changed = !initial_done_;
  {
    std::lock_guard lock(control_mu_);
    for (const auto& [topic, n] : counts) {
      // Partitions are never removed; a topic missing from one answer keeps its count.
      int32_t& known = published_counts_[topic];
      if (n > known) {
        if (known > 0) spdlog::info("kafka: {} has {} partitions now (was {})", topic, n, known);
        known = n;
        changed = true;
      }
    }
    if (changed) counts_generation_.fetch_add(1, std::memory_order_release);
  }
  initial_done_ = true;
  if (changed) rd_kafka_queue_yield(queue_);
  return true;
}

void KafkaConsumer::ResolveWanted(const std::vector<Want>& wants, std::vector<Assignment>* out,
                                  std::vector<Want>* failed) {
  for (const Want& w : wants) {
    if (stop_.load(std::memory_order_relaxed)) return;
    if (w.from_beginning) {
      out->push_back({w.topic, w.partition, RD_KAFKA_OFFSET_BEGINNING});
      continue;
    }
    // A concrete offset, not the logical end (which librdkafka resolves only
    // when it fetches, later): the subscription waiting for this partition is
    // acknowledged once it is assigned, and every record produced after that
    // is at or past this watermark.
    int64_t lo = 0, hi = 0;
    rd_kafka_resp_err_t qe = rd_kafka_query_watermark_offsets(rk_, w.topic.c_str(), w.partition, &lo, &hi, 5000);
    if (qe != RD_KAFKA_RESP_ERR_NO_ERROR) {
      spdlog::warn("kafka: end offset of {}[{}] unknown ({}); retrying", w.topic, w.partition, rd_kafka_err2str(qe));
      failed->push_back(w);
      continue;
    }
    out->push_back({w.topic, w.partition, hi});
  }
}

void KafkaConsumer::ControlLoop() {
  const auto refresh_every = std::chrono::milliseconds(settings_.kafka.metadata_refresh_ms);
  auto next_refresh = Clock::now();
  // Partition-aware: wanted partitions whose watermark query failed, and when
  // to try them again.
  std::vector<Want> retry;
  auto retry_at = Clock::time_point::max();
  std::unique_lock lock(control_mu_);
  while (!stop_.load(std::memory_order_relaxed)) {
    std::vector<Assignment> add;
    bool refreshed = false;
    bool ok = false;
    if (Clock::now() >= next_refresh) {
      lock.unlock();
      ok = aware_ ? RefreshPartitionCounts() : ResolveNewPartitions(&add);
      lock.lock();
      refreshed = true;
    }
    if (aware_) {
      std::vector<Want> wants;
      wants.swap(want_);
      if (!retry.empty() && Clock::now() >= retry_at) {
        wants.insert(wants.end(), retry.begin(), retry.end());
        retry.clear();
        retry_at = Clock::time_point::max();
      }
      if (!wants.empty()) {
        lock.unlock();
        std::vector<Want> failed;
        ResolveWanted(wants, &add, &failed);
        lock.lock();
        for (const auto& a : add) known_.insert({a.topic, a.partition});
        if (!failed.empty()) {
          retry.insert(retry.end(), failed.begin(), failed.end());
          retry_at = Clock::now() + std::chrono::seconds(1);
        }
      }
    }
    if (!add.empty()) {
      // Hand the new partitions to the ingest thread, wake its poll, and wait
      // (bounded) until it assigned them: "ready" must mean they are read.
      const uint64_t generation = ++handed_generation_;
      for (auto& a : add) to_assign_.push_back(std::move(a));
      rd_kafka_queue_yield(queue_);
      control_cv_.wait_for(lock, std::chrono::seconds(5), [&] {
        return applied_generation_ >= generation || stop_.load(std::memory_order_relaxed);
      });
    }
    if (refreshed) {
      // Ready means: start offsets resolved and assigned, and Kafka answering.
      // A cluster that has not answered metadata for a while makes /readyz say so.
      // (Partition-aware: no partition is needed before a subscriber asks for it.)
      const auto now = Clock::now();
      if (ok) last_metadata_ok_ = now;
      const bool answering = ok || now - last_metadata_ok_ <= kUnreachableAfter;
      const bool outage = !answering && last_metadata_ok_ != Clock::time_point{};
      if (outage != (stats_.kafka_outage.Get() == 1)) {
        if (outage) spdlog::error("kafka: no answer for {} s: clients are told, /readyz is 503; waiting for it to return",
                                  std::chrono::duration_cast<std::chrono::seconds>(now - last_metadata_ok_).count());
        else spdlog::warn("kafka: answering again; delivery continues where it stopped");
      }
      stats_.kafka_outage.Set(outage ? 1 : 0);
      stats_.ready.Set(initial_done_ && start_pending_.empty() && applied_generation_ >= handed_generation_ && answering
                           ? 1
                           : 0);
      const auto wait = ok && start_pending_.empty() ? refresh_every : std::min(refresh_every, std::chrono::milliseconds(1000));
      next_refresh = now + wait;
    }
    control_cv_.wait_until(lock, std::min(next_refresh, retry_at), [&] {
      return stop_.load(std::memory_order_relaxed) || !want_.empty();
    });
  }
}

void KafkaConsumer::ApplyAssignments() {
  std::vector<Assignment> add;
  uint64_t generation = 0;
  {
    std::lock_guard lock(control_mu_);
    if (to_assign_.empty()) return;
    add.swap(to_assign_);
    generation = handed_generation_;
  }
  rd_kafka_topic_partition_list_t* list = rd_kafka_topic_partition_list_new(static_cast<int>(add.size()));
  for (const auto& a : add) rd_kafka_topic_partition_list_add(list, a.topic.c_str(), a.partition)->offset = a.offset;
  rd_kafka_error_t* err = rd_kafka_incremental_assign(rk_, list);
  if (err) {
    spdlog::error("kafka assign: {}", rd_kafka_error_string(err));
    rd_kafka_error_destroy(err);
    {
      std::lock_guard lock(control_mu_);
      for (const auto& a : add) known_.erase({a.topic, a.partition});  // the next refresh tries again
    }
    if (aware_) {
      // Asked for again in a second (the subscriptions waiting for them wait on).
      for (const auto& a : add) {
        PartitionState& ps = partitions_[{a.topic, a.partition}];
        ps.requested = false;
        ps.retry_at = Clock::now() + std::chrono::seconds(1);
      }
      sync_due_ = true;
    }
  } else {
    if (aware_) {
      const auto now = Clock::now();
      for (const auto& a : add) {
        PartitionState& ps = partitions_[{a.topic, a.partition}];
        ps.assigned = true;
        ps.requested = false;
        ps.from_beginning = false;
        if (ps.tenants == 0) ps.idle_since = now;  // everyone left meanwhile: lingers, then goes
      }
      sync_due_ = true;
    }
    for (const auto& a : add) {
      ++assigned_count_;
      spdlog::info("kafka: reading {}[{}] from {}", a.topic, a.partition,
                   a.offset == RD_KAFKA_OFFSET_BEGINNING ? std::string("the beginning")
                   : a.offset == RD_KAFKA_OFFSET_END     ? std::string("the end")
                                                         : std::to_string(a.offset));
    }
    stats_.partitions_assigned.Add(add.size());
    stats_.assigned_partitions.Set(static_cast<int64_t>(assigned_count_));
  }
  rd_kafka_topic_partition_list_destroy(list);
  {
    std::lock_guard lock(control_mu_);
    applied_generation_ = std::max(applied_generation_, generation);
  }
  control_cv_.notify_all();
}

void KafkaConsumer::ApplyInterestUpdates() {
  interest_updates_.Drain(&updates_scratch_);
  if (!aware_) {
    for (const auto& u : updates_scratch_) interest_.Apply(u);
    interest_updates_.NotifyApplied(updates_scratch_);
    stats_.interest_keys.Set(static_cast<int64_t>(interest_.size()));
    return;
  }
  TakePartitionCounts();
  for (const auto& u : updates_scratch_) {
    const int transition = interest_.Apply(u);
    // Before the first partition counts, keys are counted by TakePartitionCounts.
    if (counts_known_ && transition != 0) CountTenant(u.key, transition);
    held_.push_back(u);
  }
  if (!updates_scratch_.empty()) stats_.interest_keys.Set(static_cast<int64_t>(interest_.size()));
  SyncPartitions(Clock::now());
  ReleaseHeld();
}

void KafkaConsumer::TakePartitionCounts() {
  if (counts_generation_.load(std::memory_order_acquire) == counts_taken_) return;
  std::map<std::string, int32_t> fresh;
  {
    std::lock_guard lock(control_mu_);
    fresh = published_counts_;
    counts_taken_ = counts_generation_.load(std::memory_order_relaxed);
  }
  const bool was_known = counts_known_;
  std::map<std::string, int32_t> old;
  old.swap(counts_);
  counts_ = std::move(fresh);
  counts_known_ = true;
  // Move every tenant with interest to its partition under the new counts
  // (all of them, the first time).
  std::vector<routing::TenantKey> moved;
  interest_.ForEachKey([&](const routing::TenantKey& key) {
    auto now_at = PartitionOf(key);
    auto it = key_partition_.find(key);
    if (it == key_partition_.end() ? !now_at : now_at && it->second == *now_at) return;
    moved.push_back(key);
  });
  for (const auto& key : moved) {
    CountTenant(key, -1);
    CountTenant(key, +1);
  }
  if (was_known) {
    // A partition that did not exist before (a topic created or grown since)
    // holds only records produced after its tenants subscribed: all of it.
    for (auto& [tp, ps] : partitions_) {
      auto o = old.find(tp.first);
      const int32_t before = o == old.end() ? 0 : o->second;
      if (ps.tenants > 0 && !ps.assigned && !ps.requested && tp.second >= before) ps.from_beginning = true;
    }
  }
  sync_due_ = true;
}

std::optional<KafkaConsumer::TopicPartition> KafkaConsumer::PartitionOf(const routing::TenantKey& key) {
  const config::ChannelConfig& ch = channels_.Get(key.channel);
  auto it = counts_.find(ch.topic);
  if (it == counts_.end() || it->second <= 0) return std::nullopt;  // no such topic (yet)
  key_templates_[key.channel].RenderTo(key.tenant, &key_scratch_);
  return TopicPartition{ch.topic, PartitionForKey(key_scratch_, it->second)};
}

void KafkaConsumer::CountTenant(const routing::TenantKey& key, int delta) {
  if (delta > 0) {
    auto at = PartitionOf(key);
    if (!at) return;
    key_partition_[key] = *at;
    ++partitions_[*at].tenants;
  } else {
    auto it = key_partition_.find(key);
    if (it == key_partition_.end()) return;
    PartitionState& ps = partitions_[it->second];
    if (--ps.tenants == 0) ps.idle_since = Clock::now();
    key_partition_.erase(it);
  }
  sync_due_ = true;
}

void KafkaConsumer::ReleaseHeld() {
  if (held_.empty()) return;
  // An update is applied once its tenant's partition is assigned (or it needs
  // none: an unsubscribe, a topic that does not exist). Applied is reported
  // per worker up to a sequence number, so a worker's later updates wait
  // behind its earlier ones.
  uint64_t blocked = 0;  // workers with an update still waiting
  release_scratch_.clear();
  size_t keep = 0;
  for (size_t i = 0; i < held_.size(); ++i) {
    routing::InterestUpdate& u = held_[i];
    const uint64_t bit = uint64_t{1} << u.worker;
    bool ready = !(blocked & bit);
    if (ready && u.interested) {
      if (!counts_known_) {
        ready = false;
      } else if (auto it = key_partition_.find(u.key); it != key_partition_.end()) {
        ready = partitions_[it->second].assigned;
      }
    }
    if (ready) {
      release_scratch_.push_back(std::move(u));
    } else {
      blocked |= bit;
      if (keep != i) held_[keep] = std::move(u);
      ++keep;
    }
  }
  held_.resize(keep);
  interest_updates_.NotifyApplied(release_scratch_);
}

void KafkaConsumer::SyncPartitions(Clock::time_point now) {
  if (!sync_due_ && now < next_sync_) return;
  sync_due_ = false;
  next_sync_ = Clock::time_point::max();
  const auto linger = std::chrono::milliseconds(settings_.kafka.partition_linger_ms);
  std::vector<Want> wants;
  std::vector<TopicPartition> drop;
  for (auto it = partitions_.begin(); it != partitions_.end();) {
    const TopicPartition& tp = it->first;
    PartitionState& ps = it->second;
    if (ps.tenants > 0) {
      if (!ps.assigned && !ps.requested) {
        if (now >= ps.retry_at) {
          wants.push_back({tp.first, tp.second, ps.from_beginning});
          ps.requested = true;
        } else {
          next_sync_ = std::min(next_sync_, ps.retry_at);
        }
      }
    } else if (ps.assigned) {
      if (now - ps.idle_since >= linger) {
        drop.push_back(tp);
      } else {
        next_sync_ = std::min(next_sync_, ps.idle_since + linger);
      }
    } else if (!ps.requested) {
      it = partitions_.erase(it);
      continue;
    }
    ++it;
  }
  if (!drop.empty()) Unassign(drop);
  if (!wants.empty()) {
    {
      std::lock_guard lock(control_mu_);
      want_.insert(want_.end(), wants.begin(), wants.end());
    }
    control_cv_.notify_all();
  }
}

void KafkaConsumer::Unassign(const std::vector<TopicPartition>& partitions) {
  rd_kafka_topic_partition_list_t* list = rd_kafka_topic_partition_list_new(static_cast<int>(partitions.size()));
  for (const auto& [topic, partition] : partitions) rd_kafka_topic_partition_list_add(list, topic.c_str(), partition);
  rd_kafka_error_t* err = rd_kafka_incremental_unassign(rk_, list);
  rd_kafka_topic_partition_list_destroy(list);
  const auto now = Clock::now();
  if (err) {
    spdlog::error("kafka unassign: {}", rd_kafka_error_string(err));
    rd_kafka_error_destroy(err);
    for (const auto& tp : partitions) partitions_[tp].idle_since = now;  // tried again after the linger
    return;
  }
  bool parked_changed = false;
  for (const auto& tp : partitions) {
    partitions_[tp].assigned = false;
    if (assigned_count_ > 0) --assigned_count_;
    parked_.erase(tp);
    parked_changed |= waiting_.erase(tp) > 0;
    // Read again later, it starts at a later offset: the window would have a hole.
    if (recent_) recent_->Forget(tp.first, tp.second);
    spdlog::info("kafka: no longer reading {}[{}]: no subscriber's tenant there for {} ms", tp.first, tp.second,
                 settings_.kafka.partition_linger_ms);
  }
  {
    std::lock_guard lock(control_mu_);
    for (const auto& tp : partitions) known_.erase(tp);
  }
  if (parked_changed) PublishParked();
  stats_.partitions_unassigned.Add(partitions.size());
  stats_.assigned_partitions.Set(static_cast<int64_t>(assigned_count_));
  sync_due_ = true;  // forget their state
}

void KafkaConsumer::HandleMessage(rd_kafka_message_t* msg) {
  if (msg->err) {
    if (msg->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
      stats_.consumer_errors.Add();
      spdlog::warn("kafka consume: {}", rd_kafka_message_errstr(msg));
    }
    return;
  }
  const char* topic = rd_kafka_topic_name(msg->rkt);
  if (!parked_.empty() && parked_.count({topic, msg->partition})) return;  // refetched after the schema arrives
  stats_.records_received.Add();
  const RecordView r = ViewOfMessage(msg);
  if (r.timestamp_ms > 0) stats_.ingest_freshness.Observe(metrics::WallClockUs() - r.timestamp_ms * 1000);
  const RecordRouter::Outcome outcome = router_.Route(r);
  if (outcome == RecordRouter::Outcome::kPending) {
    Park(topic, msg->partition, msg->offset);
    return;  // read again once the schema is there: not in the window yet
  }
  if (recent_) recent_->Append(r);
  if (outcome == RecordRouter::Outcome::kKeyError || outcome == RecordRouter::Outcome::kValueError) {
    dead_letters_.Send(r, router_.last_error());
  }
  if (!waiting_.empty()) Unpark(topic, msg->partition);
}

void KafkaConsumer::Park(const char* topic, int32_t partition, int64_t offset) {
  // Other partitions keep flowing; this one is paused at the record.
  const DecodeResult& pending = router_.pending();
  stats_.records_parked.Add();
  parked_[{topic, partition}] = {offset, pending.schema_id};
  rd_kafka_topic_partition_list_t* l = rd_kafka_topic_partition_list_new(1);
  rd_kafka_topic_partition_list_add(l, topic, partition);
  rd_kafka_pause_partitions(rk_, l);
  rd_kafka_topic_partition_list_destroy(l);
  ParkedPartition& w = waiting_[{topic, partition}];
  const bool changed = w.topic.empty() || w.offset != offset || w.wait != pending.wait;
  if (w.topic.empty() || w.offset != offset) w.since = Clock::now();
  w.topic = topic;
  w.partition = partition;
  w.offset = offset;
  w.schema_id = pending.schema_id;
  w.wait = pending.wait;
  w.error = pending.error.message;
  if (changed) {
    // Logged when it starts waiting or the reason changes, not at every retry.
    spdlog::log(pending.wait == DecodeWait::kFetching ? spdlog::level::debug : spdlog::level::warn,
                "kafka: {}[{}] waits at offset {} for schema {}: {}{}{}", topic, partition, offset,
                pending.schema_id, DecodeWaitName(pending.wait), pending.error.message.empty() ? "" : ": ",
                pending.error.message);
    PublishParked();
  }
}

void KafkaConsumer::Unpark(const char* topic, int32_t partition) {
  auto it = waiting_.find({topic, partition});
  if (it == waiting_.end()) return;
  const auto waited = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - it->second.since);
  spdlog::log(it->second.wait == DecodeWait::kFetching ? spdlog::level::debug : spdlog::level::info,
              "kafka: {}[{}] moves on from offset {} after {} ms", topic, partition, it->second.offset,
              waited.count());
  waiting_.erase(it);
  PublishParked();
}

void KafkaConsumer::PublishParked() {
  std::vector<ParkedPartition> snapshot;
  snapshot.reserve(waiting_.size());
  for (const auto& [tp, w] : waiting_) snapshot.push_back(w);
  stats_.parked_partitions.Set(static_cast<int64_t>(snapshot.size()));
  std::lock_guard lock(parked_mu_);
  parked_snapshot_.swap(snapshot);
}

std::vector<ParkedPartition> KafkaConsumer::ParkedPartitions() const {
  std::lock_guard lock(parked_mu_);
  return parked_snapshot_;
}

void KafkaConsumer::RetryParked() {
  if (parked_.empty()) return;
  rd_kafka_topic_partition_list_t* l = rd_kafka_topic_partition_list_new(static_cast<int>(parked_.size()));
  for (const auto& [tp, parked] : parked_) {
    rd_kafka_topic_partition_list_add(l, tp.first.c_str(), tp.second)->offset = parked.offset;
  }
  parked_.clear();
  // Seek back to the parked record, then resume; async seek (timeout 0).
  if (rd_kafka_error_t* err = rd_kafka_seek_partitions(rk_, l, 0)) {
    spdlog::error("kafka seek: {}", rd_kafka_error_string(err));
    rd_kafka_error_destroy(err);
  }
  rd_kafka_resume_partitions(rk_, l);
  rd_kafka_topic_partition_list_destroy(l);
}

ssize_t KafkaConsumer::ConsumeBatch(std::vector<rd_kafka_message_t*>& batch) {
  // Take what is there without waiting; if nothing is, wait for the first
  // record only (not for a full batch: that was a 50 ms latency floor), then
  // take what arrived with it.
  ssize_t n = rd_kafka_consume_batch_queue(queue_, 0, batch.data(), batch.size());
  if (n != 0) return n;
  // A batch of one returns as soon as one record is there (and, like any
  // batch consume, when an interest update yields the queue).
  n = rd_kafka_consume_batch_queue(queue_, 50, batch.data(), 1);
  if (n <= 0) return n;  // timeout or woken (0), or an error
  ssize_t more = rd_kafka_consume_batch_queue(queue_, 0, batch.data() + 1, batch.size() - 1);
  return 1 + std::max<ssize_t>(more, 0);
}

void KafkaConsumer::Run() {
  constexpr size_t kBatch = 1024;
  std::vector<rd_kafka_message_t*> batch(kBatch);
  auto next_parked_retry = Clock::now() + std::chrono::seconds(1);
  while (!stop_.load(std::memory_order_relaxed)) {
    const auto now = Clock::now();
    ApplyAssignments();
    if (schema_ready_.exchange(false, std::memory_order_acq_rel) || (now >= next_parked_retry && !parked_.empty())) {
      RetryParked();
      next_parked_retry = now + std::chrono::seconds(1);
    }
    ApplyInterestUpdates();  // partition-aware: also asks for partitions, lets lingering ones go
    if (sink_.Overloaded()) {
      // Backpressure: leave records in librdkafka's bounded queue (it stops
      // fetching when full) until the workers catch up.
      stats_.backpressure_waits.Add();
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
      continue;
    }
    const ssize_t n = ConsumeBatch(batch);
    if (n < 0) {
      spdlog::warn("kafka consume: {}", rd_kafka_err2str(rd_kafka_last_error()));
      continue;
    }
    // The consume may have waited: take the subscriptions made meanwhile
    // before routing, so a record produced after a subscription reached its
    // worker is never skipped as unwanted.
    if (n > 0) ApplyInterestUpdates();
    for (ssize_t i = 0; i < n; ++i) {
      HandleMessage(batch[i]);
      rd_kafka_message_destroy(batch[i]);
    }
    if (n > 0) sink_.Flush();
    dead_letters_.Poll();
  }
}

}  // namespace rte::ingest

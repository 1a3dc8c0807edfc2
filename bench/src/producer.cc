#include "producer.h"

#include <chrono>
#include <cstring>
#include <stdexcept>

#include "avro_value.h"
#include "client.h"

namespace rte::bench {

namespace {

rd_kafka_conf_t* MakeConf(const std::string& bootstrap, const char* extra[][2] = nullptr) {
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  char err[512];
  auto set = [&](const char* k, const std::string& v) {
    if (rd_kafka_conf_set(conf, k, v.c_str(), err, sizeof err) != RD_KAFKA_CONF_OK) {
      rd_kafka_conf_destroy(conf);
      throw std::runtime_error(std::string("librdkafka ") + k + ": " + err);
    }
  };
  set("bootstrap.servers", bootstrap);
  set("client.id", "realtime-events-bench");
  set("log_level", "3");
  if (extra)
    for (int i = 0; extra[i][0]; ++i) set(extra[i][0], extra[i][1]);
  return conf;
}

}  // namespace

Producer::Producer(const Scenario& scn, const std::string& bootstrap, std::vector<int32_t> value_schema_ids)
    : scn_(scn), produced_(static_cast<size_t>(scn.Streams())), schema_ids_(std::move(value_schema_ids)) {
  if (!schema_ids_.empty() && schema_ids_.size() != scn.topics.size())
    throw std::runtime_error("producer: one value schema id per topic is needed");
  const char* extra[][2] = {{"linger.ms", "1"},
                            {"acks", "1"},
                            {"enable.idempotence", "false"},
                            {"queue.buffering.max.messages", "2000000"},
                            {"queue.buffering.max.kbytes", "1048576"},
                            {"batch.num.messages", "10000"},
                            {"compression.type", "none"},
                            {nullptr, nullptr}};
  rd_kafka_conf_t* conf = MakeConf(bootstrap, extra);
  rd_kafka_conf_set_dr_msg_cb(conf, &Producer::OnDelivery);
  rd_kafka_conf_set_opaque(conf, this);
  char err[512];
  rk_ = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
  if (!rk_) throw std::runtime_error(std::string("producer: ") + err);
  for (const auto& t : scn.topics) topics_.push_back(rd_kafka_topic_new(rk_, t.c_str(), nullptr));
  for (int s = 0; s < scn.Streams(); ++s) {
    SubSpec sp = scn.Stream(static_cast<uint32_t>(s));
    std::string org = scn.OrgName(sp.org);
    keys_.push_back("{\"organization_id\":\"" + org + "\"}");
    orgs_.push_back(org);
    props_.push_back(scn.PropName(sp.prop));
    prefixes_.push_back("{\"organization_id\":\"" + org + "\",\"property_id\":\"" + scn.PropName(sp.prop) + "\",\"seq\":");
  }
  // Warm-up: one record per topic for an organization nobody subscribes to,
  // so that metadata and the connection to each leader exist before the
  // measured records (otherwise the first ones carry the producer's start-up).
  // Its value has the format of the measured ones.
  static const std::string key = "{\"organization_id\":\"bench-warmup\"}";
  for (size_t i = 0; i < topics_.size(); ++i) {
    std::string value = key;
    if (!schema_ids_.empty())
      avro::EncodeValue(value, schema_ids_[i], "bench-warmup", scn.PropName(0), 0, RealtimeUs(),
                        static_cast<size_t>(scn.record_bytes));
    for (int p = 0; p < scn.partitions; ++p)
      rd_kafka_produce(topics_[i], p, RD_KAFKA_MSG_F_COPY, value.data(), value.size(), key.data(), key.size(), nullptr);
  }
  rd_kafka_flush(rk_, 10000);
  errors_ = 0;
  delivered_ = 0;
}

Producer::~Producer() {
  Stop();
  if (rk_) {
    rd_kafka_flush(rk_, 5000);
    for (auto* t : topics_) rd_kafka_topic_destroy(t);
    rd_kafka_destroy(rk_);
  }
}

void Producer::OnDelivery(rd_kafka_t*, const rd_kafka_message_t* m, void* opaque) {
  auto* self = static_cast<Producer*>(opaque);
  if (m->err) {
    self->errors_.fetch_add(1, std::memory_order_relaxed);
    if (!self->has_error_.exchange(true)) self->last_error_ = rd_kafka_err2str(m->err);
  } else {
    self->delivered_.fetch_add(1, std::memory_order_relaxed);
  }
}

std::string Producer::last_error() { return has_error_ ? last_error_ : std::string(); }

void Producer::Run(double rate, double seconds) {
  Wait();
  stop_ = false;
  thread_ = std::thread([this, rate, seconds] { Loop(rate, seconds); });
}

void Producer::Wait() {
  if (thread_.joinable()) thread_.join();
}

void Producer::Stop() {
  stop_ = true;
  Wait();
}

bool Producer::Flush(int timeout_ms) { return rd_kafka_flush(rk_, timeout_ms) == RD_KAFKA_RESP_ERR_NO_ERROR; }

void Producer::Loop(double rate, double seconds) {
  const size_t streams = produced_.size();
  const uint64_t start = MonotonicUs();
  const uint64_t end = start + static_cast<uint64_t>(seconds * 1e6);
  uint64_t sent = 0;
  std::string value;
  value.reserve(static_cast<size_t>(scn_.record_bytes) + 64);
  while (!stop_.load(std::memory_order_relaxed)) {
    uint64_t now = MonotonicUs();
    if (now >= end) break;
    // Records due by now; never more than 50 ms worth at once after a stall.
    uint64_t due = rate > 0 ? static_cast<uint64_t>(rate * static_cast<double>(now - start) / 1e6) + 1 : sent + 1000;
    if (rate > 0 && due > sent + static_cast<uint64_t>(rate * 0.05) + 1) sent = due - static_cast<uint64_t>(rate * 0.05) - 1;
    bool full = false;
    while (sent < due) {
      size_t s = next_stream_ % streams;
      uint64_t seq = produced_[s].load(std::memory_order_relaxed);
      const uint16_t channel = scn_.Stream(static_cast<uint32_t>(s)).channel;
      if (!schema_ids_.empty()) {
        avro::EncodeValue(value, schema_ids_[channel], orgs_[s], props_[s], seq, RealtimeUs(),
                          static_cast<size_t>(scn_.record_bytes));
      } else {
        value.assign(prefixes_[s]);
        value += std::to_string(seq);
        value += ",\"sent_us\":";
        value += std::to_string(RealtimeUs());
        value += ",\"pad\":\"";
        size_t target = static_cast<size_t>(scn_.record_bytes);
        size_t used = value.size() + 2;
        value.append(used < target ? target - used : 0, 'x');
        value += "\"}";
      }
      rd_kafka_topic_t* t = topics_[channel];
      if (rd_kafka_produce(t, RD_KAFKA_PARTITION_UA, RD_KAFKA_MSG_F_COPY, value.data(), value.size(),
                           keys_[s].data(), keys_[s].size(), nullptr) != 0) {
        if (rd_kafka_last_error() == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
          queue_full_.fetch_add(1, std::memory_order_relaxed);
          full = true;
          break;
        }
        errors_.fetch_add(1, std::memory_order_relaxed);
        if (!has_error_.exchange(true)) last_error_ = rd_kafka_err2str(rd_kafka_last_error());
        stop_ = true;
        break;
      }
      produced_[s].store(seq + 1, std::memory_order_release);
      ++next_stream_;
      ++sent;
      total_.fetch_add(1, std::memory_order_relaxed);
      if ((sent & 255) == 0) rd_kafka_poll(rk_, 0);
    }
    rd_kafka_poll(rk_, full ? 5 : 0);
    if (rate > 0 && !full) std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
}

std::string CreateTopic(const std::string& bootstrap, const std::string& topic, int partitions, int timeout_ms) {
  rd_kafka_conf_t* conf;
  try {
    conf = MakeConf(bootstrap);
  } catch (const std::exception& e) {
    return e.what();
  }
  char err[512];
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
  if (!rk) return err;
  std::string result;
  rd_kafka_NewTopic_t* nt = rd_kafka_NewTopic_new(topic.c_str(), partitions, 1, err, sizeof err);
  rd_kafka_queue_t* q = rd_kafka_queue_new(rk);
  rd_kafka_AdminOptions_t* opts = rd_kafka_AdminOptions_new(rk, RD_KAFKA_ADMIN_OP_CREATETOPICS);
  rd_kafka_AdminOptions_set_operation_timeout(opts, timeout_ms, err, sizeof err);
  rd_kafka_CreateTopics(rk, &nt, 1, opts, q);
  rd_kafka_event_t* ev = rd_kafka_queue_poll(q, timeout_ms + 2000);
  if (!ev) {
    result = "create topic: no answer";
  } else if (rd_kafka_event_error(ev)) {
    result = std::string("create topic: ") + rd_kafka_event_error_string(ev);
  } else {
    size_t n = 0;
    const rd_kafka_topic_result_t** res = rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(ev), &n);
    for (size_t i = 0; i < n; ++i) {
      auto e = rd_kafka_topic_result_error(res[i]);
      if (e && e != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS)
        result = std::string("create topic ") + topic + ": " + rd_kafka_err2str(e);
    }
  }
  if (ev) rd_kafka_event_destroy(ev);
  rd_kafka_AdminOptions_destroy(opts);
  rd_kafka_NewTopic_destroy(nt);
  // Wait until every partition has a leader.
  if (result.empty()) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    rd_kafka_topic_t* t = rd_kafka_topic_new(rk, topic.c_str(), nullptr);
    result = "topic " + topic + ": partitions without a leader after the timeout";
    while (std::chrono::steady_clock::now() < deadline) {
      const rd_kafka_metadata_t* md = nullptr;
      if (rd_kafka_metadata(rk, 0, t, &md, 2000) == RD_KAFKA_RESP_ERR_NO_ERROR && md) {
        bool ok = md->topic_cnt == 1 && md->topics[0].err == 0 && md->topics[0].partition_cnt > 0;
        for (int i = 0; ok && i < md->topics[0].partition_cnt; ++i)
          ok = md->topics[0].partitions[i].leader >= 0 && md->topics[0].partitions[i].err == 0;
        rd_kafka_metadata_destroy(md);
        if (ok) {
          result.clear();
          break;
        }
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    rd_kafka_topic_destroy(t);
  }
  rd_kafka_queue_destroy(q);
  rd_kafka_destroy(rk);
  return result;
}

}  // namespace rte::bench

#include "app/demo.h"

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <cstdio>
#include <random>

#include "avro/binary_writer.h"
#include "ingest/kafka_consumer.h"
#include "registry/confluent_framing.h"

namespace rte::app {
Demo::~Demo() { Stop(); }

std::string DemoPropertyId(int organization, int n) { return std::to_string(organization * 100 + n); }

std::string DemoGuide(const DemoOptions& options, const DemoGuideInfo& where) {
  const std::string host = where.host + ":" + std::to_string(where.port);
  const std::string http = (where.tls ? "https://" : "http://") + host;
  const std::string ws = (where.tls ? "wss://" : "ws://") + host;
  auto properties_of = [&](int org) {
    std::string r = DemoPropertyId(org, 1);
    if (options.properties > 1) r += ".." + DemoPropertyId(org, options.properties);
    return r + " for org " + std::to_string(org);
  };
  std::string properties;
  for (int org = 1; org <= options.organizations; ++org) {
    if (options.organizations > 5 && org == 3) {  // 1, 2, ..., N
      properties += ", ...";
      org = options.organizations;
    }
    properties += (properties.empty() ? "" : ", ") + properties_of(org);
  }
  const std::string org = "1", property = DemoPropertyId(1, 1);
  std::string out = "\n";
  auto line = [&out](std::string_view label, const std::string& text) {
    out += fmt::format("  {:<15} {}\n", label, text);
  };
  line("test page", http + "/");
  line("records", fmt::format("payment, guest and reservation channels, {}/s each (generated)", options.records_per_second));
  line("organizations", options.organizations > 1 ? "1.." + std::to_string(options.organizations) : "1");
  line("properties", properties);
  line("try", ws + "/getEvents/payment?organization_id=" + org + "&user_id=u1");
  line("", ws + "/getEvents/payment?organization_id=" + org + "&property_id=" + property + "&user_id=u1");
  line("", ws + "/ws and send {\"type\":\"subscribe\",\"id\":\"s1\",\"channel\":\"payment\",\"filter\":" +
               "{\"organization_id\":\"" + org + "\",\"property_id\":\"" + property + "\"}}");
  line("", http + "/metrics");
  if (!where.admin_token.empty()) {
    line("admin view", http + "/admin  token: " + where.admin_token +
                           (where.admin_token_generated ? "  (random for this run; set ADMIN_TOKEN to choose)" : ""));
  }
  return out + "\n";
}

namespace {

// The prototype's key schema (long; int in one topic) and richer value schemas.
constexpr std::string_view kKeyLong =
    R"({"type":"record","name":"Key","namespace":"com.pms","fields":[{"name":"organization_id","type":"long"}]})";
constexpr std::string_view kKeyInt =
    R"({"type":"record","name":"GuestKey","namespace":"com.pms","fields":[{"name":"organization_id","type":"int"}]})";
constexpr std::string_view kPayment = R"({"type":"record","name":"Payment","namespace":"com.pms","fields":[
  {"name":"payment_id","type":"string"},
  {"name":"reservation_id","type":["null","string"],"default":null},
  {"name":"organization_id","type":"long"},
  {"name":"property_id","type":"string"},
  {"name":"amount","type":{"type":"bytes","logicalType":"decimal","precision":12,"scale":2}},
  {"name":"currency","type":"string"},
  {"name":"method","type":{"type":"enum","name":"PaymentMethod","symbols":["card","bank_transfer","cash","wallet"]}},
  {"name":"status","type":"string"},
  {"name":"created_at","type":{"type":"long","logicalType":"timestamp-millis"}}]})";
constexpr std::string_view kGuest = R"({"type":"record","name":"Guest","namespace":"com.pms","fields":[
  {"name":"guest_id","type":"string"},
  {"name":"reservation_id","type":["null","string"],"default":null},
  {"name":"organization_id","type":"long"},
  {"name":"property_id","type":"string"},
  {"name":"name","type":"string"},
  {"name":"email","type":["null","string"],"default":null},
  {"name":"loyalty_tier","type":{"type":"enum","name":"Tier","symbols":["none","silver","gold","platinum"]}},
  {"name":"updated_at","type":{"type":"long","logicalType":"timestamp-millis"}}]})";
constexpr std::string_view kReservation = R"({"type":"record","name":"Reservation","namespace":"com.pms","fields":[
  {"name":"reservation_id","type":["null","string"],"default":null},
  {"name":"organization_id","type":"long"},
  {"name":"property_id","type":"string"},
  {"name":"guest","type":"string"},
  {"name":"room_type","type":"string"},
  {"name":"check_in","type":{"type":"int","logicalType":"date"}},
  {"name":"check_out","type":{"type":"int","logicalType":"date"}},
  {"name":"nights","type":"int"},
  {"name":"status","type":{"type":"enum","name":"ReservationStatus","symbols":["confirmed","checked_in","checked_out","cancelled"]}},
  {"name":"updated_at","type":{"type":"long","logicalType":"timestamp-millis"}}]})";

// Big-endian two's complement, minimal length (Avro decimal on bytes).
std::vector<uint8_t> DecimalBytes(int64_t unscaled) {
  std::vector<uint8_t> out;
  for (int shift = 56; shift >= 0; shift -= 8) out.push_back(static_cast<uint8_t>(unscaled >> shift));
  while (out.size() > 1 && ((out[0] == 0 && !(out[1] & 0x80)) || (out[0] == 0xFF && (out[1] & 0x80)))) {
    out.erase(out.begin());
  }
  return out;
}

}  // namespace

Status Demo::RegisterSchemas() {
  struct Item {
    std::string subject;
    std::string_view schema;
    int32_t* id;
  } items[] = {
      {options_.payment_topic + "-key", kKeyLong, &key_long_id_},
      {options_.reservation_topic + "-key", kKeyLong, &key_long_id_},
      {options_.guest_topic + "-key", kKeyInt, &key_int_id_},
      {options_.payment_topic + "-value", kPayment, &payment_id_},
      {options_.guest_topic + "-value", kGuest, &guest_id_},
      {options_.reservation_topic + "-value", kReservation, &reservation_id_},
  };
  for (auto& item : items) {
    auto id = registry_.Register(item.subject, std::string(item.schema));
    if (!id) return MakeError(Errc::kInternal, "demo registry: " + item.subject + ": " + id.error().message);
    *item.id = *id;
  }
  return {};
}

Result<Demo::Endpoints> Demo::StartCluster() {
  char err[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  auto set = [&](const char* k, const char* v) { return rd_kafka_conf_set(conf, k, v, err, sizeof err) == RD_KAFKA_CONF_OK; };
  if (!set("test.mock.num.brokers", "1") || !set("linger.ms", "5") || !set("client.id", "realtime-events-demo")) {
    rd_kafka_conf_destroy(conf);
    return MakeError(Errc::kInternal, std::string("demo producer: ") + err);
  }
  rd_kafka_conf_set_log_cb(conf, ingest::KafkaLogToSpdlog);
  producer_ = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
  if (!producer_) {
    rd_kafka_conf_destroy(conf);
    return MakeError(Errc::kInternal, std::string("demo producer: ") + err);
  }
  rd_kafka_mock_cluster_t* mc = rd_kafka_handle_mock_cluster(producer_);
  if (!mc) return MakeError(Errc::kInternal, "librdkafka mock cluster unavailable");
  for (const auto& t : {options_.payment_topic, options_.guest_topic, options_.reservation_topic}) {
    rd_kafka_resp_err_t e = rd_kafka_mock_topic_create(mc, t.c_str(), 3, 1);
    if (e != RD_KAFKA_RESP_ERR_NO_ERROR && e != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) {
      return MakeError(Errc::kInternal, std::string("mock topic ") + t + ": " + rd_kafka_err2str(e));
    }
  }
  if (Status s = registry_.Start(); !s) return MakeError(Errc::kInternal, "demo registry: " + s.error().message);
  if (Status s = RegisterSchemas(); !s) return s.error();
  // fetch.wait.max.ms: the mock broker holds an empty fetch for the whole
  // wait; keep it short. allow.auto.create.topics: the mock broker speaks
  // Metadata v0-v2, which cannot carry "don't auto-create", so with the
  // gateway's false librdkafka warns AUTOCREATE on every metadata request
  // (every few seconds). The demo's topics exist already (created above) and
  // the mock creates unknown ones whatever the client asks, so true changes
  // nothing here; a real broker still gets false.
  return Endpoints{rd_kafka_mock_cluster_bootstraps(mc), registry_.url(),
                   "fetch.wait.max.ms=10;allow.auto.create.topics=true"};
}

void Demo::StartProducing() {
  stop_ = false;
  thread_ = std::thread([this] { ProduceLoop(); });
}

void Demo::Stop() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
  registry_.Stop();
  if (producer_) {
    rd_kafka_flush(producer_, 1000);
    rd_kafka_destroy(producer_);
    producer_ = nullptr;
  }
}

void Demo::ProduceLoop() {
  std::mt19937_64 rng(42);
  auto pick = [&](int n) { return static_cast<int>(rng() % static_cast<uint64_t>(n)); };
  static const char* kFirst[] = {"Ana", "Ben", "Chloe", "Diego", "Emma", "Farah", "Goran", "Hana", "Ivan", "Julia"};
  static const char* kLast[] = {"Silva", "Okafor", "Novak", "Tanaka", "Müller", "Haddad", "Larsen", "Rossi"};
  static const char* kCurrencies[] = {"EUR", "USD", "GBP"};
  static const char* kRooms[] = {"standard", "deluxe", "suite", "family"};
  static const char* kPayStatus[] = {"authorized", "captured", "refunded"};
  uint64_t seq = 0;
  const auto interval = std::chrono::duration<double>(1.0 / std::max(0.1, options_.records_per_second));
  auto next = std::chrono::steady_clock::now();
  while (!stop_.load()) {
    next += std::chrono::duration_cast<std::chrono::steady_clock::duration>(interval);
    std::this_thread::sleep_until(next);
    const auto now = std::chrono::system_clock::now();
    const int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
    const int32_t today = static_cast<int32_t>(now_ms / 86400000);
    ++seq;
    for (int topic = 0; topic < 3; ++topic) {
      const int org = 1 + pick(options_.organizations);
      const std::string prop = DemoPropertyId(org, 1 + pick(options_.properties));
      const std::string res_id = "R-" + std::to_string(org) + "-" + std::to_string(100000 + pick(900000));
      const std::string guest = std::string(kFirst[pick(10)]) + " " + kLast[pick(8)];
      avro::BinaryWriter key, value;
      const std::string* t;
      int32_t key_schema, value_schema;
      if (topic == 0) {
        t = &options_.payment_topic;
        key_schema = key_long_id_;
        value_schema = payment_id_;
        key.Long(org);
        value.String("P-" + std::to_string(seq)).Long(1).String(res_id).Long(org).String(prop)
            .Bytes(DecimalBytes(4000 + pick(90000))).String(kCurrencies[pick(3)]).Int(pick(4))
            .String(kPayStatus[pick(3)]).Long(now_ms);
      } else if (topic == 1) {
        t = &options_.guest_topic;
        key_schema = key_int_id_;
        value_schema = guest_id_;
        key.Int(org);
        value.String("G-" + std::to_string(seq)).Long(1).String(res_id).Long(org).String(prop).String(guest);
        if (pick(2)) {
          value.Long(0);  // email: null
        } else {
          value.Long(1).String("guest" + std::to_string(seq) + "@example.com");
        }
        value.Int(pick(4)).Long(now_ms);
      } else {
        t = &options_.reservation_topic;
        key_schema = key_long_id_;
        value_schema = reservation_id_;
        key.Long(org);
        const int nights = 1 + pick(7);
        const int32_t check_in = today + 1 + pick(60);
        value.Long(1).String(res_id).Long(org).String(prop).String(guest).String(kRooms[pick(4)])
            .Int(check_in).Int(check_in + nights).Int(nights).Int(pick(4)).Long(now_ms);
      }
      auto as_view = [](const avro::BinaryWriter& w) {
        return std::string_view(reinterpret_cast<const char*>(w.bytes().data()), w.bytes().size());
      };
      std::string k = registry::FrameConfluent(key_schema, as_view(key));
      std::string v = registry::FrameConfluent(value_schema, as_view(value));
      rd_kafka_resp_err_t e = rd_kafka_producev(
          producer_, RD_KAFKA_V_TOPIC(t->c_str()), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
          RD_KAFKA_V_KEY(k.data(), k.size()), RD_KAFKA_V_VALUE(v.data(), v.size()), RD_KAFKA_V_END);
      if (e != RD_KAFKA_RESP_ERR_NO_ERROR) spdlog::warn("demo produce: {}", rd_kafka_err2str(e));
    }
    rd_kafka_poll(producer_, 0);
  }
}

}  // namespace rte::app

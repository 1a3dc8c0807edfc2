#include "app/demo.h"

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <cstdio>
#include <random>

#include "wire/protocol.h"

namespace rte::app {
namespace {

std::string Iso(std::chrono::system_clock::time_point t) {
  std::time_t tt = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string Date(std::chrono::system_clock::time_point t) { return Iso(t).substr(0, 10); }

std::string Quote(std::string_view s) {
  std::string out;
  wire::AppendJsonString(&out, s);
  return out;
}

}  // namespace

Demo::~Demo() { Stop(); }

Result<std::string> Demo::StartCluster() {
  char err[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  auto set = [&](const char* k, const char* v) { return rd_kafka_conf_set(conf, k, v, err, sizeof err) == RD_KAFKA_CONF_OK; };
  if (!set("test.mock.num.brokers", "1") || !set("linger.ms", "5") || !set("client.id", "realtime-events-demo")) {
    rd_kafka_conf_destroy(conf);
    return MakeError(Errc::kInternal, std::string("demo producer: ") + err);
  }
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
  return std::string(rd_kafka_mock_cluster_bootstraps(mc));
}

void Demo::StartProducing() {
  stop_ = false;
  thread_ = std::thread([this] { ProduceLoop(); });
}

void Demo::Stop() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
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
  static const char* kMethods[] = {"card", "bank_transfer", "cash", "wallet"};
  static const char* kCurrencies[] = {"EUR", "USD", "GBP"};
  static const char* kRooms[] = {"standard", "deluxe", "suite", "family"};
  static const char* kResStatus[] = {"confirmed", "checked_in", "checked_out", "cancelled"};
  static const char* kPayStatus[] = {"authorized", "captured", "refunded"};
  static const char* kTiers[] = {"none", "silver", "gold", "platinum"};
  uint64_t seq = 0;
  const auto interval = std::chrono::duration<double>(1.0 / std::max(0.1, options_.records_per_second));
  auto next = std::chrono::steady_clock::now();
  while (!stop_.load()) {
    next += std::chrono::duration_cast<std::chrono::steady_clock::duration>(interval);
    std::this_thread::sleep_until(next);
    const auto now = std::chrono::system_clock::now();
    ++seq;
    for (int topic = 0; topic < 3; ++topic) {
      const int org = 1 + pick(options_.organizations);
      const int prop = org * 100 + 1 + pick(options_.properties);
      std::string key = "{\"organization_id\":" + std::to_string(org) + "}";
      std::string res_id = "R-" + std::to_string(org) + "-" + std::to_string(100000 + pick(900000));
      std::string guest = std::string(kFirst[pick(10)]) + " " + kLast[pick(8)];
      std::string value;
      const std::string* t;
      if (topic == 0) {
        t = &options_.payment_topic;
        char amount[32];
        std::snprintf(amount, sizeof amount, "%d.%02d", 40 + pick(900), pick(100));
        value = "{\"payment_id\":\"P-" + std::to_string(seq) + "\",\"reservation_id\":" + Quote(res_id) +
                ",\"organization_id\":" + std::to_string(org) + ",\"property_id\":\"" + std::to_string(prop) +
                "\",\"amount\":\"" + amount + "\",\"currency\":\"" + kCurrencies[pick(3)] + "\",\"method\":\"" +
                kMethods[pick(4)] + "\",\"status\":\"" + kPayStatus[pick(3)] + "\",\"created_at\":\"" + Iso(now) + "\"}";
      } else if (topic == 1) {
        t = &options_.guest_topic;
        value = "{\"guest_id\":\"G-" + std::to_string(seq) + "\",\"reservation_id\":" + Quote(res_id) +
                ",\"organization_id\":" + std::to_string(org) + ",\"property_id\":\"" + std::to_string(prop) +
                "\",\"name\":" + Quote(guest) + ",\"email\":null,\"loyalty_tier\":\"" + kTiers[pick(4)] +
                "\",\"updated_at\":\"" + Iso(now) + "\"}";
      } else {
        t = &options_.reservation_topic;
        const int nights = 1 + pick(7);
        auto check_in = now + std::chrono::hours(24 * (1 + pick(60)));
        auto check_out = check_in + std::chrono::hours(24 * nights);
        value = "{\"reservation_id\":" + Quote(res_id) + ",\"organization_id\":" + std::to_string(org) +
                ",\"property_id\":\"" + std::to_string(prop) + "\",\"guest\":" + Quote(guest) +
                ",\"room_type\":\"" + kRooms[pick(4)] + "\",\"check_in\":\"" + Date(check_in) +
                "\",\"check_out\":\"" + Date(check_out) + "\",\"nights\":" + std::to_string(nights) +
                ",\"status\":\"" + kResStatus[pick(4)] + "\",\"updated_at\":\"" + Iso(now) + "\"}";
      }
      rd_kafka_resp_err_t e = rd_kafka_producev(
          producer_, RD_KAFKA_V_TOPIC(t->c_str()), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
          RD_KAFKA_V_KEY(key.data(), key.size()), RD_KAFKA_V_VALUE(value.data(), value.size()), RD_KAFKA_V_END);
      if (e != RD_KAFKA_RESP_ERR_NO_ERROR) spdlog::warn("demo produce: {}", rd_kafka_err2str(e));
    }
    rd_kafka_poll(producer_, 0);
  }
}

}  // namespace rte::app

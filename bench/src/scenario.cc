#include "scenario.h"

#include <yaml-cpp/yaml.h>

#include <cmath>
#include <set>
#include <stdexcept>

namespace rte::bench {

int Scenario::Streams() const {
  return static_cast<int>(channels.size()) * organizations * std::max(1, properties_per_org);
}

SubSpec Scenario::Stream(uint32_t s) const {
  SubSpec sp;
  sp.stream = s;
  int props = std::max(1, properties_per_org);
  sp.prop = properties_per_org > 0 ? static_cast<int32_t>(s % props) : -1;
  uint32_t rest = s / props;
  sp.org = rest % organizations;
  sp.channel = static_cast<uint16_t>(rest / organizations);
  return sp;
}

std::vector<SubSpec> Scenario::SubsOf(uint32_t id) const {
  int k = endpoint == "ws" ? std::max(1, subscriptions_per_connection) : 1;
  int n = Streams();
  // Spread organizations first, so connection i serves organization i % orgs
  // (and channel / property after that).
  std::vector<SubSpec> out;
  for (int j = 0; j < k && j < n; ++j) {
    uint64_t idx = (static_cast<uint64_t>(id) * k + j) % n;
    // idx enumerates (org fastest, then property, then channel)
    uint32_t org = idx % organizations;
    uint64_t r = idx / organizations;
    int props = std::max(1, properties_per_org);
    uint32_t prop = r % props;
    uint32_t ch = static_cast<uint32_t>(r / props);
    uint32_t stream = (ch * organizations + org) * props + prop;
    out.push_back(Stream(stream));
  }
  return out;
}

bool Scenario::StalledConn(uint32_t id) const {
  if (stalled_fraction <= 0) return false;
  return std::floor((id + 1) * stalled_fraction) > std::floor(id * stalled_fraction);
}

int Scenario::MaxConnections() const {
  int m = connections;
  for (const auto& s : steps) m = std::max(m, s.connections);
  return m;
}

namespace {

template <typename T>
void Get(const YAML::Node& n, const char* key, T& out) {
  if (n[key]) out = n[key].as<T>();
}

Step ParseStep(const YAML::Node& n, const Step& defaults) {
  Step s = defaults;
  if (!n.IsMap()) throw std::runtime_error("a step must be a map");
  Get(n, "deliveries", s.deliveries_per_s);
  if (n["rate"] && n["rate"].IsScalar() && n["rate"].Scalar() == "max") s.max_rate = true;
  else Get(n, "rate", s.records_per_s);
  Get(n, "duration_s", s.duration_s);
  Get(n, "connections", s.connections);
  Get(n, "churn", s.churn);
  if (n["deliveries"]) s.records_per_s = 0;
  if (n["rate"]) s.deliveries_per_s = 0;
  return s;
}

}  // namespace

Scenario LoadScenario(const std::string& path) {
  YAML::Node y;
  try {
    y = YAML::LoadFile(path);
  } catch (const std::exception& e) {
    throw std::runtime_error("cannot read scenario " + path + ": " + e.what());
  }
  static const std::set<std::string> known = {
      "name", "connections", "endpoint", "channels", "topics", "topic", "organizations",
      "properties_per_org", "subscriptions_per_connection", "steps", "rate", "deliveries",
      "duration_s", "record_bytes", "stalled_fraction", "connect_rate", "max_inflight_connects",
      "churn", "source", "bootstrap", "gateway_url", "token", "partitions", "drain_s", "settle_s",
      "connect_timeout_s", "hold_s", "threads", "source_ips", "send_queue_bytes", "stats",
      "assert_no_loss", "max_seconds", "description", "user_prefix", "org_prefix", "prop_prefix",
      "value_format", "registry_url", "assert_stalled", "max_gateway_rss_mb"};
  Scenario s;
  try {
    if (!y.IsMap()) throw std::runtime_error("not a YAML map");
    for (const auto& kv : y) {
      auto k = kv.first.as<std::string>();
      if (!known.count(k)) throw std::runtime_error("unknown key '" + k + "'");
    }
    Get(y, "name", s.name);
    Get(y, "connections", s.connections);
    Get(y, "endpoint", s.endpoint);
    if (y["channels"]) s.channels = y["channels"].as<std::vector<std::string>>();
    if (y["topics"]) s.topics = y["topics"].as<std::vector<std::string>>();
    if (y["topic"]) s.topics = {y["topic"].as<std::string>()};
    Get(y, "organizations", s.organizations);
    Get(y, "properties_per_org", s.properties_per_org);
    Get(y, "subscriptions_per_connection", s.subscriptions_per_connection);
    Get(y, "record_bytes", s.record_bytes);
    Get(y, "value_format", s.value_format);
    Get(y, "registry_url", s.registry_url);
    Get(y, "stalled_fraction", s.stalled_fraction);
    Get(y, "connect_rate", s.connect_rate);
    Get(y, "max_inflight_connects", s.max_inflight_connects);
    Get(y, "source", s.source);
    Get(y, "bootstrap", s.bootstrap);
    Get(y, "gateway_url", s.gateway_url);
    Get(y, "token", s.token);
    Get(y, "partitions", s.partitions);
    Get(y, "drain_s", s.drain_s);
    Get(y, "settle_s", s.settle_s);
    Get(y, "connect_timeout_s", s.connect_timeout_s);
    Get(y, "hold_s", s.hold_s);
    Get(y, "threads", s.threads);
    Get(y, "source_ips", s.source_ips);
    Get(y, "send_queue_bytes", s.send_queue_bytes);
    Get(y, "stats", s.stats);
    Get(y, "assert_no_loss", s.assert_no_loss);
    Get(y, "assert_stalled", s.assert_stalled);
    Get(y, "max_gateway_rss_mb", s.max_gateway_rss_mb);
    if (!s.assert_stalled.empty() && s.assert_stalled != "close" && s.assert_stalled != "drop")
      throw std::runtime_error("assert_stalled must be close or drop");
    Get(y, "max_seconds", s.max_seconds);
    Get(y, "user_prefix", s.user_prefix);
    Get(y, "org_prefix", s.org_prefix);
    Get(y, "prop_prefix", s.prop_prefix);
    // Defaults for steps from the top level.
    Step d;
    Get(y, "duration_s", d.duration_s);
    Get(y, "churn", d.churn);
    if (y["steps"]) {
      for (const auto& n : y["steps"]) s.steps.push_back(ParseStep(n, d));
    } else {
      s.steps.push_back(ParseStep(y, d));  // rate / deliveries / duration_s at the top level
    }
  } catch (const YAML::Exception& e) {
    throw std::runtime_error(path + ": " + e.what());
  } catch (const std::runtime_error& e) {
    throw std::runtime_error(path + ": " + e.what());
  }
  if (s.name.empty()) {
    auto slash = path.find_last_of('/');
    auto base = path.substr(slash == std::string::npos ? 0 : slash + 1);
    s.name = base.substr(0, base.find('.'));
  }
  if (s.topics.empty())
    for (const auto& c : s.channels) s.topics.push_back(c + "s");
  auto fail = [&](const std::string& m) { throw std::runtime_error(path + ": " + m); };
  if (s.topics.size() != s.channels.size()) fail("topics must list one topic per channel");
  if (s.endpoint != "getEvents" && s.endpoint != "ws") fail("endpoint must be getEvents or ws");
  if (s.source != "kafka" && s.source != "server" && s.source != "none") fail("source must be kafka, server or none");
  if (s.connections < 0 || s.organizations < 1 || s.channels.empty()) fail("bad connections/organizations/channels");
  if (s.value_format != "json" && s.value_format != "avro") fail("value_format must be json or avro");
  if (s.record_bytes < 64 || s.record_bytes > 1'000'000) fail("record_bytes must be 64..1000000");
  if (s.stalled_fraction < 0 || s.stalled_fraction >= 1) fail("stalled_fraction must be in [0, 1)");
  if (s.threads < 1 || s.threads > 16) fail("threads must be 1..16");
  if (s.MaxConnections() > 200'000) fail("more than 200000 connections");
  for (const auto& st : s.steps)
    if (st.duration_s < 0 || st.duration_s > 3600) fail("duration_s must be 0..3600");
  return s;
}

}  // namespace rte::bench

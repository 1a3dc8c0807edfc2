// ClusterState against a real redis-server (started per test on a free
// loopback port, killed at teardown). Waits are bounded; nothing asserts on
// timing except that callbacks arrive at all.
#include "cluster/cluster_state.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdio>
#include <future>
#include <optional>
#include <thread>

#include "cluster/testing/redis_server.h"
#include "cluster/testing/tcp_proxy.h"

namespace rte::cluster {
namespace {
using namespace std::chrono_literals;
using testing::RedisServer;
using testing::TcpProxy;
using Counts = std::vector<std::pair<std::string, int64_t>>;

template <class T, class Start>
std::optional<T> Wait(Start start, std::chrono::milliseconds timeout = 5000ms) {
  auto p = std::make_shared<std::promise<T>>();
  auto f = p->get_future();
  start([p](T v) { p->set_value(std::move(v)); });
  if (f.wait_for(timeout) != std::future_status::ready) return std::nullopt;
  return f.get();
}

bool WaitUntil(const std::function<bool()>& pred, std::chrono::milliseconds timeout = 15000ms) {
  const auto end = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < end) {
    if (pred()) return true;
    std::this_thread::sleep_for(20ms);
  }
  return pred();
}

struct NodeSpec {
  std::string name;
  size_t per_user = 0, per_org = 0;
  std::chrono::seconds ttl{2};
  uint16_t port = 0;  // 0: the test's Redis
};

class ClusterStateTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string error;
    redis_ = RedisServer::Start(&error);
    ASSERT_NE(redis_, nullptr) << error;
  }

  std::unique_ptr<ClusterState> Node(const NodeSpec& spec) {
    ClusterOptions o;
    o.redis = redis_->url();
    if (spec.port != 0) o.redis.port = spec.port;
    o.node_name = spec.name;
    o.node_url = "http://" + spec.name + ":5000";
    o.node_ttl = spec.ttl;
    o.max_connections_per_user = spec.per_user;
    o.max_connections_per_organization = spec.per_org;
    o.command_timeout = 500ms;
    o.connect_timeout = 500ms;
    auto s = ClusterState::Create(o);
    EXPECT_TRUE(s.ok()) << s.error().message;
    if (!s.ok()) return nullptr;
    (*s)->Start();
    return std::move(*s);
  }

  static bool Up(const ClusterState& s) {
    return WaitUntil([&] { return !s.degraded(); });
  }

  static AdmissionResult Admit(ClusterState& s, std::string id, std::string user, std::vector<std::string> orgs) {
    auto r = Wait<AdmissionResult>([&](auto cb) { s.Admit({std::move(id), std::move(user), std::move(orgs)}, cb); });
    EXPECT_TRUE(r.has_value()) << "Admit did not answer";
    return r.value_or(AdmissionResult{Admission::kOverUserLimit, true, "no answer"});
  }

  static std::optional<std::vector<PresenceEntry>> PresenceOf(ClusterState& s, std::string channel, std::string org) {
    auto r = Wait<Result<std::vector<PresenceEntry>>>([&](auto cb) { s.Presence(channel, org, cb); });
    if (!r || !r->ok()) return std::nullopt;
    return std::move(**r);
  }

  static std::optional<Counts> CountsOf(ClusterState& s) {
    auto r = Wait<Result<Counts>>([&](auto cb) { s.ConnectionCounts(cb); });
    if (!r || !r->ok()) return std::nullopt;
    return std::move(**r);
  }

  static std::optional<std::vector<NodeInfo>> NodesOf(ClusterState& s) {
    auto r = Wait<Result<std::vector<NodeInfo>>>([&](auto cb) { s.Nodes(cb); });
    if (!r || !r->ok()) return std::nullopt;
    return std::move(**r);
  }

  static int64_t CountFor(const std::optional<Counts>& c, const std::string& org) {
    if (!c) return -1;
    for (const auto& [o, n] : *c) {
      if (o == org) return n;
    }
    return 0;
  }

  static bool HasNode(const std::optional<std::vector<NodeInfo>>& nodes, const std::string& name) {
    if (!nodes) return false;
    for (const auto& n : *nodes) {
      if (n.name == name) return true;
    }
    return false;
  }

  std::unique_ptr<RedisServer> redis_;
};

TEST_F(ClusterStateTest, LimitsAcrossTwoNodes) {
  auto a = Node({"a", 2, 3});
  auto b = Node({"b", 2, 3});
  ASSERT_TRUE(Up(*a) && Up(*b));

  auto r = Admit(*a, "c1", "u1", {"o1"});
  EXPECT_EQ(r.result, Admission::kAdmitted);
  EXPECT_FALSE(r.local);
  EXPECT_EQ(Admit(*b, "c2", "u1", {"o1"}).result, Admission::kAdmitted);
  r = Admit(*a, "c3", "u1", {"o2"});  // u1 holds 2 (one per node)
  EXPECT_EQ(r.result, Admission::kOverUserLimit);
  EXPECT_FALSE(r.local);
  EXPECT_EQ(r.detail, "MAX_CONNECTIONS_PER_USER=2 reached for user u1");
  EXPECT_EQ(Admit(*b, "c4", "u2", {"o1"}).result, Admission::kAdmitted);  // o1 now 3
  r = Admit(*a, "c5", "u3", {"o2", "o1"});
  EXPECT_EQ(r.result, Admission::kOverOrganizationLimit);
  EXPECT_EQ(r.detail, "MAX_CONNECTIONS_PER_ORGANIZATION=3 reached for organization o1");
  EXPECT_EQ(Admit(*a, "c6", "", {"o2"}).result, Admission::kAdmitted);  // no user: not limited per user
  EXPECT_EQ(Admit(*a, "c6", "", {"o2"}).detail, "already admitted");  // counted once

  auto counts = CountsOf(*b);
  EXPECT_EQ(CountFor(counts, "o1"), 3);
  EXPECT_EQ(CountFor(counts, "o2"), 1);

  // Release frees a place for the user and the organization, cluster-wide.
  a->Release("c1");  // asynchronous: wait until Redis has it
  ASSERT_TRUE(WaitUntil([&] { return CountFor(CountsOf(*b), "o1") == 2; }));
  r = Admit(*b, "c7", "u1", {"o1"});
  EXPECT_EQ(r.result, Admission::kAdmitted) << r.detail;
  counts = CountsOf(*a);
  EXPECT_EQ(CountFor(counts, "o1"), 3);
  b->Release("c2");
  b->Release("c4");
  b->Release("c7");
  a->Release("c6");
  EXPECT_TRUE(WaitUntil([&] { auto c = CountsOf(*a); return c && c->empty(); }));
  EXPECT_EQ(a->counters().local_admissions, 0u);
}

TEST_F(ClusterStateTest, NamesWithSeparatorsStayApart) {
  auto a = Node({"node:1|x", 0, 1});
  ASSERT_TRUE(Up(*a));
  EXPECT_EQ(Admit(*a, "c1", "u:1", {"a:b"}).result, Admission::kAdmitted);
  EXPECT_EQ(Admit(*a, "c2", "u:1", {"a"}).result, Admission::kAdmitted);
  EXPECT_EQ(Admit(*a, "c3", "u:1", {"a:b"}).result, Admission::kOverOrganizationLimit);
  a->AddPresence("c1", "pay:ment", "a:b", "p|1");
  auto p = PresenceOf(*a, "pay:ment", "a:b");
  ASSERT_TRUE(p && p->size() == 1);
  EXPECT_EQ((*p)[0].node, "node:1|x");
  EXPECT_EQ((*p)[0].property_id, "p|1");
  EXPECT_EQ((*p)[0].user_id, "u:1");
  auto n = NodesOf(*a);
  EXPECT_TRUE(HasNode(n, "node:1|x"));
}

TEST_F(ClusterStateTest, PresenceVisibleFromTheOtherNode) {
  auto a = Node({"a"});
  auto b = Node({"b"});
  ASSERT_TRUE(Up(*a) && Up(*b));
  ASSERT_EQ(Admit(*a, "c1", "u1", {"1"}).result, Admission::kAdmitted);
  a->AddPresence("c1", "payment", "1", "101");
  a->AddPresence("c1", "payment", "1", "");
  a->AddPresence("c1", "guest", "1", "");
  std::optional<std::vector<PresenceEntry>> p;
  ASSERT_TRUE(WaitUntil([&] { p = PresenceOf(*b, "payment", "1"); return p && p->size() == 2; }));
  for (const auto& e : *p) {
    EXPECT_EQ(e.node, "a");
    EXPECT_EQ(e.connection_id, "c1");
    EXPECT_EQ(e.user_id, "u1");
    EXPECT_EQ(e.channel, "payment");
    EXPECT_EQ(e.organization_id, "1");
    EXPECT_TRUE(e.property_id == "101" || e.property_id.empty());
    EXPECT_GT(e.since_ms, 0);
  }
  auto none = PresenceOf(*b, "payment", "2");
  EXPECT_TRUE(none && none->empty());

  a->RemovePresence("c1", "payment", "1", "101");
  ASSERT_TRUE(WaitUntil([&] { p = PresenceOf(*b, "payment", "1"); return p && p->size() == 1; }));
  EXPECT_EQ((*p)[0].property_id, "");

  a->Release("c1");  // takes its presence with it
  EXPECT_TRUE(WaitUntil([&] {
    auto x = PresenceOf(*b, "payment", "1");
    auto y = PresenceOf(*b, "guest", "1");
    return x && y && x->empty() && y->empty();
  }));
}

TEST_F(ClusterStateTest, NodesAndStopRemovesTheNode) {
  auto a = Node({"a"});
  auto b = Node({"b"});
  ASSERT_TRUE(Up(*a) && Up(*b));
  ASSERT_EQ(Admit(*b, "c1", "u1", {"1"}).result, Admission::kAdmitted);
  b->AddPresence("c1", "payment", "1", "");
  std::optional<std::vector<NodeInfo>> n;
  ASSERT_TRUE(WaitUntil([&] { n = NodesOf(*a); return n && n->size() == 2; }));
  EXPECT_EQ((*n)[0].name, "a");
  EXPECT_EQ((*n)[1].name, "b");
  EXPECT_EQ((*n)[1].url, "http://b:5000");
  EXPECT_EQ((*n)[1].connections, 1);
  EXPECT_GT((*n)[1].last_seen_ms, 0);
  EXPECT_GT((*n)[1].started_ms, 0);

  b->Stop();  // removes its entries at once (no waiting for the TTL)
  n = NodesOf(*a);
  EXPECT_FALSE(HasNode(n, "b"));
  EXPECT_TRUE(HasNode(n, "a"));
  auto none = PresenceOf(*a, "payment", "1");
  EXPECT_TRUE(none && none->empty());
  EXPECT_EQ(CountFor(CountsOf(*a), "1"), 0);
  auto keys = redis_->Command({"KEYS", "rte:n:b*"});
  ASSERT_TRUE(keys.ok());
  EXPECT_TRUE(keys->elements.empty());
}

// A node cut off from Redis (as if killed -9) vanishes with its presence
// and counts within node_ttl, through expiry alone; when it can reach Redis
// again it writes everything back (resync).
TEST_F(ClusterStateTest, SilentNodeExpiresAndResyncsWhenBack) {
  TcpProxy proxy(redis_->port());
  auto a = Node({"a", 0, 10});
  auto b = Node({"b", 0, 10, std::chrono::seconds(2), proxy.port()});
  ASSERT_TRUE(Up(*a) && Up(*b));
  ASSERT_EQ(Admit(*b, "c1", "u1", {"o1"}).result, Admission::kAdmitted);
  b->AddPresence("c1", "payment", "o1", "");
  ASSERT_TRUE(WaitUntil([&] { auto p = PresenceOf(*a, "payment", "o1"); return p && p->size() == 1; }));
  ASSERT_TRUE(HasNode(NodesOf(*a), "b"));

  proxy.SetDown(true);
  EXPECT_TRUE(WaitUntil([&] { return b->degraded(); }));
  EXPECT_TRUE(WaitUntil([&] {
    auto p = PresenceOf(*a, "payment", "o1");
    auto n = NodesOf(*a);
    auto c = CountsOf(*a);
    return p && p->empty() && n && !HasNode(n, "b") && c && CountFor(c, "o1") == 0;
  }, 8000ms));
  // Meanwhile b keeps working on its own counts.
  auto r = Admit(*b, "c2", "u2", {"o1"});
  EXPECT_EQ(r.result, Admission::kAdmitted);
  EXPECT_TRUE(r.local);
  b->AddPresence("c2", "payment", "o1", "9");

  proxy.SetDown(false);
  EXPECT_TRUE(WaitUntil([&] {
    auto p = PresenceOf(*a, "payment", "o1");
    auto c = CountsOf(*a);
    return p && p->size() == 2 && CountFor(c, "o1") == 2 && HasNode(NodesOf(*a), "b");
  }));
  EXPECT_GE(b->counters().resyncs, 2u);
  EXPECT_GE(b->counters().reconnects, 1u);
}

TEST_F(ClusterStateTest, RedisDownThenBack) {
  auto a = Node({"a", 1, 0});
  auto b = Node({"b", 1, 0});
  ASSERT_TRUE(Up(*a) && Up(*b));
  ASSERT_EQ(Admit(*a, "c1", "u1", {"o1"}).result, Admission::kAdmitted);
  a->AddPresence("c1", "payment", "o1", "");

  redis_->Kill();
  ASSERT_TRUE(WaitUntil([&] { return a->degraded() && b->degraded(); }));
  // Admission goes on, on this node's own counts.
  auto r = Admit(*a, "c2", "u2", {"o1"});
  EXPECT_EQ(r.result, Admission::kAdmitted);
  EXPECT_TRUE(r.local);
  r = Admit(*a, "c3", "u1", {"o1"});  // u1 already holds 1 on this node
  EXPECT_EQ(r.result, Admission::kOverUserLimit);
  EXPECT_TRUE(r.local);
  r = Admit(*b, "c4", "u1", {"o1"});  // b cannot know about a's u1
  EXPECT_EQ(r.result, Admission::kAdmitted);
  EXPECT_TRUE(r.local);
  a->AddPresence("c2", "payment", "o1", "7");
  a->RemovePresence("c1", "payment", "o1", "");
  // Reads fail fast instead of hanging.
  auto counts = Wait<Result<Counts>>([&](auto cb) { a->ConnectionCounts(cb); });
  ASSERT_TRUE(counts.has_value());
  EXPECT_FALSE(counts->ok());
  EXPECT_EQ(counts->error().code, Errc::kUnavailable);

  ASSERT_TRUE(redis_->Restart());  // empty: everything comes from the nodes' resync
  ASSERT_TRUE(Up(*a) && Up(*b));
  std::optional<std::vector<PresenceEntry>> p;
  EXPECT_TRUE(WaitUntil([&] {
    p = PresenceOf(*b, "payment", "o1");
    return p && p->size() == 1 && CountFor(CountsOf(*b), "o1") == 3;
  }));
  if (p && p->size() == 1) {
    EXPECT_EQ((*p)[0].connection_id, "c2");
    EXPECT_EQ((*p)[0].property_id, "7");
  }
  // Counts are right again: u1 holds 2 (over its limit of 1, admitted while
  // apart), so a third is refused by Redis.
  r = Admit(*b, "c5", "u1", {"o2"});
  EXPECT_EQ(r.result, Admission::kOverUserLimit);
  EXPECT_FALSE(r.local);
  EXPECT_GE(a->counters().local_admissions, 1u);
  EXPECT_GE(a->counters().resyncs, 2u);
  EXPECT_GE(a->counters().reconnects, 1u);
}

TEST_F(ClusterStateTest, DisconnectReachesEveryNode) {
  std::mutex mu;
  std::vector<std::string> got_a, got_b;
  ClusterOptions o;
  auto a = Node({"a"});
  auto b = Node({"b"});
  // Handlers are set before Start in production; here the nodes are started
  // by Node(), so use fresh ones for the handler side.
  a.reset();
  b.reset();
  {
    ClusterOptions oa;
    oa.redis = redis_->url();
    oa.node_name = "a";
    auto sa = ClusterState::Create(oa);
    ASSERT_TRUE(sa.ok());
    a = std::move(*sa);
    oa.node_name = "b";
    auto sb = ClusterState::Create(oa);
    ASSERT_TRUE(sb.ok());
    b = std::move(*sb);
  }
  a->SetDisconnectHandler([&](std::string u) { std::lock_guard l(mu); got_a.push_back(u); });
  b->SetDisconnectHandler([&](std::string u) { std::lock_guard l(mu); got_b.push_back(u); });
  a->Start();
  b->Start();
  ASSERT_TRUE(Up(*a) && Up(*b));
  // Both subscribers are ready once PUBLISH reaches two.
  ASSERT_TRUE(WaitUntil([&] {
    auto r = Wait<Result<int64_t>>([&](auto cb) { a->DisconnectUser("probe", cb); });
    return r && r->ok() && **r == 2;
  }));
  auto r = Wait<Result<int64_t>>([&](auto cb) { a->DisconnectUser("u:42", cb); });
  ASSERT_TRUE(r && r->ok());
  EXPECT_EQ(**r, 2);
  EXPECT_TRUE(WaitUntil([&] {
    std::lock_guard l(mu);
    return std::count(got_b.begin(), got_b.end(), "u:42") == 1 && std::count(got_a.begin(), got_a.end(), "u:42") == 1;
  }));
}

TEST_F(ClusterStateTest, CommandTimeoutWhenRedisFreezes) {
  auto a = Node({"a", 5, 0});
  ASSERT_TRUE(Up(*a));
  ASSERT_EQ(Admit(*a, "c1", "u1", {"o1"}).result, Admission::kAdmitted);
  redis_->Pause();
  // Every callback comes back (with an error, or decided locally) instead of hanging.
  auto n = Wait<Result<std::vector<NodeInfo>>>([&](auto cb) { a->Nodes(cb); }, 5000ms);
  ASSERT_TRUE(n.has_value()) << "Nodes() hung";
  EXPECT_FALSE(n->ok());
  auto r = Admit(*a, "c2", "u1", {"o1"});
  EXPECT_EQ(r.result, Admission::kAdmitted);
  EXPECT_TRUE(r.local);
  EXPECT_TRUE(WaitUntil([&] { return a->degraded(); }));
  EXPECT_GE(a->counters().timeouts, 1u);
  redis_->Resume();
  ASSERT_TRUE(Up(*a));
  std::optional<std::vector<NodeInfo>> nodes;
  EXPECT_TRUE(WaitUntil([&] { nodes = NodesOf(*a); return nodes && nodes->size() == 1 && (*nodes)[0].connections == 2; }));
}

TEST_F(ClusterStateTest, CallsWhileNeverConnectedFailFast) {
  NodeSpec spec{"a"};
  spec.port = 1;  // nothing listens there
  auto a = Node(spec);
  auto r = Admit(*a, "c1", "u1", {"o1"});
  EXPECT_TRUE(r.local);
  EXPECT_EQ(r.result, Admission::kAdmitted);
  auto n = Wait<Result<std::vector<NodeInfo>>>([&](auto cb) { a->Nodes(cb); });
  ASSERT_TRUE(n.has_value());
  EXPECT_FALSE(n->ok());
  EXPECT_TRUE(a->degraded());
  a->Stop();  // bounded even though Redis was never reached
}

// Commands and round trips per operation, and ops/s from one node on
// loopback. Prints the numbers used in docs/scaling.md.
TEST_F(ClusterStateTest, MeasureCost) {
  auto a = Node({"a", 1000, 100000, std::chrono::seconds(300)});  // heartbeat every 100 s: out of the way
  ASSERT_TRUE(Up(*a));
  ASSERT_TRUE(WaitUntil([&] { return a->counters().pending == 0; }));
  constexpr int kN = 1000;
  auto redis_calls = [&] { return redis_->CommandCalls(); };
  auto diff = [](std::map<std::string, int64_t> after, const std::map<std::string, int64_t>& before) {
    for (auto& [k, v] : after) {
      auto it = before.find(k);
      if (it != before.end()) v -= it->second;
    }
    after.erase("info");
    after.erase("publish");
    std::string out;
    int64_t total = 0;
    for (auto& [k, v] : after) {
      if (v == 0) continue;
      out += k + "=" + std::to_string(v) + " ";
      total += v;
    }
    return std::make_pair(out, total);
  };
  // Barrier: a PUBLISH issued after the operations is answered after them
  // (one thread, one pipelined connection). It is left out of the counts.
  auto drained = [&] {
    auto r = Wait<Result<int64_t>>([&](auto cb) { a->DisconnectUser("barrier", cb); });
    return r && r->ok();
  };

  // 1. Admit (awaited: one round trip) + Release (fire and forget), sequentially.
  auto before = redis_calls();
  uint64_t cmds = a->counters().commands;
  auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < kN; ++i) {
    const std::string id = "c" + std::to_string(i);
    auto r = Admit(*a, id, "u" + std::to_string(i % 100), {"o" + std::to_string(i % 10)});
    ASSERT_EQ(r.result, Admission::kAdmitted);
    ASSERT_FALSE(r.local);
    a->Release(id);
  }
  ASSERT_TRUE(drained());
  double seq_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  auto [admit_calls, admit_total] = diff(redis_calls(), before);
  const uint64_t admit_cmds = a->counters().commands - cmds - 1;

  // 2. The same, pipelined: 1000 Admits in flight, then 1000 Releases.
  std::atomic<int> answered{0};
  t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < kN; ++i) {
    a->Admit({"p" + std::to_string(i), "u" + std::to_string(i % 100), {"o" + std::to_string(i % 10)}},
             [&](AdmissionResult) { answered.fetch_add(1); });
  }
  ASSERT_TRUE(WaitUntil([&] { return answered.load() == kN; }));
  for (int i = 0; i < kN; ++i) a->Release("p" + std::to_string(i));
  ASSERT_TRUE(drained());
  double pipe_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

  // 3. AddPresence + RemovePresence (both fire and forget).
  ASSERT_EQ(Admit(*a, "s", "u", {"o"}).result, Admission::kAdmitted);
  before = redis_calls();
  cmds = a->counters().commands;
  t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < kN; ++i) {
    const std::string org = "o" + std::to_string(i % 50);
    a->AddPresence("s", "payment", org, std::to_string(i));
    a->RemovePresence("s", "payment", org, std::to_string(i));
  }
  ASSERT_TRUE(drained());
  double pres_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  auto [pres_calls, pres_total] = diff(redis_calls(), before);
  const uint64_t pres_cmds = a->counters().commands - cmds - 1;

  // 4. One presence query and one heartbeat-sized read (Nodes) for reference.
  before = redis_calls();
  ASSERT_TRUE(PresenceOf(*a, "payment", "o1").has_value());
  auto [query_calls, query_total] = diff(redis_calls(), before);

  std::printf("[cost] Admit+Release: %.2f commands sent, %.2f calls inside Redis per connection (%s)\n",
              double(admit_cmds) / kN, double(admit_total) / kN, admit_calls.c_str());
  std::printf("[cost] Admit+Release sequential (Admit awaited): %.0f connections/s (%.1f us each)\n",
              kN / seq_s, seq_s * 1e6 / kN);
  std::printf("[cost] Admit+Release pipelined: %.0f connections/s\n", kN / pipe_s);
  std::printf("[cost] AddPresence+RemovePresence: %.2f commands sent, %.2f calls inside Redis (%s); %.0f pairs/s\n",
              double(pres_cmds) / kN, double(pres_total) / kN, pres_calls.c_str(), kN / pres_s);
  std::printf("[cost] Presence query (1 node): %lld calls inside Redis (%s)\n",
              static_cast<long long>(query_total), query_calls.c_str());
  RecordProperty("admit_release_commands_x1000", static_cast<int>(admit_cmds));
  RecordProperty("presence_commands_x1000", static_cast<int>(pres_cmds));
  EXPECT_EQ(admit_cmds, 2u * kN);  // one EVALSHA each
  EXPECT_EQ(pres_cmds, 2u * kN);   // one EVALSHA + one HDEL
}

}  // namespace
}  // namespace rte::cluster

#include "server/admin_view.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <atomic>
#include <chrono>
#include <thread>

namespace rte::server {
namespace {

TEST(AdminTokenTest, MatchesOnlyTheConfiguredBearerToken) {
  const std::string token = "0123456789abcdef0123";
  EXPECT_TRUE(AdminTokenMatches(token, "Bearer " + token));
  EXPECT_TRUE(AdminTokenMatches(token, "bearer " + token));
  EXPECT_TRUE(AdminTokenMatches(token, "Bearer  " + token + " "));
  EXPECT_FALSE(AdminTokenMatches(token, ""));
  EXPECT_FALSE(AdminTokenMatches(token, token));                     // no scheme
  EXPECT_FALSE(AdminTokenMatches(token, "Basic " + token));
  EXPECT_FALSE(AdminTokenMatches(token, "Bearer " + token + "x"));   // longer
  EXPECT_FALSE(AdminTokenMatches(token, "Bearer " + token.substr(1)));  // shorter
  EXPECT_FALSE(AdminTokenMatches(token, "Bearer 0123456789abcdef0124"));  // last byte differs
  EXPECT_FALSE(AdminTokenMatches("", "Bearer "));  // admin off: nothing matches
  EXPECT_FALSE(AdminTokenMatches("", "Bearer anything"));
}

TEST(ClientQueryTest, ParsesSortAndLimit) {
  auto q = ParseClientQuery({});
  ASSERT_TRUE(q);
  EXPECT_EQ(q->sort, ClientSort::kQueue);
  EXPECT_EQ(q->limit, 50u);
  q = ParseClientQuery({{"sort", "age"}, {"limit", "7"}, {"other", "x"}});
  ASSERT_TRUE(q);
  EXPECT_EQ(q->sort, ClientSort::kAge);
  EXPECT_EQ(q->limit, 7u);
  EXPECT_FALSE(ParseClientQuery({{"sort", "size"}}));
  EXPECT_FALSE(ParseClientQuery({{"limit", "0"}}));
  EXPECT_FALSE(ParseClientQuery({{"limit", "1001"}}));
  EXPECT_FALSE(ParseClientQuery({{"limit", "5x"}}));
  EXPECT_FALSE(ParseClientQuery({{"limit", ""}}));
}

ClientInfo Client(std::string id, size_t queued, int64_t connected) {
  ClientInfo c;
  c.id = std::move(id);
  c.queued_bytes = queued;
  c.connected_ms = connected;
  return c;
}

TEST(SelectClientsTest, SlowestOrOldestFirstUpToTheLimit) {
  std::vector<ClientInfo> all = {Client("a", 10, 300), Client("b", 5000, 200), Client("c", 0, 100),
                                 Client("d", 700, 400)};
  auto by_queue = all;
  SelectClients(&by_queue, {ClientSort::kQueue, 2});
  ASSERT_EQ(by_queue.size(), 2u);
  EXPECT_EQ(by_queue[0].id, "b");
  EXPECT_EQ(by_queue[1].id, "d");
  auto by_age = all;
  SelectClients(&by_age, {ClientSort::kAge, 10});
  ASSERT_EQ(by_age.size(), 4u);
  EXPECT_EQ(by_age[0].id, "c");
  EXPECT_EQ(by_age[3].id, "d");
}

TEST(SelectClientsTest, RendersJson) {
  std::vector<ClientInfo> v = {Client("0-1", 3, 5)};
  v[0].endpoint = metrics::Endpoint::kGetEvents;
  v[0].organizations = {"42", "q\"uote"};
  auto doc = boost::json::parse(RenderClientsJson(v, 9)).as_object();
  EXPECT_EQ(doc.at("total").as_int64(), 9);
  const auto& c = doc.at("clients").as_array().at(0).as_object();
  EXPECT_EQ(c.at("endpoint").as_string(), "getEvents");
  EXPECT_EQ(c.at("organizations").as_array().at(1).as_string(), "q\"uote");
  EXPECT_EQ(c.at("queued_bytes").as_int64(), 3);
}

TEST(RateSamplerTest, TurnsTotalsIntoRatesAndKeepsABoundedHistory) {
  RateTotals totals;
  totals.channel_records = {0, 0};
  totals.channel_deliveries = {0, 0};
  RateSampler sampler([&] { return totals; });
  sampler.Sample(1.0, 1000);  // the first sample only sets the baseline
  EXPECT_TRUE(sampler.History().empty());
  totals.records = 200;
  totals.deliveries = 50;
  totals.channel_records = {150, 50};
  totals.channel_deliveries = {50, 0};
  sampler.Sample(2.0, 3000);
  auto h = sampler.History();
  ASSERT_EQ(h.size(), 1u);
  EXPECT_EQ(h[0].t_ms, 3000);
  EXPECT_DOUBLE_EQ(h[0].records_per_second, 100.0);
  EXPECT_DOUBLE_EQ(h[0].deliveries_per_second, 25.0);
  auto ch = sampler.ChannelRates();
  ASSERT_EQ(ch.size(), 2u);
  EXPECT_DOUBLE_EQ(ch[0].first, 75.0);
  EXPECT_DOUBLE_EQ(ch[0].second, 25.0);
  EXPECT_DOUBLE_EQ(ch[1].first, 25.0);
  for (int i = 0; i < 300; ++i) sampler.Sample(1.0, 4000 + i);
  EXPECT_EQ(sampler.History().size(), RateSampler::kHistory);
  EXPECT_EQ(sampler.History().back().t_ms, 4299);
  EXPECT_DOUBLE_EQ(sampler.History().back().records_per_second, 0.0);
}

TEST(RateSamplerTest, ItsThreadSamplesEverySecondUntilStopped) {
  std::atomic<uint64_t> records{0};
  RateSampler sampler([&] {
    RateTotals t;
    t.records = records += 10;
    return t;
  });
  sampler.Start();
  for (int i = 0; i < 100 && sampler.History().size() < 2; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  sampler.Stop();
  sampler.Stop();  // idempotent
  const auto h = sampler.History();
  ASSERT_GE(h.size(), 2u);
  EXPECT_GT(h.back().records_per_second, 0.0);
  EXPECT_GT(h.back().t_ms, h.front().t_ms);
  const size_t after_stop = h.size();
  std::this_thread::sleep_for(std::chrono::milliseconds(1200));
  EXPECT_EQ(sampler.History().size(), after_stop);  // no sampling after Stop
}

}  // namespace
}  // namespace rte::server

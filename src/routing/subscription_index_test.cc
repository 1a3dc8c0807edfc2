#include "routing/subscription_index.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "routing/interest.h"

namespace rte::routing {
namespace {

struct Sub {
  int id;
};

std::set<int> Match(const SubscriptionIndex<Sub>& idx, ChannelId ch, std::string_view tenant, std::string_view prop) {
  std::set<int> out;
  idx.ForEachMatch(ch, tenant, prop, [&](Sub* s, bool) { out.insert(s->id); });
  return out;
}

TEST(SubscriptionIndexTest, MatchesTenantAndPropertyExactly) {
  SubscriptionIndex<Sub> idx;
  Sub a{1}, b{2}, c{3}, d{4};
  idx.Add({0, "42", ""}, &a);   // every property of org 42 on channel 0
  idx.Add({0, "42", "7"}, &b);  // property 7 only
  idx.Add({0, "43", ""}, &c);   // another tenant
  idx.Add({1, "42", ""}, &d);   // another channel
  EXPECT_EQ(Match(idx, 0, "42", "7"), (std::set<int>{1, 2}));
  EXPECT_EQ(Match(idx, 0, "42", "8"), (std::set<int>{1}));
  EXPECT_EQ(Match(idx, 0, "42", ""), (std::set<int>{1}));
  EXPECT_EQ(Match(idx, 0, "43", "7"), (std::set<int>{3}));
  EXPECT_EQ(Match(idx, 1, "42", "7"), (std::set<int>{4}));
  EXPECT_TRUE(Match(idx, 0, "4", "").empty());
  EXPECT_TRUE(Match(idx, 2, "42", "").empty());
  EXPECT_EQ(idx.size(), 4u);
}

TEST(SubscriptionIndexTest, ReportsTenantTransitions) {
  SubscriptionIndex<Sub> idx;
  Sub a{1}, b{2};
  EXPECT_TRUE(idx.Add({0, "42", ""}, &a).tenant_transition);
  EXPECT_FALSE(idx.Add({0, "42", "7"}, &b).tenant_transition);  // same (channel, tenant)
  EXPECT_FALSE(idx.Add({0, "42", "7"}, &b).added);               // duplicate
  EXPECT_FALSE(idx.Remove({0, "42", ""}, &a).tenant_transition);
  EXPECT_TRUE(idx.HasTenant({0, "42"}));
  auto last = idx.Remove({0, "42", "7"}, &b);
  EXPECT_TRUE(last.added);
  EXPECT_TRUE(last.tenant_transition);
  EXPECT_FALSE(idx.HasTenant({0, "42"}));
  EXPECT_FALSE(idx.Remove({0, "42", "7"}, &b).added);
  EXPECT_EQ(idx.size(), 0u);
}

TEST(SubscriptionIndexTest, ManySubscribersRemoveInAnyOrder) {
  SubscriptionIndex<Sub> idx;
  std::vector<Sub> subs(1000);
  for (int i = 0; i < 1000; ++i) {
    subs[i].id = i;
    idx.Add({0, std::to_string(i % 10), ""}, &subs[i]);
  }
  for (int i = 3; i < 1000; i += 20) idx.Remove({0, std::to_string(i % 10), ""}, &subs[i]);
  auto m = Match(idx, 0, "3", "");
  EXPECT_EQ(m.size(), 50u);
  EXPECT_TRUE(std::all_of(m.begin(), m.end(), [](int id) { return id % 10 == 3 && id % 20 == 13; }));
}

TEST(InterestTest, WorkerMasksFollowUpdatesInOrder) {
  InterestUpdates q;
  std::vector<std::pair<int, uint64_t>> applied;
  q.SetAppliedCallback([&](int w, uint64_t seq) { applied.emplace_back(w, seq); });
  uint64_t s1 = q.Push({{0, "42"}, 0, true, 0});
  uint64_t s2 = q.Push({{0, "42"}, 3, true, 0});
  uint64_t s3 = q.Push({{0, "42"}, 0, false, 0});
  EXPECT_LT(s1, s2);
  EXPECT_LT(s2, s3);
  InterestTable t;
  std::vector<InterestUpdate> batch;
  q.Drain(&batch);
  ASSERT_EQ(batch.size(), 3u);
  for (const auto& u : batch) t.Apply(u);
  q.NotifyApplied(batch);
  EXPECT_EQ(t.Workers(0, "42"), uint64_t{1} << 3);
  EXPECT_EQ(t.Workers(0, "43"), 0u);
  EXPECT_EQ(t.Workers(1, "42"), 0u);
  // Each worker hears of its last applied sequence number.
  EXPECT_EQ(applied, (std::vector<std::pair<int, uint64_t>>{{0, s3}, {3, s2}}));
  t.Apply({{0, "42"}, 3, false, 0});
  EXPECT_EQ(t.size(), 0u);
}

}  // namespace
}  // namespace rte::routing

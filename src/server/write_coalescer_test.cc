#include "server/write_coalescer.h"

#include <gtest/gtest.h>

namespace rte::server {
namespace {

using std::chrono::microseconds;
using std::chrono::milliseconds;
using Clock = WriteCoalescer::Clock;

// Feeds one second of passes of `per_pass` deliveries (one write each, or
// `frames_per_write` per write) at `rate` deliveries/s, writes costing
// `write_us`; returns the last hold.
Clock::duration Feed(WriteCoalescer& c, Clock::time_point& now, double rate, uint64_t per_pass, double write_us,
                    double frames_per_write = 1) {
  Clock::duration hold{};
  const auto step = std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(per_pass / rate));
  for (Clock::time_point end = now + std::chrono::seconds(1); now < end; now += step) {
    const auto writes = static_cast<size_t>(static_cast<double>(per_pass) / frames_per_write);
    hold = c.AfterPass(now, per_pass, writes,
                       std::chrono::duration_cast<Clock::duration>(microseconds(static_cast<int64_t>(write_us * writes))));
  }
  return hold;
}

TEST(WriteCoalescerTest, NoHoldWhileOneFramePerWriteFitsInACore) {
  WriteCoalescer c;
  Clock::time_point now{std::chrono::seconds(100)};
  // 100k deliveries/s, 7.5 µs per write: 0.75 of a core; passes of 2,000 take 15 ms of writes.
  EXPECT_EQ(Feed(c, now, 100'000, 2000, 7.5), Clock::duration::zero());
  EXPECT_NEAR(c.demand(), 0.75, 0.05);
}

TEST(WriteCoalescerTest, HoldsAsLongAsTheWritesTookWhenOneFramePerWriteCannotKeepUp) {
  WriteCoalescer c;
  Clock::time_point now{std::chrono::seconds(100)};
  // 600k deliveries/s at 9 µs per write (5 frames each): 5.4 cores of one-frame writes.
  const auto hold = Feed(c, now, 600'000, 10'000, 9, 5);
  EXPECT_GT(c.demand(), 1.0);
  EXPECT_EQ(hold, std::chrono::duration_cast<Clock::duration>(microseconds(18'000)));  // 2,000 writes x 9 µs
  // Long writes: the hold stops at max_hold.
  EXPECT_EQ(c.AfterPass(now, 50'000, 10'000, milliseconds(90)), milliseconds(25));
}

TEST(WriteCoalescerTest, LetsGoWhenTheLoadFalls) {
  WriteCoalescer c;
  Clock::time_point now{std::chrono::seconds(100)};
  EXPECT_GT(Feed(c, now, 600'000, 10'000, 9, 5), Clock::duration::zero());
  EXPECT_EQ(Feed(c, now, 50'000, 1000, 8), Clock::duration::zero());
  EXPECT_LT(c.demand(), 1.0);
}

TEST(WriteCoalescerTest, ShortWritesNeverHold) {
  WriteCoalescer c;
  Clock::time_point now{std::chrono::seconds(100)};
  Feed(c, now, 600'000, 10'000, 9, 5);
  EXPECT_EQ(c.AfterPass(now, 100, 100, microseconds(900)), Clock::duration::zero());
}

}  // namespace
}  // namespace rte::server

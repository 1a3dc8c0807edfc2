// Log-linear latency histogram (HDR-style), 1 us .. 100 s, relative error < 1%.
//
// Values below 128 have a bucket each; above, every power of two is split in
// 128 linear sub-buckets, so a bucket is at most 1/128 (0.78%) of its value
// wide and its midpoint is within 0.4% of any value in it.
//
// One writer (a client thread) and any number of readers (the reporter): the
// counters are relaxed atomics written with load+store (no lock prefix on the
// hot path); a reader takes a Snapshot and subtracts an earlier one to get an
// interval.
#pragma once

#include <algorithm>
#include <array>
#include <atomic>
#include <bit>
#include <cstdint>
#include <vector>

namespace rte::bench {

inline constexpr int kSubBits = 7;
inline constexpr uint64_t kSub = 1u << kSubBits;        // 128
inline constexpr uint64_t kMaxValue = 100'000'000;      // 100 s in us
inline constexpr int kMaxMsb = 26;                       // 2^26 < 1e8 < 2^27
inline constexpr size_t kBuckets = kSub + (kMaxMsb - kSubBits + 1) * kSub;

inline size_t BucketOf(uint64_t v) {
  if (v > kMaxValue) v = kMaxValue;
  if (v < kSub) return static_cast<size_t>(v);
  int msb = 63 - std::countl_zero(v);
  uint64_t sub = (v >> (msb - kSubBits)) & (kSub - 1);
  return kSub + static_cast<size_t>(msb - kSubBits) * kSub + static_cast<size_t>(sub);
}

// [low, high) of a bucket.
inline uint64_t BucketLow(size_t b) {
  if (b < kSub) return b;
  size_t e = (b - kSub) / kSub, sub = (b - kSub) % kSub;
  return (kSub + sub) << e;
}
inline uint64_t BucketHigh(size_t b) {
  if (b < kSub) return b + 1;
  size_t e = (b - kSub) / kSub;
  return BucketLow(b) + (uint64_t{1} << e);
}
inline uint64_t BucketMid(size_t b) {
  if (b < kSub) return b;
  return (BucketLow(b) + BucketHigh(b) - 1) / 2;
}

struct Snapshot {
  std::vector<uint64_t> counts = std::vector<uint64_t>(kBuckets, 0);
  uint64_t total = 0;
  uint64_t max = 0;  // exact maximum so far (cumulative only)

  Snapshot& operator+=(const Snapshot& o) {
    for (size_t i = 0; i < kBuckets; ++i) counts[i] += o.counts[i];
    total += o.total;
    max = std::max(max, o.max);
    return *this;
  }
  // The interval between an earlier snapshot and this one; its max is the
  // upper edge of the highest non-empty bucket (within 1%).
  Snapshot Since(const Snapshot& earlier) const {
    Snapshot d;
    for (size_t i = 0; i < kBuckets; ++i) d.counts[i] = counts[i] - earlier.counts[i];
    d.total = total - earlier.total;
    for (size_t i = kBuckets; i-- > 0;)
      if (d.counts[i]) {
        d.max = std::min(max, BucketHigh(i) - 1);
        break;
      }
    return d;
  }
  // Value at quantile q (0..1): the midpoint of the bucket holding it.
  uint64_t Quantile(double q) const {
    if (total == 0) return 0;
    uint64_t rank = static_cast<uint64_t>(q * static_cast<double>(total));
    if (rank >= total) rank = total - 1;
    uint64_t seen = 0;
    for (size_t i = 0; i < kBuckets; ++i) {
      seen += counts[i];
      if (seen > rank) return std::min(BucketMid(i), max ? max : BucketMid(i));
    }
    return max;
  }
};

class Histogram {
 public:
  // Single writer.
  void Record(uint64_t v) {
    auto& c = counts_[BucketOf(v)];
    c.store(c.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
    total_.store(total_.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
    if (v > max_.load(std::memory_order_relaxed)) max_.store(std::min(v, kMaxValue), std::memory_order_relaxed);
  }
  void AddTo(Snapshot& s) const {
    for (size_t i = 0; i < kBuckets; ++i) s.counts[i] += counts_[i].load(std::memory_order_relaxed);
    s.total += total_.load(std::memory_order_relaxed);
    s.max = std::max(s.max, max_.load(std::memory_order_relaxed));
  }

 private:
  std::array<std::atomic<uint64_t>, kBuckets> counts_{};
  std::atomic<uint64_t> total_{0};
  std::atomic<uint64_t> max_{0};
};

}  // namespace rte::bench

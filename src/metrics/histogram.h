// LatencyHistogram: a fixed-bucket histogram of durations for Prometheus
// (cumulative buckets in seconds, plus sum and count). One writer thread, any
// number of readers, relaxed atomics like Counter: the hot path pays no locked
// instruction, and a reader may see a sample in a bucket before it sees it in
// the count (harmless for a metric).
// Thread: Observe on the owning thread only; the getters from any thread.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>

#include "metrics/counter.h"

namespace rte::metrics {

// Microseconds since the Unix epoch, the clock Kafka timestamps use (for
// freshness: how old a record is when a step handles it).
inline int64_t WallClockUs() {
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

class LatencyHistogram {
 public:
  // Upper bounds of the finite buckets, in microseconds (the last bucket,
  // +Inf, is implied).
  static constexpr std::array<int64_t, 14> kBoundsUs = {500,     1'000,   2'500,   5'000,     10'000,    25'000,    50'000,
                                                         100'000, 250'000, 500'000, 1'000'000, 2'500'000, 5'000'000, 10'000'000};

  // A negative duration (clocks apart) counts as zero.
  void Observe(int64_t us) {
    if (us < 0) us = 0;
    size_t b = 0;
    while (b < kBoundsUs.size() && us > kBoundsUs[b]) ++b;
    buckets_[b].Add();
    sum_us_.Add(static_cast<uint64_t>(us));
    count_.Add();
  }
  // Samples in bucket b alone (not cumulative); b == kBoundsUs.size() is +Inf.
  uint64_t bucket(size_t b) const { return buckets_[b].Get(); }
  uint64_t sum_us() const { return sum_us_.Get(); }
  uint64_t count() const { return count_.Get(); }

 private:
  std::array<Counter, kBoundsUs.size() + 1> buckets_;
  Counter sum_us_;
  Counter count_;
};

// The sum of several single-writer histograms (e.g. one per worker), read
// once; QuantileUs estimates a quantile as the upper bound of its bucket.
struct HistogramSnapshot {
  std::array<uint64_t, LatencyHistogram::kBoundsUs.size() + 1> buckets{};
  uint64_t sum_us = 0;
  uint64_t count = 0;

  void Add(const LatencyHistogram& h) {
    for (size_t b = 0; b < buckets.size(); ++b) buckets[b] += h.bucket(b);
    sum_us += h.sum_us();
    count += h.count();
  }
  // -1 when empty; the largest finite bound when the quantile is in +Inf.
  int64_t QuantileUs(double q) const {
    uint64_t total = 0;
    for (uint64_t c : buckets) total += c;
    if (total == 0) return -1;
    const double want = q * static_cast<double>(total);
    uint64_t seen = 0;
    for (size_t b = 0; b < LatencyHistogram::kBoundsUs.size(); ++b) {
      seen += buckets[b];
      if (static_cast<double>(seen) >= want) return LatencyHistogram::kBoundsUs[b];
    }
    return LatencyHistogram::kBoundsUs.back();
  }
};

}  // namespace rte::metrics

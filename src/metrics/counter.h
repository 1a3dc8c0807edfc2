// Counters and gauges for metrics. Each has ONE writer thread (the thread that
// owns the stats struct it sits in) and any number of readers; writes are
// relaxed load+store, so the hot path pays no locked instruction.
// Thread: Add/Set on the owning thread only; Get from any thread.
#pragma once

#include <atomic>
#include <cstdint>

namespace rte::metrics {

class Counter {
 public:
  void Add(uint64_t n = 1) { v_.store(v_.load(std::memory_order_relaxed) + n, std::memory_order_relaxed); }
  uint64_t Get() const { return v_.load(std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> v_{0};
};

class Gauge {
 public:
  void Set(int64_t v) { v_.store(v, std::memory_order_relaxed); }
  void Add(int64_t d) { v_.store(v_.load(std::memory_order_relaxed) + d, std::memory_order_relaxed); }
  int64_t Get() const { return v_.load(std::memory_order_relaxed); }

 private:
  std::atomic<int64_t> v_{0};
};

}  // namespace rte::metrics

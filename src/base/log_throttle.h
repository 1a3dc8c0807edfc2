// LogThrottle: lets a repeated log line through at most once per period and
// counts what it held back, so hostile or broken input (bad requests, bad
// tokens, accept errors) can't flood the log.
// Thread: owned by one thread (a worker, the ingest thread); not shared.
#pragma once

#include <chrono>
#include <cstdint>

namespace rte {

class LogThrottle {
 public:
  using Clock = std::chrono::steady_clock;
  explicit LogThrottle(Clock::duration period = std::chrono::seconds(5)) : period_(period) {}

  // True when a line may be logged now; then `suppressed()` is the number of
  // lines held back since the last one that went through.
  bool Allow(Clock::time_point now = Clock::now()) {
    if (now < next_) {
      ++held_;
      return false;
    }
    next_ = now + period_;
    suppressed_ = held_;
    held_ = 0;
    return true;
  }
  uint64_t suppressed() const { return suppressed_; }

 private:
  Clock::duration period_;
  Clock::time_point next_{};
  uint64_t held_ = 0;
  uint64_t suppressed_ = 0;
};

}  // namespace rte

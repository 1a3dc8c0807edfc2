// WriteCoalescer: decides whether a worker's next fan-out pass waits, so
// that its writes carry more frames. On loopback or a LAN a write costs
// several µs whatever it carries (the TCP work per segment dominates), so
// the demand of writing each delivery on its own is (deliveries per second)
// x (seconds per write), in cores. Under one core, passes run as events
// come: lowest latency. Over it, one frame per write cannot keep up: the
// next pass then waits as long as the last pass's writes took (at most
// max_hold), and the frames that arrive meanwhile share writes, so batching
// grows with the load instead of the backlog. (Waiting whenever writes took
// long, whatever the load, locks a worker into long cycles at moderate load:
// 100 ms cycles at 100k deliveries/s, for nothing.)
// Thread: one worker's thread; a plain value.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>

namespace rte::server {

class WriteCoalescer {
 public:
  using Clock = std::chrono::steady_clock;
  struct Options {
    Clock::duration window = std::chrono::milliseconds(250);  // delivery rate measured over this
    double max_demand = 1.0;                                  // cores of one-frame writes before holding
    Clock::duration min_flush = std::chrono::milliseconds(2); // shorter writes: never hold
    Clock::duration max_hold = std::chrono::milliseconds(25);
  };

  WriteCoalescer() = default;
  explicit WriteCoalescer(Options o) : o_(o) {}

  // After a pass that queued `deliveries` frames on `writes` sessions and
  // wrote them in `flush_time`: how long the next pass should wait (zero:
  // at once).
  Clock::duration AfterPass(Clock::time_point now, uint64_t deliveries, size_t writes, Clock::duration flush_time) {
    if (window_start_ == Clock::time_point{}) window_start_ = now;
    window_deliveries_ += deliveries;
    if (now - window_start_ >= o_.window) {
      rate_ = static_cast<double>(window_deliveries_) / std::chrono::duration<double>(now - window_start_).count();
      window_deliveries_ = 0;
      window_start_ = now;
    }
    if (writes > 0) {
      const double cost = std::chrono::duration<double>(flush_time).count() / static_cast<double>(writes);
      write_cost_s_ = write_cost_s_ == 0 ? cost : 0.8 * write_cost_s_ + 0.2 * cost;
    }
    if (demand() <= o_.max_demand || flush_time < o_.min_flush) return Clock::duration::zero();
    return std::min(flush_time, o_.max_hold);
  }

  // Cores that writing every delivery on its own would take at the current rate.
  double demand() const { return rate_ * write_cost_s_; }

 private:
  Options o_;
  Clock::time_point window_start_{};
  uint64_t window_deliveries_ = 0;
  double rate_ = 0;          // deliveries per second, last full window
  double write_cost_s_ = 0;  // seconds per write, moving average
};

}  // namespace rte::server

// Backoff: exponential retry delays with jitter. Delay n (0-based) is drawn
// uniformly from [d/2, d] where d = min(initial * 2^n, max), so clients that
// failed together do not retry together.
// Owner: whoever schedules retries. Thread: not thread-safe (owns its RNG);
// use one per thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <random>

namespace rte::registry {

class Backoff {
 public:
  Backoff(std::chrono::milliseconds initial, std::chrono::milliseconds max, uint64_t seed);

  // Delay before retry number `attempt` (0 = first retry). Never below 1 ms.
  std::chrono::milliseconds Delay(int attempt);

  // The un-jittered upper bound of Delay(attempt).
  std::chrono::milliseconds Ceiling(int attempt) const;

 private:
  std::chrono::milliseconds initial_;
  std::chrono::milliseconds max_;
  std::mt19937_64 rng_;
};

}  // namespace rte::registry

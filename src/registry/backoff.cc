#include "registry/backoff.h"

#include <algorithm>

namespace rte::registry {

Backoff::Backoff(std::chrono::milliseconds initial, std::chrono::milliseconds max, uint64_t seed)
    : initial_(std::max(initial, std::chrono::milliseconds(1))),
      max_(std::max(max, initial_)),
      rng_(seed) {}

std::chrono::milliseconds Backoff::Ceiling(int attempt) const {
  int64_t d = initial_.count();
  for (int i = 0; i < attempt && d < max_.count(); ++i) d *= 2;
  return std::chrono::milliseconds(std::min<int64_t>(d, max_.count()));
}

std::chrono::milliseconds Backoff::Delay(int attempt) {
  const int64_t ceiling = Ceiling(attempt).count();
  std::uniform_int_distribution<int64_t> dist(std::max<int64_t>(ceiling / 2, 1), ceiling);
  return std::chrono::milliseconds(dist(rng_));
}

}  // namespace rte::registry

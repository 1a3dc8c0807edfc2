// ProcessStats: the process's CPU time, memory, file descriptors and start
// time, read from /proc/self (Linux), for the standard process_* metrics.
// Thread: any (reads /proc; no shared state).
#pragma once

#include <cstdint>

namespace rte::metrics {

struct ProcessStats {
  double cpu_seconds = 0;       // user + system
  int64_t resident_bytes = 0;
  int64_t virtual_bytes = 0;
  int64_t open_fds = 0;
  int64_t max_fds = 0;          // RLIMIT_NOFILE (soft)
  double start_time_seconds = 0;  // since the epoch
  int64_t threads = 0;

  // Fields that cannot be read stay 0.
  static ProcessStats Read();
};

}  // namespace rte::metrics

#include "metrics/process_stats.h"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <unistd.h>

#include <ctime>
#include <vector>

namespace rte::metrics {
namespace {

TEST(ProcessStatsTest, ReadsThisProcess) {
  const ProcessStats p = ProcessStats::Read();
  EXPECT_GT(p.resident_bytes, 1 << 20);  // a test binary is more than 1 MiB resident
  EXPECT_GE(p.virtual_bytes, p.resident_bytes);
  EXPECT_GE(p.threads, 1);
  EXPECT_GE(p.open_fds, 3);  // stdin, stdout, stderr
  EXPECT_GT(p.max_fds, p.open_fds);
  const double now = static_cast<double>(std::time(nullptr));
  EXPECT_LE(p.start_time_seconds, now + 1);
  EXPECT_GT(p.start_time_seconds, now - 3600);  // started within the hour
}

TEST(ProcessStatsTest, CountsOpenedDescriptorsAndCpu) {
  const ProcessStats before = ProcessStats::Read();
  std::vector<int> fds;
  for (int i = 0; i < 10; ++i) fds.push_back(::open("/dev/null", O_RDONLY));
  const ProcessStats during = ProcessStats::Read();
  for (int fd : fds) ::close(fd);
  EXPECT_EQ(during.open_fds, before.open_fds + 10);
  // Burn ~50 ms of CPU: the counter moves (no timing asserted beyond "moved").
  volatile uint64_t x = 0;
  const std::clock_t start = std::clock();
  while (std::clock() - start < CLOCKS_PER_SEC / 20) x = x + 1;
  EXPECT_GT(ProcessStats::Read().cpu_seconds, before.cpu_seconds);
}

}  // namespace
}  // namespace rte::metrics

#include "metrics/process_stats.h"

#include <dirent.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>

namespace rte::metrics {
namespace {

// Seconds since the epoch at which the system booted (/proc/stat btime).
double BootTimeSeconds() {
  std::ifstream in("/proc/stat");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("btime ", 0) == 0) return std::stod(line.substr(6));
  }
  return 0;
}

int64_t CountOpenFds() {
  DIR* d = ::opendir("/proc/self/fd");
  if (!d) return 0;
  int64_t n = 0;
  while (dirent* e = ::readdir(d)) {
    if (e->d_name[0] != '.') ++n;
  }
  ::closedir(d);
  return n - 1;  // the directory stream's own descriptor
}

}  // namespace

ProcessStats ProcessStats::Read() {
  ProcessStats p;
  const double ticks = static_cast<double>(::sysconf(_SC_CLK_TCK));
  const double page = static_cast<double>(::sysconf(_SC_PAGESIZE));
  std::ifstream stat("/proc/self/stat");
  std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
  // Fields after the command name, which is in parentheses and may hold spaces.
  if (const auto close = text.rfind(')'); close != std::string::npos && ticks > 0) {
    std::istringstream fields(text.substr(close + 2));
    std::string f[40];
    for (int i = 0; i < 40 && (fields >> f[i]); ++i) {
    }
    // f[0] is field 3 (state): utime 14, stime 15, num_threads 20,
    // starttime 22, vsize 23, rss 24 (proc(5)).
    try {
      p.cpu_seconds = (std::stod(f[11]) + std::stod(f[12])) / ticks;
      p.threads = std::stoll(f[17]);
      p.start_time_seconds = BootTimeSeconds() + std::stod(f[19]) / ticks;
      p.virtual_bytes = std::stoll(f[20]);
      p.resident_bytes = static_cast<int64_t>(std::stod(f[21]) * page);
    } catch (const std::exception&) {
      // A format we do not know: leave zeros.
    }
  }
  p.open_fds = CountOpenFds();
  rlimit rl{};
  if (::getrlimit(RLIMIT_NOFILE, &rl) == 0) p.max_fds = static_cast<int64_t>(rl.rlim_cur);
  return p;
}

}  // namespace rte::metrics

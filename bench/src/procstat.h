// CPU time and memory of a process from /proc/<pid>/stat and /proc/<pid>/status.
#pragma once

#include <unistd.h>

#include <cstdint>
#include <fstream>
#include <sstream>
#include <string>

namespace rte::bench {

struct ProcSample {
  bool ok = false;
  uint64_t cpu_us = 0;   // utime + stime, all threads
  uint64_t rss_kb = 0;   // VmRSS
  uint64_t hwm_kb = 0;   // VmHWM (peak RSS)
  int threads = 0;
};

inline ProcSample ReadProc(int pid) {
  ProcSample s;
  if (pid <= 0) return s;
  std::string base = "/proc/" + std::to_string(pid);
  std::ifstream st(base + "/stat");
  std::string line;
  if (!std::getline(st, line)) return s;
  // Fields after the command name (which may hold spaces) in parentheses.
  auto rp = line.rfind(')');
  if (rp == std::string::npos) return s;
  std::istringstream is(line.substr(rp + 2));
  std::string f;
  uint64_t utime = 0, stime = 0;
  // Field 3 is the state; utime is field 14, stime 15 (1-based, whole line).
  for (int field = 3; field <= 15 && is >> f; ++field) {
    if (field == 14) utime = std::stoull(f);
    if (field == 15) stime = std::stoull(f);
  }
  static const long tick = sysconf(_SC_CLK_TCK);
  s.cpu_us = (utime + stime) * 1'000'000ull / static_cast<uint64_t>(tick > 0 ? tick : 100);
  std::ifstream status(base + "/status");
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) s.rss_kb = std::stoull(line.substr(6));
    else if (line.rfind("VmHWM:", 0) == 0) s.hwm_kb = std::stoull(line.substr(6));
    else if (line.rfind("Threads:", 0) == 0) s.threads = std::stoi(line.substr(8));
  }
  s.ok = true;
  return s;
}

}  // namespace rte::bench

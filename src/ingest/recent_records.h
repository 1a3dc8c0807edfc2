// RecentRecords: the last records of every partition the gateway reads, raw
// (key, value, headers, timestamp), in a window bounded per partition by
// bytes and by count, so that most resumes are served from memory instead of
// a broker round trip. The ingest thread appends every record it polls, in
// offset order; the oldest fall out. A window "covers" an offset when it
// holds every record the ingest thread saw from that offset on.
// Thread: Append on the ingest thread; From on the replay thread; one mutex,
// held for a push or a copy, never across I/O.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ingest/record_router.h"

namespace rte::ingest {

class RecentRecords {
 public:
  // A record kept in the window; View() points into it.
  struct Record {
    std::string topic;
    int32_t partition = 0;
    int64_t offset = 0;
    int64_t timestamp_ms = 0;
    bool has_key = false;
    bool has_value = false;
    std::string key;
    std::string value;
    std::vector<std::pair<std::string, std::string>> headers;
    size_t bytes() const;
    RecordView View() const;
  };

  // 0 bytes or records: no window (every resume reads Kafka).
  RecentRecords(size_t max_bytes_per_partition, size_t max_records_per_partition)
      : max_bytes_(max_bytes_per_partition), max_records_(max_records_per_partition) {}

  bool enabled() const { return max_bytes_ > 0 && max_records_ > 0; }
  void Append(const RecordView& record);
  // Copies of the records of topic[partition] from `from` on, or nullopt when
  // the window does not cover `from` (older records fell out, or none yet).
  std::optional<std::vector<Record>> From(std::string_view topic, int32_t partition, int64_t from) const;
  // Drops the window of topic[partition] (it is no longer read: what comes
  // after a later assignment would not follow on from it).
  void Forget(std::string_view topic, int32_t partition);
  size_t bytes() const;

 private:
  struct Window {
    std::deque<Record> records;
    size_t bytes = 0;
    int64_t first = -1;  // the oldest offset the window covers (-1: empty)
  };
  const size_t max_bytes_;
  const size_t max_records_;
  mutable std::mutex mu_;
  std::map<std::string, std::map<int32_t, Window>, std::less<>> windows_;  // topic -> partition -> window
  size_t total_bytes_ = 0;
};

}  // namespace rte::ingest

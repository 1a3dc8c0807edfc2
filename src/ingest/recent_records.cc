#include "ingest/recent_records.h"

namespace rte::ingest {

size_t RecentRecords::Record::bytes() const {
  size_t n = sizeof(Record) + key.size() + value.size();
  for (const auto& [name, value] : headers) n += name.size() + value.size() + sizeof(std::pair<std::string, std::string>);
  return n;
}

RecordView RecentRecords::Record::View() const {
  RecordView v;
  v.topic = topic;
  v.partition = partition;
  v.offset = offset;
  v.timestamp_ms = timestamp_ms;
  v.has_key = has_key;
  v.key = {reinterpret_cast<const uint8_t*>(key.data()), key.size()};
  v.has_value = has_value;
  v.value = {reinterpret_cast<const uint8_t*>(value.data()), value.size()};
  for (const auto& [name, value] : headers) {
    v.headers.emplace_back(name, std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(value.data()), value.size()));
  }
  return v;
}

void RecentRecords::Append(const RecordView& r) {
  if (!enabled()) return;
  Record rec;
  rec.topic.assign(r.topic);
  rec.partition = r.partition;
  rec.offset = r.offset;
  rec.timestamp_ms = r.timestamp_ms;
  rec.has_key = r.has_key;
  rec.has_value = r.has_value;
  rec.key.assign(reinterpret_cast<const char*>(r.key.data()), r.key.size());
  rec.value.assign(reinterpret_cast<const char*>(r.value.data()), r.value.size());
  for (const auto& [name, value] : r.headers) {
    rec.headers.emplace_back(std::string(name), std::string(reinterpret_cast<const char*>(value.data()), value.size()));
  }
  const size_t size = rec.bytes();
  std::lock_guard lock(mu_);
  auto topic = windows_.find(r.topic);
  if (topic == windows_.end()) topic = windows_.emplace(rec.topic, std::map<int32_t, Window>{}).first;
  Window& w = topic->second[r.partition];
  if (!w.records.empty() && r.offset <= w.records.back().offset) {
    // Read again (a seek back): the window no longer knows what came in
    // between, so it starts over here.
    total_bytes_ -= w.bytes;
    w = Window{};
  }
  if (w.first < 0) w.first = r.offset;
  w.bytes += size;
  total_bytes_ += size;
  w.records.push_back(std::move(rec));
  while (!w.records.empty() && (w.bytes > max_bytes_ || w.records.size() > max_records_)) {
    const size_t old = w.records.front().bytes();
    w.bytes -= old;
    total_bytes_ -= old;
    w.records.pop_front();
    // What fell out is no longer covered: the window starts after it.
    w.first = w.records.empty() ? -1 : w.records.front().offset;
  }
}

std::optional<std::vector<RecentRecords::Record>> RecentRecords::From(std::string_view topic, int32_t partition,
                                                                      int64_t from) const {
  std::lock_guard lock(mu_);
  auto t = windows_.find(topic);
  if (t == windows_.end()) return std::nullopt;
  auto it = t->second.find(partition);
  if (it == t->second.end() || it->second.first < 0 || from < it->second.first) return std::nullopt;
  std::vector<Record> out;
  for (const Record& r : it->second.records) {
    if (r.offset >= from) out.push_back(r);
  }
  return out;
}

void RecentRecords::Forget(std::string_view topic, int32_t partition) {
  std::lock_guard lock(mu_);
  auto t = windows_.find(topic);
  if (t == windows_.end()) return;
  auto it = t->second.find(partition);
  if (it == t->second.end()) return;
  total_bytes_ -= it->second.bytes;
  t->second.erase(it);
}

size_t RecentRecords::bytes() const {
  std::lock_guard lock(mu_);
  return total_bytes_;
}

}  // namespace rte::ingest

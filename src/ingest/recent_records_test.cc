#include "ingest/recent_records.h"

#include <gtest/gtest.h>

namespace rte::ingest {
namespace {

RecordView Rec(int32_t partition, int64_t offset, const std::string& value) {
  static std::vector<std::string> keep;  // the views must outlive Append
  keep.push_back(value);
  RecordView v;
  v.topic = "payments";
  v.partition = partition;
  v.offset = offset;
  v.timestamp_ms = 1000 + offset;
  v.has_value = true;
  v.value = {reinterpret_cast<const uint8_t*>(keep.back().data()), keep.back().size()};
  return v;
}

TEST(RecentRecordsTest, ServesWhatItCoversAndNothingOlder) {
  RecentRecords w(1 << 20, 3);
  for (int64_t o = 10; o < 15; ++o) w.Append(Rec(0, o, "v" + std::to_string(o)));
  EXPECT_FALSE(w.From("payments", 0, 11)) << "10 and 11 fell out (3 records kept)";
  auto got = w.From("payments", 0, 13);
  ASSERT_TRUE(got);
  ASSERT_EQ(got->size(), 2u);
  EXPECT_EQ((*got)[0].offset, 13);
  EXPECT_EQ((*got)[0].View().timestamp_ms, 1013);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>((*got)[1].View().value.data()), (*got)[1].View().value.size()), "v14");
  auto from_first = w.From("payments", 0, 12);
  ASSERT_TRUE(from_first);
  EXPECT_EQ(from_first->size(), 3u);
  EXPECT_TRUE(w.From("payments", 0, 15)->empty()) << "nothing newer yet, but covered";
  EXPECT_FALSE(w.From("payments", 1, 0)) << "another partition";
  EXPECT_FALSE(w.From("guests", 0, 12));
}

TEST(RecentRecordsTest, BoundedByBytesAndStartsOverAfterASeekBack) {
  RecentRecords w(3 * 1024, 1000);
  for (int64_t o = 0; o < 100; ++o) w.Append(Rec(2, o, std::string(500, 'x')));
  EXPECT_LE(w.bytes(), 3u * 1024);
  EXPECT_FALSE(w.From("payments", 2, 90));
  EXPECT_TRUE(w.From("payments", 2, 98));
  w.Append(Rec(2, 50, "again"));  // read again from an earlier offset
  EXPECT_FALSE(w.From("payments", 2, 49));
  ASSERT_TRUE(w.From("payments", 2, 50));
  EXPECT_EQ(w.From("payments", 2, 50)->size(), 1u);
}

TEST(RecentRecordsTest, DisabledKeepsNothing) {
  RecentRecords w(0, 0);
  w.Append(Rec(0, 1, "v"));
  EXPECT_FALSE(w.From("payments", 0, 1));
  EXPECT_EQ(w.bytes(), 0u);
}

}  // namespace
}  // namespace rte::ingest

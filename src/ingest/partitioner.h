// Kafka's default key partitioner, for partition-aware mode (PARTITION_AWARE):
// which partition of a topic holds a tenant's records, when producers key
// records by tenant and use the default partitioner of the Java client
// (murmur2 of the key bytes; librdkafka's murmur2 / murmur2_random
// partitioners give the same partition; librdkafka's own default,
// consistent_random, does NOT: it is CRC32-based).
// A PartitionKeyTemplate makes the key bytes from a tenant id: the channel's
// `partition_key` (or PARTITION_KEY) with every "{tenant}" replaced by the
// tenant id, as is (no escaping): "{tenant}" is a plain string key,
// '{"organization_id":"{tenant}"}' a compact JSON key with a string field,
// '{"organization_id":{tenant}}' one with a number.
// Thread: pure functions and an immutable value type.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace rte::ingest {

// org.apache.kafka.common.utils.Utils.murmur2: 32-bit MurmurHash2 with seed
// 0x9747b28c, as a signed int like Java's.
int32_t Murmur2(std::span<const uint8_t> data);
int32_t Murmur2(std::string_view data);

// Kafka's default partition of a non-null key:
// (murmur2(key) & 0x7fffffff) % partitions. `partitions` must be > 0.
int32_t PartitionForKey(std::string_view key, int32_t partitions);

// The placeholder a partition key template replaces with the tenant id.
inline constexpr std::string_view kTenantPlaceholder = "{tenant}";

class PartitionKeyTemplate {
 public:
  // `text` should contain "{tenant}" at least once (the settings check it);
  // without it every tenant gets the same key.
  explicit PartitionKeyTemplate(std::string_view text = kTenantPlaceholder);

  // The key bytes a producer would send for `tenant`.
  std::string Render(std::string_view tenant) const;
  // Render into *out (reusing its capacity).
  void RenderTo(std::string_view tenant, std::string* out) const;
  const std::string& text() const { return text_; }

 private:
  std::string text_;
  std::vector<std::string> pieces_;  // the literal text around each placeholder (placeholders + 1)
};

}  // namespace rte::ingest

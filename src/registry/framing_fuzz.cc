// libFuzzer target: Confluent framing on hostile bytes. The first input byte
// picks the schema type the parser is told to expect; the rest is the record.
// Checks: no crash, and a parsed frame never points outside the input.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>

#include "registry/confluent_framing.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using rte::registry::SchemaType;
  if (size == 0) return 0;
  const SchemaType type = data[0] % 3 == 0   ? SchemaType::kAvro
                          : data[0] % 3 == 1 ? SchemaType::kJson
                                             : SchemaType::kProtobuf;
  const std::span<const uint8_t> record(data + 1, size - 1);
  auto framed = rte::registry::ParseConfluentFrame(record, type);
  if (framed.ok()) {
    const uint8_t* begin = record.data();
    const uint8_t* end = begin + record.size();
    if (framed->payload.data() < begin + rte::registry::kConfluentHeaderSize ||
        framed->payload.data() + framed->payload.size() != end) {
      std::abort();
    }
    if (framed->message_indexes().size() > rte::registry::kMaxMessageIndexes) std::abort();
    if ((type == SchemaType::kProtobuf) != !framed->message_indexes().empty()) std::abort();
    for (int32_t index : framed->message_indexes()) {
      if (index < 0) std::abort();
    }
  }
  return 0;
}

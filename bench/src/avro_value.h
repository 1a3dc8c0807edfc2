// Confluent-framed Avro values for `value_format: avro` (S5): magic byte 0,
// the 4-byte big-endian schema id, then the Avro binary of kSchema, a record
// shaped like the product's payments value with the bench's fields added.
//
// Fields are in the order the client looks for them in the delivered JSON
// (the gateway renders a record's fields in schema order): organization_id,
// then seq, then sent_us; pad fills the framed value up to record_bytes.
// A minimal writer (zig-zag varints, strings, bytes): the bench does not use
// the product's src/avro.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace rte::bench::avro {

// The value schema registered as <topic>-value.
extern const char* const kSchema;

// Avro binary encoding primitives, appending to `out`.
void PutLong(std::string& out, int64_t v);             // int and long: zig-zag varint
void PutBytes(std::string& out, std::string_view b);   // bytes and string: length, then the bytes
inline void PutString(std::string& out, std::string_view s) { PutBytes(out, s); }
void PutFrame(std::string& out, int32_t schema_id);    // Confluent: 0x00 + big-endian id

// Encoded size of PutLong(v).
int LongSize(int64_t v);

// Replaces `out` with one framed value of kSchema, padded to `record_bytes`
// (when the fields alone are shorter).
void EncodeValue(std::string& out, int32_t schema_id, std::string_view org, std::string_view prop,
                 uint64_t seq, uint64_t sent_us, size_t record_bytes);

}  // namespace rte::bench::avro

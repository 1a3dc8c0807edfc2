// BinaryWriter: writes the Avro binary encoding value by value (zig-zag
// varints, IEEE floats, length-prefixed bytes/strings); the caller writes the
// fields in its schema's order. The demo's producer makes its records with it.
// It checks nothing against a schema, so tests and benchmarks also use it to
// write malformed encodings (negative lengths, huge counts) no real writer
// emits. Header-only.
// Thread: single-threaded value type.
#pragma once

#include <cstdint>
#include <cstring>
#include <string_view>
#include <vector>

namespace rte::avro {

class BinaryWriter {
 public:
  BinaryWriter& Long(int64_t v) {
    uint64_t z = (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63);
    while (z >= 0x80) {
      bytes_.push_back(static_cast<uint8_t>(z | 0x80));
      z >>= 7;
    }
    bytes_.push_back(static_cast<uint8_t>(z));
    return *this;
  }
  BinaryWriter& Int(int32_t v) { return Long(v); }
  BinaryWriter& Bool(bool b) { return Byte(b ? 1 : 0); }
  BinaryWriter& Byte(uint8_t b) {
    bytes_.push_back(b);
    return *this;
  }
  BinaryWriter& Float(float f) {
    uint32_t u;
    std::memcpy(&u, &f, 4);
    for (int i = 0; i < 4; ++i) Byte(static_cast<uint8_t>(u >> (8 * i)));
    return *this;
  }
  BinaryWriter& Double(double d) {
    uint64_t u;
    std::memcpy(&u, &d, 8);
    for (int i = 0; i < 8; ++i) Byte(static_cast<uint8_t>(u >> (8 * i)));
    return *this;
  }
  BinaryWriter& Raw(std::string_view s) {
    bytes_.insert(bytes_.end(), s.begin(), s.end());
    return *this;
  }
  BinaryWriter& Raw(const std::vector<uint8_t>& b) {
    bytes_.insert(bytes_.end(), b.begin(), b.end());
    return *this;
  }
  // Length-prefixed bytes or string.
  BinaryWriter& String(std::string_view s) {
    Long(static_cast<int64_t>(s.size()));
    return Raw(s);
  }
  BinaryWriter& Bytes(const std::vector<uint8_t>& b) {
    Long(static_cast<int64_t>(b.size()));
    return Raw(b);
  }

  const std::vector<uint8_t>& bytes() const { return bytes_; }

 private:
  std::vector<uint8_t> bytes_;
};

}  // namespace rte::avro

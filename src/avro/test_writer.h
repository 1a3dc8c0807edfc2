// TestWriter: writes raw Avro binary for tests, benchmarks and the demo's
// producer, including
// malformed encodings (negative lengths, huge counts) no real writer emits.
// Thread: single-threaded value type.
#pragma once

#include <cstdint>
#include <cstring>
#include <string_view>
#include <vector>

namespace rte::avro {

class TestWriter {
 public:
  TestWriter& Long(int64_t v) {
    uint64_t z = (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63);
    while (z >= 0x80) {
      bytes_.push_back(static_cast<uint8_t>(z | 0x80));
      z >>= 7;
    }
    bytes_.push_back(static_cast<uint8_t>(z));
    return *this;
  }
  TestWriter& Int(int32_t v) { return Long(v); }
  TestWriter& Bool(bool b) { return Byte(b ? 1 : 0); }
  TestWriter& Byte(uint8_t b) {
    bytes_.push_back(b);
    return *this;
  }
  TestWriter& Float(float f) {
    uint32_t u;
    std::memcpy(&u, &f, 4);
    for (int i = 0; i < 4; ++i) Byte(static_cast<uint8_t>(u >> (8 * i)));
    return *this;
  }
  TestWriter& Double(double d) {
    uint64_t u;
    std::memcpy(&u, &d, 8);
    for (int i = 0; i < 8; ++i) Byte(static_cast<uint8_t>(u >> (8 * i)));
    return *this;
  }
  TestWriter& Raw(std::string_view s) {
    bytes_.insert(bytes_.end(), s.begin(), s.end());
    return *this;
  }
  TestWriter& Raw(const std::vector<uint8_t>& b) {
    bytes_.insert(bytes_.end(), b.begin(), b.end());
    return *this;
  }
  // Length-prefixed bytes or string.
  TestWriter& String(std::string_view s) {
    Long(static_cast<int64_t>(s.size()));
    return Raw(s);
  }
  TestWriter& Bytes(const std::vector<uint8_t>& b) {
    Long(static_cast<int64_t>(b.size()));
    return Raw(b);
  }

  const std::vector<uint8_t>& bytes() const { return bytes_; }

 private:
  std::vector<uint8_t> bytes_;
};

}  // namespace rte::avro

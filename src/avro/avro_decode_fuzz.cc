// libFuzzer target for the Avro decoder (and schema parser).
// Input: byte 0 picks one of kFixedSchemas (the payload is the rest); any
// other value means "schema in the input": a 2-byte big-endian length, that
// many bytes of schema JSON, then the payload. Checks, beyond "no crash":
// DecodeToValue and DecodeToJson agree (both fail, or the text is exactly the
// serialized value), and the text parses back to the same value.
// Seeds: src/avro/fuzz_corpus/ (written by testdata/gen_vectors.py).
#include <boost/json.hpp>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

#include "avro/decoder.h"
#include "avro/schema.h"

namespace {

// Same texts as the vectors of these names in testdata/vectors.json.
constexpr const char* kFixedSchemas[] = {
    R"json({"type": "record", "name": "Payment", "namespace": "com.acme.payments", "fields": [{"name": "payment_id", "type": {"type": "string", "logicalType": "uuid"}}, {"name": "organization_id", "type": "long"}, {"name": "property_id", "type": ["null", "string"], "default": null}, {"name": "reservation_id", "type": ["null", "string"], "default": null}, {"name": "amount", "type": {"type": "bytes", "logicalType": "decimal", "precision": 12, "scale": 2}}, {"name": "currency", "type": {"type": "enum", "name": "Currency", "symbols": ["EUR", "USD", "GBP", "CHF"]}}, {"name": "status", "type": {"type": "enum", "name": "Status", "symbols": ["PENDING", "AUTHORIZED", "CAPTURED", "REFUNDED", "FAILED"]}}, {"name": "method", "type": {"type": "record", "name": "PaymentMethod", "fields": [{"name": "kind", "type": "string"}, {"name": "card_brand", "type": ["null", "string"]}, {"name": "last4", "type": ["null", "string"]}]}}, {"name": "guest", "type": ["null", {"type": "record", "name": "GuestRef", "fields": [{"name": "guest_id", "type": "long"}, {"name": "name", "type": ["null", "string"]}, {"name": "email", "type": ["null", "string"]}]}]}, {"name": "created_at", "type": {"type": "long", "logicalType": "timestamp-millis"}}, {"name": "updated_at", "type": ["null", {"type": "long", "logicalType": "timestamp-micros"}]}, {"name": "metadata", "type": {"type": "map", "values": "string"}}]})json",
    R"json({"type": "record", "name": "Tree", "fields": [{"name": "label", "type": "string"}, {"name": "children", "type": {"type": "array", "items": "Tree"}}, {"name": "attrs", "type": {"type": "map", "values": "Tree"}}]})json",
    R"json({"type": "array", "items": ["null", "string", "long", "double", "boolean", "bytes", {"type": "record", "name": "Point", "fields": [{"name": "x", "type": "int"}, {"name": "y", "type": "int"}]}, {"type": "enum", "name": "Color", "symbols": ["RED", "GREEN"]}, {"type": "array", "items": "int"}, {"type": "map", "values": "string"}]})json",
    R"json({"type": "record", "name": "All", "namespace": "test.types", "fields": [{"name": "n", "type": "null"}, {"name": "b", "type": "boolean"}, {"name": "i", "type": "int"}, {"name": "l", "type": "long"}, {"name": "f", "type": "float"}, {"name": "d", "type": "double"}, {"name": "by", "type": "bytes"}, {"name": "s", "type": "string"}, {"name": "e", "type": {"type": "enum", "name": "E", "symbols": ["A", "B"]}}, {"name": "fx", "type": {"type": "fixed", "name": "F4", "size": 4}}, {"name": "e2", "type": "E"}, {"name": "fx2", "type": "test.types.F4"}, {"name": "empty", "type": {"type": "record", "name": "Empty", "fields": []}}]})json",
    R"json({"type": "record", "name": "Logicals", "fields": [{"name": "dec", "type": {"type": "bytes", "logicalType": "decimal", "precision": 9, "scale": 5}}, {"name": "decf", "type": {"type": "fixed", "name": "D6", "size": 6, "logicalType": "decimal", "precision": 14, "scale": 2}}, {"name": "id", "type": {"type": "string", "logicalType": "uuid"}}, {"name": "day", "type": {"type": "int", "logicalType": "date"}}, {"name": "tm", "type": {"type": "int", "logicalType": "time-millis"}}, {"name": "tu", "type": {"type": "long", "logicalType": "time-micros"}}, {"name": "tsm", "type": {"type": "long", "logicalType": "timestamp-millis"}}, {"name": "tsu", "type": {"type": "long", "logicalType": "timestamp-micros"}}, {"name": "ltm", "type": {"type": "long", "logicalType": "local-timestamp-millis"}}, {"name": "ltu", "type": {"type": "long", "logicalType": "local-timestamp-micros"}}, {"name": "dur", "type": {"type": "fixed", "name": "Dur12", "size": 12, "logicalType": "duration"}}, {"name": "uf", "type": {"type": "fixed", "name": "U16", "size": 16, "logicalType": "uuid"}}]})json",
};
constexpr size_t kNumFixed = sizeof(kFixedSchemas) / sizeof(kFixedSchemas[0]);

void Check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "avro_decode_fuzz: %s\n", what);
    std::abort();
  }
}

// Value equality that allows doubles to differ in their last digits: Boost
// 1.81's parser is not correctly rounded (7.2911185428784936E-304 reads back
// several ulps off), while the text we write is exact.
bool NearlyEqual(const boost::json::value& a, const boost::json::value& b) {
  if (a.is_double() && b.is_double()) {
    const double x = a.get_double();
    const double y = b.get_double();
    return x == y || std::fabs(x - y) <= 1e-13 * std::fabs(x);
  }
  if (a.kind() != b.kind()) return false;
  if (a.is_array()) {
    const auto& x = a.get_array();
    const auto& y = b.get_array();
    if (x.size() != y.size()) return false;
    for (size_t i = 0; i < x.size(); ++i) {
      if (!NearlyEqual(x[i], y[i])) return false;
    }
    return true;
  }
  if (a.is_object()) {
    const auto& x = a.get_object();
    const auto& y = b.get_object();
    if (x.size() != y.size()) return false;
    for (auto it = x.begin(), jt = y.begin(); it != x.end(); ++it, ++jt) {
      if (it->key() != jt->key() || !NearlyEqual(it->value(), jt->value())) return false;
    }
    return true;
  }
  return a == b;
}

const std::shared_ptr<const rte::avro::Schema>* FixedSchemas() {
  static std::shared_ptr<const rte::avro::Schema> schemas[kNumFixed];
  static bool parsed = [] {
    for (size_t i = 0; i < kNumFixed; ++i) {
      auto r = rte::avro::Schema::Parse(kFixedSchemas[i]);
      Check(r.ok(), "fixed schema does not parse");
      schemas[i] = *r;
    }
    return true;
  }();
  (void)parsed;
  return schemas;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  std::shared_ptr<const rte::avro::Schema> schema;
  std::span<const uint8_t> payload;
  if (data[0] < kNumFixed) {
    schema = FixedSchemas()[data[0]];
    payload = {data + 1, size - 1};
  } else {
    if (size < 3) return 0;
    const size_t len = (size_t{data[1]} << 8) | data[2];
    if (size - 3 < len) return 0;
    auto parsed = rte::avro::Schema::Parse({reinterpret_cast<const char*>(data + 3), len});
    if (!parsed.ok()) {
      Check(!parsed.error().message.empty(), "schema error without a message");
      return 0;
    }
    schema = *parsed;
    payload = {data + 3 + len, size - 3 - len};
  }

  rte::avro::DecodeOptions options;
  options.max_output_bytes = 1 << 20;  // keeps zero-byte items from slowing the fuzzer
  auto value = rte::avro::DecodeToValue(*schema, payload, options);
  std::string text = "#";
  const rte::Status st = rte::avro::DecodeToJson(*schema, payload, &text, options);
  Check(value.ok() == st.ok(), "DecodeToValue and DecodeToJson disagree on success");
  if (!st.ok()) {
    Check(text == "#", "DecodeToJson changed its output on error");
    Check(value.error().code == st.error().code, "error codes differ");
    return 0;
  }
  Check(text.size() - 1 <= options.max_output_bytes, "output above the limit");
  const std::string_view json(text.data() + 1, text.size() - 1);
  Check(json == boost::json::serialize(*value), "text differs from the serialized value");
  boost::system::error_code ec;
  boost::json::parse_options po;
  po.max_depth = 1000;
  const boost::json::value back = boost::json::parse(json, ec, {}, po);
  Check(!ec, "output is not valid JSON");
  Check(NearlyEqual(back, *value), "output does not parse back to the value");
  return 0;
}

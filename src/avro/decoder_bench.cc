// Decode + render throughput for a realistic payment record (nested records,
// union strings, a decimal amount, timestamps, a map): ~170 bytes of Avro.
// Run: build-*/decoder_bench --benchmark_min_time=2
#include <benchmark/benchmark.h>

#include <boost/json/serialize.hpp>

#include <string>

#include "avro/decoder.h"
#include "avro/schema.h"
#include "avro/binary_writer.h"

namespace rte::avro {
namespace {

// Same schema as the "payment" vector in testdata/vectors.json.
constexpr const char* kPaymentSchema = R"({"type":"record","name":"Payment","namespace":"com.acme.payments","fields":[
  {"name":"payment_id","type":{"type":"string","logicalType":"uuid"}},
  {"name":"organization_id","type":"long"},
  {"name":"property_id","type":["null","string"],"default":null},
  {"name":"reservation_id","type":["null","string"],"default":null},
  {"name":"amount","type":{"type":"bytes","logicalType":"decimal","precision":12,"scale":2}},
  {"name":"currency","type":{"type":"enum","name":"Currency","symbols":["EUR","USD","GBP","CHF"]}},
  {"name":"status","type":{"type":"enum","name":"Status","symbols":["PENDING","AUTHORIZED","CAPTURED","REFUNDED","FAILED"]}},
  {"name":"method","type":{"type":"record","name":"PaymentMethod","fields":[
    {"name":"kind","type":"string"},{"name":"card_brand","type":["null","string"]},{"name":"last4","type":["null","string"]}]}},
  {"name":"guest","type":["null",{"type":"record","name":"GuestRef","fields":[
    {"name":"guest_id","type":"long"},{"name":"name","type":["null","string"]},{"name":"email","type":["null","string"]}]}]},
  {"name":"created_at","type":{"type":"long","logicalType":"timestamp-millis"}},
  {"name":"updated_at","type":["null",{"type":"long","logicalType":"timestamp-micros"}]},
  {"name":"metadata","type":{"type":"map","values":"string"}}]})";

constexpr const char* kKeySchema =
    R"({"type":"record","name":"Key","fields":[{"name":"organization_id","type":"long"}]})";

std::vector<uint8_t> PaymentPayload() {
  BinaryWriter w;
  w.String("9b2f6c1e-4d7a-4f0e-8c3b-2a5d9e7f1b44").Long(4711);
  w.Long(1).String("prop-0042").Long(1).String("RES-2026-000123456");
  w.Bytes({0x01, 0xE8, 0x3E});  // 1249.90
  w.Int(0).Int(2);              // EUR, CAPTURED
  w.String("card").Long(1).String("VISA").Long(1).String("4242");
  w.Long(1).Long(90210).Long(1).String("Ana M\u00fcller").Long(1).String("ana@example.com");
  w.Long(1795898110123).Long(1).Long(1795898111456789);
  w.Long(2).String("channel").String("web").String("terminal").String("T-17").Long(0);
  return w.bytes();
}

void BM_PaymentToJson(benchmark::State& state) {
  auto schema = *Schema::Parse(kPaymentSchema);
  const std::vector<uint8_t> payload = PaymentPayload();
  std::string out;
  for (auto _ : state) {
    out.clear();
    if (!DecodeToJson(*schema, payload, &out).ok()) state.SkipWithError("decode failed");
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(payload.size()));
  state.counters["payload_bytes"] = static_cast<double>(payload.size());
  state.counters["json_bytes"] = static_cast<double>(out.size());
}
BENCHMARK(BM_PaymentToJson);

void BM_PaymentToValue(benchmark::State& state) {
  auto schema = *Schema::Parse(kPaymentSchema);
  const std::vector<uint8_t> payload = PaymentPayload();
  for (auto _ : state) {
    auto v = DecodeToValue(*schema, payload);
    if (!v.ok()) state.SkipWithError("decode failed");
    benchmark::DoNotOptimize(v);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_PaymentToValue);

// The routing path: decode the record key to a value.
void BM_KeyToValue(benchmark::State& state) {
  auto schema = *Schema::Parse(kKeySchema);
  const std::vector<uint8_t> payload = BinaryWriter().Long(4711).bytes();
  for (auto _ : state) {
    auto v = DecodeToValue(*schema, payload);
    benchmark::DoNotOptimize(v);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_KeyToValue);

void BM_ParsePaymentSchema(benchmark::State& state) {
  for (auto _ : state) {
    auto s = Schema::Parse(kPaymentSchema);
    benchmark::DoNotOptimize(s);
  }
}
BENCHMARK(BM_ParsePaymentSchema);

}  // namespace
}  // namespace rte::avro

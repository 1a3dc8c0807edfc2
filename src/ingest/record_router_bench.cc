// Ingest hot path without sockets: Confluent-framed Avro records through the
// real RegistryDecoder (schema from an in-process registry, cached after the
// first lookup), tenant routing, early skip, value decode and event render.
//   BM_RouteAvroRecord/subscribed_pct: records/s with that share of records
//   belonging to a subscribed tenant (the rest are skipped before the value
//   is decoded).
#include <benchmark/benchmark.h>

#include <chrono>
#include <thread>

#include "avro/binary_writer.h"
#include "ingest/record_router.h"
#include "ingest/registry_decoder.h"
#include "registry/confluent_framing.h"
#include "registry/registry_server.h"
#include "registry/schema_registry_client.h"

namespace rte::ingest {
namespace {

constexpr std::string_view kKey =
    R"({"type":"record","name":"Key","fields":[{"name":"organization_id","type":"long"}]})";
constexpr std::string_view kValue = R"({"type":"record","name":"Payment","fields":[
  {"name":"payment_id","type":"string"},
  {"name":"reservation_id","type":["null","string"]},
  {"name":"organization_id","type":"long"},
  {"name":"property_id","type":"string"},
  {"name":"amount","type":{"type":"bytes","logicalType":"decimal","precision":12,"scale":2}},
  {"name":"currency","type":"string"},
  {"name":"method","type":{"type":"enum","name":"M","symbols":["card","bank_transfer","cash","wallet"]}},
  {"name":"status","type":"string"},
  {"name":"created_at","type":{"type":"long","logicalType":"timestamp-millis"}}]})";

class NullSink : public routing::EventSink {
 public:
  void Deliver(uint64_t, routing::EventPtr e) override { bytes += e->frame.size(); }
  void Flush() override {}
  size_t bytes = 0;
};

std::string AsString(const avro::BinaryWriter& w) {
  return std::string(reinterpret_cast<const char*>(w.bytes().data()), w.bytes().size());
}

void BM_RouteAvroRecord(benchmark::State& state) {
  registry::RegistryServer server{registry::RegistryServerOptions{}};
  if (!server.Start()) {
    state.SkipWithError("registry server did not start");
    return;
  }
  const int32_t key_id = *server.Register("payments-key", std::string(kKey));
  const int32_t value_id = *server.Register("payments-value", std::string(kValue));
  registry::SchemaRegistryClientSettings rs;
  rs.url = server.url();
  auto client = registry::SchemaRegistryClient::Create(rs);
  (void)(*client)->FetchBlocking(key_id, std::chrono::seconds(5));
  (void)(*client)->FetchBlocking(value_id, std::chrono::seconds(5));

  config::ChannelConfig ch;
  ch.name = "payment";
  ch.topic = "payments";
  ch.tenant_field = *config::ParseFieldPath("key.organization_id");
  ch.property_field = *config::ParseFieldPath("value.property_id");
  routing::ChannelTable channels({ch});
  RegistryDecoder framed(**client);
  PayloadDecoder decoder(&framed);
  routing::InterestTable interest;
  NullSink sink;
  metrics::IngestStats stats;
  RecordRouter router(channels, decoder, interest, sink, stats);

  // 100 tenants; the first `subscribed_pct` of them have a subscriber.
  const int subscribed = static_cast<int>(state.range(0));
  for (int t = 0; t < subscribed; ++t) interest.Apply({{0, std::to_string(t)}, 0, true, 0});
  std::vector<std::pair<std::string, std::string>> records;
  for (int t = 0; t < 100; ++t) {
    avro::BinaryWriter k, v;
    k.Long(t);
    v.String("P-" + std::to_string(1000 + t)).Long(1).String("R-" + std::to_string(t) + "-123456").Long(t)
        .String(std::to_string(t * 100 + 1)).Bytes({0x01, 0x86, 0xA0}).String("EUR").Int(t % 4)
        .String("captured").Long(1764350000000 + t);
    records.emplace_back(registry::FrameConfluent(key_id, AsString(k)), registry::FrameConfluent(value_id, AsString(v)));
  }
  size_t i = 0;
  for (auto _ : state) {
    const auto& [k, v] = records[i++ % records.size()];
    RecordView r;
    r.topic = "payments";
    r.partition = 0;
    r.offset = static_cast<int64_t>(i);
    r.timestamp_ms = 1764350000000;
    r.key = {reinterpret_cast<const uint8_t*>(k.data()), k.size()};
    r.has_key = true;
    r.value = {reinterpret_cast<const uint8_t*>(v.data()), v.size()};
    r.has_value = true;
    benchmark::DoNotOptimize(router.Route(r));
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
  state.counters["routed"] = static_cast<double>(stats.records_routed.Get());
  state.counters["errors"] = static_cast<double>(stats.value_errors.Get() + stats.key_errors.Get());
  client->reset();
  server.Stop();
}
BENCHMARK(BM_RouteAvroRecord)->Arg(0)->Arg(1)->Arg(10)->Arg(100)->ArgName("subscribed_pct");

}  // namespace
}  // namespace rte::ingest

// Lookup cost on the ingest path: a cached id (the steady state), from one
// thread and from several at once (the lock is shared with the client thread).
#include <benchmark/benchmark.h>

#include "registry/registry_server.h"
#include "registry/schema_registry_client.h"

namespace rte::registry {
namespace {

struct Fixture {
  Fixture() {
    (void)server.Start();
    (void)server.Register("k", R"({"type":"record","name":"K","fields":[]})");
    SchemaRegistryClientSettings s;
    s.url = server.url();
    client = SchemaRegistryClient::Create(s).value();
    (void)client->FetchBlocking(1, std::chrono::seconds(5));
  }
  RegistryServer server{RegistryServerOptions{}};
  std::unique_ptr<SchemaRegistryClient> client;
};

Fixture& Shared() {
  static Fixture* f = new Fixture();
  return *f;
}

void BM_LookupCached(benchmark::State& state) {
  SchemaRegistryClient& client = *Shared().client;
  for (auto _ : state) {
    LookupResult r = client.Lookup(1);
    benchmark::DoNotOptimize(r);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_LookupCached)->Threads(1)->Threads(2);

}  // namespace
}  // namespace rte::registry

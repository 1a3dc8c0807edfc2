#include "registry/schema_registry_client.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdio>
#include <fstream>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "registry/registry_server.h"
#include "registry/test_http_util.h"
#include "registry/testing/fault_injector.h"

namespace rte::registry {
namespace {

using std::chrono::milliseconds;
using testing::WaitUntil;

constexpr const char* kKeySchema =
    R"({"type":"record","name":"Key","fields":[{"name":"organization_id","type":"long"}]})";
constexpr const char* kValueSchema =
    R"({"type":"record","name":"Value","fields":[{"name":"reservation_id","type":["null","string"]}]})";

std::string Schema(int n) {
  return R"({"type":"record","name":"R)" + std::to_string(n) + R"(","fields":[]})";
}

// Records OnSettled notifications (ready, or permanently failed).
class ReadyLog {
 public:
  std::function<void(int32_t)> Callback() {
    return [this](int32_t id) {
      std::lock_guard lock(mu_);
      ids_.insert(id);
    };
  }
  bool Has(int32_t id) const {
    std::lock_guard lock(mu_);
    return ids_.count(id) > 0;
  }

 private:
  mutable std::mutex mu_;
  std::multiset<int32_t> ids_;
};

class SchemaRegistryClientTest : public ::testing::Test {
 protected:
  void SetUp() override { StartServer(RegistryServerOptions{}); }

  void StartServer(RegistryServerOptions options) {
    options.hook = &faults_;
    server_ = std::make_unique<RegistryServer>(options);
    ASSERT_TRUE(server_->Start().ok());
  }

  SchemaRegistryClientSettings Settings() const {
    SchemaRegistryClientSettings s;
    s.url = server_->url();
    s.request_timeout = milliseconds(2000);
    s.max_retries = 1;
    s.retry_backoff_initial = milliseconds(5);
    s.retry_backoff_max = milliseconds(20);
    s.quarantine_backoff_initial = milliseconds(20);
    s.quarantine_backoff_max = milliseconds(100);
    return s;
  }

  std::unique_ptr<SchemaRegistryClient> MakeClient(SchemaRegistryClientSettings s) {
    auto c = SchemaRegistryClient::Create(std::move(s));
    EXPECT_TRUE(c.ok()) << c.error().message;
    return c.ok() ? std::move(*c) : nullptr;
  }

  testing::FaultInjector faults_;
  std::unique_ptr<RegistryServer> server_;
};

TEST_F(SchemaRegistryClientTest, FetchesSchemaById) {
  ASSERT_EQ(*server_->Register("payments-key", kKeySchema), 1);
  ASSERT_EQ(*server_->Register("events-value", R"({"type":"object"})", SchemaType::kJson), 2);
  auto client = MakeClient(Settings());
  auto s = client->FetchBlocking(1, milliseconds(5000));
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_EQ((*s)->id, 1);
  EXPECT_EQ((*s)->type, SchemaType::kAvro);
  EXPECT_EQ((*s)->schema_text, kKeySchema);
  EXPECT_TRUE((*s)->resolved_references.empty());
  auto j = client->FetchBlocking(2, milliseconds(5000));
  ASSERT_TRUE(j.ok()) << j.error().message;
  EXPECT_EQ((*j)->type, SchemaType::kJson);
  // Both over one kept-alive connection.
  EXPECT_EQ(server_->connections_accepted(), 1u);
  EXPECT_EQ(client->counters().connections_opened, 1u);
}

TEST_F(SchemaRegistryClientTest, LookupIsPendingThenReadyAndCachedWithoutRequests) {
  ASSERT_TRUE(server_->Register("k", kKeySchema).ok());
  auto client = MakeClient(Settings());
  ReadyLog ready;
  client->SetOnSettled(ready.Callback());
  LookupResult first = client->Lookup(1);
  EXPECT_TRUE(first.pending() || first.ready());
  ASSERT_TRUE(WaitUntil([&] { return ready.Has(1); }));
  for (int i = 0; i < 1000; ++i) {
    LookupResult r = client->Lookup(1);
    ASSERT_TRUE(r.ready());
    ASSERT_EQ(r.schema()->schema_text, kKeySchema);
  }
  EXPECT_EQ(faults_.RequestsFor("/schemas/ids/1"), 1u);
  const auto c = client->counters();
  EXPECT_GE(c.cache_hits, 1000u);
  EXPECT_EQ(c.cached_ids, 1u);
  EXPECT_EQ(c.requests, 1u);
}

TEST_F(SchemaRegistryClientTest, ConcurrentMissesMakeOneRequest) {
  ASSERT_TRUE(server_->Register("k", kKeySchema).ok());
  // Hold the answer back so that every thread misses while the fetch is out.
  faults_.Set(testing::FaultMode::kSlow, milliseconds(300));
  auto client = MakeClient(Settings());
  std::atomic<int> pending_seen{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      bool counted = false;
      const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
      while (std::chrono::steady_clock::now() < deadline) {
        LookupResult r = client->Lookup(1);
        if (r.ready()) return;
        EXPECT_FALSE(r.failed()) << r.error().message;
        if (!counted) {
          counted = true;
          ++pending_seen;
        }
        std::this_thread::yield();
      }
      ADD_FAILURE() << "id 1 never became ready";
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_GE(pending_seen.load(), 2);
  EXPECT_EQ(faults_.RequestsFor("/schemas/ids/1"), 1u);
  EXPECT_EQ(client->counters().requests, 1u);
}

TEST_F(SchemaRegistryClientTest, SendsBasicAuth) {
  RegistryServerOptions options;
  options.user_info = "API_KEY:API_SECRET";
  StartServer(options);
  ASSERT_TRUE(server_->Register("k", kKeySchema).ok());
  auto settings = Settings();
  settings.user_info = "API_KEY:API_SECRET";
  auto client = MakeClient(settings);
  EXPECT_TRUE(client->CheckConnectivity().ok());
  auto s = client->FetchBlocking(1, milliseconds(5000));
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_EQ(server_->authorized_requests(), 2u);
}

TEST_F(SchemaRegistryClientTest, WrongCredentialsGiveAClearError) {
  RegistryServerOptions options;
  options.user_info = "API_KEY:API_SECRET";
  StartServer(options);
  ASSERT_TRUE(server_->Register("k", kKeySchema).ok());
  auto settings = Settings();
  settings.user_info = "API_KEY:not-the-secret";
  auto client = MakeClient(settings);
  Status st = client->CheckConnectivity();
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, Errc::kUnauthenticated);
  EXPECT_NE(st.error().message.find("rejected credentials (401)"), std::string::npos)
      << st.error().message;
  EXPECT_EQ(st.error().message.find("not-the-secret"), std::string::npos);
  auto s = client->FetchBlocking(1, milliseconds(5000));
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, Errc::kUnauthenticated);
  LookupResult r = client->Lookup(1);
  ASSERT_TRUE(r.failed());
  EXPECT_EQ(r.error().code, Errc::kUnauthenticated);

  // No credentials at all: the message says so.
  auto anonymous = MakeClient(Settings());
  Status st2 = anonymous->CheckConnectivity();
  ASSERT_FALSE(st2.ok());
  EXPECT_NE(st2.error().message.find("no user_info is configured"), std::string::npos)
      << st2.error().message;
}

TEST_F(SchemaRegistryClientTest, CachedIdsSurviveAnOutageAndUnknownIdsRecover) {
  ASSERT_EQ(*server_->Register("k", kKeySchema), 1);
  auto client = MakeClient(Settings());
  ReadyLog ready;
  client->SetOnSettled(ready.Callback());
  ASSERT_TRUE(client->FetchBlocking(1, milliseconds(5000)).ok());

  server_->Stop();
  ASSERT_EQ(*server_->Register("v", kValueSchema), 2);  // registered while "down"
  EXPECT_TRUE(client->Lookup(1).ready());
  LookupResult r2 = client->Lookup(2);
  EXPECT_TRUE(r2.pending());
  ASSERT_TRUE(WaitUntil([&] { return client->Lookup(2).failed(); }));
  LookupResult failed = client->Lookup(2);
  EXPECT_EQ(failed.error().code, Errc::kUnavailable) << failed.error().message;
  EXPECT_NE(failed.error().message.find("cannot connect"), std::string::npos)
      << failed.error().message;
  EXPECT_TRUE(client->Lookup(1).ready());
  EXPECT_GE(client->counters().quarantined_ids, 1u);
  Status down = client->CheckConnectivity();
  EXPECT_EQ(down.error().code, Errc::kUnavailable);

  ASSERT_TRUE(server_->Start().ok());
  ASSERT_TRUE(WaitUntil([&] { return ready.Has(2); }));
  LookupResult back = client->Lookup(2);
  ASSERT_TRUE(back.ready());
  EXPECT_EQ(back.schema()->schema_text, kValueSchema);
  EXPECT_EQ(client->counters().quarantined_ids, 0u);
  EXPECT_TRUE(client->CheckConnectivity().ok());
}

TEST_F(SchemaRegistryClientTest, ServerErrorsAreRetriedWithBackoff) {
  ASSERT_TRUE(server_->Register("k", kKeySchema).ok());
  faults_.Set(testing::FaultMode::kServerError);
  auto settings = Settings();
  settings.max_retries = 2;
  settings.quarantine_backoff_initial = milliseconds(60'000);  // one round only
  settings.quarantine_backoff_max = milliseconds(60'000);
  auto client = MakeClient(settings);
  auto s = client->FetchBlocking(1, milliseconds(5000));
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, Errc::kUnavailable);
  EXPECT_NE(s.error().message.find("HTTP 500"), std::string::npos) << s.error().message;
  EXPECT_EQ(faults_.RequestsFor("/schemas/ids/1"), 3u);  // first try + 2 retries
  EXPECT_EQ(client->counters().failures, 3u);
  LookupResult r = client->Lookup(1);
  ASSERT_TRUE(r.failed());
  EXPECT_GT(r.retry_at(), std::chrono::steady_clock::now());
}

TEST_F(SchemaRegistryClientTest, NotFoundIsQuarantinedThenRetried) {
  ASSERT_EQ(*server_->Register("k", kKeySchema), 1);
  auto client = MakeClient(Settings());
  ReadyLog ready;
  client->SetOnSettled(ready.Callback());
  auto s = client->FetchBlocking(2, milliseconds(5000));
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, Errc::kNotFound);
  EXPECT_NE(s.error().message.find("schema id 2 not found"), std::string::npos)
      << s.error().message;
  LookupResult r = client->Lookup(2);
  ASSERT_TRUE(r.failed());
  EXPECT_EQ(r.error().code, Errc::kNotFound);
  EXPECT_EQ(client->counters().quarantined_ids, 1u);
  // A 404 is not retried within a fetch: it waits for its backoff.
  EXPECT_GE(faults_.RequestsFor("/schemas/ids/2"), 1u);

  ASSERT_EQ(*server_->Register("v", kValueSchema), 2);
  ASSERT_TRUE(WaitUntil([&] { return ready.Has(2); }));
  EXPECT_TRUE(client->Lookup(2).ready());
  EXPECT_EQ(client->counters().quarantined_ids, 0u);
}

TEST_F(SchemaRegistryClientTest, ResolvesReferencesInDependencyOrder) {
  // money <- address <- customer, and customer also references money directly.
  ASSERT_EQ(*server_->Register("money", R"({"type":"fixed","name":"Money","size":8})"), 1);
  ASSERT_EQ(*server_->Register(
                "address",
                R"({"type":"record","name":"Address","fields":[{"name":"rent","type":"Money"}]})",
                SchemaType::kAvro, {{"Money", "money", 1}}),
            2);
  ASSERT_EQ(*server_->Register(
                "customer value/with slash",
                R"({"type":"record","name":"Customer","fields":[{"name":"a","type":"Address"},{"name":"b","type":"Money"}]})",
                SchemaType::kAvro, {{"Address", "address", 1}, {"Money", "money", 1}}),
            3);
  ASSERT_EQ(*server_->Register("order",
                               R"({"type":"record","name":"Order","fields":[{"name":"c","type":"Customer"}]})",
                               SchemaType::kAvro, {{"Customer", "customer value/with slash", 1}}),
            4);
  auto client = MakeClient(Settings());
  auto s = client->FetchBlocking(4, milliseconds(5000));
  ASSERT_TRUE(s.ok()) << s.error().message;
  const auto& refs = (*s)->resolved_references;
  ASSERT_EQ(refs.size(), 3u);
  EXPECT_EQ(refs[0].name, "Money");
  EXPECT_EQ(refs[1].name, "Address");
  EXPECT_EQ(refs[2].name, "Customer");
  EXPECT_EQ(refs[2].subject, "customer value/with slash");
  EXPECT_NE(refs[1].schema_text.find("\"Address\""), std::string::npos);
  ASSERT_EQ((*s)->references.size(), 1u);
  EXPECT_EQ((*s)->references[0].subject, "customer value/with slash");
}

TEST_F(SchemaRegistryClientTest, TooDeepReferencesFailClearly) {
  ASSERT_TRUE(server_->Register("a", Schema(1)).ok());
  ASSERT_TRUE(server_->Register("b", Schema(2), SchemaType::kAvro, {{"R1", "a", 1}}).ok());
  ASSERT_TRUE(server_->Register("c", Schema(3), SchemaType::kAvro, {{"R2", "b", 1}}).ok());
  auto settings = Settings();
  settings.max_reference_depth = 1;
  auto client = MakeClient(settings);
  auto s = client->FetchBlocking(3, milliseconds(5000));
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, Errc::kOutOfRange);
  EXPECT_NE(s.error().message.find("nested deeper than 1"), std::string::npos)
      << s.error().message;
  EXPECT_TRUE(client->FetchBlocking(2, milliseconds(5000)).ok());
}

TEST_F(SchemaRegistryClientTest, SlowRegistryTimesOutThenRetries) {
  ASSERT_TRUE(server_->Register("k", kKeySchema).ok());
  faults_.Set(testing::FaultMode::kSlow, milliseconds(1000));
  auto settings = Settings();
  settings.request_timeout = milliseconds(100);
  settings.max_retries = 0;
  auto client = MakeClient(settings);
  ReadyLog ready;
  client->SetOnSettled(ready.Callback());
  auto s = client->FetchBlocking(1, milliseconds(5000));
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, Errc::kUnavailable);
  EXPECT_NE(s.error().message.find("timed out after 100 ms"), std::string::npos)
      << s.error().message;
  faults_.Set(testing::FaultMode::kNone);
  ASSERT_TRUE(WaitUntil([&] { return ready.Has(1); }));
  EXPECT_TRUE(client->Lookup(1).ready());
  EXPECT_GE(faults_.RequestsFor("/schemas/ids/1"), 2u);
}

// --- failure classification ---------------------------------------------------

TEST(RegistryErrorKindTest, ClassifiesByErrorCode) {
  auto kind = [](Errc c) { return ClassifyRegistryError(MakeError(c, "x")); };
  EXPECT_EQ(kind(Errc::kUnavailable), RegistryErrorKind::kTransient);
  EXPECT_EQ(kind(Errc::kResourceExhausted), RegistryErrorKind::kTransient);
  EXPECT_EQ(kind(Errc::kInternal), RegistryErrorKind::kTransient);
  EXPECT_EQ(kind(Errc::kUnauthenticated), RegistryErrorKind::kAuth);
  EXPECT_EQ(kind(Errc::kPermissionDenied), RegistryErrorKind::kAuth);
  EXPECT_EQ(kind(Errc::kNotFound), RegistryErrorKind::kNotFound);
  EXPECT_EQ(kind(Errc::kUnsupported), RegistryErrorKind::kUnsupported);
  EXPECT_EQ(kind(Errc::kInvalidArgument), RegistryErrorKind::kUnsupported);
  EXPECT_EQ(kind(Errc::kOutOfRange), RegistryErrorKind::kUnsupported);
  EXPECT_STREQ(RegistryErrorKindName(RegistryErrorKind::kNotFound), "not_found");
}

// Every transient fault (5xx, 429, a dropped connection, a timeout) leaves the
// id Failed, transient and not permanent; it is fetched again with backoff and
// becomes Ready once the registry answers.
TEST_F(SchemaRegistryClientTest, TransientFaultsAreRetriedUntilTheSchemaArrives) {
  ASSERT_TRUE(server_->Register("k", kKeySchema).ok());
  struct Case {
    testing::FaultMode mode;
    milliseconds delay;
  };
  const Case cases[] = {{testing::FaultMode::kServerError, milliseconds(0)},
                        {testing::FaultMode::kUnavailable, milliseconds(0)},
                        {testing::FaultMode::kTooManyRequests, milliseconds(0)},
                        {testing::FaultMode::kDrop, milliseconds(0)},
                        {testing::FaultMode::kSlow, milliseconds(1000)}};
  for (const Case& c : cases) {
    SCOPED_TRACE(testing::FaultModeName(c.mode));
    faults_.Set(c.mode, c.delay);
    auto settings = Settings();
    settings.request_timeout = milliseconds(200);
    auto client = MakeClient(settings);
    ReadyLog settled;
    client->SetOnSettled(settled.Callback());
    ASSERT_FALSE(client->FetchBlocking(1, milliseconds(5000)).ok());
    LookupResult r = client->Lookup(1);
    ASSERT_TRUE(r.failed());
    EXPECT_EQ(r.kind(), RegistryErrorKind::kTransient) << r.error().message;
    EXPECT_FALSE(r.permanent());
    EXPECT_TRUE(client->AuthFailure().empty());
    const uint64_t before = faults_.RequestsFor("/schemas/ids/1");
    ASSERT_TRUE(WaitUntil([&] { return faults_.RequestsFor("/schemas/ids/1") >= before + 2; }))
        << "fetched again with backoff";
    EXPECT_FALSE(settled.Has(1));
    faults_.Set(testing::FaultMode::kNone);
    ASSERT_TRUE(WaitUntil([&] { return settled.Has(1); }));
    EXPECT_TRUE(client->Lookup(1).ready());
    const auto counters = client->counters();
    EXPECT_GE(counters.errors[static_cast<size_t>(RegistryErrorKind::kTransient)], 1u);
    EXPECT_EQ(counters.errors[static_cast<size_t>(RegistryErrorKind::kAuth)], 0u);
    EXPECT_EQ(counters.permanent_ids, 0u);
  }
}

TEST_F(SchemaRegistryClientTest, AuthFailuresAreReportedAndRetriedNeverPermanent) {
  ASSERT_TRUE(server_->Register("k", kKeySchema).ok());
  for (auto mode : {testing::FaultMode::kUnauthorized, testing::FaultMode::kForbidden}) {
    SCOPED_TRACE(testing::FaultModeName(mode));
    faults_.Set(mode);
    auto client = MakeClient(Settings());
    ReadyLog settled;
    client->SetOnSettled(settled.Callback());
    ASSERT_FALSE(client->FetchBlocking(1, milliseconds(5000)).ok());
    LookupResult r = client->Lookup(1);
    ASSERT_TRUE(r.failed());
    EXPECT_EQ(r.kind(), RegistryErrorKind::kAuth);
    EXPECT_FALSE(r.permanent());
    EXPECT_NE(client->AuthFailure().find(mode == testing::FaultMode::kUnauthorized ? "(401)" : "(403)"),
              std::string::npos)
        << client->AuthFailure();
    const uint64_t before = faults_.RequestsFor("/schemas/ids/1");
    ASSERT_TRUE(WaitUntil([&] { return faults_.RequestsFor("/schemas/ids/1") >= before + 2; }));
    EXPECT_FALSE(client->Lookup(1).permanent());
    faults_.Set(testing::FaultMode::kNone);
    ASSERT_TRUE(WaitUntil([&] { return settled.Has(1); }));
    EXPECT_TRUE(client->AuthFailure().empty());
    EXPECT_GE(client->counters().errors[static_cast<size_t>(RegistryErrorKind::kAuth)], 1u);
  }
}

TEST_F(SchemaRegistryClientTest, NotFoundWithinTheGraceWaitsThenResolves) {
  ASSERT_EQ(*server_->Register("k", kKeySchema), 1);
  auto settings = Settings();
  settings.not_found_grace = milliseconds(60'000);
  auto client = MakeClient(settings);
  ReadyLog settled;
  client->SetOnSettled(settled.Callback());
  ASSERT_FALSE(client->FetchBlocking(2, milliseconds(5000)).ok());
  LookupResult r = client->Lookup(2);
  ASSERT_TRUE(r.failed());
  EXPECT_EQ(r.kind(), RegistryErrorKind::kNotFound);
  EXPECT_FALSE(r.permanent());  // could be replication lag: wait for it
  ASSERT_EQ(*server_->Register("v", kValueSchema), 2);
  ASSERT_TRUE(WaitUntil([&] { return settled.Has(2); }));
  EXPECT_TRUE(client->Lookup(2).ready());
  EXPECT_EQ(client->counters().permanent_ids, 0u);
}

TEST_F(SchemaRegistryClientTest, NotFoundPastTheGraceIsPermanentAndStillRetried) {
  ASSERT_EQ(*server_->Register("k", kKeySchema), 1);
  auto settings = Settings();
  settings.not_found_grace = milliseconds(300);
  settings.quarantine_backoff_initial = milliseconds(10'000);  // the grace, not the backoff, wakes it
  settings.quarantine_backoff_max = milliseconds(10'000);
  auto client = MakeClient(settings);
  ReadyLog settled;
  client->SetOnSettled(settled.Callback());
  const auto start = std::chrono::steady_clock::now();
  EXPECT_TRUE(client->Lookup(2).pending());
  ASSERT_TRUE(WaitUntil([&] { return settled.Has(2); })) << "settled as permanent";
  EXPECT_LT(std::chrono::steady_clock::now() - start, milliseconds(5000));
  LookupResult r = client->Lookup(2);
  ASSERT_TRUE(r.failed());
  EXPECT_EQ(r.kind(), RegistryErrorKind::kNotFound);
  EXPECT_TRUE(r.permanent());
  EXPECT_EQ(client->counters().permanent_ids, 1u);
  EXPECT_GE(client->counters().errors[static_cast<size_t>(RegistryErrorKind::kNotFound)], 2u);
}

// Answers /schemas/ids/1 with a schemaType this gateway does not know.
class UnknownTypeHook final : public RequestHook {
 public:
  HookDecision OnRequest(const RegistryServer&, const HookRequest& request) override {
    HookDecision d;
    if (request.path == "/schemas/ids/1") {
      d.reply = HookReply{200, R"({"schema":"syntax = \"proto3\";","schemaType":"XML"})", {}};
    }
    return d;
  }
};

TEST(SchemaRegistryClientUnsupportedTest, AnUnusableAnswerIsPermanentAtOnce) {
  UnknownTypeHook hook;
  RegistryServerOptions options;
  options.hook = &hook;
  RegistryServer server(options);
  ASSERT_TRUE(server.Start().ok());
  SchemaRegistryClientSettings s;
  s.url = server.url();
  s.quarantine_backoff_initial = milliseconds(20);
  auto client = SchemaRegistryClient::Create(s);
  ASSERT_TRUE(client.ok());
  ReadyLog settled;
  (*client)->SetOnSettled(settled.Callback());
  auto fetched = (*client)->FetchBlocking(1, milliseconds(5000));
  ASSERT_FALSE(fetched.ok());
  EXPECT_EQ(fetched.error().code, Errc::kUnsupported);
  LookupResult r = (*client)->Lookup(1);
  ASSERT_TRUE(r.failed());
  EXPECT_EQ(r.kind(), RegistryErrorKind::kUnsupported);
  EXPECT_TRUE(r.permanent());
  // The callback runs on the client's thread, maybe just after FetchBlocking returned.
  EXPECT_TRUE(WaitUntil([&] { return settled.Has(1); }));
}

TEST_F(SchemaRegistryClientTest, ReconnectsAfterTheServerDropsKeptAliveConnections) {
  ASSERT_TRUE(server_->Register("k", kKeySchema).ok());
  ASSERT_TRUE(server_->Register("v", kValueSchema).ok());
  auto settings = Settings();
  settings.max_retries = 0;
  auto client = MakeClient(settings);
  ASSERT_TRUE(client->FetchBlocking(1, milliseconds(5000)).ok());
  server_->Stop();  // closes the kept-alive connection
  ASSERT_TRUE(server_->Start().ok());
  // The stale connection fails; the client retries once on a fresh one.
  auto s = client->FetchBlocking(2, milliseconds(5000));
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_EQ(client->counters().connections_opened, 2u);
}

TEST_F(SchemaRegistryClientTest, HttpsToAPlainServerFailsInTheHandshake) {
  ASSERT_TRUE(server_->Register("k", kKeySchema).ok());
  auto settings = Settings();
  settings.url = "https://127.0.0.1:" + std::to_string(server_->port());
  settings.max_retries = 0;
  auto client = MakeClient(settings);
  Status st = client->CheckConnectivity();
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, Errc::kUnavailable);
  EXPECT_NE(st.error().message.find("TLS handshake"), std::string::npos) << st.error().message;
}

// HTTPS against our server with a throwaway certificate for "localhost".
class SchemaRegistryClientTlsTest : public SchemaRegistryClientTest {
 protected:
  void SetUp() override {
    cert_ = testing::MakeSelfSignedCertificate("localhost");
    ASSERT_FALSE(cert_.cert_pem.empty());
    RegistryServerOptions options;
    options.host = "127.0.0.1";
    options.user_info = "KEY:SECRET";
    options.tls_cert_pem = cert_.cert_pem;
    options.tls_key_pem = cert_.key_pem;
    StartServer(options);
    ASSERT_TRUE(server_->Register("k", kKeySchema).ok());
    ca_file_ = ::testing::TempDir() + "registry_ca_" + std::to_string(server_->port()) + ".pem";
    std::ofstream(ca_file_) << cert_.cert_pem;
  }
  void TearDown() override { std::remove(ca_file_.c_str()); }

  SchemaRegistryClientSettings TlsSettings(const std::string& host) const {
    auto s = Settings();
    s.url = "https://" + host + ":" + std::to_string(server_->port());
    s.user_info = "KEY:SECRET";
    s.ca_file = ca_file_;
    s.max_retries = 0;
    return s;
  }

  testing::TestCertificate cert_;
  std::string ca_file_;
};

TEST_F(SchemaRegistryClientTlsTest, FetchesOverHttpsWithVerifiedCertificate) {
  auto client = MakeClient(TlsSettings("localhost"));
  EXPECT_TRUE(client->CheckConnectivity().ok());
  auto s = client->FetchBlocking(1, milliseconds(5000));
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_EQ((*s)->schema_text, kKeySchema);
  EXPECT_EQ(server_->authorized_requests(), 2u);
  EXPECT_EQ(client->counters().connections_opened, 1u);  // kept alive over TLS too
}

TEST_F(SchemaRegistryClientTlsTest, RejectsCertificateForAnotherName) {
  // The certificate names "localhost", not 127.0.0.1.
  auto client = MakeClient(TlsSettings("127.0.0.1"));
  auto s = client->FetchBlocking(1, milliseconds(5000));
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message.find("certificate verify failed"), std::string::npos)
      << s.error().message;
  EXPECT_EQ(server_->authorized_requests(), 0u);
}

TEST_F(SchemaRegistryClientTlsTest, RejectsUntrustedCertificate) {
  auto settings = TlsSettings("localhost");
  settings.ca_file.clear();  // system CAs only
  auto client = MakeClient(settings);
  Status st = client->CheckConnectivity();
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message.find("certificate verify failed"), std::string::npos)
      << st.error().message;
}

TEST(SchemaRegistryClientCreateTest, RejectsBadSettings) {
  SchemaRegistryClientSettings s;
  s.url = "registry:8081";
  EXPECT_EQ(SchemaRegistryClient::Create(s).error().code, Errc::kInvalidArgument);
  s.url = "http://127.0.0.1:8081";
  s.user_info = "no-colon";
  auto r = SchemaRegistryClient::Create(s);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message.find("no-colon"), std::string::npos);
  s.user_info = "";
  s.url = "https://127.0.0.1:8081";
  s.ca_file = "/nonexistent/ca.pem";
  EXPECT_EQ(SchemaRegistryClient::Create(s).error().code, Errc::kInvalidArgument);
}

TEST(SchemaRegistryClientCreateTest, UnresolvedIdsAreBounded) {
  SchemaRegistryClientSettings s;
  s.url = "http://127.0.0.1:1";  // nothing listens on port 1
  s.max_unresolved_ids = 3;
  s.request_timeout = milliseconds(500);
  auto client = SchemaRegistryClient::Create(s);
  ASSERT_TRUE(client.ok());
  for (int id = 1; id <= 3; ++id) EXPECT_FALSE((*client)->Lookup(id).ready());
  LookupResult r = (*client)->Lookup(4);
  ASSERT_TRUE(r.failed());
  EXPECT_EQ(r.error().code, Errc::kResourceExhausted);
}

}  // namespace
}  // namespace rte::registry

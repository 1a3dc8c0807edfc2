#include "registry/registry_server.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "registry/test_http_util.h"
#include "registry/testing/fault_injector.h"

namespace rte::registry {
namespace {

using boost::beast::http::verb;
using testing::FaultInjector;
using testing::FaultMode;
using testing::RawRequest;
namespace json = boost::json;

constexpr const char* kKeySchema =
    R"({"type":"record","name":"Key","fields":[{"name":"organization_id","type":"long"}]})";
constexpr const char* kValueSchema =
    R"({"type":"record","name":"Value","fields":[{"name":"reservation_id","type":["null","string"]}]})";

std::string RegisterBody(const std::string& schema, const std::string& type = "",
                         const json::array& refs = {}) {
  json::object o{{"schema", schema}};
  if (!type.empty()) o["schemaType"] = type;
  if (!refs.empty()) o["references"] = refs;
  return json::serialize(o);
}

json::value Json(const std::string& s) { return json::parse(s); }

class RegistryServerTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(server_.Start().ok()); }
  uint16_t port() const { return server_.port(); }
  static RegistryServerOptions WithHook(RequestHook* hook) {
    RegistryServerOptions o;
    o.hook = hook;
    return o;
  }
  FaultInjector faults_;
  RegistryServer server_{WithHook(&faults_)};
};

TEST_F(RegistryServerTest, BindsAnEphemeralPort) {
  EXPECT_NE(port(), 0);
  EXPECT_EQ(server_.url(), "http://127.0.0.1:" + std::to_string(port()));
}

TEST_F(RegistryServerTest, RegisterGivesGlobalIncreasingIdsAndReusesSameSchema) {
  auto r1 = RawRequest(port(), verb::post, "/subjects/payments-key/versions", RegisterBody(kKeySchema));
  ASSERT_EQ(r1.status, 200u) << r1.body << r1.error;
  EXPECT_EQ(Json(r1.body), Json(R"({"id":1})"));
  auto r2 = RawRequest(port(), verb::post, "/subjects/payments-value/versions", RegisterBody(kValueSchema));
  EXPECT_EQ(Json(r2.body), Json(R"({"id":2})"));
  // Same text and type again, even under another subject: same id.
  auto r3 = RawRequest(port(), verb::post, "/subjects/guests-key/versions", RegisterBody(kKeySchema));
  EXPECT_EQ(Json(r3.body), Json(R"({"id":1})"));
  auto r4 = RawRequest(port(), verb::post, "/subjects/payments-key/versions", RegisterBody(kKeySchema));
  EXPECT_EQ(Json(r4.body), Json(R"({"id":1})"));
  // Same text as JSON Schema is a different schema.
  auto r5 = RawRequest(port(), verb::post, "/subjects/x/versions", RegisterBody(kKeySchema, "JSON"));
  EXPECT_EQ(Json(r5.body), Json(R"({"id":3})"));
  // Re-registering did not add versions.
  auto versions = RawRequest(port(), verb::get, "/subjects/payments-key/versions");
  EXPECT_EQ(Json(versions.body), Json("[1]"));
}

TEST_F(RegistryServerTest, GetsSchemaByIdInConfluentShape) {
  ASSERT_TRUE(server_.Register("k", kKeySchema).ok());
  ASSERT_EQ(*server_.Register("j", R"({"type":"object"})", SchemaType::kJson), 2);
  auto avro = RawRequest(port(), verb::get, "/schemas/ids/1");
  ASSERT_EQ(avro.status, 200u);
  // AVRO: no schemaType field, as Confluent does.
  EXPECT_EQ(Json(avro.body), (json::value{{"schema", kKeySchema}}));
  auto js = RawRequest(port(), verb::get, "/schemas/ids/2");
  EXPECT_EQ(Json(js.body), (json::value{{"schema", R"({"type":"object"})"}, {"schemaType", "JSON"}}));
  auto raw = RawRequest(port(), verb::get, "/schemas/ids/1/schema");
  EXPECT_EQ(raw.body, kKeySchema);
  auto missing = RawRequest(port(), verb::get, "/schemas/ids/99");
  EXPECT_EQ(missing.status, 404u);
  EXPECT_EQ(Json(missing.body).at("error_code"), 40403);
  EXPECT_EQ(RawRequest(port(), verb::get, "/schemas/ids/abc").status, 404u);
}

TEST_F(RegistryServerTest, SubjectsAndVersions) {
  ASSERT_TRUE(server_.Register("b-value", kValueSchema).ok());
  ASSERT_TRUE(server_.Register("a-key", kKeySchema).ok());
  const std::string v2 =
      R"({"type":"record","name":"Key","fields":[{"name":"organization_id","type":"int"}]})";
  ASSERT_EQ(*server_.Register("a-key", v2), 3);
  EXPECT_EQ(Json(RawRequest(port(), verb::get, "/subjects").body), Json(R"(["a-key","b-value"])"));
  EXPECT_EQ(Json(RawRequest(port(), verb::get, "/subjects/a-key/versions").body), Json("[1,2]"));

  auto latest = Json(RawRequest(port(), verb::get, "/subjects/a-key/versions/latest").body);
  EXPECT_EQ(latest, (json::value{{"subject", "a-key"}, {"version", 2}, {"id", 3}, {"schema", v2}}));
  auto first = Json(RawRequest(port(), verb::get, "/subjects/a-key/versions/1").body);
  EXPECT_EQ(first.at("id"), 2);
  EXPECT_EQ(RawRequest(port(), verb::get, "/subjects/a-key/versions/1/schema").body, kKeySchema);

  auto no_subject = RawRequest(port(), verb::get, "/subjects/zzz/versions/1");
  EXPECT_EQ(no_subject.status, 404u);
  EXPECT_EQ(Json(no_subject.body).at("error_code"), 40401);
  auto no_subject_list = RawRequest(port(), verb::get, "/subjects/zzz/versions");
  EXPECT_EQ(Json(no_subject_list.body).at("error_code"), 40401);
  auto no_version = RawRequest(port(), verb::get, "/subjects/a-key/versions/7");
  EXPECT_EQ(no_version.status, 404u);
  EXPECT_EQ(Json(no_version.body).at("error_code"), 40402);
  auto bad_version = RawRequest(port(), verb::get, "/subjects/a-key/versions/x1");
  EXPECT_EQ(bad_version.status, 422u);
  EXPECT_EQ(Json(bad_version.body).at("error_code"), 42202);
}

TEST_F(RegistryServerTest, LookupBySchemaUnderSubject) {
  ASSERT_TRUE(server_.Register("a-key", kKeySchema).ok());
  auto found = RawRequest(port(), verb::post, "/subjects/a-key", RegisterBody(kKeySchema));
  ASSERT_EQ(found.status, 200u) << found.body;
  EXPECT_EQ(Json(found.body), (json::value{{"subject", "a-key"}, {"version", 1}, {"id", 1}, {"schema", kKeySchema}}));
  auto other = RawRequest(port(), verb::post, "/subjects/a-key", RegisterBody(kValueSchema));
  EXPECT_EQ(Json(other.body).at("error_code"), 40403);
  auto no_subject = RawRequest(port(), verb::post, "/subjects/nope", RegisterBody(kKeySchema));
  EXPECT_EQ(Json(no_subject.body).at("error_code"), 40401);
}

TEST_F(RegistryServerTest, ReferencesAreStoredAndChecked) {
  ASSERT_TRUE(server_.Register("address", R"({"type":"record","name":"Address","fields":[]})").ok());
  json::array refs{json::object{{"name", "Address"}, {"subject", "address"}, {"version", 1}}};
  const std::string customer =
      R"({"type":"record","name":"Customer","fields":[{"name":"a","type":"Address"}]})";
  auto ok = RawRequest(port(), verb::post, "/subjects/customer/versions", RegisterBody(customer, "", refs));
  ASSERT_EQ(ok.status, 200u) << ok.body;
  auto by_id = Json(RawRequest(port(), verb::get, "/schemas/ids/2").body);
  EXPECT_EQ(by_id.at("references"), refs);
  json::array missing{json::object{{"name", "X"}, {"subject", "address"}, {"version", 5}}};
  auto bad = RawRequest(port(), verb::post, "/subjects/c2/versions", RegisterBody(customer, "", missing));
  EXPECT_EQ(bad.status, 422u);
  EXPECT_EQ(Json(bad.body).at("error_code"), 42201);
}

TEST_F(RegistryServerTest, RejectsMalformedBodies) {
  EXPECT_EQ(RawRequest(port(), verb::post, "/subjects/s/versions", "not json").status, 400u);
  auto no_schema = RawRequest(port(), verb::post, "/subjects/s/versions", R"({"schemaType":"AVRO"})");
  EXPECT_EQ(Json(no_schema.body).at("error_code"), 42201);
  auto not_avro = RawRequest(port(), verb::post, "/subjects/s/versions", RegisterBody("{oops"));
  EXPECT_EQ(Json(not_avro.body).at("error_code"), 42201);
  auto bad_type = RawRequest(port(), verb::post, "/subjects/s/versions", RegisterBody("{}", "XML"));
  EXPECT_EQ(Json(bad_type.body).at("error_code"), 42201);
  EXPECT_EQ(RawRequest(port(), verb::get, "/nothing/here").status, 404u);
  EXPECT_EQ(RawRequest(port(), verb::delete_, "/subjects").status, 405u);
}

TEST(RegistryServerAuthTest, RequiresBasicAuthButNotForTheHooksOwnRoutes) {
  FaultInjector faults;
  RegistryServerOptions options;
  options.user_info = "KEY:SECRET";
  options.hook = &faults;
  RegistryServer server(options);
  ASSERT_TRUE(server.Start().ok());
  auto none = RawRequest(server.port(), verb::get, "/subjects");
  EXPECT_EQ(none.status, 401u);
  EXPECT_EQ(Json(none.body).at("error_code"), 401);
  EXPECT_NE(none.www_authenticate.find("Basic"), std::string::npos);
  EXPECT_EQ(RawRequest(server.port(), verb::get, "/subjects", "", "KEY:WRONG").status, 401u);
  EXPECT_EQ(RawRequest(server.port(), verb::get, "/subjects", "", "KEY:SECRET").status, 200u);
  EXPECT_EQ(server.authorized_requests(), 1u);
  auto admin = RawRequest(server.port(), verb::post, "/_admin/faults", R"({"mode":"none"})");
  EXPECT_EQ(admin.status, 200u);
}

TEST_F(RegistryServerTest, FaultSwitchesByMethodAndAdminEndpoint) {
  ASSERT_TRUE(server_.Register("k", kKeySchema).ok());
  faults_.Set(FaultMode::kServerError);
  auto e500 = RawRequest(port(), verb::get, "/schemas/ids/1");
  EXPECT_EQ(e500.status, 500u);
  EXPECT_EQ(Json(e500.body).at("error_code"), 50001);

  auto set404 = RawRequest(port(), verb::post, "/_admin/faults", R"({"mode":"404"})");
  ASSERT_EQ(set404.status, 200u) << set404.body;
  auto e404 = RawRequest(port(), verb::get, "/schemas/ids/1");
  EXPECT_EQ(Json(e404.body).at("error_code"), 40403);

  RawRequest(port(), verb::post, "/_admin/faults", R"({"mode":"401"})");
  EXPECT_EQ(RawRequest(port(), verb::get, "/schemas/ids/1").status, 401u);

  // Slow: answered correctly (the delay itself is not asserted: no timing in tests).
  RawRequest(port(), verb::post, "/_admin/faults", R"({"mode":"slow","delay_ms":20})");
  EXPECT_EQ(RawRequest(port(), verb::get, "/schemas/ids/1").status, 200u);

  EXPECT_EQ(RawRequest(port(), verb::post, "/_admin/faults", R"({"mode":"teapot"})").status, 400u);
  EXPECT_EQ(RawRequest(port(), verb::post, "/_admin/faults", R"({"mode":"slow","delay_ms":-1})").status, 400u);
  RawRequest(port(), verb::post, "/_admin/faults", R"({"mode":"none"})");
  EXPECT_EQ(RawRequest(port(), verb::get, "/schemas/ids/1").status, 200u);

  auto stats = Json(RawRequest(port(), verb::get, "/_admin/stats").body);
  EXPECT_EQ(stats.at("schemas"), 1);
  EXPECT_EQ(faults_.RequestsFor("/schemas/ids/1"), 5u);
}

TEST_F(RegistryServerTest, InjectsEveryStatusAndDropsConnections) {
  ASSERT_TRUE(server_.Register("k", kKeySchema).ok());
  for (unsigned status : {401u, 403u, 404u, 429u, 500u, 503u}) {
    faults_.Set(*testing::ParseFaultMode(std::to_string(status)));
    EXPECT_EQ(RawRequest(port(), verb::get, "/schemas/ids/1").status, status);
  }
  faults_.Set(FaultMode::kDrop);
  auto dropped = RawRequest(port(), verb::get, "/schemas/ids/1");
  EXPECT_EQ(dropped.status, 0u);  // closed without an answer
  faults_.Set(FaultMode::kNone);
  EXPECT_EQ(RawRequest(port(), verb::get, "/schemas/ids/1").status, 200u);
}

TEST(RegistryServerNoHookTest, HasNoAdminRoutes) {
  RegistryServer server{RegistryServerOptions{}};
  ASSERT_TRUE(server.Start().ok());
  EXPECT_EQ(RawRequest(server.port(), verb::post, "/_admin/faults", R"({"mode":"500"})").status, 404u);
  EXPECT_EQ(RawRequest(server.port(), verb::get, "/subjects").status, 200u);
}

TEST_F(RegistryServerTest, StopRefusesConnectionsAndStartServesSameDataOnSamePort) {
  ASSERT_TRUE(server_.Register("k", kKeySchema).ok());
  const uint16_t p = port();
  server_.Stop();
  EXPECT_FALSE(server_.running());
  auto down = RawRequest(p, verb::get, "/schemas/ids/1");
  EXPECT_EQ(down.status, 0u);
  EXPECT_FALSE(down.error.empty());
  ASSERT_TRUE(server_.Start().ok());
  EXPECT_EQ(port(), p);
  EXPECT_EQ(RawRequest(p, verb::get, "/schemas/ids/1").status, 200u);
}

TEST_F(RegistryServerTest, StopClosesIdleAndSlowConnections) {
  ASSERT_TRUE(server_.Register("k", kKeySchema).ok());
  faults_.Set(FaultMode::kSlow, std::chrono::milliseconds(60'000));
  std::thread slow([&] {
    auto r = RawRequest(port(), verb::get, "/schemas/ids/1");
    EXPECT_EQ(r.status, 0u);  // the server closed it instead of answering
  });
  ASSERT_TRUE(testing::WaitUntil([&] { return server_.requests() >= 1; }));
  server_.Stop();  // must not wait out the 60 s delay
  slow.join();
}

}  // namespace
}  // namespace rte::registry

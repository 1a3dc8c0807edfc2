#include "avro/schema.h"

#include <gtest/gtest.h>

#include <boost/json/serialize.hpp>

#include <atomic>
#include <thread>

#include "avro/decoder.h"
#include "avro/binary_writer.h"

namespace rte::avro {
namespace {

std::string ParseError(std::string_view text, const std::vector<std::string>& refs = {}) {
  auto r = Schema::Parse(text, refs);
  EXPECT_FALSE(r.ok()) << text;
  return r.ok() ? "" : r.error().message;
}

std::shared_ptr<const Schema> Parsed(std::string_view text, const std::vector<std::string>& refs = {}) {
  auto r = Schema::Parse(text, refs);
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
  return r.ok() ? *r : nullptr;
}

TEST(SchemaTest, Primitives) {
  for (const char* name : {"null", "boolean", "int", "long", "float", "double", "bytes", "string"}) {
    auto s = Parsed("\"" + std::string(name) + "\"");
    ASSERT_NE(s, nullptr);
    EXPECT_STREQ(AvroTypeName(s->root().type), name);
    auto o = Parsed(R"({"type":")" + std::string(name) + R"("})");
    EXPECT_EQ(o->root().type, s->root().type);
  }
}

TEST(SchemaTest, RecordTreeAndMinSize) {
  auto s = Parsed(R"({"type":"record","name":"R","namespace":"n","fields":[
      {"name":"a","type":"int"},{"name":"b","type":"double"},{"name":"c","type":["null","string"]},
      {"name":"d","type":{"type":"fixed","name":"F","size":16}},{"name":"e","type":"null"}]})");
  ASSERT_NE(s, nullptr);
  const SchemaNode& r = s->root();
  EXPECT_EQ(r.type, AvroType::kRecord);
  EXPECT_EQ(r.full_name, "n.R");
  ASSERT_EQ(r.fields.size(), 5u);
  EXPECT_EQ(r.fields[2].name, "c");
  EXPECT_EQ(r.fields[2].key_json, ",\"c\":");
  EXPECT_EQ(r.fields[2].type->type, AvroType::kUnion);
  EXPECT_EQ(r.min_size, 1 + 8 + 1 + 16 + 0);
  EXPECT_EQ(s->FindNamed("n.F"), r.fields[3].type);
  EXPECT_EQ(s->FindNamed("F"), nullptr);
}

TEST(SchemaTest, NamespacesAndReferences) {
  auto s = Parsed(R"({"type":"record","name":"Outer","namespace":"a.b","fields":[
      {"name":"x","type":{"type":"enum","name":"E","symbols":["A"]}},
      {"name":"y","type":"E"},
      {"name":"z","type":"a.b.E"},
      {"name":"w","type":{"type":"record","name":"c.Inner","fields":[{"name":"q","type":{"type":"fixed","name":"G","size":1}}]}},
      {"name":"v","type":"c.G"},
      {"name":"u","type":{"type":"record","name":"Top","namespace":"","fields":[]}},
      {"name":"t","type":"Top"}]})");
  ASSERT_NE(s, nullptr);
  const auto& f = s->root().fields;
  EXPECT_EQ(f[0].type, f[1].type);
  EXPECT_EQ(f[0].type, f[2].type);
  EXPECT_EQ(f[0].type->full_name, "a.b.E");
  EXPECT_EQ(f[3].type->full_name, "c.Inner");
  EXPECT_EQ(f[4].type->full_name, "c.G");  // G inherits Inner's namespace
  // "Top" resolves in a.b first, then (as Java does) in the null namespace.
  EXPECT_EQ(f[6].type, f[5].type);
  EXPECT_EQ(f[5].type->full_name, "Top");
}

TEST(SchemaTest, RecursiveTypePointsToItself) {
  auto s = Parsed(R"({"type":"record","name":"Node","fields":[{"name":"next","type":["null","Node"]}]})");
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->root().fields[0].type->branches[1], &s->root());
}

TEST(SchemaTest, LogicalTypes) {
  struct Case {
    const char* json;
    LogicalType want;
  } cases[] = {
      {R"({"type":"bytes","logicalType":"decimal","precision":9,"scale":2})", LogicalType::kDecimal},
      {R"({"type":"fixed","name":"F","size":8,"logicalType":"decimal","precision":18})", LogicalType::kDecimal},
      {R"({"type":"fixed","name":"F","size":8,"logicalType":"decimal","precision":19})", LogicalType::kNone},
      {R"({"type":"bytes","logicalType":"decimal","precision":2,"scale":3})", LogicalType::kNone},
      {R"({"type":"bytes","logicalType":"decimal"})", LogicalType::kNone},
      {R"({"type":"bytes","logicalType":"decimal","precision":"9"})", LogicalType::kNone},
      {R"({"type":"string","logicalType":"uuid"})", LogicalType::kUuid},
      {R"({"type":"fixed","name":"F","size":16,"logicalType":"uuid"})", LogicalType::kUuid},
      {R"({"type":"fixed","name":"F","size":15,"logicalType":"uuid"})", LogicalType::kNone},
      {R"({"type":"int","logicalType":"date"})", LogicalType::kDate},
      {R"({"type":"long","logicalType":"date"})", LogicalType::kNone},
      {R"({"type":"int","logicalType":"time-millis"})", LogicalType::kTimeMillis},
      {R"({"type":"long","logicalType":"time-micros"})", LogicalType::kTimeMicros},
      {R"({"type":"long","logicalType":"timestamp-millis"})", LogicalType::kTimestampMillis},
      {R"({"type":"long","logicalType":"timestamp-micros"})", LogicalType::kTimestampMicros},
      {R"({"type":"long","logicalType":"timestamp-nanos"})", LogicalType::kTimestampNanos},
      {R"({"type":"long","logicalType":"local-timestamp-millis"})", LogicalType::kLocalTimestampMillis},
      {R"({"type":"long","logicalType":"local-timestamp-micros"})", LogicalType::kLocalTimestampMicros},
      {R"({"type":"long","logicalType":"local-timestamp-nanos"})", LogicalType::kLocalTimestampNanos},
      {R"({"type":"fixed","name":"F","size":12,"logicalType":"duration"})", LogicalType::kDuration},
      {R"({"type":"string","logicalType":"whatever"})", LogicalType::kNone},
  };
  for (const Case& c : cases) {
    auto s = Parsed(c.json);
    ASSERT_NE(s, nullptr) << c.json;
    EXPECT_EQ(s->root().logical, c.want) << c.json;
  }
  auto d = Parsed(R"({"type":"bytes","logicalType":"decimal","precision":9,"scale":2})");
  EXPECT_EQ(d->root().precision, 9);
  EXPECT_EQ(d->root().scale, 2);
  auto big = Schema::Parse(R"({"type":"bytes","logicalType":"decimal","precision":1000000})");
  ASSERT_FALSE(big.ok());
  EXPECT_EQ(big.error().code, Errc::kUnsupported);
}

TEST(SchemaTest, SchemaReferences) {
  const std::vector<std::string> refs = {
      R"({"type":"record","name":"Money","namespace":"com.acme","fields":[{"name":"cents","type":"long"}]})",
      R"({"type":"enum","name":"Currency","namespace":"com.acme","symbols":["EUR","USD"]})"};
  auto s = Parsed(R"({"type":"record","name":"Order","namespace":"com.acme","fields":[
      {"name":"total","type":"Money"},{"name":"cur","type":"com.acme.Currency"}]})", refs);
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->root().fields[0].type, s->FindNamed("com.acme.Money"));
  auto v = DecodeToValue(*s, BinaryWriter().Long(1234).Int(1).bytes());
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(boost::json::serialize(*v), R"({"total":{"cents":1234},"cur":"USD"})");
}

TEST(SchemaTest, SchemaReferencesInAnyOrder) {
  // The second reference depends on the first, but comes first.
  const std::vector<std::string> refs = {
      R"({"type":"record","name":"b.Wrapper","fields":[{"name":"m","type":"a.Money"}]})",
      R"({"type":"record","name":"a.Money","fields":[{"name":"cents","type":"long"}]})"};
  auto s = Parsed(R"("b.Wrapper")", refs);
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->root().full_name, "b.Wrapper");
  EXPECT_NE(ParseError(R"("x.Missing")", refs).find("unknown type name 'x.Missing'"), std::string::npos);
  EXPECT_NE(ParseError(R"("int")", {R"({"type":"record","name":"R","fields":[{"name":"a","type":"Nope"}]})"})
                .find("referenced schema 0"),
            std::string::npos);
}

TEST(SchemaTest, InvalidSchemasNameTheProblem) {
  struct Case {
    const char* json;
    const char* error_part;
  } cases[] = {
      {"", "invalid JSON"},
      {"{", "invalid JSON"},
      {"42", "expected a type name"},
      {R"("strin")", "unknown type name 'strin'"},
      {R"({"name":"x"})", "without \"type\""},
      {R"({"type":"record","fields":[]})", "without a \"name\""},
      {R"({"type":"record","name":"R"})", "without a \"fields\" array"},
      {R"({"type":"record","name":"R","fields":[{"type":"int"}]})", "field without a \"name\""},
      {R"({"type":"record","name":"R","fields":[{"name":"a"}]})", "field 'a' without a \"type\""},
      {R"({"type":"record","name":"R","fields":[{"name":"a","type":"int"},{"name":"a","type":"int"}]})",
       "two fields named 'a'"},
      {R"({"type":"record","name":"R","fields":[{"name":"a","type":"Unknown"}]})",
       "record 'R' field 'a': unknown type name 'Unknown'"},
      {R"({"type":"enum","name":"E"})", "without a \"symbols\" array"},
      {R"({"type":"enum","name":"E","symbols":["A","A"]})", "repeats symbol 'A'"},
      {R"({"type":"enum","name":"E","symbols":[1]})", "non-string or empty symbol"},
      {R"({"type":"array"})", "array without \"items\""},
      {R"({"type":"map"})", "map without \"values\""},
      {R"({"type":"fixed","name":"F"})", "needs a \"size\""},
      {R"({"type":"fixed","name":"F","size":-1})", "needs a \"size\""},
      {R"({"type":"fixed","name":"F","size":1.5})", "needs a \"size\""},
      {R"(["null",["int"]])", "may not directly contain a union"},
      {R"(["int","int"])", "two branches of type 'int'"},
      {R"([{"type":"array","items":"int"},{"type":"array","items":"long"}])", "two branches of type 'array'"},
      {R"([{"type":"enum","name":"E","symbols":["A"]},"E"])", "two branches of type 'E'"},
      {R"({"type":"record","name":"R","fields":[{"name":"a","type":{"type":"enum","name":"R","symbols":["A"]}}]})",
       "redefinition of type 'R'"},
      {R"({"type":"fixed","name":"int","size":1})", "cannot redefine primitive type 'int'"},
      {R"({"type":"fixed","name":"a..b","size":1})", "invalid name 'a..b'"},
      {R"({"type":7})", "\"type\" must be"},
  };
  for (const Case& c : cases) {
    const std::string err = ParseError(c.json);
    EXPECT_NE(err.find(c.error_part), std::string::npos) << c.json << " -> " << err;
    EXPECT_EQ(err.rfind("avro schema: ", 0), 0u) << err;
  }
}

TEST(SchemaTest, DeepSchemaIsRejectedNotCrashed) {
  std::string deep;
  for (int i = 0; i < 100000; ++i) deep += R"({"type":"array","items":)";
  deep += R"("int")";
  for (int i = 0; i < 100000; ++i) deep += "}";
  EXPECT_NE(ParseError(deep).find("invalid JSON"), std::string::npos);
  std::string unions(100000, '[');
  EXPECT_FALSE(Schema::Parse(unions).ok());
}

TEST(SchemaTest, WideSchemasParse) {
  std::string fields, branches, symbols;
  for (int i = 0; i < 20000; ++i) {
    const std::string n = std::to_string(i);
    const std::string comma = i ? "," : "";
    fields += comma + R"({"name":"f)" + n + R"(","type":"null"})";
    branches += comma + R"({"type":"fixed","name":"F)" + n + R"(","size":1})";
    symbols += comma + "\"S" + n + "\"";
  }
  auto r = Parsed(R"({"type":"record","name":"R","fields":[)" + fields + "]}");
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->root().fields.size(), 20000u);
  auto u = Parsed("[" + branches + "]");
  ASSERT_NE(u, nullptr);
  EXPECT_EQ(u->root().branches.size(), 20000u);
  auto e = Parsed(R"({"type":"enum","name":"E","symbols":[)" + symbols + "]}");
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->root().symbols.size(), 20000u);
}

TEST(SchemaTest, SharedAcrossThreads) {
  auto s = Parsed(R"({"type":"record","name":"R","fields":[{"name":"s","type":"string"},{"name":"n","type":"long"}]})");
  const std::vector<uint8_t> payload = BinaryWriter().String("hello").Long(-42).bytes();
  std::vector<std::thread> threads;
  std::atomic<int> good{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 1000; ++i) {
        std::string out;
        if (DecodeToJson(*s, payload, &out).ok() && out == R"({"s":"hello","n":-42})") good.fetch_add(1);
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(good.load(), 4000);
}

}  // namespace
}  // namespace rte::avro

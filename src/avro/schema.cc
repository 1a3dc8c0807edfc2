#include "avro/schema.h"

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <unordered_set>

#include "avro/json_text.h"
#include "avro/logical_format.h"

namespace rte::avro {

const char* AvroTypeName(AvroType type) {
  switch (type) {
    case AvroType::kNull: return "null";
    case AvroType::kBoolean: return "boolean";
    case AvroType::kInt: return "int";
    case AvroType::kLong: return "long";
    case AvroType::kFloat: return "float";
    case AvroType::kDouble: return "double";
    case AvroType::kBytes: return "bytes";
    case AvroType::kString: return "string";
    case AvroType::kRecord: return "record";
    case AvroType::kEnum: return "enum";
    case AvroType::kArray: return "array";
    case AvroType::kMap: return "map";
    case AvroType::kUnion: return "union";
    case AvroType::kFixed: return "fixed";
  }
  return "?";
}

namespace {

namespace json = boost::json;

constexpr int kMaxJsonDepth = 256;        // nesting of the schema's JSON text
constexpr int64_t kMinSizeCap = int64_t{1} << 40;

struct Primitive {
  std::string_view name;
  AvroType type;
  int64_t min_size;
};
constexpr Primitive kPrimitives[] = {
    {"null", AvroType::kNull, 0},       {"boolean", AvroType::kBoolean, 1}, {"int", AvroType::kInt, 1},
    {"long", AvroType::kLong, 1},       {"float", AvroType::kFloat, 4},     {"double", AvroType::kDouble, 8},
    {"bytes", AvroType::kBytes, 1},     {"string", AvroType::kString, 1},
};

const Primitive* FindPrimitive(std::string_view name) {
  for (const Primitive& p : kPrimitives) {
    if (p.name == name) return &p;
  }
  return nullptr;
}

Error SchemaError(std::string message) {
  return MakeError(Errc::kInvalidArgument, "avro schema: " + std::move(message));
}

// Prefixes context ("record 'X' field 'y': ") to an error while unwinding.
Error WithContext(Error e, std::string_view context) {
  static constexpr std::string_view kPrefix = "avro schema: ";
  std::string_view rest = e.message;
  if (rest.substr(0, kPrefix.size()) == kPrefix) rest.remove_prefix(kPrefix.size());
  e.message = std::string(kPrefix) + std::string(context) + ": " + std::string(rest);
  return e;
}

std::string_view View(const json::string& s) { return {s.data(), s.size()}; }

const json::string* GetString(const json::object& obj, std::string_view key) {
  const json::value* v = obj.if_contains(key);
  return v != nullptr ? v->if_string() : nullptr;
}

// An integer attribute, or nullopt if absent or not an integer.
std::optional<int64_t> GetInteger(const json::object& obj, std::string_view key) {
  const json::value* v = obj.if_contains(key);
  if (v == nullptr) return std::nullopt;
  if (const int64_t* i = v->if_int64()) return *i;
  if (const uint64_t* u = v->if_uint64()) {
    if (*u <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) return static_cast<int64_t>(*u);
  }
  return std::nullopt;
}

std::string KindName(const json::value& v) {
  switch (v.kind()) {
    case json::kind::null: return "null";
    case json::kind::bool_: return "a boolean";
    case json::kind::int64:
    case json::kind::uint64:
    case json::kind::double_: return "a number";
    default: return "a container";
  }
}

int64_t SaturatingAdd(int64_t a, int64_t b) { return std::min(a + b, kMinSizeCap); }

std::string JsonQuoted(std::string_view s) {
  std::string out;
  AppendJsonString(s, &out);  // s comes from parsed JSON: valid UTF-8
  return out;
}

}  // namespace

// Builds the nodes of one Schema. Owner: Schema::Parse, for one call.
// Thread: single-threaded, short-lived.
class SchemaParser {
 public:
  explicit SchemaParser(Schema* schema) : schema_(schema) {}

  // Parses one schema text into the shared name table. On failure the names
  // it added are removed again. `unknown_name` tells whether the failure was
  // a reference to a type not (yet) defined.
  Result<const SchemaNode*> ParseText(std::string_view text, bool* unknown_name) {
    added_names_.clear();
    unknown_name_ = false;
    json::parse_options options;
    options.max_depth = kMaxJsonDepth;
    boost::system::error_code ec;
    json::value doc;
    try {
      doc = json::parse(text, ec, json::storage_ptr(), options);
    } catch (const std::exception& e) {  // allocation failure only
      return SchemaError(std::string("cannot parse JSON: ") + e.what());
    }
    if (ec) return SchemaError("invalid JSON: " + ec.message());
    Result<const SchemaNode*> root = ParseNode(doc, "", 0);
    if (!root.ok()) {
      for (const std::string& name : added_names_) schema_->named_.erase(name);
      *unknown_name = unknown_name_;
    }
    return root;
  }

 private:
  SchemaNode* NewNode(AvroType type) {
    schema_->nodes_.push_back(std::make_unique<SchemaNode>());
    SchemaNode* n = schema_->nodes_.back().get();
    n->type = type;
    return n;
  }

  const SchemaNode* PrimitiveNode(const Primitive& p) {
    const auto i = static_cast<size_t>(p.type);
    if (primitive_nodes_[i] == nullptr) {
      SchemaNode* n = NewNode(p.type);
      n->min_size = p.min_size;
      primitive_nodes_[i] = n;
    }
    return primitive_nodes_[i];
  }

  Result<const SchemaNode*> ParseNode(const json::value& v, const std::string& ns, int depth) {
    if (depth > kMaxJsonDepth) return SchemaError("nested too deeply");
    if (const json::string* s = v.if_string()) return Reference(View(*s), ns);
    if (const json::array* a = v.if_array()) return ParseUnion(*a, ns, depth);
    const json::object* obj = v.if_object();
    if (obj == nullptr) return SchemaError("expected a type name, an object or an array, got " + KindName(v));
    const json::value* type = obj->if_contains("type");
    if (type == nullptr) return SchemaError("schema object without \"type\"");
    if (type->is_object() || type->is_array()) return ParseNode(*type, ns, depth + 1);
    const json::string* ts = type->if_string();
    if (ts == nullptr) return SchemaError("\"type\" must be a string, an object or an array");
    const std::string_view t = View(*ts);

    if (const Primitive* p = FindPrimitive(t)) {
      if (obj->if_contains("logicalType") == nullptr) return PrimitiveNode(*p);
      SchemaNode* n = NewNode(p->type);
      n->min_size = p->min_size;
      if (Status st = ApplyLogicalType(*obj, n); !st.ok()) return st.error();
      return n;
    }
    if (t == "record" || t == "error") return ParseRecord(*obj, ns, depth);
    if (t == "enum") return ParseEnum(*obj, ns);
    if (t == "fixed") return ParseFixed(*obj, ns);
    if (t == "array" || t == "map") {
      const bool is_array = t == "array";
      const char* attr = is_array ? "items" : "values";
      const json::value* inner = obj->if_contains(attr);
      if (inner == nullptr) return SchemaError(std::string(t) + " without \"" + attr + "\"");
      SchemaNode* n = NewNode(is_array ? AvroType::kArray : AvroType::kMap);
      n->min_size = 1;  // the terminating zero count
      Result<const SchemaNode*> items = ParseNode(*inner, ns, depth + 1);
      if (!items.ok()) return WithContext(items.error(), std::string(t) + " " + attr);
      n->items = *items;
      return n;
    }
    return Reference(t, ns);  // {"type": "com.example.Money"}
  }

  Result<const SchemaNode*> Reference(std::string_view name, const std::string& ns) {
    if (const Primitive* p = FindPrimitive(name)) return PrimitiveNode(*p);
    std::string full;
    if (name.find('.') == std::string_view::npos && !ns.empty()) {
      full.reserve(ns.size() + 1 + name.size());
      full.append(ns).append(".").append(name);
    } else {
      full = std::string(name);
    }
    auto it = schema_->named_.find(full);
    if (it == schema_->named_.end() && full != name) it = schema_->named_.find(std::string(name));
    if (it == schema_->named_.end()) {
      unknown_name_ = true;
      return SchemaError("unknown type name '" + std::string(name) + "'");
    }
    return it->second;
  }

  // Resolves the full name and namespace of a named type and registers it.
  Status DefineName(const json::object& obj, const std::string& ns, SchemaNode* node, std::string* new_ns) {
    const json::string* name = GetString(obj, "name");
    if (name == nullptr || name->empty()) {
      return SchemaError(std::string(AvroTypeName(node->type)) + " without a \"name\"");
    }
    const std::string_view n = View(*name);
    const size_t dot = n.rfind('.');
    if (dot != std::string_view::npos) {
      node->full_name = std::string(n);
      *new_ns = std::string(n.substr(0, dot));
    } else {
      const json::string* space = GetString(obj, "namespace");
      *new_ns = space != nullptr ? std::string(View(*space)) : ns;
      node->full_name = new_ns->empty() ? std::string(n) : *new_ns + "." + std::string(n);
    }
    // Every dot-separated part must be non-empty.
    const std::string& full = node->full_name;
    if (full.front() == '.' || full.back() == '.' || full.find("..") != std::string::npos) {
      return SchemaError("invalid name '" + full + "'");
    }
    if (FindPrimitive(full) != nullptr) return SchemaError("cannot redefine primitive type '" + full + "'");
    if (!schema_->named_.emplace(full, node).second) return SchemaError("redefinition of type '" + full + "'");
    added_names_.push_back(full);
    return {};
  }

  Result<const SchemaNode*> ParseRecord(const json::object& obj, const std::string& ns, int depth) {
    SchemaNode* n = NewNode(AvroType::kRecord);
    std::string inner_ns;
    if (Status st = DefineName(obj, ns, n, &inner_ns); !st.ok()) return st.error();
    const json::value* fv = obj.if_contains("fields");
    const json::array* fields = fv != nullptr ? fv->if_array() : nullptr;
    if (fields == nullptr) return SchemaError("record '" + n->full_name + "' without a \"fields\" array");
    n->fields.reserve(fields->size());
    std::unordered_set<std::string_view> names;  // views into the parsed JSON
    int64_t min_size = 0;
    for (const json::value& f : *fields) {
      const json::object* fo = f.if_object();
      const json::string* fname = fo != nullptr ? GetString(*fo, "name") : nullptr;
      if (fname == nullptr) return SchemaError("record '" + n->full_name + "' has a field without a \"name\"");
      const std::string_view name = View(*fname);
      if (!names.insert(name).second) {
        return SchemaError("record '" + n->full_name + "' has two fields named '" + std::string(name) + "'");
      }
      const json::value* ftype = fo->if_contains("type");
      const std::string context = "record '" + n->full_name + "' field '" + std::string(name) + "'";
      if (ftype == nullptr) return SchemaError(context + " without a \"type\"");
      Result<const SchemaNode*> t = ParseNode(*ftype, inner_ns, depth + 1);
      if (!t.ok()) return WithContext(t.error(), context);
      SchemaField field;
      field.name = std::string(name);
      field.key_json = "," + JsonQuoted(name) + ":";
      field.type = *t;
      min_size = SaturatingAdd(min_size, field.type->min_size);
      n->fields.push_back(std::move(field));
    }
    n->min_size = min_size;
    return n;
  }

  Result<const SchemaNode*> ParseEnum(const json::object& obj, const std::string& ns) {
    SchemaNode* n = NewNode(AvroType::kEnum);
    n->min_size = 1;
    std::string inner_ns;
    if (Status st = DefineName(obj, ns, n, &inner_ns); !st.ok()) return st.error();
    const json::value* sv = obj.if_contains("symbols");
    const json::array* symbols = sv != nullptr ? sv->if_array() : nullptr;
    if (symbols == nullptr) return SchemaError("enum '" + n->full_name + "' without a \"symbols\" array");
    std::unordered_set<std::string_view> seen;  // views into the parsed JSON
    for (const json::value& s : *symbols) {
      const json::string* str = s.if_string();
      if (str == nullptr || str->empty()) return SchemaError("enum '" + n->full_name + "' has a non-string or empty symbol");
      const std::string_view sym = View(*str);
      if (!seen.insert(sym).second) {
        return SchemaError("enum '" + n->full_name + "' repeats symbol '" + std::string(sym) + "'");
      }
      n->symbols.emplace_back(sym);
      n->symbols_json.push_back(JsonQuoted(sym));
    }
    return n;
  }

  Result<const SchemaNode*> ParseFixed(const json::object& obj, const std::string& ns) {
    SchemaNode* n = NewNode(AvroType::kFixed);
    std::string inner_ns;
    if (Status st = DefineName(obj, ns, n, &inner_ns); !st.ok()) return st.error();
    const std::optional<int64_t> size = GetInteger(obj, "size");
    if (!size || *size < 0 || *size > std::numeric_limits<int32_t>::max()) {
      return SchemaError("fixed '" + n->full_name + "' needs a \"size\" from 0 to 2^31-1");
    }
    n->fixed_size = *size;
    n->min_size = *size;
    if (Status st = ApplyLogicalType(obj, n); !st.ok()) return st.error();
    return n;
  }

  Result<const SchemaNode*> ParseUnion(const json::array& a, const std::string& ns, int depth) {
    SchemaNode* n = NewNode(AvroType::kUnion);
    int64_t min_branch = a.empty() ? 0 : kMinSizeCap;
    std::unordered_set<const SchemaNode*> named_branches;
    uint32_t unnamed_types = 0;  // bit per AvroType
    for (size_t i = 0; i < a.size(); ++i) {
      Result<const SchemaNode*> b = ParseNode(a[i], ns, depth + 1);
      if (!b.ok()) return WithContext(b.error(), "union branch " + std::to_string(i));
      const SchemaNode* branch = *b;
      if (branch->type == AvroType::kUnion) return SchemaError("a union may not directly contain a union");
      // Named types are unique per full name, so the node identifies them.
      const bool named = !branch->full_name.empty();
      const uint32_t bit = uint32_t{1} << static_cast<unsigned>(branch->type);
      if (named ? !named_branches.insert(branch).second : (unnamed_types & bit) != 0) {
        return SchemaError(std::string("union has two branches of type '") +
                           (named ? branch->full_name : AvroTypeName(branch->type)) + "'");
      }
      if (!named) unnamed_types |= bit;
      n->branches.push_back(branch);
      min_branch = std::min(min_branch, branch->min_size);
    }
    n->min_size = SaturatingAdd(1, min_branch);
    return n;
  }

  // Sets node->logical from "logicalType" when it fits the underlying type;
  // otherwise leaves it kNone (the Avro spec: ignore invalid logical types).
  Status ApplyLogicalType(const json::object& obj, SchemaNode* n) {
    const json::string* lt = GetString(obj, "logicalType");
    if (lt == nullptr) return {};
    const std::string_view name = View(*lt);
    const AvroType t = n->type;
    struct Simple {
      std::string_view name;
      AvroType type;
      LogicalType logical;
    };
    static constexpr Simple kSimple[] = {
        {"date", AvroType::kInt, LogicalType::kDate},
        {"time-millis", AvroType::kInt, LogicalType::kTimeMillis},
        {"time-micros", AvroType::kLong, LogicalType::kTimeMicros},
        {"timestamp-millis", AvroType::kLong, LogicalType::kTimestampMillis},
        {"timestamp-micros", AvroType::kLong, LogicalType::kTimestampMicros},
        {"timestamp-nanos", AvroType::kLong, LogicalType::kTimestampNanos},
        {"local-timestamp-millis", AvroType::kLong, LogicalType::kLocalTimestampMillis},
        {"local-timestamp-micros", AvroType::kLong, LogicalType::kLocalTimestampMicros},
        {"local-timestamp-nanos", AvroType::kLong, LogicalType::kLocalTimestampNanos},
        {"uuid", AvroType::kString, LogicalType::kUuid},
    };
    for (const Simple& s : kSimple) {
      if (s.name == name && s.type == t) n->logical = s.logical;
    }
    if (name == "uuid" && t == AvroType::kFixed && n->fixed_size == 16) n->logical = LogicalType::kUuid;
    if (name == "duration" && t == AvroType::kFixed && n->fixed_size == 12) n->logical = LogicalType::kDuration;
    if (name == "decimal" && (t == AvroType::kBytes || t == AvroType::kFixed)) {
      const std::optional<int64_t> precision = GetInteger(obj, "precision");
      const std::optional<int64_t> scale = obj.if_contains("scale") != nullptr ? GetInteger(obj, "scale") : 0;
      if (!precision || *precision <= 0 || !scale || *scale < 0 || *scale > *precision) return {};
      if (*precision > kMaxDecimalPrecision) {
        return MakeError(Errc::kUnsupported, "avro schema: decimal precision " + std::to_string(*precision) +
                                                 " is above the supported " + std::to_string(kMaxDecimalPrecision));
      }
      if (t == AvroType::kFixed) {
        // Digits that fit in size bytes of two's complement: floor(log10(2^(8n-1) - 1)).
        const double max_digits = std::floor(static_cast<double>(8 * n->fixed_size - 1) * std::log10(2.0));
        if (n->fixed_size == 0 || static_cast<double>(*precision) > max_digits) return {};
      }
      n->logical = LogicalType::kDecimal;
      n->precision = static_cast<int32_t>(*precision);
      n->scale = static_cast<int32_t>(*scale);
    }
    return {};
  }

  Schema* schema_;
  std::vector<std::string> added_names_;
  bool unknown_name_ = false;
  const SchemaNode* primitive_nodes_[8] = {};
};

Result<std::shared_ptr<const Schema>> Schema::Parse(std::string_view json,
                                                    const std::vector<std::string>& referenced_schemas) {
  std::shared_ptr<Schema> schema(new Schema());
  SchemaParser parser(schema.get());

  // References in dependency order; a reference that names a type defined by
  // a later one is retried after the others.
  std::vector<size_t> pending(referenced_schemas.size());
  for (size_t i = 0; i < pending.size(); ++i) pending[i] = i;
  while (!pending.empty()) {
    std::vector<size_t> retry;
    std::optional<Error> first_error;
    for (size_t i : pending) {
      bool unknown_name = false;
      Result<const SchemaNode*> r = parser.ParseText(referenced_schemas[i], &unknown_name);
      if (r.ok()) continue;
      Error e = WithContext(r.error(), "referenced schema " + std::to_string(i));
      if (!unknown_name) return e;
      if (!first_error) first_error = std::move(e);
      retry.push_back(i);
    }
    if (retry.size() == pending.size()) return *first_error;  // no progress
    pending = std::move(retry);
  }

  bool unknown_name = false;
  Result<const SchemaNode*> root = parser.ParseText(json, &unknown_name);
  if (!root.ok()) return root.error();
  schema->root_ = *root;
  return std::shared_ptr<const Schema>(std::move(schema));
}

const SchemaNode* Schema::FindNamed(std::string_view full_name) const {
  auto it = named_.find(std::string(full_name));
  return it == named_.end() ? nullptr : it->second;
}

}  // namespace rte::avro

#include "wire/protocol.h"

#include <boost/json.hpp>

#include <charconv>

namespace rte::wire {
namespace json = boost::json;

namespace {

// Reads an id that may be a JSON string or integer.
bool IdToString(const json::value& v, std::string* out) {
  if (v.is_string()) {
    *out = std::string(v.get_string());
    return true;
  }
  if (v.is_int64()) {
    *out = std::to_string(v.get_int64());
    return true;
  }
  if (v.is_uint64()) {
    *out = std::to_string(v.get_uint64());
    return true;
  }
  return false;
}

}  // namespace

std::pair<std::optional<ClientCommand>, CommandError> ParseClientCommand(std::string_view text) {
  CommandError err;
  json::error_code ec;
  json::parse_options opts;
  opts.max_depth = 16;
  json::value root = json::parse(text, ec, {}, opts);
  if (ec) {
    err.message = "malformed JSON: " + ec.message();
    return {std::nullopt, err};
  }
  if (!root.is_object()) {
    err.message = "a command must be a JSON object";
    return {std::nullopt, err};
  }
  const json::object& o = root.get_object();
  if (auto* id = o.if_contains("id")) {
    if (!IdToString(*id, &err.id)) {
      err.message = "\"id\" must be a string";
      return {std::nullopt, err};
    }
  }
  const json::value* type = o.if_contains("type");
  if (!type || !type->is_string()) {
    err.message = "\"type\" is required";
    return {std::nullopt, err};
  }
  ClientCommand cmd;
  cmd.id = err.id;
  std::string_view t = type->get_string();
  if (t == "ping") {
    cmd.type = ClientCommand::Type::kPing;
    return {cmd, err};
  }
  if (t == "auth") {
    cmd.type = ClientCommand::Type::kAuth;
    const json::value* tok = o.if_contains("token");
    if (!tok || !tok->is_string()) {
      err.message = "auth needs a string \"token\"";
      return {std::nullopt, err};
    }
    cmd.token = std::string(tok->get_string());
    return {cmd, err};
  }
  if (t != "subscribe" && t != "unsubscribe") {
    err.message = "unknown type \"" + std::string(t.substr(0, 64)) + "\"";
    return {std::nullopt, err};
  }
  cmd.type = t == "subscribe" ? ClientCommand::Type::kSubscribe : ClientCommand::Type::kUnsubscribe;
  const json::value* ch = o.if_contains("channel");
  if (!ch || !ch->is_string() || ch->get_string().empty()) {
    err.message = "\"channel\" is required";
    return {std::nullopt, err};
  }
  cmd.channel = std::string(ch->get_string());
  const json::value* filter = o.if_contains("filter");
  if (!filter || !filter->is_object()) {
    err.message = "\"filter\" with \"organization_id\" is required";
    return {std::nullopt, err};
  }
  const json::object& f = filter->get_object();
  const json::value* org = f.if_contains("organization_id");
  if (!org || !IdToString(*org, &cmd.filter.organization_id) || cmd.filter.organization_id.empty()) {
    err.message = "\"filter.organization_id\" is required (string or integer)";
    return {std::nullopt, err};
  }
  if (const json::value* prop = f.if_contains("property_id"); prop && !prop->is_null()) {
    std::string p;
    if (!IdToString(*prop, &p) || p.empty()) {
      err.message = "\"filter.property_id\" must be a string or integer";
      return {std::nullopt, err};
    }
    cmd.filter.property_id = std::move(p);
  }
  if (const json::value* since = o.if_contains("since"); since && !since->is_null() &&
                                                          cmd.type == ClientCommand::Type::kSubscribe) {
    if (!since->is_object()) {
      err.message = "\"since\" must be an object of partition -> offset";
      return {std::nullopt, err};
    }
    for (const auto& kv : since->get_object()) {
      int32_t partition = 0;
      std::string_view k = kv.key();
      auto [p, pec] = std::from_chars(k.data(), k.data() + k.size(), partition);
      if (pec != std::errc() || p != k.data() + k.size() || partition < 0 || !kv.value().is_number()) {
        err.message = "\"since\" must map partition numbers to offsets";
        return {std::nullopt, err};
      }
      json::error_code nec;
      int64_t off = kv.value().to_number<int64_t>(nec);
      if (nec || off < -1) {
        err.message = "\"since\" offsets must be integers";
        return {std::nullopt, err};
      }
      cmd.since.emplace_back(partition, off);
    }
  }
  if (const json::value* t = o.if_contains("since_time"); t && !t->is_null() &&
                                                          cmd.type == ClientCommand::Type::kSubscribe) {
    json::error_code nec;
    const int64_t ms = t->is_number() ? t->to_number<int64_t>(nec) : -1;
    if (!t->is_number() || nec || ms < 0) {
      err.message = "\"since_time\" must be a time in ms since the epoch";
      return {std::nullopt, err};
    }
    if (!cmd.since.empty()) {
      err.message = "give \"since\" or \"since_time\", not both";
      return {std::nullopt, err};
    }
    cmd.since_time_ms = ms;
  }
  return {cmd, err};
}

void AppendJsonString(std::string* out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out->push_back('"');
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    switch (c) {
      case '"': out->append("\\\""); break;
      case '\\': out->append("\\\\"); break;
      case '\n': out->append("\\n"); break;
      case '\r': out->append("\\r"); break;
      case '\t': out->append("\\t"); break;
      case '\b': out->append("\\b"); break;
      case '\f': out->append("\\f"); break;
      default:
        if (u < 0x20) {
          out->append("\\u00");
          out->push_back(kHex[u >> 4]);
          out->push_back(kHex[u & 0xF]);
        } else {
          out->push_back(c);
        }
    }
  }
  out->push_back('"');
}

std::string RenderSubscribed(std::string_view id, std::string_view channel, bool recovered, int64_t replayed) {
  std::string out = R"({"type":"subscribed","id":)";
  AppendJsonString(&out, id);
  out += R"(,"channel":)";
  AppendJsonString(&out, channel);
  out += R"(,"recovered":)";
  out += recovered ? "true" : "false";
  out += R"(,"replayed":)";
  out += std::to_string(replayed);
  out += '}';
  return out;
}

std::string RenderUnsubscribed(std::string_view id, std::string_view channel) {
  std::string out = R"({"type":"unsubscribed","id":)";
  AppendJsonString(&out, id);
  out += R"(,"channel":)";
  AppendJsonString(&out, channel);
  out += '}';
  return out;
}

std::string RenderGap(std::string_view channel, const std::vector<GapRange>& ranges) {
  int64_t dropped = 0;
  for (const GapRange& r : ranges) dropped += r.count;
  std::string out = R"({"type":"gap","channel":)";
  AppendJsonString(&out, channel);
  out += R"(,"dropped":)" + std::to_string(dropped) + R"(,"partitions":{)";
  for (size_t i = 0; i < ranges.size(); ++i) {
    out += (i ? ",\"" : "\"") + std::to_string(ranges[i].partition) + R"(":{"from":)" + std::to_string(ranges[i].from) +
           R"(,"to":)" + std::to_string(ranges[i].to) + "}";
  }
  out += R"(},"since":{)";
  for (size_t i = 0; i < ranges.size(); ++i) {
    out += (i ? ",\"" : "\"") + std::to_string(ranges[i].partition) + "\":" + std::to_string(ranges[i].from - 1);
  }
  out += "}}";
  return out;
}

std::optional<std::vector<std::pair<int32_t, int64_t>>> ParseSinceList(std::string_view text) {
  std::vector<std::pair<int32_t, int64_t>> out;
  while (!text.empty()) {
    const size_t comma = text.find(',');
    const std::string_view item = text.substr(0, comma);
    const size_t colon = item.find(':');
    if (colon == std::string_view::npos) return std::nullopt;
    int32_t partition = 0;
    int64_t offset = 0;
    auto [p, pec] = std::from_chars(item.data(), item.data() + colon, partition);
    auto [o, oec] = std::from_chars(item.data() + colon + 1, item.data() + item.size(), offset);
    if (pec != std::errc() || p != item.data() + colon || partition < 0 || oec != std::errc() ||
        o != item.data() + item.size() || offset < -1 || out.size() >= 4096) {
      return std::nullopt;
    }
    out.emplace_back(partition, offset);
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
    if (text.empty()) return std::nullopt;  // a trailing comma
  }
  if (out.empty()) return std::nullopt;
  return out;
}

std::optional<int64_t> ParseSinceTime(std::string_view text) {
  int64_t ms = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), ms);
  if (ec != std::errc() || p != text.data() + text.size() || ms < 0) return std::nullopt;
  return ms;
}

bool IsValidIdentifier(std::string_view id, size_t max_length) {
  if (id.empty() || id.size() > max_length) return false;
  for (char c : id) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
                    c == '_' || c == ':' || c == '@' || c == '-';
    if (!ok) return false;
  }
  return true;
}

std::string RenderAuthenticated(std::string_view id, std::string_view user, int64_t expires_ms) {
  std::string out = R"({"type":"authenticated")";
  if (!id.empty()) {
    out += R"(,"id":)";
    AppendJsonString(&out, id);
  }
  out += R"(,"user":)";
  AppendJsonString(&out, user);
  out += R"(,"expires":)";
  out += expires_ms < 0 ? std::string("null") : std::to_string(expires_ms);
  out += '}';
  return out;
}

std::string RenderError(std::string_view id, std::string_view code, std::string_view message) {
  std::string out = R"({"type":"error","id":)";
  AppendJsonString(&out, id);
  out += R"(,"code":)";
  AppendJsonString(&out, code);
  out += R"(,"message":)";
  AppendJsonString(&out, message);
  out += '}';
  return out;
}

void RenderEvent(std::string* out, std::string_view channel, std::string_view topic, int32_t partition,
                 int64_t offset, int64_t timestamp_ms, std::string_view key_json, std::string_view value_json) {
  out->append(R"({"type":"event","channel":)");
  AppendJsonString(out, channel);
  out->append(R"(,"topic":)");
  AppendJsonString(out, topic);
  out->append(R"(,"partition":)");
  out->append(std::to_string(partition));
  out->append(R"(,"offset":)");
  out->append(std::to_string(offset));
  out->append(R"(,"timestamp":)");
  out->append(std::to_string(timestamp_ms));
  out->append(R"(,"key":)");
  out->append(key_json);
  out->append(R"(,"value":)");
  out->append(value_json);
  out->push_back('}');
}

}  // namespace rte::wire

#include "config/settings.h"

#include "config/redis_url.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

extern char** environ;

namespace rte::config {
namespace {

Error Invalid(std::string message) { return MakeError(Errc::kInvalidArgument, std::move(message)); }

std::string Trim(std::string_view s) {
  size_t b = 0, e = s.size();
  while (b < e && (s[b] == ' ' || s[b] == '\t' || s[b] == '\r')) ++b;
  while (e > b && (s[e - 1] == ' ' || s[e - 1] == '\t' || s[e - 1] == '\r')) --e;
  return std::string(s.substr(b, e - b));
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Splits a comma-separated list; items are trimmed, empty ones dropped.
std::vector<std::string> SplitList(std::string_view s) {
  std::vector<std::string> out;
  while (true) {
    size_t comma = s.find(',');
    std::string item = Trim(s.substr(0, comma));
    if (!item.empty()) out.push_back(std::move(item));
    if (comma == std::string_view::npos) break;
    s = s.substr(comma + 1);
  }
  return out;
}

// A value as shown in a message: one line (control characters escaped), at
// most 200 characters.
std::string Printable(std::string_view v) {
  constexpr size_t kMax = 200;
  std::string out;
  for (size_t i = 0; i < v.size() && i < kMax; ++i) {
    unsigned char c = static_cast<unsigned char>(v[i]);
    if (c == '\n') {
      out += "\\n";
    } else if (c < 0x20 || c == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  if (v.size() > kMax) out += "...";
  return out;
}

std::string FormatNumber(double d) {
  std::ostringstream os;
  os << d;
  return os.str();
}

// Why `path` cannot be read as a file, or nullopt when it can.
std::optional<std::string> UnreadableFile(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::string(std::strerror(errno));
  struct stat st {};
  std::optional<std::string> why;
  if (::fstat(fd, &st) != 0) {
    why = std::strerror(errno);
  } else if (S_ISDIR(st.st_mode)) {
    why = "it is a directory";
  }
  ::close(fd);
  return why;
}

// Collects every problem while settings load, so that all are reported at once.
class Loader {
 public:
  explicit Loader(const Environment& env) : env_(env) {}

  // The value, or nullopt when unset or empty (empty means "use the default").
  std::optional<std::string> Raw(const std::string& name) const {
    auto v = env_.Get(name);
    if (!v || v->empty()) return std::nullopt;
    return v;
  }
  std::string Str(const std::string& name, std::string def) const {
    auto v = Raw(name);
    return v ? *v : def;
  }

  // NAME, and the file it came from: `NAME (from .env)`.
  std::string Name(const std::string& name) const { return name + From(name); }
  // NAME=value (from .env)
  std::string Show(const std::string& name, std::string_view value) const {
    return name + "=" + Printable(value) + From(name);
  }
  // NAME="value" (from .env)
  std::string Quote(const std::string& name, std::string_view value) const {
    return name + "=\"" + Printable(value) + "\"" + From(name);
  }

  void Fail(const std::string& name, std::string message) {
    failed_.insert(name);
    problems_.push_back(std::move(message));
  }
  bool Failed(const std::string& name) const { return failed_.count(name) > 0; }

  // An integer in [min, max]; `def` when unset or invalid (the problem is recorded).
  template <class T>
  T Int(const std::string& name, T def, T min, T max) {
    auto v = Raw(name);
    if (!v) return def;
    std::string s = Trim(*v);
    T out{};
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
    if (ec != std::errc() || p != s.data() + s.size()) {
      Fail(name, Quote(name, *v) + " is not an integer");
      return def;
    }
    if (out < min || out > max) {
      Fail(name, Show(name, s) + " is out of range [" + std::to_string(min) + ", " + std::to_string(max) + "]");
      return def;
    }
    return out;
  }

  // A plain decimal number (digits, optionally one '.' and more digits) in [min, max].
  double Decimal(const std::string& name, double def, double min, double max) {
    auto v = Raw(name);
    if (!v) return def;
    std::string s = Trim(*v);
    bool digits = !s.empty() && s.front() != '.' && s.back() != '.' &&
                  std::count(s.begin(), s.end(), '.') <= 1 &&
                  std::all_of(s.begin(), s.end(), [](char c) { return (c >= '0' && c <= '9') || c == '.'; });
    double out = 0;
    if (digits) {
      auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
      digits = ec == std::errc() && p == s.data() + s.size();
    }
    if (!digits) {
      Fail(name, Quote(name, *v) + " is not a decimal number");
      return def;
    }
    if (!(out >= min && out <= max)) {
      Fail(name, Show(name, s) + " is out of range [" + FormatNumber(min) + ", " + FormatNumber(max) + "]");
      return def;
    }
    return out;
  }

  // A file that must be readable; records a problem otherwise.
  void RequireReadable(const std::string& name, const std::string& path) {
    if (auto why = UnreadableFile(path)) Fail(name, Quote(name, path) + " cannot be read: " + *why);
  }

  Status Finish() const {
    if (problems_.empty()) return {};
    if (problems_.size() == 1) return Invalid(problems_.front());
    std::string msg = std::to_string(problems_.size()) + " configuration errors:";
    for (const auto& p : problems_) msg += "\n  " + p;
    return Invalid(std::move(msg));
  }

 private:
  std::string From(const std::string& name) const {
    auto o = env_.Origin(name);
    return o ? " (from " + *o + ")" : "";
  }

  const Environment& env_;
  std::vector<std::string> problems_;
  std::set<std::string> failed_;
};

// "scheme://host[:port]" normalized (lowercase, default port dropped), or the
// reason `in` is not an origin.
Result<std::string> NormalizeOrigin(std::string_view in) {
  const std::string form = "an origin is scheme://host[:port]";
  size_t sep = in.find("://");
  if (sep == std::string_view::npos || sep == 0) return Invalid("is not " + form);
  std::string scheme = Lower(in.substr(0, sep));
  if (!std::isalpha(static_cast<unsigned char>(scheme[0])) ||
      !std::all_of(scheme.begin(), scheme.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '-' || c == '.';
      })) {
    return Invalid("has an invalid scheme: " + form);
  }
  std::string_view rest = in.substr(sep + 3);
  if (rest.find_first_of("/?#") != std::string_view::npos) {
    return Invalid("has a path: " + form + ", with no path (not even a trailing /)");
  }
  if (rest.find('@') != std::string_view::npos) return Invalid("has user info: " + form);
  std::string host;
  std::string_view port;
  if (!rest.empty() && rest.front() == '[') {
    size_t close = rest.find(']');
    if (close == std::string_view::npos) return Invalid("has an unclosed [: " + form);
    std::string inside(rest.substr(1, close - 1));
    in6_addr a6{};
    if (inet_pton(AF_INET6, inside.c_str(), &a6) != 1) return Invalid("has an invalid IPv6 address");
    host = "[" + Lower(inside) + "]";
    std::string_view after = rest.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return Invalid("is not " + form);
      port = after.substr(1);
      if (port.empty()) return Invalid("has an empty port");
    }
  } else {
    size_t colon = rest.find(':');
    if (colon != rest.rfind(':')) return Invalid("is not " + form + " (IPv6 hosts go in [])");
    host = Lower(rest.substr(0, colon));
    if (colon != std::string_view::npos) {
      port = rest.substr(colon + 1);
      if (port.empty()) return Invalid("has an empty port");
    }
    if (host.empty()) return Invalid("has no host: " + form);
    if (!std::all_of(host.begin(), host.end(), [](char c) {
          return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' || c == '_';
        })) {
      return Invalid("has an invalid host: " + form);
    }
  }
  std::string out = scheme + "://" + host;
  if (!port.empty()) {
    int n = 0;
    auto [p, ec] = std::from_chars(port.data(), port.data() + port.size(), n);
    if (ec != std::errc() || p != port.data() + port.size() || n < 1 || n > 65535) {
      return Invalid("has an invalid port (1-65535)");
    }
    bool default_port = (n == 80 && (scheme == "http" || scheme == "ws")) ||
                        (n == 443 && (scheme == "https" || scheme == "wss"));
    if (!default_port) out += ":" + std::to_string(n);
  }
  return out;
}

constexpr const char* kJwtAlgorithms[] = {"HS256", "HS384", "HS512", "RS256", "RS384",
                                          "RS512", "ES256", "ES384", "EdDSA"};

// RFC 7518 section 3.2: an HMAC key at least as long as the hash output.
size_t HmacMinKeyBytes(std::string_view alg) {
  if (alg == "HS256") return 32;
  if (alg == "HS384") return 48;
  if (alg == "HS512") return 64;
  return 0;
}

std::string Join(const std::vector<std::string>& items, std::string_view sep) {
  std::string out;
  for (const auto& i : items) {
    if (!out.empty()) out += sep;
    out += i;
  }
  return out;
}

}  // namespace

const char* PayloadFormatName(PayloadFormat f) {
  switch (f) {
    case PayloadFormat::kAuto: return "auto";
    case PayloadFormat::kJson: return "json";
    case PayloadFormat::kString: return "string";
    case PayloadFormat::kBytes: return "bytes";
    case PayloadFormat::kAvro: return "avro";
  }
  return "?";
}

const char* AuthModeName(AuthMode m) {
  switch (m) {
    case AuthMode::kUnset: return "unset";
    case AuthMode::kNone: return "none";
    case AuthMode::kAllowlist: return "allowlist";
    case AuthMode::kJwt: return "jwt";
  }
  return "?";
}

std::optional<PayloadFormat> ParsePayloadFormat(std::string_view s) {
  if (s == "auto") return PayloadFormat::kAuto;
  if (s == "json") return PayloadFormat::kJson;
  if (s == "string") return PayloadFormat::kString;
  if (s == "bytes") return PayloadFormat::kBytes;
  if (s == "avro") return PayloadFormat::kAvro;
  return std::nullopt;
}

Result<FieldPath> ParseFieldPath(std::string_view text) {
  FieldPath fp;
  fp.text = std::string(text);
  std::vector<std::string> parts;
  size_t start = 0;
  while (true) {
    size_t dot = text.find('.', start);
    parts.emplace_back(text.substr(start, dot == std::string_view::npos ? dot : dot - start));
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  for (auto& p : parts) {
    if (p.empty()) return Invalid("field path \"" + fp.text + "\" has an empty segment");
  }
  const std::string& head = parts.front();
  if (head == "key") {
    fp.source = FieldPath::Source::kKey;
  } else if (head == "value") {
    fp.source = FieldPath::Source::kValue;
    if (parts.size() < 2) return Invalid("field path \"" + fp.text + "\" needs a field after value.");
  } else if (head == "header" || head == "headers") {
    fp.source = FieldPath::Source::kHeader;
    if (parts.size() != 2) return Invalid("field path \"" + fp.text + "\" must be header.<name>");
  } else {
    return Invalid("field path \"" + fp.text + "\" must start with key, value or header");
  }
  fp.path.assign(parts.begin() + 1, parts.end());
  return fp;
}

Environment Environment::FromProcess() {
  Environment env;
  for (char** e = environ; e && *e; ++e) {
    std::string_view kv(*e);
    size_t eq = kv.find('=');
    if (eq == std::string_view::npos) continue;
    env.vars_[std::string(kv.substr(0, eq))] = std::string(kv.substr(eq + 1));
  }
  return env;
}

Status Environment::MergeDotEnv(std::string_view text, std::string_view origin) {
  std::istringstream in{std::string(text)};
  std::string line;
  int lineno = 0;
  while (std::getline(in, line)) {
    ++lineno;
    std::string t = Trim(line);
    if (t.empty() || t[0] == '#') continue;
    if (t.rfind("export ", 0) == 0) t = Trim(t.substr(7));
    size_t eq = t.find('=');
    if (eq == std::string::npos || eq == 0) {
      return Invalid(std::string(origin) + ":" + std::to_string(lineno) + ": expected KEY=value");
    }
    std::string key = Trim(t.substr(0, eq));
    std::string value = Trim(t.substr(eq + 1));
    if (value.size() >= 2 && (value.front() == '"' || value.front() == '\'') && value.back() == value.front()) {
      value = value.substr(1, value.size() - 2);
    } else {
      // Unquoted: strip an inline comment.
      size_t hash = value.find(" #");
      if (hash != std::string::npos) value = Trim(value.substr(0, hash));
    }
    if (!vars_.count(key)) {
      vars_[key] = value;
      origins_[key] = std::string(origin);
    }
  }
  return {};
}

void Environment::Set(std::string key, std::string value) {
  origins_.erase(key);
  vars_[std::move(key)] = std::move(value);
}

std::optional<std::string> Environment::Get(const std::string& key) const {
  auto it = vars_.find(key);
  if (it == vars_.end()) return std::nullopt;
  return it->second;
}

std::optional<std::string> Environment::Origin(const std::string& key) const {
  auto it = origins_.find(key);
  if (it == origins_.end()) return std::nullopt;
  return it->second;
}

bool IsLoopbackAddress(std::string_view address) {
  std::string a(address);
  in_addr v4{};
  if (inet_pton(AF_INET, a.c_str(), &v4) == 1) return (ntohl(v4.s_addr) >> 24) == 127;
  if (size_t pct = a.find('%'); pct != std::string::npos) a.resize(pct);  // fe80::1%eth0
  in6_addr v6{};
  if (inet_pton(AF_INET6, a.c_str(), &v6) != 1) return false;
  if (IN6_IS_ADDR_LOOPBACK(&v6)) return true;
  return IN6_IS_ADDR_V4MAPPED(&v6) && v6.s6_addr[12] == 127;
}

namespace {
// What asio's make_address accepts: dotted IPv4, or IPv6 with an optional %scope.
bool IsIpAddress(std::string_view address) {
  std::string a(address);
  in_addr v4{};
  if (inet_pton(AF_INET, a.c_str(), &v4) == 1) return true;
  if (size_t pct = a.find('%'); pct != std::string::npos) {
    if (pct + 1 == a.size()) return false;
    a.resize(pct);
  }
  in6_addr v6{};
  return inet_pton(AF_INET6, a.c_str(), &v6) == 1;
}
}  // namespace

Result<std::vector<ChannelConfig>> ParseChannelsYaml(std::string_view text, std::string_view origin) {
  std::vector<ChannelConfig> out;
  const std::string where(origin);
  YAML::Node root;
  try {
    root = YAML::Load(std::string(text));
  } catch (const YAML::Exception& e) {
    return Invalid(where + ": not valid YAML: " + e.what());
  }
  YAML::Node channels = root["channels"];
  if (!channels || !channels.IsMap()) {
    return Invalid(where + ": expected a top-level map \"channels:\" of name -> settings");
  }
  try {
    for (auto it = channels.begin(); it != channels.end(); ++it) {
      ChannelConfig ch;
      ch.name = it->first.as<std::string>();
      const std::string at = where + ": channel \"" + ch.name + "\"";
      YAML::Node n = it->second;
      if (!n.IsMap()) return Invalid(at + " must be a map");
      static const std::set<std::string> kKnown = {"topic", "key_format", "value_format",
                                                   "tenant_field", "property_field", "partition_key"};
      for (auto f = n.begin(); f != n.end(); ++f) {
        auto k = f->first.as<std::string>();
        if (!kKnown.count(k)) return Invalid(at + ": unknown setting \"" + k + "\"");
      }
      if (!n["topic"]) return Invalid(at + ": \"topic\" is required");
      ch.topic = n["topic"].as<std::string>();
      for (auto [field, target] : {std::pair{"key_format", &ch.key_format},
                                   std::pair{"value_format", &ch.value_format}}) {
        if (n[field]) {
          auto s = n[field].as<std::string>();
          auto f = ParsePayloadFormat(s);
          if (!f) return Invalid(at + ": " + field + " \"" + s + "\" is not one of auto, json, string, bytes, avro");
          *target = *f;
        }
      }
      auto tenant = ParseFieldPath(n["tenant_field"] ? n["tenant_field"].as<std::string>() : "key.organization_id");
      if (!tenant) return Invalid(at + ": tenant_field: " + tenant.error().message);
      ch.tenant_field = *tenant;
      std::string prop = n["property_field"] ? n["property_field"].as<std::string>() : "value.property_id";
      if (!prop.empty() && prop != "none") {
        auto p = ParseFieldPath(prop);
        if (!p) return Invalid(at + ": property_field: " + p.error().message);
        ch.property_field = *p;
      }
      if (n["partition_key"]) {
        ch.partition_key = n["partition_key"].as<std::string>();
        if (ch.partition_key.find("{tenant}") == std::string::npos) {
          return Invalid(at + ": partition_key \"" + Printable(ch.partition_key) + "\" must contain {tenant}");
        }
      }
      out.push_back(std::move(ch));
    }
  } catch (const YAML::Exception& e) {
    return Invalid(where + ": " + e.what());
  }
  if (out.empty()) return Invalid(where + ": no channels defined");
  if (out.size() > kMaxChannels) {
    return Invalid(where + ": " + std::to_string(out.size()) + " channels defined; at most " +
                   std::to_string(kMaxChannels) + " are supported");
  }
  return out;
}

namespace {

void LoadKafka(Loader& L, Settings& s, bool require_kafka) {
  s.kafka.bootstrap_servers = L.Str("KAFKA_BOOTSTRAP_SERVER", "");
  if (require_kafka && s.kafka.bootstrap_servers.empty()) {
    L.Fail("KAFKA_BOOTSTRAP_SERVER", "KAFKA_BOOTSTRAP_SERVER is required (host:port[,host:port])");
  }
  if (auto proto = L.Raw("KAFKA_SECURITY_PROTOCOL")) {
    std::string p = *proto;
    std::transform(p.begin(), p.end(), p.begin(), ::toupper);
    if (p != "PLAINTEXT" && p != "SSL" && p != "SASL_PLAINTEXT" && p != "SASL_SSL") {
      L.Fail("KAFKA_SECURITY_PROTOCOL", L.Quote("KAFKA_SECURITY_PROTOCOL", *proto) +
                                            " is not one of PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL");
    } else {
      s.kafka.security_protocol = p;
    }
  }
  s.kafka.group_id = L.Str("KAFKA_GROUP_ID", s.kafka.group_id);
  s.kafka.sasl_mechanisms = L.Str("KAFKA_SASL_MECHANISMS", "");
  s.kafka.sasl_username = L.Str("KAFKA_SASL_USERNAME", "");
  s.kafka.sasl_password = L.Str("KAFKA_SASL_PASSWORD", "");
  if (s.kafka.security_protocol.rfind("SASL", 0) == 0) {
    const std::string with = " is required with " + L.Show("KAFKA_SECURITY_PROTOCOL", s.kafka.security_protocol);
    if (s.kafka.sasl_mechanisms.empty()) {
      L.Fail("KAFKA_SASL_MECHANISMS", "KAFKA_SASL_MECHANISMS" + with);
    } else if (s.kafka.sasl_mechanisms == "PLAIN" || s.kafka.sasl_mechanisms.rfind("SCRAM", 0) == 0) {
      const std::string mech = " is required with " + L.Show("KAFKA_SASL_MECHANISMS", s.kafka.sasl_mechanisms);
      if (s.kafka.sasl_username.empty()) L.Fail("KAFKA_SASL_USERNAME", "KAFKA_SASL_USERNAME" + mech);
      if (s.kafka.sasl_password.empty()) L.Fail("KAFKA_SASL_PASSWORD", "KAFKA_SASL_PASSWORD" + mech);
    }
  }
  s.kafka.session_timeout_ms = L.Int<int>("KAFKA_SESSION_TIMEOUT", 45000, 1000, 3600000);
  std::string start = L.Str("KAFKA_START_FROM", "end");
  if (start == "end" || start == "latest") {
    s.kafka.start = StartPosition::kEnd;
  } else if (start == "beginning" || start == "earliest") {
    s.kafka.start = StartPosition::kBeginning;
  } else if (start.rfind("timestamp:", 0) == 0) {
    std::string ts = start.substr(10);
    int64_t ms = 0;
    auto [p, ec] = std::from_chars(ts.data(), ts.data() + ts.size(), ms);
    if (ec != std::errc() || p != ts.data() + ts.size() || ms < 0) {
      L.Fail("KAFKA_START_FROM",
             L.Quote("KAFKA_START_FROM", start) + ": timestamp must be milliseconds since the epoch");
    } else {
      s.kafka.start = StartPosition::kTimestamp;
      s.kafka.start_timestamp_ms = ms;
    }
  } else {
    L.Fail("KAFKA_START_FROM", L.Quote("KAFKA_START_FROM", start) + " is not one of end, beginning, timestamp:<ms>");
  }
  s.kafka.metadata_refresh_ms = L.Int<int>("KAFKA_METADATA_REFRESH_MS", 5000, 100, 3600000);
  s.kafka.replay_max_records = L.Int<int64_t>("REPLAY_MAX_RECORDS", 100000, 1, 100000000);
  s.kafka.replay_timeout_ms = L.Int<int>("REPLAY_TIMEOUT_MS", 10000, 100, 600000);
  s.kafka.replay_window_bytes = L.Int<size_t>("REPLAY_WINDOW_BYTES", size_t{1} << 20, 0, size_t{1} << 32);
  s.kafka.replay_window_records = L.Int<size_t>("REPLAY_WINDOW_RECORDS", 10000, 0, 10000000);
  if (auto v = L.Raw("PARTITION_AWARE")) {
    const std::string b = Lower(Trim(*v));
    if (b == "true" || b == "1" || b == "yes" || b == "on") {
      s.kafka.partition_aware = true;
    } else if (b != "false" && b != "0" && b != "no" && b != "off") {
      L.Fail("PARTITION_AWARE", L.Quote("PARTITION_AWARE", *v) + " is not true or false");
    }
  }
  s.kafka.partition_linger_ms = L.Int<int>("PARTITION_LINGER_MS", 30000, 0, 3600000);
  // KAFKA_CONFIG: "prop=value;prop=value" passed to librdkafka as is. Values
  // may be secrets (sasl.password=...): messages show property names only.
  if (auto extra = L.Raw("KAFKA_CONFIG")) {
    std::string_view rest = *extra;
    while (!rest.empty()) {
      size_t semi = rest.find(';');
      std::string item = Trim(rest.substr(0, semi));
      rest = semi == std::string_view::npos ? std::string_view{} : rest.substr(semi + 1);
      if (item.empty()) continue;
      size_t eq = item.find('=');
      if (eq == std::string::npos || eq == 0) {
        L.Fail("KAFKA_CONFIG", L.Name("KAFKA_CONFIG") + ": \"" + Printable(item.substr(0, item.find('='))) +
                                   "\" must be property=value");
        continue;
      }
      s.kafka.extra.emplace_back(Trim(item.substr(0, eq)), Trim(item.substr(eq + 1)));
    }
  }

  // --- Registry
  s.registry.url = L.Str("KAFKA_SCHEMA_REGISTRY_URL", "");
  s.registry.user_info = L.Str("KAFKA_SCHEMA_REGISTRY_USER", "");
  if (!s.registry.url.empty() && s.registry.url.rfind("http://", 0) != 0 &&
      s.registry.url.rfind("https://", 0) != 0) {
    L.Fail("KAFKA_SCHEMA_REGISTRY_URL",
           L.Quote("KAFKA_SCHEMA_REGISTRY_URL", s.registry.url) + " must start with http:// or https://");
  }
  if (!s.registry.user_info.empty() && s.registry.user_info.find(':') == std::string::npos) {
    L.Fail("KAFKA_SCHEMA_REGISTRY_USER", L.Name("KAFKA_SCHEMA_REGISTRY_USER") + " must be key:secret");
  }
  s.registry.not_found_grace_ms = L.Int<int>("REGISTRY_NOT_FOUND_GRACE_MS", 10000, 0, 3600000);
}

void LoadServer(Loader& L, Settings& s) {
  s.server.port = static_cast<uint16_t>(L.Int<int>("PORT", 5000, 0, 65535));
  s.server.bind_address = L.Str("BIND_ADDRESS", s.server.bind_address);
  if (!IsIpAddress(s.server.bind_address)) {
    L.Fail("BIND_ADDRESS", L.Quote("BIND_ADDRESS", s.server.bind_address) +
                               " is not an IP address (e.g. 0.0.0.0, 127.0.0.1, ::)");
  }
  int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  s.server.workers = L.Int<int>("WORKERS", cores, 1, 1024);
  s.server.ping_interval_s = L.Int<int>("PING_INTERVAL", 20, 1, 3600);
  s.server.heart_beat_interval_s = L.Int<int>("HEART_BEAT_INTERVAL", 2, 1, 3600);
  s.server.drain_timeout_s = L.Int<int>("DRAIN_TIMEOUT", 10, 0, 3600);
  s.server.idle_timeout_s = L.Int<int>("IDLE_TIMEOUT", 0, 0, 86400);
  if (s.server.idle_timeout_s != 0 && s.server.idle_timeout_s <= s.server.ping_interval_s &&
      !L.Failed("PING_INTERVAL")) {
    L.Fail("IDLE_TIMEOUT", L.Show("IDLE_TIMEOUT", std::to_string(s.server.idle_timeout_s)) +
                               " must be longer than " +
                               L.Show("PING_INTERVAL", std::to_string(s.server.ping_interval_s)));
  }
  s.server.max_frame_bytes = L.Int<size_t>("MAX_FRAME_BYTES", 64 * 1024, 128, 16 * 1024 * 1024);
  s.server.send_queue_bytes = L.Int<size_t>("SEND_QUEUE_BYTES", 1024 * 1024, 4096, size_t{1} << 32);
  if (auto p = L.Raw("SLOW_CLIENT_POLICY")) {
    const std::string v = Lower(Trim(*p));
    if (v == "close" || v == "drop") {
      s.server.slow_client_drop = v == "drop";
    } else {
      L.Fail("SLOW_CLIENT_POLICY", L.Quote("SLOW_CLIENT_POLICY", *p) + " is not one of close, drop");
    }
  }
  s.server.max_subscriptions = L.Int<size_t>("MAX_SUBSCRIPTIONS", 64, 1, 100000);
  s.server.web_root = L.Str("WEB_ROOT", "");
  s.server.admin_token = L.Str("ADMIN_TOKEN", "");  // secret: never in a message
  if (!s.server.admin_token.empty() && s.server.admin_token.size() < kMinAdminTokenBytes) {
    L.Fail("ADMIN_TOKEN", L.Name("ADMIN_TOKEN") + " is shorter than " + std::to_string(kMinAdminTokenBytes) +
                              " characters: use a long random value (e.g. openssl rand -hex 24)");
  }

  // --- Logging
  s.log_level = L.Str("LOG_LEVEL", "info");
  static const std::set<std::string> kLevels = {"trace", "debug", "info", "warn", "error", "critical", "off"};
  if (!kLevels.count(s.log_level)) {
    L.Fail("LOG_LEVEL", L.Quote("LOG_LEVEL", s.log_level) + " is not one of trace, debug, info, warn, error");
    s.log_level = "info";
  }
  s.log_format = L.Str("LOG_FORMAT", "text");
  if (s.log_format != "text" && s.log_format != "json") {
    L.Fail("LOG_FORMAT", L.Quote("LOG_FORMAT", s.log_format) + " is not text or json");
    s.log_format = "text";
  }
}

void LoadChannels(Loader& L, Settings& s) {
  // The prototype's three, or a channels file if given.
  std::optional<FieldPath> tenant;
  if (auto t = ParseFieldPath(L.Str("TENANT_FIELD", "key.organization_id"))) {
    tenant = *t;
  } else {
    L.Fail("TENANT_FIELD", L.Name("TENANT_FIELD") + ": " + t.error().message);
  }
  std::optional<FieldPath> property;
  std::string prop_default = L.Str("PROPERTY_FIELD", "value.property_id");
  if (prop_default != "none") {
    if (auto p = ParseFieldPath(prop_default)) {
      property = *p;
    } else {
      L.Fail("PROPERTY_FIELD", L.Name("PROPERTY_FIELD") + ": " + p.error().message);
    }
  }
  if (auto file = L.Raw("CHANNELS_FILE")) {
    std::ifstream in(*file);
    if (auto why = UnreadableFile(*file); why || !in) {
      L.Fail("CHANNELS_FILE", L.Quote("CHANNELS_FILE", *file) + " cannot be read" + (why ? ": " + *why : ""));
      return;
    }
    std::stringstream ss;
    ss << in.rdbuf();
    auto chans = ParseChannelsYaml(ss.str(), *file);
    if (!chans) {
      L.Fail("CHANNELS_FILE", L.Name("CHANNELS_FILE") + ": " + chans.error().message);
      return;
    }
    s.channels = std::move(*chans);
  } else {
    if (!tenant) return;
    for (auto [name, var, def] : {std::tuple{"payment", "PAYMENT_TOPIC", "payments"},
                                  std::tuple{"guest", "GUEST_TOPIC", "guests"},
                                  std::tuple{"reservation", "RESERVATION_TOPIC", "reservations"}}) {
      ChannelConfig ch;
      ch.name = name;
      ch.topic = L.Str(var, def);
      ch.tenant_field = *tenant;
      ch.property_field = property;
      ch.partition_key = L.Str("PARTITION_KEY", ch.partition_key);
      s.channels.push_back(std::move(ch));
    }
  }
  std::set<std::string> names;
  for (const auto& ch : s.channels) {
    if (!names.insert(ch.name).second) L.Fail("CHANNELS_FILE", "channel \"" + ch.name + "\" is defined twice");
    if (ch.topic.empty()) L.Fail("CHANNELS_FILE", "channel \"" + ch.name + "\" has an empty topic");
    if ((ch.key_format == PayloadFormat::kAvro || ch.value_format == PayloadFormat::kAvro) &&
        s.registry.url.empty()) {
      L.Fail("KAFKA_SCHEMA_REGISTRY_URL",
             "channel \"" + ch.name + "\" uses avro: KAFKA_SCHEMA_REGISTRY_URL is required");
    }
    // Partition-aware mode computes each tenant's partition from its key bytes.
    if (s.kafka.partition_aware && ch.key_format == PayloadFormat::kAvro) {
      L.Fail("PARTITION_AWARE", "PARTITION_AWARE=true: channel \"" + ch.name +
                                    "\" has key_format avro: registry-framed keys cannot be made from a tenant id "
                                    "(set PARTITION_AWARE=false, or key the topic by a string or JSON key)");
    }
  }
  if (auto key = L.Raw("PARTITION_KEY"); key && !L.Raw("CHANNELS_FILE") && key->find("{tenant}") == std::string::npos) {
    L.Fail("PARTITION_KEY", L.Quote("PARTITION_KEY", *key) + " must contain {tenant}");
  }
}

void LoadAuth(Loader& L, Settings& s) {
  AuthSettings& a = s.auth;
  if (auto m = L.Raw("AUTH_MODE")) {
    std::string v = Lower(Trim(*m));
    if (v == "none") {
      a.mode = AuthMode::kNone;
    } else if (v == "allowlist") {
      a.mode = AuthMode::kAllowlist;
    } else if (v == "jwt") {
      a.mode = AuthMode::kJwt;
    } else {
      L.Fail("AUTH_MODE", L.Quote("AUTH_MODE", *m) + " is not one of none, allowlist, jwt");
    }
  }

  if (auto list = L.Raw("JWT_ALGORITHMS")) {
    for (const std::string& item : SplitList(*list)) {
      if (Lower(item) == "none") {
        L.Fail("JWT_ALGORITHMS", L.Name("JWT_ALGORITHMS") +
                                     ": \"none\" is not allowed: unsigned tokens would let anyone pose as any user");
        continue;
      }
      const char* canonical = nullptr;
      for (const char* known : kJwtAlgorithms) {
        if (Lower(known) == Lower(item)) canonical = known;
      }
      if (!canonical) {
        L.Fail("JWT_ALGORITHMS", L.Name("JWT_ALGORITHMS") + ": \"" + Printable(item) +
                                     "\" is not one of HS256, HS384, HS512, RS256, RS384, RS512, ES256, ES384, EdDSA");
        continue;
      }
      if (std::find(a.jwt_algorithms.begin(), a.jwt_algorithms.end(), canonical) == a.jwt_algorithms.end()) {
        a.jwt_algorithms.emplace_back(canonical);
      }
    }
  }
  a.jwt_secret = L.Str("JWT_SECRET", "");  // secret: never in a message
  a.jwt_public_key_file = L.Str("JWT_PUBLIC_KEY_FILE", "");
  a.jwt_jwks_url = L.Str("JWT_JWKS_URL", "");
  if (!a.jwt_jwks_url.empty()) {
    const std::string lower = Lower(a.jwt_jwks_url);
    size_t host = lower.rfind("https://", 0) == 0 ? 8 : lower.rfind("http://", 0) == 0 ? 7 : 0;
    if (host == 0) {
      L.Fail("JWT_JWKS_URL", L.Quote("JWT_JWKS_URL", a.jwt_jwks_url) + " must start with http:// or https://");
    } else if (host == a.jwt_jwks_url.size() || a.jwt_jwks_url[host] == '/') {
      L.Fail("JWT_JWKS_URL", L.Quote("JWT_JWKS_URL", a.jwt_jwks_url) + " has no host");
    }
  }
  a.jwt_jwks_refresh_s = L.Int<int>("JWT_JWKS_REFRESH", 300, 10, 86400);
  a.jwt_jwks_min_refresh_s = L.Int<int>("JWT_JWKS_MIN_REFRESH", 10, 1, 3600);
  a.jwt_issuer = L.Str("JWT_ISSUER", "");
  a.jwt_audience = L.Str("JWT_AUDIENCE", "");
  a.jwt_leeway_s = L.Int<int>("JWT_LEEWAY", 30, 0, 600);
  a.jwt_user_claim = Trim(L.Str("JWT_USER_CLAIM", "sub"));
  a.jwt_orgs_claim = Trim(L.Str("JWT_ORGS_CLAIM", "orgs"));
  a.jwt_properties_claim = Trim(L.Str("JWT_PROPERTIES_CLAIM", ""));
  a.allowlist_file = L.Str("ALLOWLIST_FILE", "");
  a.auth_timeout_s = L.Int<int>("AUTH_TIMEOUT", 10, 1, 300);

  // What each mode needs.
  const std::string mode = L.Show("AUTH_MODE", AuthModeName(a.mode));
  if (a.mode == AuthMode::kJwt) {
    if (a.jwt_algorithms.empty()) {
      if (!L.Failed("JWT_ALGORITHMS")) {
        L.Fail("JWT_ALGORITHMS", mode + " needs JWT_ALGORITHMS, e.g. RS256 (with JWT_JWKS_URL or "
                                        "JWT_PUBLIC_KEY_FILE) or HS256 (with JWT_SECRET)");
      }
    }
    std::vector<std::string> hmac, asymmetric;
    for (const auto& alg : a.jwt_algorithms) (HmacMinKeyBytes(alg) ? hmac : asymmetric).push_back(alg);
    if (!hmac.empty()) {
      std::string strictest = hmac.front();
      for (const auto& alg : hmac) {
        if (HmacMinKeyBytes(alg) > HmacMinKeyBytes(strictest)) strictest = alg;
      }
      const size_t need = HmacMinKeyBytes(strictest);
      if (a.jwt_secret.empty()) {
        L.Fail("JWT_SECRET", L.Show("JWT_ALGORITHMS", Join(hmac, ",")) + " needs JWT_SECRET (at least " +
                                 std::to_string(need) + " bytes)");
      } else if (a.jwt_secret.size() < need) {
        L.Fail("JWT_SECRET", L.Name("JWT_SECRET") + " is shorter than " + std::to_string(need) +
                                 " bytes, the minimum for " + strictest + " (RFC 7518 section 3.2)");
      }
    }
    if (!asymmetric.empty() && a.jwt_public_key_file.empty() && a.jwt_jwks_url.empty()) {
      L.Fail("JWT_PUBLIC_KEY_FILE", L.Show("JWT_ALGORITHMS", Join(asymmetric, ",")) +
                                        " needs JWT_PUBLIC_KEY_FILE or JWT_JWKS_URL");
    }
    if (!a.jwt_public_key_file.empty()) L.RequireReadable("JWT_PUBLIC_KEY_FILE", a.jwt_public_key_file);
  } else if (a.mode == AuthMode::kAllowlist) {
    if (a.allowlist_file.empty()) {
      L.Fail("ALLOWLIST_FILE", mode + " needs ALLOWLIST_FILE");
    } else {
      L.RequireReadable("ALLOWLIST_FILE", a.allowlist_file);
    }
  } else if (a.mode == AuthMode::kUnset && !L.Failed("AUTH_MODE") && !L.Failed("BIND_ADDRESS") &&
             !IsLoopbackAddress(s.server.bind_address)) {
    L.Fail("AUTH_MODE", "AUTH_MODE is required when " + L.Show("BIND_ADDRESS", s.server.bind_address) +
                            " is not a loopback address: set AUTH_MODE=jwt (or allowlist), or AUTH_MODE=none "
                            "to serve every tenant's records to anyone");
  }
}

void LoadLimits(Loader& L, Settings& s) {
  LimitSettings& l = s.limits;
  if (auto origins = L.Raw("ALLOWED_ORIGINS")) {
    std::vector<std::string> items = SplitList(*origins);
    bool any = std::find(items.begin(), items.end(), "*") != items.end();
    if (any && items.size() > 1) {
      L.Fail("ALLOWED_ORIGINS", L.Name("ALLOWED_ORIGINS") + ": \"*\" (any origin) must be the only entry");
    } else if (!any) {
      for (const auto& item : items) {
        auto o = NormalizeOrigin(item);
        if (!o) {
          L.Fail("ALLOWED_ORIGINS", L.Name("ALLOWED_ORIGINS") + ": \"" + Printable(item) + "\" " + o.error().message);
        } else if (std::find(l.allowed_origins.begin(), l.allowed_origins.end(), *o) == l.allowed_origins.end()) {
          l.allowed_origins.push_back(std::move(*o));
        }
      }
    }
  }
  l.tls_cert_file = L.Str("TLS_CERT_FILE", "");
  l.tls_key_file = L.Str("TLS_KEY_FILE", "");
  if (l.tls_cert_file.empty() != l.tls_key_file.empty()) {
    const bool cert = !l.tls_cert_file.empty();
    L.Fail(cert ? "TLS_KEY_FILE" : "TLS_CERT_FILE",
           L.Name(cert ? "TLS_CERT_FILE" : "TLS_KEY_FILE") + " is set but " +
               (cert ? "TLS_KEY_FILE" : "TLS_CERT_FILE") + " is not: set both (wss://) or neither");
  }
  if (!l.tls_cert_file.empty()) L.RequireReadable("TLS_CERT_FILE", l.tls_cert_file);
  if (!l.tls_key_file.empty()) L.RequireReadable("TLS_KEY_FILE", l.tls_key_file);
  l.handshake_timeout_s = L.Int<int>("HANDSHAKE_TIMEOUT", 10, 1, 300);
  l.max_header_bytes = L.Int<size_t>("MAX_HEADER_BYTES", 8 * 1024, 1024, 1024 * 1024);
  l.max_body_bytes = L.Int<size_t>("MAX_BODY_BYTES", 16 * 1024, 0, 16 * 1024 * 1024);
  l.max_connections_per_ip = L.Int<int>("MAX_CONNECTIONS_PER_IP", 1000, 0, 10000000);
  l.max_connections_per_user = L.Int<int>("MAX_CONNECTIONS_PER_USER", 100, 0, 10000000);
  l.command_rate = L.Decimal("COMMAND_RATE", 20, 0.1, 100000);
  l.command_burst = L.Int<int>("COMMAND_BURST", 40, 1, 100000);
  l.max_id_length = L.Int<size_t>("MAX_ID_LENGTH", 128, 1, 1024);
}

void LoadCluster(Loader& L, Settings& s) {
  ClusterSettings& c = s.cluster;
  c.redis_url = L.Str("REDIS_URL", "");  // may hold a password: messages name the variable only
  if (!c.redis_url.empty()) {
    // The message names REDIS_URL and never the password.
    if (auto parsed = ParseRedisUrl(c.redis_url); !parsed) L.Fail("REDIS_URL", parsed.error().message);
  }
  c.node_name = L.Str("NODE_NAME", "");
  if (c.node_name.size() > 128 || std::any_of(c.node_name.begin(), c.node_name.end(), [](char ch) {
        return static_cast<unsigned char>(ch) <= ' ' || ch == '|' || ch == 0x7f;
      })) {
    L.Fail("NODE_NAME", L.Quote("NODE_NAME", c.node_name) + " must be at most 128 printable characters without spaces or |");
  }
  c.node_ttl_s = L.Int<int>("NODE_TTL_SECONDS", 15, 3, 3600);
  c.max_connections_per_organization = L.Int<int>("MAX_CONNECTIONS_PER_ORGANIZATION", 0, 0, 10000000);
}

}  // namespace

// DLQ_TOPIC: a valid Kafka topic name that no channel reads (a rejected
// record produced to a topic the gateway reads would come back forever).
void LoadDeadLetters(Loader& L, Settings& s) {
  s.dlq_topic = L.Str("DLQ_TOPIC", "");
  if (s.dlq_topic.empty()) return;
  const bool valid_chars = std::all_of(s.dlq_topic.begin(), s.dlq_topic.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
           c == '-';
  });
  if (!valid_chars || s.dlq_topic.size() > 249 || s.dlq_topic == "." || s.dlq_topic == "..") {
    L.Fail("DLQ_TOPIC", L.Quote("DLQ_TOPIC", s.dlq_topic) +
                            " is not a Kafka topic name (1-249 of a-z A-Z 0-9 . _ -)");
    return;
  }
  for (const auto& ch : s.channels) {
    if (ch.topic == s.dlq_topic) {
      L.Fail("DLQ_TOPIC", L.Quote("DLQ_TOPIC", s.dlq_topic) + " is the topic of channel \"" + ch.name +
                              "\": rejected records would be read again");
    }
  }
}

Result<Settings> LoadSettings(const Environment& env, bool require_kafka) {
  Settings s;
  Loader loader(env);
  LoadKafka(loader, s, require_kafka);
  LoadServer(loader, s);
  LoadChannels(loader, s);
  LoadDeadLetters(loader, s);
  LoadAuth(loader, s);
  LoadLimits(loader, s);
  LoadCluster(loader, s);
  if (Status st = loader.Finish(); !st) return st.error();
  return s;
}

const std::vector<VariableDoc>& DocumentedVariables() {
  static const std::vector<VariableDoc> kDocs = {
      {"PORT", "5000", "HTTP/WebSocket listen port"},
      {"BIND_ADDRESS", "0.0.0.0", "listen address"},
      {"WORKERS", "cores", "worker threads, each with its own event loop"},
      {"KAFKA_BOOTSTRAP_SERVER", "(required)", "Kafka bootstrap servers, host:port[,host:port]"},
      {"KAFKA_SECURITY_PROTOCOL", "PLAINTEXT", "PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL"},
      {"KAFKA_GROUP_ID", "realtime-events", "group id librdkafka requires; no group membership is used"},
      {"KAFKA_SASL_MECHANISMS", "", "e.g. PLAIN (Confluent Cloud), SCRAM-SHA-512"},
      {"KAFKA_SASL_USERNAME", "", "SASL user (Confluent Cloud API key)"},
      {"KAFKA_SASL_PASSWORD", "", "SASL password (Confluent Cloud API secret); never logged"},
      {"KAFKA_SESSION_TIMEOUT", "45000", "session.timeout.ms"},
      {"KAFKA_START_FROM", "end", "where a fresh gateway starts: end, beginning, timestamp:<ms>"},
      {"KAFKA_METADATA_REFRESH_MS", "5000", "how often new partitions are looked for"},
      {"REPLAY_MAX_RECORDS", "100000", "records one resume (since / since_time) may read from Kafka; more: recovered:false"},
      {"REPLAY_TIMEOUT_MS", "10000", "longest one resume may take; longer: recovered:false"},
      {"REPLAY_WINDOW_BYTES", "1048576", "recent records kept in memory per partition to serve resumes without reading Kafka (0: off)"},
      {"REPLAY_WINDOW_RECORDS", "10000", "at most this many records per partition in that window (0: off)"},
      {"PARTITION_AWARE", "false",
       "true: read only the partitions holding subscribed tenants (keys by tenant, Kafka's murmur2 partitioner; docs/scaling.md)"},
      {"PARTITION_LINGER_MS", "30000", "partition-aware: ms a partition no subscriber needs is still read (0-3600000)"},
      {"PARTITION_KEY", "{tenant}",
       "partition-aware: the record key's bytes for a tenant, e.g. {\"organization_id\":{tenant}} (channels file: partition_key)"},
      {"KAFKA_CONFIG", "", "any librdkafka properties: prop=value;prop=value"},
      {"KAFKA_SCHEMA_REGISTRY_URL", "", "Confluent Schema Registry URL"},
      {"KAFKA_SCHEMA_REGISTRY_USER", "", "registry key:secret, sent as HTTP Basic"},
      {"DLQ_TOPIC", "", "dead-letter topic: rejected records, raw, with the error in headers (empty: off)"},
      {"REGISTRY_NOT_FOUND_GRACE_MS", "10000", "ms a schema id answered 404 is asked again before its records are skipped"},
      {"PAYMENT_TOPIC", "payments", "topic of channel payment"},
      {"GUEST_TOPIC", "guests", "topic of channel guest"},
      {"RESERVATION_TOPIC", "reservations", "topic of channel reservation"},
      {"CHANNELS_FILE", "", "YAML file defining channels (replaces the three above)"},
      {"TENANT_FIELD", "key.organization_id", "where the tenant id is read, for the default channels"},
      {"PROPERTY_FIELD", "value.property_id", "where the property id is read (none: no property)"},
      {"PING_INTERVAL", "20", "seconds between {\"type\":\"ping\"} messages and ping frames"},
      {"HEART_BEAT_INTERVAL", "2", "seconds a send may take before the client is considered dead"},
      {"IDLE_TIMEOUT", "3 x PING_INTERVAL", "seconds without any client traffic (pongs count) before closing"},
      {"MAX_FRAME_BYTES", "65536", "largest client message accepted"},
      {"SEND_QUEUE_BYTES", "1048576", "per-connection send queue cap (bytes); what happens beyond it: SLOW_CLIENT_POLICY"},
      {"SLOW_CLIENT_POLICY", "close",
       "close: a client over SEND_QUEUE_BYTES is closed (1013); drop: its oldest queued events are dropped and a "
       "{\"type\":\"gap\"} message says which offsets, to resume from"},
      {"DRAIN_TIMEOUT", "10", "on SIGTERM: seconds clients get to receive what is queued before the exit"},
      {"MAX_SUBSCRIPTIONS", "64", "subscriptions per connection"},
      {"WEB_ROOT", "", "serve the test page from this folder instead of the built-in copy"},
      {"ADMIN_TOKEN", "",
       "bearer token for the admin view /admin and /api/admin/... (at least 16 characters; unset: admin off); never logged"},
      {"LOG_LEVEL", "info", "trace, debug, info, warn, error"},
      {"LOG_FORMAT", "text", "text or json"},
      // Who may connect and what they see (docs/security.md).
      {"AUTH_MODE", "unset",
       "none, allowlist or jwt; required unless BIND_ADDRESS is loopback (unset then acts as none)"},
      {"JWT_ALGORITHMS", "(required for jwt)",
       "accepted token algorithms, comma-separated: HS256 HS384 HS512 RS256 RS384 RS512 ES256 ES384 EdDSA"},
      {"JWT_SECRET", "", "HMAC key for HS*: at least 32/48/64 bytes for HS256/HS384/HS512; never logged"},
      {"JWT_PUBLIC_KEY_FILE", "", "PEM public key for RS*/ES*/EdDSA (or use JWT_JWKS_URL)"},
      {"JWT_JWKS_URL", "", "http(s) URL of a JSON Web Key Set for RS*/ES*/EdDSA"},
      {"JWT_JWKS_REFRESH", "300", "seconds between background JWKS refreshes (10-86400)"},
      {"JWT_JWKS_MIN_REFRESH", "10", "at most one on-demand JWKS fetch (unknown kid) per this many seconds (1-3600)"},
      {"JWT_ISSUER", "", "required iss claim, when set"},
      {"JWT_AUDIENCE", "", "required in the aud claim, when set"},
      {"JWT_LEEWAY", "30", "seconds of clock skew allowed on exp/nbf (0-600)"},
      {"JWT_USER_CLAIM", "sub", "claim holding the user id"},
      {"JWT_ORGS_CLAIM", "orgs", "claim holding the organization id(s): a string or a list"},
      {"JWT_PROPERTIES_CLAIM", "", "claim holding the allowed property ids (unset: every property)"},
      {"ALLOWLIST_FILE", "(req. for allowlist)", "file of organization_id/user_id pairs"},
      {"AUTH_TIMEOUT", "10", "seconds within which a first {\"type\":\"auth\"} must arrive (1-300)"},
      // Abuse limits.
      {"ALLOWED_ORIGINS", "(any)", "allowed Origin headers, comma-separated scheme://host[:port] (no path); * = any"},
      {"TLS_CERT_FILE", "", "PEM certificate chain; with TLS_KEY_FILE serves https:// and wss://"},
      {"TLS_KEY_FILE", "", "PEM private key (both TLS files or neither)"},
      {"HANDSHAKE_TIMEOUT", "10", "seconds for the whole HTTP request (and TLS handshake) to arrive (1-300)"},
      {"MAX_HEADER_BYTES", "8192", "largest request line + headers (1024-1048576)"},
      {"MAX_BODY_BYTES", "16384", "largest HTTP request body (0-16777216)"},
      {"MAX_CONNECTIONS_PER_IP", "1000", "open connections per client address (0 = no limit)"},
      {"MAX_CONNECTIONS_PER_USER", "100", "open connections per user (0 = no limit); with REDIS_URL across all instances"},
      {"MAX_CONNECTIONS_PER_ORGANIZATION", "0",
       "open connections per organization (0 = no limit); with REDIS_URL across all instances"},
      // Several instances as one service (docs/scaling.md).
      {"REDIS_URL", "", "redis://[:password@]host:port[/db]: shared presence, limits and admin across instances (no TLS, Sentinel or Cluster)"},
      {"NODE_NAME", "host:port", "this instance's name in the cluster"},
      {"NODE_TTL_SECONDS", "15", "an instance silent this long is gone, with its presence (3-3600)"},
      {"COMMAND_RATE", "20", "client commands per second per connection, sustained (0.1-100000)"},
      {"COMMAND_BURST", "40", "client commands allowed in a burst (1-100000)"},
      {"MAX_ID_LENGTH", "128", "longest organization/property/user id accepted (1-1024)"},
  };
  return kDocs;
}

}  // namespace rte::config

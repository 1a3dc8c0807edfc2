#include "config/redis_url.h"

#include <fmt/format.h>

#include <cctype>
#include <charconv>

namespace rte::config {
namespace {

constexpr const char* kNoSupport = "hiredis 0.14 has no TLS, Sentinel or Cluster support";

Error Invalid(std::string what) { return MakeError(Errc::kInvalidArgument, "REDIS_URL: " + what); }

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool PercentDecode(std::string_view in, std::string* out) {
  out->clear();
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '%') {
      out->push_back(in[i]);
      continue;
    }
    if (i + 2 >= in.size()) return false;
    const int hi = HexValue(in[i + 1]), lo = HexValue(in[i + 2]);
    if (hi < 0 || lo < 0) return false;
    out->push_back(static_cast<char>(hi * 16 + lo));
    i += 2;
  }
  return true;
}

template <class T>
bool ParseNumber(std::string_view s, T* out) {
  if (s.empty()) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && p == s.data() + s.size();
}

}  // namespace

std::string RedisUrl::Redacted() const {
  const bool ipv6 = host.find(':') != std::string::npos;
  return fmt::format("redis://{}{}{}{}:{}/{}", password.empty() && user.empty() ? "" : "***@",
                     ipv6 ? "[" : "", host, ipv6 ? "]" : "", port, db);
}

Result<RedisUrl> ParseRedisUrl(std::string_view text) {
  const size_t colon = text.find("://");
  if (colon == std::string_view::npos) {
    return Invalid("expected redis://[:password@]host:port[/db]");
  }
  std::string scheme(text.substr(0, colon));
  for (char& c : scheme) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (scheme == "rediss" || scheme == "redis-sentinel" || scheme == "sentinel" ||
      scheme == "redis+sentinel" || scheme == "redis-cluster" || scheme == "redis+cluster" ||
      scheme == "unix" || scheme == "redis+unix") {
    return MakeError(Errc::kUnsupported, fmt::format("REDIS_URL: {}:// is not supported: {}", scheme, kNoSupport));
  }
  if (scheme != "redis") {
    return Invalid(fmt::format("scheme must be redis://, not '{}://'", scheme));
  }
  std::string_view rest = text.substr(colon + 3);
  if (rest.find_first_of("?#") != std::string_view::npos) {
    // Query options (sentinel_master=, cluster=, ...) mean a topology we do not speak.
    return MakeError(Errc::kUnsupported,
                     fmt::format("REDIS_URL must not have query options: {}", kNoSupport));
  }
  std::string_view authority = rest, path;
  if (size_t slash = rest.find('/'); slash != std::string_view::npos) {
    authority = rest.substr(0, slash);
    path = rest.substr(slash + 1);
  }
  RedisUrl out;
  if (size_t at = authority.rfind('@'); at != std::string_view::npos) {
    std::string_view info = authority.substr(0, at);
    authority = authority.substr(at + 1);
    std::string_view user = info, password;
    if (size_t c = info.find(':'); c != std::string_view::npos) {
      user = info.substr(0, c);
      password = info.substr(c + 1);
    } else {
      // redis://secret@host: the single part is the password (as redis-cli reads it).
      password = info;
      user = {};
    }
    if (!PercentDecode(user, &out.user) || !PercentDecode(password, &out.password)) {
      return Invalid("bad percent-encoding in the user info");
    }
    if (out.password.empty() && !out.user.empty()) return Invalid("a user needs a password");
  }
  if (authority.empty()) return Invalid("no host");
  std::string_view port;
  if (authority.front() == '[') {
    const size_t close = authority.find(']');
    if (close == std::string_view::npos) return Invalid("unterminated IPv6 address");
    out.host = std::string(authority.substr(1, close - 1));
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return Invalid("bad host");
      port = after.substr(1);
      if (port.empty()) return Invalid("empty port");
    }
  } else {
    if (authority.find(',') != std::string_view::npos) {
      return MakeError(Errc::kUnsupported,
                       fmt::format("REDIS_URL lists several hosts: {}", kNoSupport));
    }
    const size_t c = authority.find(':');
    out.host = std::string(authority.substr(0, c));
    if (c != std::string_view::npos) {
      port = authority.substr(c + 1);
      if (port.empty()) return Invalid("empty port");
    }
  }
  if (out.host.empty()) return Invalid("no host");
  if (!port.empty()) {
    unsigned p = 0;
    if (!ParseNumber(port, &p) || p == 0 || p > 65535) {
      return Invalid(fmt::format("bad port '{}'", std::string(port)));
    }
    out.port = static_cast<uint16_t>(p);
  }
  while (!path.empty() && path.back() == '/') path.remove_suffix(1);
  if (!path.empty()) {
    int db = -1;
    if (!ParseNumber(path, &db) || db < 0 || db > 1'000'000) {
      return Invalid(fmt::format("database must be a number, not '{}'", std::string(path)));
    }
    out.db = db;
  }
  return out;
}

}  // namespace rte::config

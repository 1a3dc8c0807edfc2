#include "registry/registry_url.h"

#include <fmt/format.h>

#include <boost/url/parse.hpp>
#include <charconv>

namespace rte::registry {

std::string RegistryUrl::Redacted() const {
  const bool ipv6 = host.find(':') != std::string::npos;
  return fmt::format("{}://{}{}{}:{}{}", tls ? "https" : "http", ipv6 ? "[" : "", host,
                     ipv6 ? "]" : "", port, base_path);
}

Result<RegistryUrl> ParseRegistryUrl(std::string_view text) {
  auto parsed = boost::urls::parse_absolute_uri(text);
  if (!parsed) {
    return MakeError(Errc::kInvalidArgument,
                     "schema registry URL is not a valid absolute URL (expected "
                     "http://host:port or https://host)");
  }
  const boost::urls::url_view& u = *parsed;
  RegistryUrl out;
  const std::string_view scheme = u.scheme();
  if (scheme == "https") {
    out.tls = true;
  } else if (scheme != "http") {
    return MakeError(Errc::kInvalidArgument,
                     fmt::format("schema registry URL scheme must be http or https, not '{}'",
                                 std::string(scheme)));
  }
  if (!u.has_authority() || u.host().empty()) {
    return MakeError(Errc::kInvalidArgument, "schema registry URL has no host");
  }
  if (u.host_type() == boost::urls::host_type::ipv6) {
    out.host = std::string(u.encoded_host_address());
  } else {
    out.host = u.host();
  }
  if (u.has_port()) {
    const std::string_view p = u.port();
    unsigned value = 0;
    auto [ptr, ec] = std::from_chars(p.data(), p.data() + p.size(), value);
    if (ec != std::errc() || ptr != p.data() + p.size() || value == 0 || value > 65535) {
      return MakeError(Errc::kInvalidArgument,
                       fmt::format("schema registry URL has a bad port '{}'", std::string(p)));
    }
    out.port = static_cast<uint16_t>(value);
  } else {
    out.port = out.tls ? 443 : 80;
  }
  if (u.has_userinfo()) out.user_info = u.userinfo();
  if (u.has_query() || u.has_fragment()) {
    return MakeError(Errc::kInvalidArgument,
                     "schema registry URL must not have a query or fragment");
  }
  std::string path(u.encoded_path());
  while (!path.empty() && path.back() == '/') path.pop_back();
  out.base_path = std::move(path);
  return out;
}

}  // namespace rte::registry

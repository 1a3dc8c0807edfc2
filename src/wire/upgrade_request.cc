#include "wire/upgrade_request.h"

#include <boost/beast/core/string.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/url/parse.hpp>

namespace rte::wire {
namespace http = boost::beast::http;

UpgradeTarget ParseUpgradeTarget(std::string_view target) {
  UpgradeTarget t;
  auto url = boost::urls::parse_origin_form(target);
  if (!url) return t;
  std::string path = url->path();
  if (path == "/ws" || path == "/ws/") {
    t.kind = UpgradeTarget::Kind::kMulti;
  } else if (path.rfind("/getEvents/", 0) == 0) {
    t.kind = UpgradeTarget::Kind::kPrototype;
    t.channel = path.substr(11);
    if (!t.channel.empty() && t.channel.back() == '/') t.channel.pop_back();
  } else {
    return t;
  }
  for (auto param : url->params()) {
    if (!param.has_value) continue;
    if (param.key == "organization_id") t.organization_id = param.value;
    else if (param.key == "user_id") t.user_id = param.value;
    else if (param.key == "property_id") t.property_id = param.value;
    else if (param.key == "since") t.since = param.value;
    else if (param.key == "since_time") t.since_time = param.value;
    else if (param.key == "token") t.token = param.value;
  }
  return t;
}

namespace {

std::string_view TrimSpaces(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Splits a comma-separated header value into trimmed, non-empty items.
std::vector<std::string_view> SplitList(std::string_view v) {
  std::vector<std::string_view> out;
  while (!v.empty()) {
    size_t comma = v.find(',');
    std::string_view item = TrimSpaces(v.substr(0, comma));
    if (!item.empty()) out.push_back(item);
    if (comma == std::string_view::npos) break;
    v.remove_prefix(comma + 1);
  }
  return out;
}

}  // namespace

Credentials ExtractCredentials(const Request& req, const UpgradeTarget& target) {
  Credentials c;
  std::string_view authz = req[http::field::authorization];
  if (authz.size() > 7 && boost::beast::iequals(authz.substr(0, 7), "Bearer ")) {
    c.source = Credentials::Source::kHeader;
    c.token = std::string(TrimSpaces(authz.substr(7)));
    return c;
  }
  auto protocols = SplitList(req[http::field::sec_websocket_protocol]);
  for (size_t i = 0; i + 1 < protocols.size(); ++i) {
    if (boost::beast::iequals(protocols[i], "bearer")) {
      c.source = Credentials::Source::kSubprotocol;
      c.token = std::string(protocols[i + 1]);
      return c;
    }
  }
  if (!target.token.empty()) {
    c.source = Credentials::Source::kQuery;
    c.token = target.token;
  }
  return c;
}

bool OriginAllowed(std::string_view origin, const std::vector<std::string>& allowed) {
  if (allowed.empty() || origin.empty()) return true;
  for (const auto& a : allowed) {
    if (a == "*" || boost::beast::iequals(a, origin)) return true;
  }
  return false;
}

http::status StatusForParseError(const boost::system::error_code& ec) {
  if (ec == http::error::header_limit) return http::status::request_header_fields_too_large;
  if (ec == http::error::body_limit) return http::status::payload_too_large;
  return http::status::bad_request;
}

}  // namespace rte::wire

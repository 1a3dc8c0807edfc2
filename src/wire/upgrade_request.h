// The pure part of HTTP request handling up to the WebSocket upgrade: which
// endpoint a target names, where the client put its credentials, whether its
// Origin may connect, and how a parse error is answered. No sockets, so the
// fuzzer (upgrade_request_fuzz.cc) and unit tests drive it directly.
// It sits in wire (not server) because it is protocol, not I/O: a fuzz
// build needs only this module.
// Thread: free functions, no shared state.
#pragma once

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/status.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/system/error_code.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace rte::wire {

using Request = boost::beast::http::request<boost::beast::http::string_body>;

// A WebSocket endpoint named by a request target.
struct UpgradeTarget {
  enum class Kind { kNone, kMulti, kPrototype };
  Kind kind = Kind::kNone;
  std::string channel;          // prototype: from the path
  std::string organization_id;  // query (prototype)
  std::string user_id;          // query (prototype; /ws in AUTH_MODE=allowlist)
  std::string property_id;      // query (prototype)
  std::string since;            // query (prototype): "PARTITION:OFFSET[,...]", last offsets seen
  std::string since_time;       // query (prototype): ms since the epoch
  std::string token;            // query (browsers can't set headers)
};
UpgradeTarget ParseUpgradeTarget(std::string_view target);

// Where a bearer token came from.
struct Credentials {
  enum class Source { kNone, kHeader, kSubprotocol, kQuery };
  Source source = Source::kNone;
  std::string token;
};
// Order: Authorization: Bearer, then Sec-WebSocket-Protocol "bearer, <token>"
// (the server then selects "bearer"), then the `token` query parameter.
Credentials ExtractCredentials(const Request& req, const UpgradeTarget& target);

// True when `origin` may connect: no allowlist, "*" in it, no Origin header
// (not a browser), or an exact (case-insensitive) match of scheme://host[:port].
bool OriginAllowed(std::string_view origin, const std::vector<std::string>& allowed);

// The status a request parse error is answered with (400, 413 or 431).
boost::beast::http::status StatusForParseError(const boost::system::error_code& ec);

}  // namespace rte::wire

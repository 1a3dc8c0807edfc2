// libFuzzer target: HTTP request handling up to the WebSocket upgrade. The
// bytes are fed to Beast's request parser with the gateway's limits, in two
// pieces (as a socket would deliver them); a parsed request then goes through
// the endpoint, credential, Origin and identifier checks. None may crash,
// hang or read out of bounds; a parse error must map to 400/413/431.
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "wire/upgrade_request.h"
#include "wire/protocol.h"

namespace http = boost::beast::http;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  // The first byte picks where the input is split in two.
  const size_t split = data[0] % size;
  std::string_view bytes(reinterpret_cast<const char*>(data) + 1, size - 1);
  http::request_parser<http::string_body> parser;
  parser.header_limit(8 * 1024);
  parser.body_limit(16 * 1024);
  parser.eager(true);
  boost::system::error_code ec;
  // put() consumes whole lines only; what it leaves must be offered again.
  size_t used = parser.put(boost::asio::buffer(bytes.data(), split), ec);
  if (ec == http::error::need_more) ec = {};
  if (!ec && !parser.is_done()) {
    used += parser.put(boost::asio::buffer(bytes.data() + used, bytes.size() - used), ec);
    if (ec == http::error::need_more) ec = {};
  }
  if (ec) {
    auto status = rte::wire::StatusForParseError(ec);
    if (status != http::status::bad_request && status != http::status::payload_too_large &&
        status != http::status::request_header_fields_too_large) {
      __builtin_trap();
    }
    return 0;
  }
  if (!parser.is_header_done()) return 0;
  const auto& req = parser.get();
  auto target = rte::wire::ParseUpgradeTarget(req.target());
  auto credentials = rte::wire::ExtractCredentials(req, target);
  if (credentials.source == rte::wire::Credentials::Source::kNone && !credentials.token.empty()) __builtin_trap();
  static const std::vector<std::string> kOrigins = {"https://app.example.com", "http://localhost:5000"};
  (void)rte::wire::OriginAllowed(req[http::field::origin], kOrigins);
  for (const std::string* id : {&target.organization_id, &target.user_id, &target.property_id, &target.channel}) {
    (void)rte::wire::IsValidIdentifier(*id, 128);
  }
  return 0;
}

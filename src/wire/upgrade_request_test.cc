#include "wire/upgrade_request.h"

#include <boost/beast/http/error.hpp>
#include <gtest/gtest.h>

namespace rte::wire {
namespace {

TEST(UpgradeTargetTest, PrototypeEndpoint) {
  auto t = ParseUpgradeTarget("/getEvents/payment?organization_id=42&user_id=u%201&property_id=7&token=abc");
  EXPECT_EQ(t.kind, UpgradeTarget::Kind::kPrototype);
  EXPECT_EQ(t.channel, "payment");
  EXPECT_EQ(t.organization_id, "42");
  EXPECT_EQ(t.user_id, "u 1");
  EXPECT_EQ(t.property_id, "7");
  EXPECT_EQ(t.token, "abc");
}

TEST(UpgradeTargetTest, MultiEndpointAndOthers) {
  EXPECT_EQ(ParseUpgradeTarget("/ws").kind, UpgradeTarget::Kind::kMulti);
  EXPECT_EQ(ParseUpgradeTarget("/ws?token=t").token, "t");
  EXPECT_EQ(ParseUpgradeTarget("/getEvents/guest/").channel, "guest");
  EXPECT_EQ(ParseUpgradeTarget("/getEvents/guest").organization_id, "");
  EXPECT_EQ(ParseUpgradeTarget("/other").kind, UpgradeTarget::Kind::kNone);
  EXPECT_EQ(ParseUpgradeTarget("not a target").kind, UpgradeTarget::Kind::kNone);
  EXPECT_EQ(ParseUpgradeTarget("/getEvents/x?organization_id").organization_id, "");  // key without value
}

}  // namespace
}  // namespace rte::wire

namespace rte::wire {
namespace {

namespace http = boost::beast::http;

Request MakeRequest(std::string_view target) {
  Request req(http::verb::get, target, 11);
  return req;
}

TEST(UpgradeRequestTest, CredentialsFromHeaderSubprotocolOrQuery) {
  Request req = MakeRequest("/ws?token=q");
  auto target = ParseUpgradeTarget(req.target());
  EXPECT_EQ(ExtractCredentials(req, target).source, Credentials::Source::kQuery);
  EXPECT_EQ(ExtractCredentials(req, target).token, "q");

  req.set(http::field::sec_websocket_protocol, "chat, bearer, eyJ.a.b");
  auto c = ExtractCredentials(req, target);
  EXPECT_EQ(c.source, Credentials::Source::kSubprotocol);
  EXPECT_EQ(c.token, "eyJ.a.b");

  req.set(http::field::authorization, "bearer  h.t.s ");
  c = ExtractCredentials(req, target);
  EXPECT_EQ(c.source, Credentials::Source::kHeader);
  EXPECT_EQ(c.token, "h.t.s");
}

TEST(UpgradeRequestTest, NoCredentials) {
  Request req = MakeRequest("/ws");
  req.set(http::field::authorization, "Basic dXNlcjpwYXNz");
  req.set(http::field::sec_websocket_protocol, "bearer");  // no token after it
  auto c = ExtractCredentials(req, ParseUpgradeTarget(req.target()));
  EXPECT_EQ(c.source, Credentials::Source::kNone);
  EXPECT_TRUE(c.token.empty());
}

TEST(UpgradeRequestTest, OriginAllowlist) {
  std::vector<std::string> none;
  std::vector<std::string> list = {"https://app.example.com", "http://localhost:5000"};
  EXPECT_TRUE(OriginAllowed("https://evil.example", none));
  EXPECT_TRUE(OriginAllowed("", list));  // not a browser
  EXPECT_TRUE(OriginAllowed("https://APP.example.com", list));
  EXPECT_TRUE(OriginAllowed("http://localhost:5000", list));
  EXPECT_FALSE(OriginAllowed("http://localhost:5001", list));
  EXPECT_FALSE(OriginAllowed("https://app.example.com.evil.example", list));
  EXPECT_FALSE(OriginAllowed("null", list));
  EXPECT_TRUE(OriginAllowed("https://anything", {"*"}));
}

TEST(UpgradeRequestTest, ParseErrorStatus) {
  EXPECT_EQ(StatusForParseError(http::error::header_limit), http::status::request_header_fields_too_large);
  EXPECT_EQ(StatusForParseError(http::error::body_limit), http::status::payload_too_large);
  EXPECT_EQ(StatusForParseError(http::error::bad_method), http::status::bad_request);
  EXPECT_EQ(StatusForParseError(http::error::bad_chunk), http::status::bad_request);
}

}  // namespace
}  // namespace rte::wire

#include "ingest/payload_decoder.h"

#include <boost/json/parse.hpp>
#include <boost/json/string.hpp>

#include "wire/ws_frame.h"

namespace rte::ingest {
namespace json = boost::json;

namespace {

std::string_view AsText(std::span<const uint8_t> b) {
  return {reinterpret_cast<const char*>(b.data()), b.size()};
}

bool TryJson(std::span<const uint8_t> bytes, json::value* out, std::string* why) {
  json::error_code ec;
  json::parse_options opts;
  opts.max_depth = 64;
  *out = json::parse(AsText(bytes), ec, {}, opts);
  if (ec) {
    if (why) *why = ec.message();
    return false;
  }
  return true;
}

// A payload that parsed as (strict) JSON is rendered as its own text.
DecodeResult JsonText(json::value v, std::span<const uint8_t> bytes) {
  DecodeResult r = DecodeResult::Ok(std::move(v));
  r.json_text = AsText(bytes);
  return r;
}

// Text a person would read: valid UTF-8 without control characters other
// than tab, CR and LF. Anything else is shown as base64.
bool LooksLikeText(std::string_view s) {
  for (unsigned char c : s) {
    if (c < 0x20 && c != '\t' && c != '\n' && c != '\r') return false;
  }
  return wire::IsValidUtf8(s);
}

}  // namespace

const char* DecodeWaitName(DecodeWait w) {
  switch (w) {
    case DecodeWait::kFetching: return "fetching";
    case DecodeWait::kRegistryUnavailable: return "registry_unavailable";
    case DecodeWait::kRegistryAuth: return "registry_auth";
    case DecodeWait::kSchemaNotFoundYet: return "schema_not_found_yet";
  }
  return "fetching";
}

DecodeResult PayloadDecoder::Decode(config::PayloadFormat format, std::span<const uint8_t> bytes, bool present) {
  using config::PayloadFormat;
  if (!present) return DecodeResult::Ok(nullptr);
  switch (format) {
    case PayloadFormat::kJson: {
      json::value v;
      std::string why;
      if (!TryJson(bytes, &v, &why)) return DecodeResult::Fail("not valid JSON: " + why);
      return JsonText(std::move(v), bytes);
    }
    case PayloadFormat::kString:
      if (!wire::IsValidUtf8(AsText(bytes))) return DecodeResult::Fail("string is not valid UTF-8");
      return DecodeResult::Ok(json::string(AsText(bytes)));
    case PayloadFormat::kBytes:
      return DecodeResult::Ok(json::string(Base64Encode(bytes)));
    case PayloadFormat::kAvro:
      if (!framed_) return DecodeResult::Fail("avro needs a schema registry");
      if (bytes.empty() || bytes[0] != 0) return DecodeResult::Fail("not Confluent-framed (no magic byte 0)");
      return framed_->Decode(bytes);
    case PayloadFormat::kAuto: {
      if (framed_ && bytes.size() >= 5 && bytes[0] == 0) return framed_->Decode(bytes);
      json::value v;
      if (TryJson(bytes, &v, nullptr)) return JsonText(std::move(v), bytes);
      if (LooksLikeText(AsText(bytes))) return DecodeResult::Ok(json::string(AsText(bytes)));
      return DecodeResult::Ok(json::string(Base64Encode(bytes)));
    }
  }
  return DecodeResult::Fail("unknown format");
}

}  // namespace rte::ingest

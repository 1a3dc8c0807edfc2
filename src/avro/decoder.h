// Avro binary -> plain JSON, bounds-checked for hostile input (see
// docs/avro.md for the rendering rules). Every length and count is checked
// against the bytes remaining; depth and output size are capped; all input
// bytes must be consumed. Errors are returned, never thrown; no input makes
// it crash, allocate more than ~max_output_bytes (x8 for DecodeToValue's
// nodes) or loop without consuming input or producing output.
// Thread: free functions; a Schema may be shared by concurrent decodes.
#pragma once

#include <boost/json/value.hpp>

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include "avro/schema.h"
#include "base/result.h"

namespace rte::avro {

struct DecodeOptions {
  // Nesting of records, arrays and maps (a union does not count).
  int max_depth = 64;
  // Length of the compact JSON text of the result; DecodeToValue counts the
  // length its value would serialize to, so both functions fail alike.
  size_t max_output_bytes = 16u << 20;
};

// Decodes `data` (the Avro binary after any framing) as `schema` into a
// boost::json::value (used for routing-field extraction).
Result<boost::json::value> DecodeToValue(const Schema& schema, std::span<const uint8_t> data,
                                         const DecodeOptions& options = {});

// Decodes `data` and appends compact JSON text to `out`, identical to
// boost::json::serialize(DecodeToValue(...)). On error `out` is left as it
// was.
Status DecodeToJson(const Schema& schema, std::span<const uint8_t> data, std::string* out,
                    const DecodeOptions& options = {});

}  // namespace rte::avro

// ParseStrictJson: Boost.JSON parsing for untrusted auth input (JWT header and
// payload, JWKS documents). Beyond json::parse it rejects an object with the
// same key twice (which one a reader sees would otherwise depend on the
// parser: a classic claim-smuggling trick) and bounds the nesting depth.
// Thread: pure function.
#pragma once

#include <string_view>

#include <boost/json/value.hpp>

#include "base/result.h"

namespace rte::auth {

inline constexpr size_t kMaxJsonDepth = 32;

// kInvalidArgument naming the problem (never quoting the input).
Result<boost::json::value> ParseStrictJson(std::string_view text, size_t max_depth = kMaxJsonDepth);

}  // namespace rte::auth

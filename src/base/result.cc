#include "base/result.h"

namespace rte {

const char* ErrcName(Errc code) {
  switch (code) {
    case Errc::kOk: return "ok";
    case Errc::kInvalidArgument: return "invalid_argument";
    case Errc::kNotFound: return "not_found";
    case Errc::kOutOfRange: return "out_of_range";
    case Errc::kUnavailable: return "unavailable";
    case Errc::kUnauthenticated: return "unauthenticated";
    case Errc::kPermissionDenied: return "permission_denied";
    case Errc::kResourceExhausted: return "resource_exhausted";
    case Errc::kUnsupported: return "unsupported";
    case Errc::kInternal: return "internal";
  }
  return "unknown";
}

}  // namespace rte

// Logging: spdlog underneath. Call InitLogging once from main before threads
// start. Levels: trace, debug, info, warn, error. Format "text" or "json" (one
// JSON object a line, for log shippers).
// Thread: the spdlog default logger is thread-safe; InitLogging is not.
#pragma once

#include <spdlog/spdlog.h>

#include <string_view>

namespace rte {

// Returns false if level or format is not recognised.
bool InitLogging(std::string_view level, std::string_view format);

// Masks a secret for logs: keeps nothing but its length class.
inline const char* Redacted() { return "***"; }

}  // namespace rte

// What was built: the project's version and the git commit of its sources
// (generated at build time by cmake/build_info.cmake). For rte_build_info,
// /api/admin/summary and --version.
// Thread: any (constants).
#pragma once

#include <string_view>

namespace rte {

std::string_view BuildVersion();
std::string_view BuildCommit();  // short hash, "-dirty" with local changes, or "unknown"

}  // namespace rte

#include "auth/allowlist.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace rte::auth {
namespace {

bool IsSeparator(char c) { return c == ' ' || c == '\t' || c == ',' || c == '\r'; }

AllowlistWatcher::Stamp StampOf(const std::string& path) {
  struct stat st {};
  AllowlistWatcher::Stamp s;
  if (::stat(path.c_str(), &st) != 0) return s;
  s.exists = true;
  s.device = static_cast<uint64_t>(st.st_dev);
  s.inode = static_cast<uint64_t>(st.st_ino);
  s.size = static_cast<uint64_t>(st.st_size);
  s.mtime_ns = static_cast<int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec;
  return s;
}

Result<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return MakeError(Errc::kNotFound, fmt::format("{}: cannot open: {}", path, std::strerror(errno)));
  std::string text;
  char buf[65536];
  while (in.read(buf, sizeof buf) || in.gcount() > 0) {
    text.append(buf, static_cast<size_t>(in.gcount()));
    if (text.size() > Allowlist::kMaxFileBytes) {
      return MakeError(Errc::kOutOfRange,
                       fmt::format("{}: larger than {} bytes", path, Allowlist::kMaxFileBytes));
    }
  }
  if (in.bad()) return MakeError(Errc::kUnavailable, fmt::format("{}: read error", path));
  return text;
}

}  // namespace

Result<std::shared_ptr<const Allowlist>> Allowlist::Parse(std::string_view text,
                                                          std::string_view source) {
  auto list = std::make_shared<Allowlist>();
  size_t line_no = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    ++line_no;

    std::vector<std::string_view> fields;
    size_t i = 0;
    while (i < line.size()) {
      if (IsSeparator(line[i])) {
        ++i;
        continue;
      }
      if (line[i] == '#') break;  // a comment starts a field: the rest of the line
      size_t j = i;
      while (j < line.size() && !IsSeparator(line[j])) {
        const auto c = static_cast<unsigned char>(line[j]);
        if (c < 0x20 || c == 0x7f) {
          return MakeError(Errc::kInvalidArgument,
                           fmt::format("{}:{}: control character in an id", source, line_no));
        }
        ++j;
      }
      fields.push_back(line.substr(i, j - i));
      i = j;
    }
    if (fields.empty()) continue;
    if (fields.size() != 2) {
      return MakeError(Errc::kInvalidArgument,
                       fmt::format("{}:{}: expected \"organization_id user_id\", found {} field{}",
                                   source, line_no, fields.size(), fields.size() == 1 ? "" : "s"));
    }
    if (fields[0] == "*") {
      return MakeError(Errc::kInvalidArgument,
                       fmt::format("{}:{}: \"*\" is only allowed as the user", source, line_no));
    }
    std::string org(fields[0]);
    if (fields[1] == "*") {
      list->any_user_.push_back(std::move(org));
    } else {
      list->by_user_[std::string(fields[1])].push_back(std::move(org));
    }
    ++list->pair_count_;
  }
  auto sort_unique = [](std::vector<std::string>& v) {
    std::sort(v.begin(), v.end());
    v.erase(std::unique(v.begin(), v.end()), v.end());
  };
  sort_unique(list->any_user_);
  for (auto& [user, orgs] : list->by_user_) sort_unique(orgs);
  return std::shared_ptr<const Allowlist>(std::move(list));
}

Result<std::shared_ptr<const Allowlist>> Allowlist::Load(const std::string& path) {
  auto text = ReadFile(path);
  if (!text.ok()) return text.error();
  return Parse(*text, path);
}

std::shared_ptr<const Principal> Allowlist::For(std::string_view user_id) const {
  auto p = std::make_shared<Principal>();
  p->user_id = std::string(user_id);
  p->any_property = true;
  if (!user_id.empty()) {
    p->organizations = any_user_;
    if (auto it = by_user_.find(user_id); it != by_user_.end()) {
      p->organizations.insert(p->organizations.end(), it->second.begin(), it->second.end());
    }
    p->Normalize();
  }
  return p;
}

// ---- AllowlistWatcher ------------------------------------------------------

Result<std::unique_ptr<AllowlistWatcher>> AllowlistWatcher::Create(
    std::string path, std::chrono::milliseconds poll_interval) {
  const Stamp stamp = StampOf(path);
  auto list = Allowlist::Load(path);
  if (!list.ok()) return list.error();
  spdlog::info("allowlist {}: {} pairs", path, (*list)->pair_count());
  if (poll_interval.count() <= 0) poll_interval = std::chrono::milliseconds(1);
  return std::unique_ptr<AllowlistWatcher>(
      new AllowlistWatcher(std::move(path), poll_interval, std::move(*list), stamp));
}

AllowlistWatcher::AllowlistWatcher(std::string path, std::chrono::milliseconds poll_interval,
                                   std::shared_ptr<const Allowlist> list, Stamp stamp)
    : path_(std::move(path)), poll_interval_(poll_interval), current_(std::move(list)), loaded_(stamp) {}

AllowlistWatcher::~AllowlistWatcher() { Stop(); }

void AllowlistWatcher::Start() {
  std::lock_guard lock(mu_);
  if (thread_.joinable() || stopping_) return;
  thread_ = std::thread([this] { Run(); });
}

void AllowlistWatcher::Stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable() && thread_.get_id() != std::this_thread::get_id()) thread_.join();
}

std::shared_ptr<const Allowlist> AllowlistWatcher::Current() const {
  std::lock_guard lock(mu_);
  return current_;
}

void AllowlistWatcher::Run() {
  std::unique_lock lock(mu_);
  while (!stopping_) {
    if (cv_.wait_for(lock, poll_interval_, [this] { return stopping_; })) break;
    lock.unlock();
    try {
      Poll();
    } catch (const std::exception& e) {
      spdlog::error("allowlist {}: unexpected error while reloading: {}", path_, e.what());
    }
    lock.lock();
  }
}

void AllowlistWatcher::Poll() {
  const Stamp stamp = StampOf(path_);
  if (stamp == loaded_) return;
  if (!stamp.exists) {
    if (last_warned_ != stamp) {
      spdlog::warn("allowlist {}: cannot stat the file ({}); keeping the previous list", path_,
                   std::strerror(errno));
      last_warned_ = stamp;
      reload_failures_.fetch_add(1, std::memory_order_relaxed);
    }
    return;
  }
  auto list = Allowlist::Load(path_);
  // Changed while we read: read again at the next poll, when it has settled.
  if (!(StampOf(path_) == stamp)) return;
  if (!list.ok()) {
    if (last_warned_ != stamp) {
      spdlog::warn("allowlist: reload failed, keeping the previous list: {}", list.error().message);
      last_warned_ = stamp;
      reload_failures_.fetch_add(1, std::memory_order_relaxed);
    }
    return;
  }
  const size_t pairs = (*list)->pair_count();
  {
    std::lock_guard lock(mu_);
    current_ = std::move(*list);
  }
  loaded_ = stamp;
  last_warned_.reset();
  generation_.fetch_add(1, std::memory_order_acq_rel);
  spdlog::info("allowlist {}: reloaded, {} pairs", path_, pairs);
}

}  // namespace rte::auth

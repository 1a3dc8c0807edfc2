#include "cluster/testing/redis_server.h"

#include <arpa/inet.h>
#include <hiredis/hiredis.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <sstream>
#include <thread>

namespace rte::cluster::testing {
namespace {

uint16_t FreePort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  socklen_t len = sizeof(a);
  uint16_t port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0) {
    port = ntohs(a.sin_port);
  }
  ::close(fd);
  return port;
}

}  // namespace

std::unique_ptr<RedisServer> RedisServer::Start(std::string* error) {
  std::unique_ptr<RedisServer> s(new RedisServer());
  char tmpl[] = "/tmp/rte-redis-XXXXXX";
  if (::mkdtemp(tmpl) == nullptr) {
    *error = "mkdtemp failed";
    return nullptr;
  }
  s->dir_ = tmpl;
  for (int attempt = 0; attempt < 5; ++attempt) {
    s->port_ = FreePort();
    if (s->port_ != 0 && s->Launch(error)) return s;
  }
  return nullptr;
}

bool RedisServer::Launch(std::string* error) {
  const std::string port = std::to_string(port_);
  const std::string log = dir_ + "/redis.log";
  pid_ = ::fork();
  if (pid_ == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);  // a crashed test leaves no server behind
    ::execlp("redis-server", "redis-server", "--port", port.c_str(), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", dir_.c_str(), "--logfile", log.c_str(), "--daemonize", "no",
             static_cast<char*>(nullptr));
    ::_exit(127);
  }
  if (pid_ < 0) {
    if (error) *error = "fork failed";
    return false;
  }
  if (WaitReady(5000)) return true;
  if (error) *error = "redis-server did not answer on port " + port + " (is redis-server installed?)";
  Kill();
  return false;
}

bool RedisServer::WaitReady(int timeout_ms) {
  const auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (std::chrono::steady_clock::now() < end) {
    int status = 0;
    if (pid_ > 0 && ::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return false;
    }
    auto r = Command({"PING"});
    if (r.ok() && r->str == "PONG") return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

RedisServer::~RedisServer() {
  Kill();
  std::error_code ec;
  if (!dir_.empty()) std::filesystem::remove_all(dir_, ec);
}

RedisUrl RedisServer::url() const {
  RedisUrl u;
  u.host = "127.0.0.1";
  u.port = port_;
  return u;
}

void RedisServer::Kill() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  if (paused_) ::kill(pid_, SIGCONT);
  int status = 0;
  ::waitpid(pid_, &status, 0);
  pid_ = -1;
  paused_ = false;
}

bool RedisServer::Restart() {
  Kill();
  std::string error;
  for (int i = 0; i < 50; ++i) {  // the port may linger briefly
    if (Launch(&error)) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return false;
}

void RedisServer::Pause() {
  if (pid_ > 0 && ::kill(pid_, SIGSTOP) == 0) paused_ = true;
}

void RedisServer::Resume() {
  if (pid_ > 0 && ::kill(pid_, SIGCONT) == 0) paused_ = false;
}

Result<RedisReply> RedisServer::Command(const std::vector<std::string>& argv) {
  timeval tv{1, 0};
  redisContext* c = redisConnectWithTimeout("127.0.0.1", port_, tv);
  if (c == nullptr || c->err) {
    std::string e = c ? c->errstr : "no context";
    if (c) redisFree(c);
    return MakeError(Errc::kUnavailable, e);
  }
  redisSetTimeout(c, tv);
  std::vector<const char*> ptrs;
  std::vector<size_t> lens;
  for (const auto& a : argv) {
    ptrs.push_back(a.data());
    lens.push_back(a.size());
  }
  auto* r = static_cast<redisReply*>(redisCommandArgv(c, static_cast<int>(argv.size()), ptrs.data(), lens.data()));
  if (r == nullptr) {
    std::string e = c->errstr;
    redisFree(c);
    return MakeError(Errc::kUnavailable, e);
  }
  Result<RedisReply> out = r->type == REDIS_REPLY_ERROR ? Result<RedisReply>(MakeError(Errc::kInternal, r->str))
                                                        : Result<RedisReply>(ConvertReply(r));
  freeReplyObject(r);
  redisFree(c);
  return out;
}

std::map<std::string, int64_t> RedisServer::CommandCalls() {
  std::map<std::string, int64_t> out;
  auto r = Command({"INFO", "commandstats"});
  if (!r.ok()) return out;
  std::istringstream in(r->str);
  std::string line;
  while (std::getline(in, line)) {
    // cmdstat_hset:calls=3,usec=...
    if (line.rfind("cmdstat_", 0) != 0) continue;
    const size_t colon = line.find(':');
    const size_t calls = line.find("calls=");
    if (colon == std::string::npos || calls == std::string::npos) continue;
    out[line.substr(8, colon - 8)] = std::atoll(line.c_str() + calls + 6);
  }
  return out;
}

}  // namespace rte::cluster::testing

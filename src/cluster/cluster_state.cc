#include "cluster/cluster_state.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/json.hpp>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <thread>
#include <tuple>
#include <unordered_map>

#include "base/io_loop.h"
#include "cluster/cluster_scripts.h"
#include "cluster/redis_connection.h"

namespace rte::cluster {
namespace asio = boost::asio;
namespace json = boost::json;
using SteadyClock = std::chrono::steady_clock;
using std::chrono::milliseconds;

namespace {

// Names inside keys and fields: ':' separates key parts and '|' field parts,
// so both (and '%') are percent-encoded; everything else is kept.
std::string Enc(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    if (c == '%' || c == ':' || c == '|') {
      out += fmt::format("%{:02X}", static_cast<unsigned char>(c));
    } else {
      out.push_back(c);
    }
  }
  return out;
}

std::string Dec(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
  };
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && hex(s[i + 1]) >= 0 && hex(s[i + 2]) >= 0) {
      out.push_back(static_cast<char>(hex(s[i + 1]) * 16 + hex(s[i + 2])));
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

int64_t WallMs() {
  return std::chrono::duration_cast<milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

int64_t AsInt(const RedisReply& r) {
  if (r.type == RedisReply::Type::kInteger) return r.integer;
  if (r.type == RedisReply::Type::kString || r.type == RedisReply::Type::kStatus) {
    try {
      return std::stoll(r.str);
    } catch (...) {
      return 0;
    }
  }
  return 0;
}

template <class F, class... A>
void Call(F& f, A&&... a) {
  if (!f) return;
  try {
    f(std::forward<A>(a)...);
  } catch (const std::exception& e) {
    spdlog::error("cluster callback threw: {}", e.what());
  } catch (...) {
    spdlog::error("cluster callback threw");
  }
}

enum Script { kAdmitScript, kReleaseScript, kPresenceWriteScript, kResetScript, kHeartbeatScript,
              kNodesScript, kPresenceScript, kCountsScript, kNumScripts };
constexpr std::array<const char*, kNumScripts> kScriptText = {
    scripts::kAdmit, scripts::kRelease, scripts::kPresenceWrite, scripts::kReset,
    scripts::kHeartbeat, scripts::kNodes, scripts::kPresence, scripts::kCounts};

constexpr size_t kResyncChunk = 256;  // hash fields / presence entries per command

}  // namespace

struct ClusterState::Impl {
  ClusterOptions options;
  std::string node;    // encoded node name
  std::string P;       // key prefix
  std::string node_key, count_key, index_key;
  int64_t started_ms = WallMs();

  asio::io_context ioc;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work;
  RedisStats stats;
  metrics::Counter resyncs, local_admissions;  // cluster thread writes
  std::unique_ptr<RedisConnection> cmd, sub;
  asio::steady_timer heartbeat{ioc};
  asio::steady_timer stop_timer{ioc};
  std::thread thread;
  std::atomic<bool> degraded{true};

  std::mutex mu;  // guards started/stopped
  bool started = false, stopped = false;

  // Cluster thread only.
  std::function<void(std::string)> on_disconnect;
  std::array<std::string, kNumScripts> sha;
  bool stopping = false, stop_finished = false;
  bool resync_needed = false;
  uint64_t resync_gen = 0;

  enum class ConnState { kAdmitting, kReleasedWhileAdmitting, kAdmitted };
  struct LocalConn {
    std::string user;
    std::vector<std::string> orgs;
    ConnState state = ConnState::kAdmitting;
    bool in_redis = false;  // counted in Redis (by Admit or a resync)
    uint64_t gen = 0;       // resync generation when its Admit was sent
  };
  std::unordered_map<std::string, LocalConn> conns;
  std::unordered_map<std::string, int64_t> user_counts, org_counts;  // over `conns`
  // Presence: Redis key -> field -> value, and per connection what it holds.
  std::map<std::string, std::map<std::string, std::string>> presence;
  using PresenceId = std::tuple<std::string, std::string, std::string>;  // channel, org, property
  std::unordered_map<std::string, std::set<PresenceId>> presence_by_conn;

  // --- keys ---
  std::string PresenceSuffix(std::string_view channel, std::string_view org) const {
    return "p:" + Enc(channel) + ":" + Enc(org);
  }
  std::string PresenceKey(std::string_view channel, std::string_view org) const {
    return node_key + ":" + PresenceSuffix(channel, org);
  }
  static std::string Field(std::string_view conn, std::string_view property) {
    return Enc(conn) + "|" + Enc(property);
  }
  std::string Ttl() const { return std::to_string(std::chrono::milliseconds(options.node_ttl).count()); }

  // --- scripts ---
  void Eval(Script s, std::vector<std::string> args, RedisConnection::ReplyHandler done) {
    std::vector<std::string> argv;
    argv.reserve(args.size() + 3);
    const bool by_sha = !sha[s].empty();
    argv.push_back(by_sha ? "EVALSHA" : "EVAL");
    argv.push_back(by_sha ? sha[s] : kScriptText[s]);
    argv.push_back("0");
    for (auto& a : args) argv.push_back(std::move(a));
    if (!by_sha) {
      cmd->Command(std::move(argv), std::move(done));
      return;
    }
    // Script cache flushed (SCRIPT FLUSH, a Redis restart between our load
    // and this call): run the source once.
    auto retry_argv = argv;
    cmd->Command(std::move(argv), [this, s, retry_argv = std::move(retry_argv),
                                   done = std::move(done)](Result<RedisReply> r) mutable {
      if (!r.ok() && r.error().message.rfind("NOSCRIPT", 0) == 0) {
        sha[s].clear();
        retry_argv[0] = "EVAL";
        retry_argv[1] = kScriptText[s];
        cmd->Command(std::move(retry_argv), std::move(done));
        return;
      }
      if (done) done(std::move(r));
    });
  }

  void LoadScripts() {
    for (int s = 0; s < kNumScripts; ++s) {
      cmd->Command({"SCRIPT", "LOAD", kScriptText[s]}, [this, s](Result<RedisReply> r) {
        if (r.ok() && r->type == RedisReply::Type::kString) sha[s] = r->str;
      });
    }
  }

  // Marks a failed write: the next heartbeat rewrites everything.
  RedisConnection::ReplyHandler MarkOnError() {
    return [this](Result<RedisReply> r) {
      if (!r.ok()) resync_needed = true;
    };
  }

  // --- connection state ---
  void OnCommandState(bool up) {
    if (stopping) return;
    if (up) {
      LoadScripts();
      Resync(degraded.load(std::memory_order_relaxed) && resync_gen > 0 ? "Redis reachable again"
                                                                         : "connected");
      degraded.store(false, std::memory_order_relaxed);
    } else {
      degraded.store(true, std::memory_order_relaxed);
      // The subscriber cannot tell a frozen Redis from a quiet channel.
      sub->Reconnect("command connection lost");
    }
  }

  // Rewrites this node's whole copy in Redis from memory. Commands are
  // pipelined on the one connection, so everything sent after this applies
  // on top of it.
  void Resync(const std::string& why) {
    resyncs.Add();
    ++resync_gen;
    resync_needed = false;
    spdlog::info("cluster: writing this node's state to Redis ({}): {} connections, {} presence keys", why,
                 conns.size(), presence.size());
    Eval(kResetScript, {P, node, "reset"}, MarkOnError());
    std::map<std::string, int64_t> counts;
    for (auto& [id, c] : conns) {
      if (c.state != ConnState::kAdmitted) continue;  // an Admit in flight re-counts itself (gen)
      c.in_redis = true;
      ++counts["n"];
      if (!c.user.empty()) ++counts["u:" + Enc(c.user)];
      for (const auto& o : c.orgs) ++counts["o:" + Enc(o)];
    }
    std::vector<std::string> hset{"HSET", count_key};
    for (auto& [f, v] : counts) {
      hset.push_back(f);
      hset.push_back(std::to_string(v));
      if (hset.size() >= 2 + 2 * kResyncChunk) {
        cmd->Command(std::move(hset), MarkOnError());
        hset = {"HSET", count_key};
      }
    }
    if (hset.size() > 2) cmd->Command(std::move(hset), MarkOnError());
    std::vector<std::string> write{Ttl(), index_key};
    for (const auto& [key, fields] : presence) {
      for (const auto& [f, v] : fields) {
        write.push_back(key);
        write.push_back(f);
        write.push_back(v);
        if (write.size() >= 2 + 3 * kResyncChunk) {
          Eval(kPresenceWriteScript, std::move(write), MarkOnError());
          write = {Ttl(), index_key};
        }
      }
    }
    if (write.size() > 2) Eval(kPresenceWriteScript, std::move(write), MarkOnError());
    Eval(kHeartbeatScript, HeartbeatArgs(), MarkOnError());  // node key + TTLs
  }

  std::vector<std::string> HeartbeatArgs() const {
    return {P, node, options.node_url, std::to_string(started_ms), Ttl()};
  }

  void ScheduleHeartbeat() {
    if (stopping) return;
    auto period = std::chrono::duration_cast<milliseconds>(options.node_ttl) / 3;
    heartbeat.expires_after(std::max(period, milliseconds(100)));
    heartbeat.async_wait([this](boost::system::error_code ec) {
      if (ec || stopping) return;
      Heartbeat();
      ScheduleHeartbeat();
    });
  }

  void Heartbeat() {
    if (!cmd->ready()) return;  // the resync on reconnect covers it
    if (resync_needed) {
      Resync("a write failed");
      return;
    }
    const uint64_t gen = resync_gen;
    Eval(kHeartbeatScript, HeartbeatArgs(), [this, gen](Result<RedisReply> r) {
      if (!r.ok()) return;
      if (AsInt(*r) == 0 && gen == resync_gen && !stopping) {
        spdlog::warn("cluster: this node's keys had expired in Redis (heartbeat late)");
        Resync("keys expired");
      }
    });
  }

  // --- admission ---
  void CountLocal(const LocalConn& c, int64_t d) {
    if (!c.user.empty()) {
      if ((user_counts[c.user] += d) <= 0) user_counts.erase(c.user);
    }
    for (const auto& o : c.orgs) {
      if ((org_counts[o] += d) <= 0) org_counts.erase(o);
    }
  }

  std::string UserLimitDetail(const std::string& user) const {
    return fmt::format("MAX_CONNECTIONS_PER_USER={} reached for user {}", options.max_connections_per_user, user);
  }
  std::string OrgLimitDetail(const std::string& org) const {
    return fmt::format("MAX_CONNECTIONS_PER_ORGANIZATION={} reached for organization {}",
                       options.max_connections_per_organization, org);
  }

  void AdmitLocally(ConnectionRef ref, std::function<void(AdmissionResult)>& done, const std::string& why) {
    AdmissionResult res;
    res.local = true;
    const size_t ulim = options.max_connections_per_user, olim = options.max_connections_per_organization;
    if (!ref.user_id.empty() && ulim > 0) {
      auto it = user_counts.find(ref.user_id);
      if (it != user_counts.end() && static_cast<size_t>(it->second) >= ulim) {
        res.result = Admission::kOverUserLimit;
        res.detail = UserLimitDetail(ref.user_id) + " (this node's count; " + why + ")";
        Call(done, std::move(res));
        return;
      }
    }
    if (olim > 0) {
      for (const auto& o : ref.organizations) {
        auto it = org_counts.find(o);
        if (it != org_counts.end() && static_cast<size_t>(it->second) >= olim) {
          res.result = Admission::kOverOrganizationLimit;
          res.detail = OrgLimitDetail(o) + " (this node's count; " + why + ")";
          Call(done, std::move(res));
          return;
        }
      }
    }
    LocalConn c{ref.user_id, ref.organizations, ConnState::kAdmitted, false, resync_gen};
    CountLocal(c, +1);
    conns.emplace(ref.id, std::move(c));
    local_admissions.Add();
    if (cmd->ready()) resync_needed = true;  // written by the next heartbeat's resync
    res.detail = "decided on this node's counts: " + why;
    Call(done, std::move(res));
  }

  std::vector<std::string> AdmitArgs(const LocalConn& c, bool with_limits) const {
    std::vector<std::string> a{P, node, Ttl(), Enc(c.user),
                               std::to_string(with_limits ? options.max_connections_per_user : 0),
                               std::to_string(with_limits ? options.max_connections_per_organization : 0)};
    for (const auto& o : c.orgs) a.push_back(Enc(o));
    return a;
  }

  std::vector<std::string> ReleaseArgs(const LocalConn& c) const {
    std::vector<std::string> a{P, node, Enc(c.user)};
    for (const auto& o : c.orgs) a.push_back(Enc(o));
    return a;
  }

  void OnAdmit(ConnectionRef ref, std::function<void(AdmissionResult)> done) {
    {
      std::set<std::string> seen;
      std::vector<std::string> orgs;
      for (auto& o : ref.organizations) {
        if (seen.insert(o).second) orgs.push_back(std::move(o));
      }
      ref.organizations = std::move(orgs);
    }
    if (auto it = conns.find(ref.id); it != conns.end() && it->second.state != ConnState::kReleasedWhileAdmitting) {
      AdmissionResult res;
      res.detail = "already admitted";
      Call(done, std::move(res));
      return;
    }
    if (stopping || !cmd->ready()) {
      AdmitLocally(std::move(ref), done, "Redis unavailable");
      return;
    }
    LocalConn c{ref.user_id, ref.organizations, ConnState::kAdmitting, false, resync_gen};
    auto args = AdmitArgs(c, true);
    CountLocal(c, +1);
    conns[ref.id] = std::move(c);
    Eval(kAdmitScript, std::move(args),
         [this, ref = std::move(ref), done = std::move(done)](Result<RedisReply> r) mutable {
           OnAdmitReply(std::move(ref), done, std::move(r));
         });
  }

  void OnAdmitReply(ConnectionRef ref, std::function<void(AdmissionResult)>& done, Result<RedisReply> r) {
    auto it = conns.find(ref.id);
    if (it == conns.end()) return;  // cannot happen: only this reply erases an admitting entry
    LocalConn& c = it->second;
    const bool released = c.state == ConnState::kReleasedWhileAdmitting;
    if (!r.ok() || r->type != RedisReply::Type::kArray || r->elements.empty()) {
      CountLocal(c, -1);
      conns.erase(it);
      if (released) {
        resync_needed = true;  // the script may have run
        AdmissionResult res;
        res.local = true;
        res.detail = "released before Redis answered";
        Call(done, std::move(res));
        return;
      }
      AdmitLocally(std::move(ref), done, r.ok() ? "unexpected Redis reply" : r.error().message);
      return;
    }
    const int64_t code = AsInt(r->elements[0]);
    AdmissionResult res;
    if (code == 0) {
      if (released) {
        if (c.gen == resync_gen) Eval(kReleaseScript, ReleaseArgs(c), MarkOnError());
        CountLocal(c, -1);
        conns.erase(it);
      } else {
        c.state = ConnState::kAdmitted;
        c.in_redis = true;
        if (c.gen != resync_gen) {
          // A resync sent after our script wiped its count: count it again.
          Eval(kAdmitScript, AdmitArgs(c, false), MarkOnError());
        }
      }
      Call(done, std::move(res));
      return;
    }
    CountLocal(c, -1);
    conns.erase(it);
    if (code == 1) {
      res.result = Admission::kOverUserLimit;
      res.detail = UserLimitDetail(ref.user_id);
    } else {
      res.result = Admission::kOverOrganizationLimit;
      const std::string org = r->elements.size() > 2 ? Dec(r->elements[2].str) : std::string();
      res.detail = OrgLimitDetail(org);
    }
    Call(done, std::move(res));
  }

  void OnRelease(const std::string& id) {
    auto it = conns.find(id);
    if (it != conns.end()) {
      LocalConn& c = it->second;
      if (c.state == ConnState::kAdmitting) {
        c.state = ConnState::kReleasedWhileAdmitting;  // finished by OnAdmitReply
      } else if (c.state == ConnState::kAdmitted) {
        if (c.in_redis && cmd->ready()) Eval(kReleaseScript, ReleaseArgs(c), MarkOnError());
        else if (c.in_redis) resync_needed = true;
        CountLocal(c, -1);
        conns.erase(it);
      }
    }
    if (auto p = presence_by_conn.find(id); p != presence_by_conn.end()) {
      auto ids = std::move(p->second);
      presence_by_conn.erase(p);
      for (const auto& [channel, org, property] : ids) RemovePresenceEntry(id, channel, org, property);
    }
  }

  // --- presence ---
  void OnAddPresence(const std::string& conn, const std::string& channel, const std::string& org,
                     const std::string& property) {
    auto& ids = presence_by_conn[conn];
    if (!ids.emplace(channel, org, property).second) return;
    std::string key = PresenceKey(channel, org);
    std::string field = Field(conn, property);
    json::object v;
    v["c"] = conn;
    auto cit = conns.find(conn);
    v["u"] = cit == conns.end() ? std::string() : cit->second.user;
    v["p"] = property;
    v["s"] = WallMs();
    std::string value = json::serialize(v);
    presence[key][field] = value;
    if (cmd->ready()) {
      Eval(kPresenceWriteScript, {Ttl(), index_key, std::move(key), std::move(field), std::move(value)},
           MarkOnError());
    }
  }

  void OnRemovePresence(const std::string& conn, const std::string& channel, const std::string& org,
                        const std::string& property) {
    auto p = presence_by_conn.find(conn);
    if (p == presence_by_conn.end() || p->second.erase({channel, org, property}) == 0) return;
    if (p->second.empty()) presence_by_conn.erase(p);
    RemovePresenceEntry(conn, channel, org, property);
  }

  void RemovePresenceEntry(const std::string& conn, const std::string& channel, const std::string& org,
                           const std::string& property) {
    std::string key = PresenceKey(channel, org);
    std::string field = Field(conn, property);
    if (auto k = presence.find(key); k != presence.end()) {
      k->second.erase(field);
      if (k->second.empty()) presence.erase(k);
    }
    if (cmd->ready()) cmd->Command({"HDEL", std::move(key), std::move(field)}, MarkOnError());
    // (The key's entry in the node's index goes at the next heartbeat once the hash is empty.)
  }

  // --- stop ---
  void BeginStop() {
    stopping = true;
    heartbeat.cancel();
    if (!cmd->ready()) {
      FinishStop();
      return;
    }
    Eval(kResetScript, {P, node, "stop"}, [this](Result<RedisReply> r) {
      if (!r.ok()) spdlog::warn("cluster: could not remove this node from Redis: {}", r.error().message);
      FinishStop();
    });
    stop_timer.expires_after(milliseconds(1000));
    stop_timer.async_wait([this](boost::system::error_code ec) {
      if (!ec) FinishStop();
    });
  }

  void FinishStop() {
    if (stop_finished) return;
    stop_finished = true;
    stop_timer.cancel();
    cmd->Stop();
    sub->Stop();
    degraded.store(true, std::memory_order_relaxed);
    work.reset();
  }
};

Result<std::unique_ptr<ClusterState>> ClusterState::Create(ClusterOptions options) {
  if (options.node_name.empty()) return MakeError(Errc::kInvalidArgument, "cluster: the node name is empty");
  if (options.node_ttl < std::chrono::seconds(1)) {
    return MakeError(Errc::kInvalidArgument, "cluster: node TTL must be at least 1 s");
  }
  if (options.command_timeout.count() <= 0) options.command_timeout = milliseconds(500);
  if (options.connect_timeout.count() <= 0) options.connect_timeout = milliseconds(1000);
  if (options.max_pending_commands == 0) options.max_pending_commands = 10000;
  if (options.redis.host.empty()) return MakeError(Errc::kInvalidArgument, "REDIS_URL: no host");

  auto impl = std::make_unique<Impl>();
  impl->options = std::move(options);
  const ClusterOptions& o = impl->options;
  impl->P = o.key_prefix;
  impl->node = Enc(o.node_name);
  impl->node_key = impl->P + "n:" + impl->node;
  impl->count_key = impl->node_key + ":c";
  impl->index_key = impl->node_key + ":k";

  RedisConnectionOptions c;
  c.url = o.redis;
  c.name = "cluster (" + o.node_name + ")";
  c.connect_timeout = o.connect_timeout;
  c.command_timeout = o.command_timeout;
  c.max_pending = o.max_pending_commands;
  impl->cmd = std::make_unique<RedisConnection>(impl->ioc, c, &impl->stats);
  c.name = "cluster pub/sub (" + o.node_name + ")";
  c.subscribe_channel = impl->P + "disconnect";
  impl->sub = std::make_unique<RedisConnection>(impl->ioc, c, &impl->stats);
  Impl* d = impl.get();
  d->cmd->SetStateHandler([d](bool up) { d->OnCommandState(up); });
  d->sub->SetMessageHandler([d](std::string user) {
    if (!d->stopping) Call(d->on_disconnect, std::move(user));
  });
  return std::unique_ptr<ClusterState>(new ClusterState(std::move(impl)));
}

ClusterState::ClusterState(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

ClusterState::~ClusterState() {
  Stop();
  // Destroy the connections before the io_context (they post while freeing).
  impl_->cmd.reset();
  impl_->sub.reset();
}

void ClusterState::Start() {
  Impl* d = impl_.get();
  {
    std::lock_guard lock(d->mu);
    if (d->started || d->stopped) return;
    d->started = true;
  }
  d->work.emplace(d->ioc.get_executor());
  asio::post(d->ioc, [d] {
    d->cmd->Start();
    d->sub->Start();
    d->ScheduleHeartbeat();
  });
  d->thread = std::thread([d] { RunIoLoop(d->ioc, "cluster"); });
}

void ClusterState::Stop() {
  Impl* d = impl_.get();
  bool was_started = false;
  {
    std::lock_guard lock(d->mu);
    if (d->stopped) return;
    d->stopped = true;
    was_started = d->started;
  }
  if (!was_started) return;
  asio::post(d->ioc, [d] { d->BeginStop(); });
  if (d->thread.joinable()) d->thread.join();
}

void ClusterState::Admit(ConnectionRef connection, std::function<void(AdmissionResult)> done) {
  Impl* d = impl_.get();
  asio::post(d->ioc, [d, c = std::move(connection), done = std::move(done)]() mutable {
    d->OnAdmit(std::move(c), std::move(done));
  });
}

void ClusterState::Release(std::string connection_id) {
  Impl* d = impl_.get();
  asio::post(d->ioc, [d, id = std::move(connection_id)] { d->OnRelease(id); });
}

void ClusterState::AddPresence(std::string connection_id, std::string channel, std::string organization_id,
                               std::string property_id) {
  Impl* d = impl_.get();
  asio::post(d->ioc, [d, c = std::move(connection_id), ch = std::move(channel), o = std::move(organization_id),
                      p = std::move(property_id)] { d->OnAddPresence(c, ch, o, p); });
}

void ClusterState::RemovePresence(std::string connection_id, std::string channel, std::string organization_id,
                                  std::string property_id) {
  Impl* d = impl_.get();
  asio::post(d->ioc, [d, c = std::move(connection_id), ch = std::move(channel), o = std::move(organization_id),
                      p = std::move(property_id)] { d->OnRemovePresence(c, ch, o, p); });
}

void ClusterState::SetDisconnectHandler(std::function<void(std::string)> handler) {
  impl_->on_disconnect = std::move(handler);
}

void ClusterState::Nodes(std::function<void(Result<std::vector<NodeInfo>>)> done) {
  Impl* d = impl_.get();
  asio::post(d->ioc, [d, done = std::move(done)]() mutable {
    d->Eval(kNodesScript, {d->P}, [done = std::move(done)](Result<RedisReply> r) mutable {
      if (!r.ok()) return Call(done, Result<std::vector<NodeInfo>>(r.error()));
      std::vector<NodeInfo> out;
      for (const auto& e : r->elements) {
        if (e.elements.size() < 5) continue;
        NodeInfo n;
        n.name = Dec(e.elements[0].str);
        n.url = e.elements[1].str;
        n.started_ms = AsInt(e.elements[2]);
        n.last_seen_ms = AsInt(e.elements[3]);
        n.connections = AsInt(e.elements[4]);
        out.push_back(std::move(n));
      }
      std::sort(out.begin(), out.end(), [](const NodeInfo& a, const NodeInfo& b) { return a.name < b.name; });
      Call(done, Result<std::vector<NodeInfo>>(std::move(out)));
    });
  });
}

void ClusterState::Presence(std::string channel, std::string organization_id,
                            std::function<void(Result<std::vector<PresenceEntry>>)> done) {
  Impl* d = impl_.get();
  asio::post(d->ioc, [d, channel = std::move(channel), org = std::move(organization_id),
                      done = std::move(done)]() mutable {
    auto suffix = d->PresenceSuffix(channel, org);
    d->Eval(kPresenceScript, {d->P, std::move(suffix)},
            [channel, org, done = std::move(done)](Result<RedisReply> r) mutable {
              if (!r.ok()) return Call(done, Result<std::vector<PresenceEntry>>(r.error()));
              std::vector<PresenceEntry> out;
              const auto& el = r->elements;
              for (size_t i = 0; i + 1 < el.size(); i += 2) {
                PresenceEntry p;
                p.node = Dec(el[i].str);
                p.channel = channel;
                p.organization_id = org;
                boost::system::error_code ec;
                json::value v = json::parse(el[i + 1].str, ec);
                if (ec || !v.is_object()) continue;
                const auto& o = v.as_object();
                auto str = [&](const char* k) {
                  auto* x = o.if_contains(k);
                  return x && x->is_string() ? std::string(x->as_string()) : std::string();
                };
                p.connection_id = str("c");
                p.user_id = str("u");
                p.property_id = str("p");
                if (auto* s = o.if_contains("s"); s && s->is_int64()) p.since_ms = s->as_int64();
                out.push_back(std::move(p));
              }
              Call(done, Result<std::vector<PresenceEntry>>(std::move(out)));
            });
  });
}

void ClusterState::ConnectionCounts(std::function<void(Result<std::vector<std::pair<std::string, int64_t>>>)> done) {
  Impl* d = impl_.get();
  using Out = std::vector<std::pair<std::string, int64_t>>;
  asio::post(d->ioc, [d, done = std::move(done)]() mutable {
    d->Eval(kCountsScript, {d->P}, [done = std::move(done)](Result<RedisReply> r) mutable {
      if (!r.ok()) return Call(done, Result<Out>(r.error()));
      Out out;
      const auto& el = r->elements;
      for (size_t i = 0; i + 1 < el.size(); i += 2) {
        const int64_t n = AsInt(el[i + 1]);
        if (n > 0) out.emplace_back(Dec(el[i].str), n);
      }
      std::sort(out.begin(), out.end());
      Call(done, Result<Out>(std::move(out)));
    });
  });
}

void ClusterState::DisconnectUser(std::string user_id, std::function<void(Result<int64_t>)> done) {
  Impl* d = impl_.get();
  asio::post(d->ioc, [d, user = std::move(user_id), done = std::move(done)]() mutable {
    d->cmd->Command({"PUBLISH", d->P + "disconnect", std::move(user)},
                    [done = std::move(done)](Result<RedisReply> r) mutable {
                      if (!r.ok()) return Call(done, Result<int64_t>(r.error()));
                      Call(done, Result<int64_t>(AsInt(*r)));
                    });
  });
}

bool ClusterState::degraded() const { return impl_->degraded.load(std::memory_order_relaxed); }

ClusterState::Counters ClusterState::counters() const {
  const Impl* d = impl_.get();
  Counters c;
  c.commands = d->stats.commands.Get();
  c.errors = d->stats.errors.Get();
  c.timeouts = d->stats.timeouts.Get();
  c.reconnects = d->stats.reconnects.Get();
  c.pending = d->stats.pending.Get();
  c.resyncs = d->resyncs.Get();
  c.local_admissions = d->local_admissions.Get();
  return c;
}

}  // namespace rte::cluster

#include "server/worker.h"

#include <boost/asio/post.hpp>
#include <spdlog/spdlog.h>

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "server/http_api.h"
#include "server/http_connection.h"

namespace rte::server {
namespace asio = boost::asio;
using session::WsSession;

namespace {
constexpr auto kTickInterval = std::chrono::milliseconds(250);
// The close reason on shutdown: clients reconnect (to another instance) and
// resume from their last positions.
constexpr std::string_view kDrainReason = "server shutting down; reconnect";
// Longest a fan-out pass queues frames before the sessions it touched write.
// A pass normally ends when the backlog is empty; the budget only bounds how
// long client input and timers wait behind a very large backlog.
constexpr auto kFanoutBudget = std::chrono::milliseconds(50);

}

Result<int> OpenListener(const std::string& address, uint16_t port) {
  boost::system::error_code ec;
  auto addr = asio::ip::make_address(address, ec);
  if (ec) return MakeError(Errc::kInvalidArgument, "BIND_ADDRESS=\"" + address + "\" is not an IP address");
  asio::io_context scratch;
  asio::ip::tcp::acceptor acceptor(scratch);
  asio::ip::tcp::endpoint ep(addr, port);
  acceptor.open(ep.protocol(), ec);
  // SO_REUSEADDR only: lets a restart bind while old connections sit in
  // TIME_WAIT, but never lets a second listener share the port.
  if (!ec) acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor.bind(ep, ec);
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec == asio::error::address_in_use) {
    return MakeError(Errc::kUnavailable, "cannot listen on " + address + ":" + std::to_string(port) +
                                             ": address already in use (another process listens on port " +
                                             std::to_string(port) + "; set PORT or BIND_ADDRESS)");
  }
  if (ec) {
    return MakeError(Errc::kUnavailable,
                     "cannot listen on " + address + ":" + std::to_string(port) + " (PORT/BIND_ADDRESS): " + ec.message());
  }
  return acceptor.release();
}

Worker::Worker(int index, const routing::ChannelTable& channels, const session::SessionOptions& options,
               HttpOptions http_options, routing::InterestUpdates& interest, HttpApi& api,
               auth::Authenticator& authenticator, session::ConnectionLimits& limits, ingest::ReplayService* replay)
    : index_(index),
      channels_(channels),
      options_(options),
      http_options_(std::move(http_options)),
      interest_(interest),
      api_(api),
      authenticator_(authenticator),
      limits_(limits),
      replay_(replay) {}

Worker::~Worker() {
  Stop();
  Join();
}

Status Worker::Listen(int listen_fd, asio::ssl::context* tls) {
  tls_ = tls;
  int fd = ::dup(listen_fd);
  if (fd < 0) return MakeError(Errc::kUnavailable, std::string("dup(listening socket): ") + std::strerror(errno));
  boost::system::error_code ec;
  asio::ip::tcp::endpoint local;
  socklen_t len = static_cast<socklen_t>(local.capacity());
  if (::getsockname(fd, local.data(), &len) != 0) {
    ::close(fd);
    return MakeError(Errc::kUnavailable, std::string("getsockname: ") + std::strerror(errno));
  }
  acceptor_.assign(local.protocol(), fd, ec);
  if (ec) {
    ::close(fd);
    return MakeError(Errc::kUnavailable, "listening socket: " + ec.message());
  }
  acceptor_.non_blocking(true, ec);
  return {};
}

void Worker::Start() {
  DoAccept();
  DoTick();
  thread_ = std::thread([this] {
    ioc_.run();
  });
}

void Worker::Stop() {
  asio::post(ioc_, [this] {
    if (stopping_) return;
    stopping_ = true;
    boost::system::error_code ignored;
    acceptor_.close(ignored);
    accept_backoff_.cancel();
    for (auto& [ptr, s] : sessions_) s->Close(wire::kCloseGoingAway, "server shutting down");
    // Give close frames a moment, then stop the loop.
    auto timer = std::make_shared<asio::steady_timer>(ioc_, std::chrono::milliseconds(500));
    timer->async_wait([this, timer](const boost::system::error_code&) { ioc_.stop(); });
  });
}

void Worker::StopAccepting() {
  asio::post(ioc_, [this] {
    accepting_ = false;
    boost::system::error_code ignored;
    acceptor_.close(ignored);
    accept_backoff_.cancel();
  });
}

void Worker::Drain(session::Clock::time_point deadline) {
  asio::post(ioc_, [this, deadline] {
    if (stopping_) return;
    spdlog::info("worker {}: draining {} sessions", index_, sessions_.size());
    CheckDrained(deadline);
  });
}

void Worker::CheckDrained(session::Clock::time_point deadline) {
  // Again each round: a connection whose upgrade finished meanwhile is told too.
  for (auto& [ptr, s] : sessions_) s->CloseAfterQueued(wire::kCloseGoingAway, kDrainReason, deadline);
  if (sessions_.empty() || session::Clock::now() >= deadline) {
    if (!sessions_.empty()) spdlog::warn("worker {}: {} sessions still open at the drain deadline; cut", index_, sessions_.size());
    stopping_ = true;
    ioc_.stop();
    return;
  }
  drain_timer_.expires_after(std::chrono::milliseconds(100));
  drain_timer_.async_wait([this, deadline](const boost::system::error_code& ec) {
    if (!ec) CheckDrained(deadline);
  });
}

void Worker::Join() {
  if (thread_.joinable()) thread_.join();
}

void Worker::DoAccept() {
  acceptor_.async_accept(ioc_, [this](const boost::system::error_code& ec, asio::ip::tcp::socket socket) {
    OnAccept(ec, std::move(socket));
  });
}

void Worker::OnAccept(const boost::system::error_code& ec, asio::ip::tcp::socket socket) {
  if (ec == asio::error::operation_aborted || stopping_ || !accepting_) return;
  if (ec) {
    stats_.accept_errors.Add();
    if (accept_log_.Allow()) {
      spdlog::warn("accept: {} ({} similar errors suppressed); pausing accepts for 100 ms", ec.message(),
                   accept_log_.suppressed());
    }
    const bool resource = ec == asio::error::no_descriptors || ec.value() == ENFILE || ec == asio::error::no_memory ||
                          ec == asio::error::no_buffer_space;
    if (resource) {
      // Out of descriptors or memory: accepting again at once would fail at
      // once, forever. Wait for connections to close.
      accept_backoff_.expires_after(std::chrono::milliseconds(100));
      accept_backoff_.async_wait([this](const boost::system::error_code& wec) {
        if (!wec && !stopping_ && accepting_) DoAccept();
      });
      return;
    }
    DoAccept();  // e.g. a client that reset before we accepted it
    return;
  }
  boost::system::error_code rec;
  auto remote = socket.remote_endpoint(rec);
  bool allowed = true;
  session::ConnectionLimits::Slot ip_slot;
  if (!rec) ip_slot = limits_.AcquireIp(remote.address().to_string(), &allowed);
  std::make_shared<HttpConnection>(std::move(socket), *this, api_, std::move(ip_slot), !allowed, tls_)->Start();
  DoAccept();
}

void Worker::DoTick() {
  tick_timer_.expires_after(kTickInterval);
  tick_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec || stopping_) return;
    const auto now = session::Clock::now();
    ticking_ = true;
    const bool outage = kafka_outage_flag_ && kafka_outage_flag_->Get() == 1;
    if (outage != kafka_outage_) {
      // Kafka went away or came back: every client hears it.
      kafka_outage_ = !kafka_outage_;
      const auto status = KafkaStatusFrame();
      for (auto& [ptr, s] : sessions_) s->SendFrame(status);
    }
    for (auto& [ptr, s] : sessions_) s->Tick(now);
    ticking_ = false;
    EraseDead();
    DoTick();
  });
}

void Worker::AddSession(std::shared_ptr<WsSession> s) {
  WsSession* raw = s.get();
  raw->set_serial(++next_serial_);
  sessions_.emplace(raw, std::move(s));
}

std::vector<ClientInfo> Worker::Clients() const {
  std::vector<ClientInfo> out;
  out.reserve(sessions_.size());
  for (const auto& [raw, s] : sessions_) {
    if (s->closed()) continue;
    ClientInfo c;
    c.id = ClusterId(s.get());
    c.endpoint = s->endpoint();
    c.remote = s->remote();
    c.user_id = s->user_id();
    if (const auth::Principal* p = s->principal()) {
      c.any_organization = p->any_organization;
      c.organizations = p->organizations;
    }
    c.subscriptions = s->subscriptions().size();
    c.queued_bytes = s->queued_bytes();
    c.events_sent = s->events_sent();
    c.events_dropped = s->events_dropped();
    c.connected_ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(s->connected_at().time_since_epoch()).count();
    out.push_back(std::move(c));
  }
  return out;
}

std::string Worker::ClusterId(const WsSession* s) const {
  return std::to_string(index_) + "-" + std::to_string(s->serial());
}

bool Worker::RequestAdmission(const std::shared_ptr<WsSession>& s, session::AdmissionRequest request) {
  if (!cluster_) return false;
  cluster::ConnectionRef ref{ClusterId(s.get()), std::move(request.user_id), std::move(request.organizations)};
  std::weak_ptr<WsSession> weak = s;
  cluster_->Admit(std::move(ref), [this, weak, id = ClusterId(s.get())](cluster::AdmissionResult r) {
    // On the cluster thread: back to this worker's.
    asio::post(ioc_, [this, weak, id, r = std::move(r)] {
      auto session = weak.lock();
      const bool admitted = r.result == cluster::Admission::kAdmitted;
      if (!session || session->closed()) {
        if (admitted) cluster_->Release(id);  // counted, but gone meanwhile
        return;
      }
      session->OnAdmission(admitted ? session::AdmissionVerdict::kAdmitted
                           : r.result == cluster::Admission::kOverUserLimit
                               ? session::AdmissionVerdict::kOverUserLimit
                               : session::AdmissionVerdict::kOverOrganizationLimit,
                           r.detail);
    });
  });
  return true;
}

void Worker::ReleaseAdmission(WsSession* s) {
  if (cluster_) cluster_->Release(ClusterId(s));
}

void Worker::DisconnectUser(std::string user_id) {
  asio::post(ioc_, [this, user_id = std::move(user_id)] {
    ticking_ = true;  // sessions may close while the map is walked
    size_t n = 0;
    for (auto& [raw, s] : sessions_) {
      if (!s->closed() && s->user_id() == user_id) {
        s->Disconnect();
        ++n;
      }
    }
    ticking_ = false;
    EraseDead();
    if (n) spdlog::info("worker {}: disconnected {} connection(s) of a user on an administrator's request", index_, n);
  });
}

void Worker::OnSessionClosed(WsSession* s) {
  if (ticking_ || fanning_out_) {
    dead_.push_back(s);
  } else {
    sessions_.erase(s);
  }
}

void Worker::Subscribe(const std::shared_ptr<WsSession>& s, const routing::SubscriptionKey& key,
                       session::SharedFrame ack) {
  auto change = index_by_key_.Add(key, s.get());
  stats_.subscriptions.Set(static_cast<int64_t>(index_by_key_.size()));
  if (change.added) {
    stats_.channel_subscriptions[metrics::WorkerStats::ChannelIndex(key.channel)].Add(1);
    if (cluster_) cluster_->AddPresence(ClusterId(s.get()), channels_.Get(key.channel).name, key.tenant, key.property);
  }
  if (kafka_outage_) s->SendFrame(KafkaStatusFrame());  // subscribed during an outage: say so
  if (change.tenant_transition) {
    last_pushed_seq_ = interest_.Push({key.tenant_key(), index_, true, 0});
  }
  if (ack) {
    if (applied_seq_ >= last_pushed_seq_) {
      s->SendFrame(std::move(ack));
    } else {
      pending_acks_.emplace(last_pushed_seq_, std::make_pair(s, std::move(ack)));
    }
  }
}

session::SharedFrame Worker::KafkaStatusFrame() const {
  return session::MakeFrame(wire::Opcode::kText, wire::KafkaStatusMessage(!kafka_outage_));
}

void Worker::Unsubscribe(WsSession* s, const routing::SubscriptionKey& key) {
  auto change = index_by_key_.Remove(key, s);
  stats_.subscriptions.Set(static_cast<int64_t>(index_by_key_.size()));
  if (change.added) {
    stats_.channel_subscriptions[metrics::WorkerStats::ChannelIndex(key.channel)].Add(-1);
    if (cluster_) cluster_->RemovePresence(ClusterId(s), channels_.Get(key.channel).name, key.tenant, key.property);
  }
  if (change.tenant_transition) {
    last_pushed_seq_ = interest_.Push({key.tenant_key(), index_, false, 0});
  }
}

void Worker::Replay(const std::shared_ptr<WsSession>& s, const routing::SubscriptionKey& key,
                    ingest::ReplayRequest from) {
  // Only once the subscription is in effect: then the high watermark the
  // replay reads up to is at or past the first record delivered live, so
  // replay and live overlap (the session drops the duplicates) and never
  // leave a hole.
  PendingReplay job{s, key, std::move(from)};
  if (applied_seq_ >= last_pushed_seq_) {
    SubmitReplay(std::move(job));
  } else {
    pending_replays_.emplace(last_pushed_seq_, std::move(job));
  }
}

void Worker::SubmitReplay(PendingReplay job) {
  auto finish = [this, session = job.session, key = job.key](ingest::ReplayResult result) {
    // On the replay thread: back to this worker.
    asio::post(ioc_, [session, key, result = std::move(result)]() mutable {
      if (auto s = session.lock()) s->FinishReplay(key, std::move(result));
    });
  };
  if (!replay_) {
    ingest::ReplayResult none;
    none.why = "resume is not available here";
    finish(std::move(none));
    return;
  }
  replay_->Submit(std::move(job.from), std::move(finish));
}

void Worker::OnInterestApplied(uint64_t seq) {
  asio::post(ioc_, [this, seq] {
    applied_seq_ = std::max(applied_seq_, seq);
    while (!pending_replays_.empty() && pending_replays_.begin()->first <= applied_seq_) {
      SubmitReplay(std::move(pending_replays_.extract(pending_replays_.begin()).mapped()));
    }
    while (!pending_acks_.empty() && pending_acks_.begin()->first <= applied_seq_) {
      auto node = pending_acks_.extract(pending_acks_.begin());
      auto& [session, ack] = node.mapped();
      if (!session->closed()) session->SendFrame(std::move(ack));
    }
  });
}

void Worker::PostEvents(std::vector<routing::EventPtr> events) {
  backlog_events_.fetch_add(events.size(), std::memory_order_relaxed);
  asio::post(ioc_, [this, events = std::move(events)]() mutable {
    stats_.events_in.Add(events.size());
    for (auto& e : events) backlog_.push_back(std::move(e));
    stats_.backlog.Set(static_cast<int64_t>(backlog_.size()));
    if (!draining_) {
      draining_ = true;
      ScheduleDrain();
    }
  });
}

void Worker::ScheduleDrain() {
  if (session::Clock::now() >= hold_until_) {
    asio::post(ioc_, [this] { DrainBacklog(); });
    return;
  }
  hold_timer_.expires_at(hold_until_);
  hold_timer_.async_wait([this](const boost::system::error_code&) { DrainBacklog(); });
}

void Worker::DrainBacklog() {
  // One pass: fan out everything waiting (queueing frames, no writes), then
  // every session the pass touched writes what it got in one gather write,
  // then yield to the loop so write completions and client input run. The
  // batching clocks itself: at light load a pass is a few events and the
  // write follows at once; under load the records that arrived while the
  // previous pass wrote are all in the next one, so each write carries more
  // frames (fewer syscalls per delivery) exactly when syscalls are the
  // bottleneck. (A short time budget here, 2 ms before, defeats this: every
  // pass then writes about one frame per socket, and throughput is capped
  // near one syscall per delivery.) Batches are appended in arrival order,
  // so per-partition order is kept.
  const auto deadline = session::Clock::now() + kFanoutBudget;
  const uint64_t deliveries_before = stats_.deliveries.Get();
  size_t done = 0;
  fanning_out_ = true;
  while (!backlog_.empty()) {
    const routing::EventPtr& ev = backlog_.front();
    // One shared buffer per event; every session queues the same bytes. The
    // reference count the sessions touch is this worker's own (a holder
    // made here), not the event's, which every worker shares: no cache line
    // bounces between cores per recipient.
    auto holder = std::make_shared<routing::EventPtr>(ev);
    session::SharedFrame frame(holder, &ev->frame);
    index_by_key_.ForEachMatch(ev->channel, ev->tenant, ev->property, [&](WsSession* s, bool property_key) {
      if (s->Deliver(frame, ev.get(), property_key)) touched_.push_back(s);
    });
    if (ev->timestamp_ms > 0) pass_timestamps_.push_back(ev->timestamp_ms);
    backlog_.pop_front();
    ++done;
    if ((done & 15) == 0 && session::Clock::now() >= deadline) break;
  }
  const auto flush_start = session::Clock::now();
  const size_t writes = touched_.size();
  for (WsSession* s : touched_) s->Flush();
  touched_.clear();
  const auto flushed = session::Clock::now();
  const int64_t written_us = metrics::WallClockUs();
  for (int64_t ts : pass_timestamps_) stats_.delivery_freshness.Observe(written_us - ts * 1000);
  pass_timestamps_.clear();
  const auto hold = coalescer_.AfterPass(flushed, stats_.deliveries.Get() - deliveries_before, writes, flushed - flush_start);
  hold_until_ = flushed + hold;
  if (hold > session::Clock::duration::zero()) stats_.write_holds.Add();
  fanning_out_ = false;
  EraseDead();
  backlog_events_.fetch_sub(done, std::memory_order_relaxed);
  stats_.backlog.Set(static_cast<int64_t>(backlog_.size()));
  if (backlog_.empty()) {
    draining_ = false;
    return;
  }
  ScheduleDrain();
}

void Worker::EraseDead() {
  for (WsSession* s : dead_) sessions_.erase(s);
  dead_.clear();
}

}  // namespace rte::server

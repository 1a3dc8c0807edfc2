#include "client.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <charconv>
#include <cstring>
#include <ctime>
#include <future>

namespace rte::bench {

using asio::ip::tcp;
using boost::system::error_code;

uint64_t RealtimeUs() {
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1'000'000u + static_cast<uint64_t>(ts.tv_nsec) / 1000u;
}
uint64_t MonotonicUs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1'000'000u + static_cast<uint64_t>(ts.tv_nsec) / 1000u;
}

namespace {

constexpr size_t kReadChunk = 256 * 1024;
constexpr uint64_t kHandshakeTimeoutUs = 15'000'000;

enum State : uint8_t { kConnecting, kHandshake, kSubscribing, kReady, kClosed };

struct Sub {
  SubSpec spec;
  std::string channel, org, prop;  // names as they appear in messages
  uint64_t next = 0;               // next expected seq
  bool seen = false;
};

const char* Find(const char* p, const char* end, std::string_view needle) {
  if (p >= end) return nullptr;
  return static_cast<const char*>(memmem(p, static_cast<size_t>(end - p), needle.data(), needle.size()));
}

// The string value after `needle` ("...":"VALUE"), or empty.
std::string_view StringAfter(const char* p, const char* end, std::string_view needle, const char** next) {
  const char* f = Find(p, end, needle);
  if (!f) return {};
  f += needle.size();
  const char* q = static_cast<const char*>(memchr(f, '"', static_cast<size_t>(end - f)));
  if (!q) return {};
  if (next) *next = q;
  return {f, static_cast<size_t>(q - f)};
}

bool NumberAfter(const char*& p, const char* end, std::string_view needle, uint64_t& out) {
  const char* f = Find(p, end, needle);
  if (!f) return false;
  f += needle.size();
  while (f < end && *f == ' ') ++f;
  auto r = std::from_chars(f, end, out);
  if (r.ec != std::errc()) return false;
  p = r.ptr;
  return true;
}

}  // namespace

struct Conn {
  explicit Conn(asio::io_context& ioc) : sock(ioc) {}
  tcp::socket sock;  // until connected; then the raw descriptor below
  int fd = -1;       // connected socket, owned; in the thread's epoll set
  uint32_t events = 0;  // what fd is registered for in the epoll set (0: not in it)
  uint32_t assign_id = 0;
  State state = kConnecting;
  bool stalled = false, parked = false, track_loss = true, was_ready = false;
  uint16_t close_code = 0;
  uint32_t acks = 0;
  uint64_t start_us = 0;
  std::string pending;  // handshake bytes, or a partial frame
  std::string frag;     // a fragmented message being reassembled
  std::string out;  // bytes to send that the socket did not take yet
  std::vector<Sub> subs;
};

ClientThread::ClientThread(Shared& shared, int index)
    : shared_(shared), scn_(shared.scn), index_(index), buf_(kReadChunk + 64 * 1024) {
  epfd_.assign(::epoll_create1(EPOLL_CLOEXEC));
}

ClientThread::~ClientThread() { Stop(); }

void ClientThread::Start() {
  Tick();
  WaitEpoll();
  thread_ = std::thread([this] { ioc_.run(); });
}

void ClientThread::Stop() {
  if (!thread_.joinable()) return;
  work_.reset();
  ioc_.stop();
  thread_.join();
  conns_.clear();
}

void ClientThread::Error(const std::string& e) {
  std::lock_guard lk(errors_mu_);
  ++error_count_;
  if (errors_.size() < 8) errors_.push_back(e);
}

std::vector<std::string> ClientThread::Errors() {
  std::lock_guard lk(errors_mu_);
  auto v = errors_;
  if (error_count_ > errors_.size()) v.push_back("... " + std::to_string(error_count_ - errors_.size()) + " more");
  return v;
}

void ClientThread::Open(uint32_t assign_id, bool track_loss) {
  asio::post(ioc_, [this, assign_id, track_loss] { DoOpen(assign_id, track_loss); });
}

void ClientThread::DoOpen(uint32_t assign_id, bool track_loss) {
  auto owned = std::make_unique<Conn>(ioc_);
  Conn* c = owned.get();
  conns_.push_back(std::move(owned));
  c->assign_id = assign_id;
  c->track_loss = track_loss;
  c->stalled = scn_.StalledConn(assign_id);
  for (const auto& sp : scn_.SubsOf(assign_id)) {
    Sub s;
    s.spec = sp;
    s.channel = scn_.channels[sp.channel];
    s.org = scn_.OrgName(sp.org);
    if (sp.prop >= 0) s.prop = scn_.PropName(sp.prop);
    c->subs.push_back(std::move(s));
  }
  c->start_us = MonotonicUs();
  if (counters.first_attempt_us.load(std::memory_order_relaxed) == 0)
    counters.first_attempt_us.store(c->start_us, std::memory_order_relaxed);
  Inc(counters.attempts);
  ++handshaking_;
  error_code ec;
  c->sock.open(tcp::v4(), ec);
  if (ec) return Fail(c, counters.failed_connect, "socket: " + ec.message());
  if (c->stalled) {
    // A small receive window: a client that stops reading backs up into the
    // server's queue quickly, not into megabytes of kernel buffers.
    int small = 4096;
    setsockopt(c->sock.native_handle(), SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
  }
  int nsrc = scn_.source_ips > 0 ? scn_.source_ips : 1 + scn_.MaxConnections() / 25000;
  if (nsrc > 1) {
    // Spread over 127.0.0.1..N so that more than ~28k connections find
    // ephemeral ports; the port is picked at connect time.
    int one = 1;
    setsockopt(c->sock.native_handle(), IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
    asio::ip::address_v4::bytes_type b{127, 0, 0, static_cast<unsigned char>(1 + assign_id % nsrc)};
    c->sock.bind(tcp::endpoint(asio::ip::address_v4(b), 0), ec);
    if (ec) return Fail(c, counters.failed_connect, "bind: " + ec.message());
  }
  c->sock.async_connect(shared_.server, [this, c](const error_code& e) { OnConnected(c, e); });
}

void ClientThread::OnConnected(Conn* c, const error_code& ec) {
  if (c->state == kClosed) return;
  if (ec) return Fail(c, counters.failed_connect, "connect: " + ec.message());
  error_code ignored;
  c->sock.set_option(tcp::no_delay(true), ignored);
  c->sock.non_blocking(true, ignored);
  // From here the socket is ours: no reactor registration, so a segment
  // costs one epoll report and one read, not an Asio operation.
  c->fd = c->sock.release(ignored);
  if (ignored || c->fd < 0) return Fail(c, counters.failed_connect, "release: " + ignored.message());
  c->state = kHandshake;
  std::string target;
  const Sub& s0 = c->subs.front();
  std::string user = scn_.user_prefix + std::to_string(c->assign_id);
  if (scn_.endpoint == "getEvents") {
    target = "/getEvents/" + s0.channel + "?organization_id=" + s0.org + "&user_id=" + user;
    if (s0.spec.prop >= 0) target += "&property_id=" + s0.prop;
  } else {
    target = "/ws?user_id=" + user;
  }
  c->out = "GET " + target + " HTTP/1.1\r\nHost: " + shared_.host_header +
           "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
           "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n";
  if (!scn_.token.empty()) c->out += "Authorization: Bearer " + scn_.token + "\r\n";
  c->out += "\r\n";
  Flush(c);
  ArmRead(c);
}

void ClientThread::Flush(Conn* c) {
  if (c->state == kClosed || c->fd < 0) return;
  while (!c->out.empty()) {
    ssize_t n = ::send(c->fd, c->out.data(), c->out.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n > 0) {
      c->out.erase(0, static_cast<size_t>(n));
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else {
      break;  // would block (EPOLLOUT below), or an error the read side sees
    }
  }
  Watch(c);
}

// Registers c->fd for what it needs now: input unless parked, output while
// bytes wait.
void ClientThread::Watch(Conn* c) {
  if (c->fd < 0) return;
  uint32_t want = (c->parked ? 0u : static_cast<uint32_t>(EPOLLIN)) | (c->out.empty() ? 0u : static_cast<uint32_t>(EPOLLOUT));
  if (want == c->events) return;
  if (want == 0) {
    // Out of the set entirely: even an empty mask would report hang-ups,
    // over and over for a parked connection.
    ::epoll_ctl(epfd_.native_handle(), EPOLL_CTL_DEL, c->fd, nullptr);
    c->events = 0;
    return;
  }
  epoll_event ev{};
  ev.events = want;
  ev.data.ptr = c;
  if (::epoll_ctl(epfd_.native_handle(), c->events == 0 ? EPOLL_CTL_ADD : EPOLL_CTL_MOD, c->fd, &ev) == 0) {
    c->events = want;
  }
}

void ClientThread::CloseFd(Conn* c) {
  error_code ignored;
  c->sock.close(ignored);
  if (c->fd >= 0) ::close(c->fd);  // also leaves the epoll set
  c->fd = -1;
}

void ClientThread::WaitEpoll() {
  epfd_.async_wait(asio::posix::stream_descriptor::wait_read, [this](const error_code& ec) {
    if (ec) return;
    epoll_event evs[512];
    int n = ::epoll_wait(epfd_.native_handle(), evs, 512, 0);
    for (int i = 0; i < n; ++i) {
      Conn* c = static_cast<Conn*>(evs[i].data.ptr);
      if (c->state == kClosed || c->fd < 0) continue;
      if (evs[i].events & EPOLLOUT) Flush(c);
      if (evs[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP)) OnReadable(c, {});
    }
    WaitEpoll();
  });
}

namespace {
// Client frames are masked (RFC 6455 5.3); the key need not be secret here.
void AppendFrame(std::string& o, uint32_t id, int opcode, const char* p, size_t n) {
  o.push_back(static_cast<char>(0x80 | opcode));
  if (n < 126) {
    o.push_back(static_cast<char>(0x80 | n));
  } else if (n <= 0xffff) {
    o.push_back(static_cast<char>(0x80 | 126));
    o.push_back(static_cast<char>(n >> 8));
    o.push_back(static_cast<char>(n & 0xff));
  } else {
    o.push_back(static_cast<char>(0x80 | 127));
    for (int i = 7; i >= 0; --i) o.push_back(static_cast<char>((static_cast<uint64_t>(n) >> (8 * i)) & 0xff));
  }
  const unsigned char key[4] = {0x37, static_cast<unsigned char>(id), 0xa5, 0x5c};
  o.append(reinterpret_cast<const char*>(key), 4);
  for (size_t i = 0; i < n; ++i) o.push_back(static_cast<char>(p[i] ^ key[i & 3]));
}

// A close frame written at once, best effort, just before the socket is closed.
void SendCloseNow(Conn* c, uint16_t code) {
  std::string f;
  const char cc[2] = {static_cast<char>(code >> 8), static_cast<char>(code & 0xff)};
  AppendFrame(f, c->assign_id, 8, cc, 2);
  if (c->out.empty() && c->fd >= 0) (void)::send(c->fd, f.data(), f.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
}
}  // namespace

void ClientThread::Send(Conn* c, int opcode, const char* p, size_t n) {
  AppendFrame(c->out, c->assign_id, opcode, p, n);
  Flush(c);
}

void ClientThread::ArmRead(Conn* c) { Watch(c); }

void ClientThread::OnReadable(Conn* c, const error_code& ec) {
  if (c->state == kClosed) return;
  if (ec) {
    if (c->state == kReady) Closed(c, false);
    else Fail(c, counters.failed_closed, "wait: " + ec.message());
    return;
  }
  if (c->stalled && c->state == kReady && shared_.stall_active.load(std::memory_order_relaxed)) {
    if (!c->parked) Inc(counters.stalled_parked);
    c->parked = true;
    Watch(c);
    return;  // stop reading: the server's queue for it fills up
  }
  size_t pend = c->pending.size();
  if (buf_.size() < pend + kReadChunk) buf_.resize(pend + kReadChunk);
  if (pend) std::memcpy(buf_.data(), c->pending.data(), pend);
  ssize_t n = ::read(c->fd, buf_.data() + pend, buf_.size() - pend);
  if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) return;
  if (n <= 0) {
    std::string why = n == 0 ? "eof" : std::strerror(errno);
    if (c->state == kReady) Closed(c, false);
    else Fail(c, counters.failed_closed, "closed during handshake: " + why);
    return;
  }
  Inc(counters.reads);
  Inc(counters.bytes, static_cast<uint64_t>(n));
  now_us_ = RealtimeUs();
  size_t len = pend + static_cast<size_t>(n);
  if (c->state == kHandshake) {
    c->pending.assign(buf_.data(), len);
    if (!OnHandshake(c, len)) return;
  } else {
    c->pending.clear();
    ParseFrames(c, buf_.data(), len);
  }
}

// The HTTP answer to the upgrade, in c->pending. False when the connection is gone.
bool ClientThread::OnHandshake(Conn* c, size_t) {
  auto end = c->pending.find("\r\n\r\n");
  if (end == std::string::npos) {
    if (c->pending.size() > 16384) {
      Fail(c, counters.failed_status, "upgrade answer over 16 KiB");
      return false;
    }
    return true;
  }
  if (c->pending.compare(0, 12, "HTTP/1.1 101") != 0) {
    auto line = c->pending.substr(0, c->pending.find("\r\n"));
    Fail(c, counters.failed_status, "upgrade refused: " + line);
    return false;
  }
  std::string rest = c->pending.substr(end + 4);
  c->pending.clear();
  if (scn_.endpoint == "ws") {
    c->state = kSubscribing;
    int id = 0;
    for (const auto& s : c->subs) {
      std::string cmd = "{\"type\":\"subscribe\",\"id\":\"s" + std::to_string(id++) + "\",\"channel\":\"" + s.channel +
                        "\",\"filter\":{\"organization_id\":\"" + s.org + "\"";
      if (s.spec.prop >= 0) cmd += ",\"property_id\":\"" + s.prop + "\"";
      cmd += "}}";
      Send(c, 1, cmd.data(), cmd.size());
    }
  } else {
    MarkReady(c);
  }
  if (!rest.empty()) {
    std::memcpy(buf_.data(), rest.data(), rest.size());
    ParseFrames(c, buf_.data(), rest.size());
  }
  return c->state != kClosed;
}

void ClientThread::MarkReady(Conn* c) {
  c->state = kReady;
  c->was_ready = true;
  --handshaking_;
  uint64_t now = MonotonicUs();
  handshake.Record(now - c->start_us);
  Inc(counters.ready);
  Inc(counters.open);
  counters.last_ready_us.store(now, std::memory_order_relaxed);
}

void ClientThread::ParseFrames(Conn* c, const char* data, size_t len) {
  size_t pos = 0;
  while (len - pos >= 2 && c->state != kClosed) {
    auto b0 = static_cast<unsigned char>(data[pos]), b1 = static_cast<unsigned char>(data[pos + 1]);
    size_t hdr = 2;
    uint64_t plen = b1 & 0x7f;
    if (plen == 126) {
      if (len - pos < 4) break;
      plen = (static_cast<uint64_t>(static_cast<unsigned char>(data[pos + 2])) << 8) |
             static_cast<unsigned char>(data[pos + 3]);
      hdr = 4;
    } else if (plen == 127) {
      if (len - pos < 10) break;
      plen = 0;
      for (int i = 0; i < 8; ++i) plen = (plen << 8) | static_cast<unsigned char>(data[pos + 2 + i]);
      hdr = 10;
    }
    if (b1 & 0x80) {
      Error("server sent a masked frame");
      Closed(c, false);
      return;
    }
    if (plen > (64u << 20)) {
      Error("server frame over 64 MiB");
      Closed(c, false);
      return;
    }
    if (len - pos < hdr + plen) break;
    const char* p = data + pos + hdr;
    size_t n = static_cast<size_t>(plen);
    bool fin = b0 & 0x80;
    int op = b0 & 0x0f;
    pos += hdr + n;
    switch (op) {
      case 1:
        if (fin) OnText(c, p, n);
        else c->frag.assign(p, n);
        break;
      case 0:
        c->frag.append(p, n);
        if (fin) {
          std::string m;
          m.swap(c->frag);
          OnText(c, m.data(), m.size());
        }
        break;
      case 8: {  // close: note the code, echo it, close the socket
        c->close_code = n >= 2 ? static_cast<uint16_t>((static_cast<unsigned char>(p[0]) << 8) |
                                                       static_cast<unsigned char>(p[1]))
                               : 1005;
        if (c->state != kReady) {
          Fail(c, counters.failed_ws,
               "closed by server during handshake, code " + std::to_string(c->close_code) + " " +
                   std::string(p + std::min<size_t>(n, 2), n > 2 ? n - 2 : 0));
          return;
        }
        Closed(c, false);
        return;
      }
      case 9:
        Send(c, 10, p, n);
        break;
      case 10:
        break;
      default:
        Inc(counters.other_messages);
    }
  }
  if (pos < len && c->state != kClosed) c->pending.assign(data + pos, len - pos);
}

void ClientThread::OnText(Conn* c, const char* p, size_t n) {
  static constexpr std::string_view kPing = "{\"type\":\"ping\"}";
  if (n == kPing.size() && std::memcmp(p, kPing.data(), n) == 0) {
    Inc(counters.pings);
    return;
  }
  if (c->state == kSubscribing) {
    std::string_view m(p, n);
    if (m.find("\"type\":\"subscribed\"") != std::string_view::npos) {
      if (++c->acks == c->subs.size()) MarkReady(c);
      return;
    }
    if (m.find("\"type\":\"error\"") != std::string_view::npos) {
      Fail(c, counters.failed_ws, "subscribe refused: " + std::string(m.substr(0, 200)));
      return;
    }
  }
  OnEvent(c, p, n);
}

void ClientThread::OnEvent(Conn* c, const char* p, size_t n) {
  const char* end = p + n;
  const char* cur = p;
  std::string_view org = StringAfter(cur, end, "\"organization_id\":\"", &cur);
  uint64_t seq = 0, sent = 0;
  if (org.empty() || !NumberAfter(cur, end, "\"seq\":", seq) || !NumberAfter(cur, end, "\"sent_us\":", sent)) {
    Inc(counters.other_messages);
    return;
  }
  Sub* sub = nullptr;
  for (auto& s : c->subs) {
    if (s.org != org) continue;
    if (s.spec.prop >= 0 && StringAfter(p, end, "\"property_id\":\"", nullptr) != s.prop) continue;
    if (scn_.channels.size() > 1 && StringAfter(p, end, "\"channel\":\"", nullptr) != s.channel) continue;
    sub = &s;
    break;
  }
  Inc(counters.deliveries);
  if (c->track_loss && !c->stalled) Inc(counters.tracked_deliveries);
  latency.Record(now_us_ > sent ? now_us_ - sent : 0);
  if (!sub) {
    // A record this connection did not subscribe to: a routing error.
    Inc(counters.foreign);
    if (counters.foreign.load(std::memory_order_relaxed) <= 3)
      Error("foreign record on a connection of " + c->subs.front().org + ": " + std::string(p, std::min<size_t>(n, 160)));
    return;
  }
  if (!sub->seen) {
    sub->seen = true;
    if (!c->track_loss) sub->next = seq;
  }
  if (seq == sub->next) {
    ++sub->next;
  } else if (seq > sub->next) {
    // A stalled client may be sent gaps (SLOW_CLIENT_POLICY=drop): not a loss.
    if (!c->stalled) Inc(counters.losses, seq - sub->next);
    sub->next = seq + 1;
  } else {
    Inc(counters.duplicates);
  }
}

void ClientThread::Fail(Conn* c, std::atomic<uint64_t>& kind, const std::string& why) {
  if (c->state == kClosed) return;
  if (c->state != kReady) --handshaking_;
  c->state = kClosed;
  Inc(kind);
  Inc(counters.failed);
  Error(why);
  CloseFd(c);
}

void ClientThread::Closed(Conn* c, bool by_us) {
  if (c->state == kClosed) return;
  bool was_ready = c->state == kReady;
  if (!was_ready) --handshaking_;
  c->state = kClosed;
  if (was_ready) counters.open.store(counters.open.load(std::memory_order_relaxed) - 1, std::memory_order_relaxed);
  if (!by_us) {
    if (c->close_code) {
      Inc(counters.closed_by_server);
      if (c->close_code == 1013) Inc(counters.closed_1013);
      else if (c->close_code == 1008) Inc(counters.closed_1008);
      else Inc(counters.closed_other_code);
      // Echo the close before closing the socket (best effort).
      SendCloseNow(c, c->close_code == 1005 ? 1000 : c->close_code);
    }
    if (!c->stalled) {
      Inc(counters.closed_unexpected);
      if (counters.closed_unexpected.load(std::memory_order_relaxed) <= 3)
        Error("connection of " + c->subs.front().org + " closed by the server, code " + std::to_string(c->close_code));
    }
  }
  CloseFd(c);
}

void ClientThread::Tick() {
  // Handshakes that take too long fail.
  if (handshaking_ > 0) {
    uint64_t now = MonotonicUs();
    for (auto& c : conns_)
      if (c->state != kReady && c->state != kClosed && now - c->start_us > kHandshakeTimeoutUs)
        Fail(c.get(), counters.failed_timeout, "handshake timeout");
  }
  timer_.expires_after(std::chrono::milliseconds(500));
  timer_.async_wait([this](const error_code& ec) {
    if (!ec) Tick();
  });
}

void ClientThread::Churn(int n) {
  asio::post(ioc_, [this, n] {
    for (int k = 0; k < n && !conns_.empty(); ++k) {
      // The next ready, non-stalled connection after the cursor.
      size_t tries = conns_.size();
      Conn* victim = nullptr;
      while (tries--) {
        churn_cursor_ = (churn_cursor_ + 1) % conns_.size();
        Conn* c = conns_[churn_cursor_].get();
        if (c->state == kReady && !c->stalled) {
          victim = c;
          break;
        }
      }
      if (!victim) return;
      SendCloseNow(victim, 1000);
      uint32_t id = victim->assign_id;
      Inc(counters.churn_closed);
      // Close after the close frame is written (or at once when it could not be).
      victim->state = kClosed;
      counters.open.store(counters.open.load(std::memory_order_relaxed) - 1, std::memory_order_relaxed);
      if (victim->fd >= 0) ::shutdown(victim->fd, SHUT_RDWR);
      CloseFd(victim);
      DoOpen(id, false);
    }
  });
}

void ClientThread::Unpark() {
  asio::post(ioc_, [this] {
    for (auto& c : conns_)
      if (c->parked && c->state == kReady) {
        c->parked = false;
        Watch(c.get());
      }
  });
}

void ClientThread::MaxSeq(std::vector<uint64_t>& into) {
  std::promise<void> done;
  asio::post(ioc_, [&] {
    for (auto& c : conns_)
      for (auto& s : c->subs)
        if (s.seen && s.spec.stream < into.size()) into[s.spec.stream] = std::max(into[s.spec.stream], s.next);
    done.set_value();
  });
  done.get_future().wait();
}

FinalStats ClientThread::Finalize(const std::vector<uint64_t>& produced) {
  std::promise<FinalStats> done;
  asio::post(ioc_, [&] {
    FinalStats f;
    for (auto& c : conns_) {
      if (c->state == kReady) ++f.open_at_end;
      if (c->stalled) {
        if (c->state != kConnecting && c->state != kHandshake) ++f.stalled;
        if (c->state == kClosed) ++f.stalled_closed;
        if (c->close_code == 1013) ++f.stalled_1013;
        continue;
      }
      if (!c->track_loss || !c->was_ready) continue;
      ++f.tracked;
      for (auto& s : c->subs) {
        uint64_t exp = s.spec.stream < produced.size() ? produced[s.spec.stream] : 0;
        if (s.next < exp) f.tail_losses += exp - s.next;
        if (!s.seen && exp > 0) ++f.never_saw;
      }
    }
    done.set_value(f);
  });
  return done.get_future().get();
}

void ClientThread::CloseAll() {
  std::promise<void> done;
  asio::post(ioc_, [&] {
    for (auto& c : conns_) {
      if (c->state == kClosed) continue;
      bool ready = c->state == kReady;
      c->state = kClosed;
      if (ready) counters.open.store(counters.open.load(std::memory_order_relaxed) - 1, std::memory_order_relaxed);
      CloseFd(c.get());
    }
    done.set_value();
  });
  done.get_future().wait();
}

}  // namespace rte::bench

// The load client: many WebSocket connections on a few io_context threads.
//
// A connection is a plain TCP socket with a minimal client-side WebSocket:
// it sends the upgrade request, reads the 101, (on /ws) sends one subscribe
// per subscription and waits for each `subscribed`, then reads server frames.
// Once connected, a socket leaves Asio: the thread's own epoll set reports
// ready sockets in batches, and each is read into the thread's one buffer;
// only a partial frame is kept per connection. For each event message it
// finds "organization_id", "seq" and "sent_us" by substring search (no JSON
// parse), records produce→receive latency and checks the per-stream sequence.
#pragma once

#include <boost/asio.hpp>

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "histogram.h"
#include "scenario.h"

namespace rte::bench {

namespace asio = boost::asio;

uint64_t RealtimeUs();
uint64_t MonotonicUs();

// Counters of one client thread: one writer (that thread), relaxed atomics.
struct alignas(64) Counters {
  std::atomic<uint64_t> deliveries{0}, losses{0}, duplicates{0}, foreign{0}, other_messages{0},
      pings{0}, bytes{0}, reads{0}, tracked_deliveries{0};
  std::atomic<uint64_t> attempts{0}, ready{0}, open{0}, failed{0}, failed_connect{0}, failed_timeout{0},
      failed_status{0}, failed_ws{0}, failed_closed{0};
  std::atomic<uint64_t> closed_unexpected{0}, closed_by_server{0}, closed_1013{0}, closed_1008{0},
      closed_other_code{0}, churn_closed{0}, stalled_parked{0};
  std::atomic<uint64_t> first_attempt_us{0}, last_ready_us{0};
};

inline void Inc(std::atomic<uint64_t>& a, uint64_t n = 1) {
  a.store(a.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
}

struct Shared {
  explicit Shared(const Scenario& s) : scn(s) {}
  const Scenario& scn;
  asio::ip::tcp::endpoint server;
  std::string host_header;
  std::atomic<bool> stall_active{false};
};

struct FinalStats {
  uint64_t tail_losses = 0;       // records produced after a client's last one (missing at the end)
  uint64_t tracked = 0;           // connections in loss accounting
  uint64_t stalled = 0, stalled_closed = 0, stalled_1013 = 0;
  uint64_t open_at_end = 0;
  uint64_t never_saw = 0;         // tracked subscriptions that got no record although some were produced
};

struct Conn;

class ClientThread {
 public:
  ClientThread(Shared& shared, int index);
  ~ClientThread();
  void Start();
  void Stop();  // closes every socket, joins

  // Thread-safe (post to the loop).
  void Open(uint32_t assign_id, bool track_loss);
  void Churn(int n);           // close n ready connections and open a replacement for each
  void Unpark();               // stalled connections read again (to see how they were closed)
  // Run on the loop and wait: per-stream max next seq (source: server), final accounting.
  void MaxSeq(std::vector<uint64_t>& into);
  FinalStats Finalize(const std::vector<uint64_t>& produced);
  void CloseAll();

  Counters counters;
  Histogram latency;    // produce -> receive, us
  Histogram handshake;  // connect start -> ready, us
  std::vector<std::string> Errors();

 private:
  void DoOpen(uint32_t assign_id, bool track_loss);
  void OnConnected(Conn* c, const boost::system::error_code& ec);
  void ArmRead(Conn* c);
  void Watch(Conn* c);
  void CloseFd(Conn* c);
  void WaitEpoll();
  void OnReadable(Conn* c, const boost::system::error_code& ec);
  bool OnHandshake(Conn* c, size_t n);
  void ParseFrames(Conn* c, const char* data, size_t len);
  void OnText(Conn* c, const char* p, size_t n);
  void OnEvent(Conn* c, const char* p, size_t n);
  void MarkReady(Conn* c);
  void Send(Conn* c, int opcode, const char* p, size_t n);
  void Flush(Conn* c);
  void Fail(Conn* c, std::atomic<uint64_t>& kind, const std::string& why);
  void Closed(Conn* c, bool by_us);
  void Tick();
  void Error(const std::string& e);

  Shared& shared_;
  const Scenario& scn_;
  int index_;
  asio::io_context ioc_{1};
  asio::executor_work_guard<asio::io_context::executor_type> work_{ioc_.get_executor()};
  asio::steady_timer timer_{ioc_};
  // Every connected socket of this thread, level-triggered; the loop waits
  // on this one descriptor and handles all ready sockets per wake-up.
  asio::posix::stream_descriptor epfd_{ioc_};
  std::thread thread_;
  std::vector<std::unique_ptr<Conn>> conns_;
  std::vector<char> buf_;
  uint64_t now_us_ = 0;
  size_t churn_cursor_ = 0;
  size_t handshaking_ = 0;
  std::mutex errors_mu_;
  std::vector<std::string> errors_;
  uint64_t error_count_ = 0;
};

}  // namespace rte::bench

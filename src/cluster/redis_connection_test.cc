#include "cluster/redis_connection.h"

#include <gtest/gtest.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <future>
#include <thread>

#include "cluster/testing/redis_server.h"

namespace rte::cluster {
namespace {
using namespace std::chrono_literals;
namespace asio = boost::asio;

// Runs a RedisConnection on its own io_context thread, as ClusterState does.
class Harness {
 public:
  explicit Harness(RedisConnectionOptions o) : work_(ioc_.get_executor()) {
    thread_ = std::thread([this] { ioc_.run(); });
    Run([&] {
      conn_ = std::make_unique<RedisConnection>(ioc_, o, &stats_);
      conn_->Start();
    });
  }
  ~Harness() {
    Run([&] { conn_.reset(); });
    work_.reset();
    ioc_.stop();
    thread_.join();
  }
  template <class F>
  void Run(F f) {
    std::promise<void> p;
    asio::post(ioc_, [&] {
      f();
      p.set_value();
    });
    p.get_future().wait();
  }
  bool Ready() {
    bool r = false;
    Run([&] { r = conn_->ready(); });
    return r;
  }
  std::string LastError() {
    std::string e;
    Run([&] { e = conn_->last_error(); });
    return e;
  }
  std::vector<std::future<Result<RedisReply>>> CommandsAtOnce(int n, std::vector<std::string> argv) {
    std::vector<std::future<Result<RedisReply>>> out;
    Run([&] {
      for (int i = 0; i < n; ++i) {
        auto p = std::make_shared<std::promise<Result<RedisReply>>>();
        out.push_back(p->get_future());
        conn_->Command(argv, [p](Result<RedisReply> r) { p->set_value(std::move(r)); });
      }
    });
    return out;
  }
  std::optional<Result<RedisReply>> Command(std::vector<std::string> argv) {
    auto p = std::make_shared<std::promise<Result<RedisReply>>>();
    auto f = p->get_future();
    Run([&] { conn_->Command(argv, [p](Result<RedisReply> r) { p->set_value(std::move(r)); }); });
    if (f.wait_for(5s) != std::future_status::ready) return std::nullopt;
    return f.get();
  }
  RedisStats stats_;

 private:
  asio::io_context ioc_;
  asio::executor_work_guard<asio::io_context::executor_type> work_;
  std::thread thread_;
  std::unique_ptr<RedisConnection> conn_;
};

bool WaitUntil(const std::function<bool()>& pred, std::chrono::milliseconds timeout = 10s) {
  const auto end = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < end) {
    if (pred()) return true;
    std::this_thread::sleep_for(20ms);
  }
  return pred();
}

TEST(RedisConnectionTest, AuthSelectAndLargeReplies) {
  std::string error;
  auto redis = testing::RedisServer::Start(&error);
  ASSERT_NE(redis, nullptr) << error;
  ASSERT_TRUE(redis->Command({"CONFIG", "SET", "requirepass", "s3cret"}).ok());

  RedisConnectionOptions o;
  o.url = redis->url();
  o.url.password = "s3cret";
  o.url.db = 3;
  Harness h(o);
  ASSERT_TRUE(WaitUntil([&] { return h.Ready(); })) << h.LastError();
  auto r = h.Command({"CLIENT", "INFO"});
  ASSERT_TRUE(r && r->ok());
  EXPECT_NE((*r)->str.find(" db=3 "), std::string::npos) << (*r)->str;

  // A reply far larger than hiredis reads at once (16 KiB) arrives whole.
  const std::string big(1 << 20, 'x');
  r = h.Command({"SET", "big", big});
  ASSERT_TRUE(r && r->ok());
  r = h.Command({"GET", "big"});
  ASSERT_TRUE(r && r->ok());
  EXPECT_EQ((*r)->str.size(), big.size());
  r = h.Command({"NOSUCHCOMMAND"});
  ASSERT_TRUE(r.has_value());
  ASSERT_FALSE(r->ok());
  EXPECT_EQ(r->error().code, Errc::kInternal);
  EXPECT_TRUE(h.Ready());  // an error reply is not a connection problem
}

TEST(RedisConnectionTest, WrongPasswordNeverReadyAndFailsFast) {
  std::string error;
  auto redis = testing::RedisServer::Start(&error);
  ASSERT_NE(redis, nullptr) << error;
  ASSERT_TRUE(redis->Command({"CONFIG", "SET", "requirepass", "right"}).ok());
  RedisConnectionOptions o;
  o.url = redis->url();
  o.url.password = "wrong";
  Harness h(o);
  EXPECT_TRUE(WaitUntil([&] { return h.LastError().find("AUTH failed") != std::string::npos; }))
      << h.LastError();
  EXPECT_FALSE(h.Ready());
  auto r = h.Command({"PING"});
  ASSERT_TRUE(r.has_value());
  ASSERT_FALSE(r->ok());
  EXPECT_EQ(r->error().code, Errc::kUnavailable);
  EXPECT_EQ(h.LastError().find("wrong"), std::string::npos);
}

TEST(RedisConnectionTest, BoundedInFlightAndTimeout) {
  std::string error;
  auto redis = testing::RedisServer::Start(&error);
  ASSERT_NE(redis, nullptr) << error;
  RedisConnectionOptions o;
  o.url = redis->url();
  o.max_pending = 3;
  o.command_timeout = 300ms;
  Harness h(o);
  ASSERT_TRUE(WaitUntil([&] { return h.Ready(); }));
  redis->Pause();
  auto fs = h.CommandsAtOnce(4, {"PING"});
  // The fourth is refused at once; the three in flight time out.
  ASSERT_EQ(fs[3].wait_for(5s), std::future_status::ready);
  auto r4 = fs[3].get();
  ASSERT_FALSE(r4.ok());
  EXPECT_EQ(r4.error().code, Errc::kResourceExhausted);
  for (int i = 0; i < 3; ++i) {
    ASSERT_EQ(fs[i].wait_for(5s), std::future_status::ready) << i;
    auto r = fs[i].get();
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, Errc::kUnavailable);
    EXPECT_NE(r.error().message.find("timed out"), std::string::npos) << r.error().message;
  }
  EXPECT_EQ(h.stats_.pending.Get(), 0);
  EXPECT_GE(h.stats_.timeouts.Get(), 1u);
  redis->Resume();
  EXPECT_TRUE(WaitUntil([&] { return h.Ready(); }));
  auto r = h.Command({"PING"});
  ASSERT_TRUE(r && r->ok());
  EXPECT_EQ((*r)->str, "PONG");
}

}  // namespace
}  // namespace rte::cluster

#include "cluster/testing/tcp_proxy.h"

#include <array>
#include <boost/asio/connect.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <future>
#include <list>
#include <thread>

namespace rte::cluster::testing {
namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {

struct Pair : std::enable_shared_from_this<Pair> {
  explicit Pair(asio::io_context& ioc) : a(ioc), b(ioc) {}
  tcp::socket a, b;
  std::array<char, 16384> buf_ab, buf_ba;
  void Close() {
    boost::system::error_code ec;
    a.close(ec);
    b.close(ec);
  }
  void Pump(tcp::socket& from, tcp::socket& to, std::array<char, 16384>& buf) {
    auto self = shared_from_this();
    from.async_read_some(asio::buffer(buf), [self, &from, &to, &buf](boost::system::error_code ec, size_t n) {
      if (ec) return self->Close();
      asio::async_write(to, asio::buffer(buf.data(), n), [self, &from, &to, &buf](boost::system::error_code ec, size_t) {
        if (ec) return self->Close();
        self->Pump(from, to, buf);
      });
    });
  }
};

}  // namespace

struct TcpProxy::Impl {
  asio::io_context ioc;
  tcp::acceptor acceptor{ioc, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)};
  tcp::endpoint target;
  bool down = false;
  std::list<std::weak_ptr<Pair>> pairs;
  std::thread thread;

  void Accept() {
    auto p = std::make_shared<Pair>(ioc);
    acceptor.async_accept(p->a, [this, p](boost::system::error_code ec) {
      if (ec) return;
      if (down) {
        p->Close();
      } else {
        pairs.push_back(p);
        p->b.async_connect(target, [p](boost::system::error_code ec) {
          if (ec) return p->Close();
          p->Pump(p->a, p->b, p->buf_ab);
          p->Pump(p->b, p->a, p->buf_ba);
        });
      }
      Accept();
    });
  }
};

TcpProxy::TcpProxy(uint16_t target_port) : impl_(std::make_unique<Impl>()) {
  impl_->target = tcp::endpoint(asio::ip::make_address("127.0.0.1"), target_port);
  impl_->Accept();
  impl_->thread = std::thread([d = impl_.get()] { d->ioc.run(); });
}

TcpProxy::~TcpProxy() {
  asio::post(impl_->ioc, [d = impl_.get()] {
    boost::system::error_code ec;
    d->acceptor.close(ec);
    for (auto& w : d->pairs) {
      if (auto p = w.lock()) p->Close();
    }
  });
  impl_->thread.join();
}

uint16_t TcpProxy::port() const { return impl_->acceptor.local_endpoint().port(); }

void TcpProxy::SetDown(bool down) {
  std::promise<void> done;
  asio::post(impl_->ioc, [d = impl_.get(), down, &done] {
    d->down = down;
    if (down) {
      for (auto& w : d->pairs) {
        if (auto p = w.lock()) p->Close();
      }
      d->pairs.clear();
    }
    done.set_value();
  });
  done.get_future().wait();
}

}  // namespace rte::cluster::testing

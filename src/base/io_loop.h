// RunIoLoop: runs an io_context on the calling thread until it is out of
// work or stopped. An exception escaping a handler is logged, naming the
// loop, and the loop goes on (one bad handler must not end a service thread).
// Thread: the thread that owns `ioc` (a component's own thread).
#pragma once

#include <boost/asio/io_context.hpp>
#include <spdlog/spdlog.h>

#include <exception>
#include <string_view>

namespace rte {

inline void RunIoLoop(boost::asio::io_context& ioc, std::string_view what) {
  for (;;) {
    try {
      ioc.run();
      return;
    } catch (const std::exception& e) {
      spdlog::error("{} thread: unexpected exception: {}", what, e.what());
    }
  }
}

}  // namespace rte

// ThreadChecker: binds an object to the thread that first calls Check() (or
// Bind()), and in debug builds aborts when another thread calls it later.
// Thread: Bind/Check from the owning thread only (that is the point).
#pragma once

#include <thread>

#include "base/check.h"

namespace rte {

class ThreadChecker {
 public:
  void Bind() { owner_ = std::this_thread::get_id(); }
  bool OnOwnerThread() const {
    return owner_ == std::thread::id() || owner_ == std::this_thread::get_id();
  }

 private:
  std::thread::id owner_;
};

#define RTE_DCHECK_THREAD(checker) RTE_DCHECK((checker).OnOwnerThread())

}  // namespace rte

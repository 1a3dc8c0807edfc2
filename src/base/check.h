// Invariant checks. RTE_CHECK is always on and aborts with a message: use it
// for programming errors, never for untrusted input. RTE_DCHECK is debug-only.
#pragma once

#include <cstdio>
#include <cstdlib>

#define RTE_CHECK(cond)                                                              \
  do {                                                                               \
    if (!(cond)) {                                                                   \
      std::fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
      std::abort();                                                                  \
    }                                                                                \
  } while (0)

#ifdef NDEBUG
#define RTE_DCHECK(cond) \
  do {                   \
  } while (0)
#else
#define RTE_DCHECK(cond) RTE_CHECK(cond)
#endif

// Two strengths of assertion (as userver's UASSERT / UINVARIANT):
//  - TRELLIS_DASSERT: a programmer error that input can never trigger; debug builds only.
//  - TRELLIS_INVARIANT: always checked, for things whose violation would mean a security or
//    integrity failure (audit chain, consent checks, key handling). Aborts the process.
#pragma once

namespace trellis::internal {
[[noreturn]] void InvariantFailed(const char* expr, const char* msg, const char* file, int line);
}  // namespace trellis::internal

#define TRELLIS_INVARIANT(cond, msg)                                                 \
  do {                                                                               \
    if (!(cond)) ::trellis::internal::InvariantFailed(#cond, (msg), __FILE__, __LINE__); \
  } while (0)

#ifdef NDEBUG
#define TRELLIS_DASSERT(cond) \
  do {                        \
  } while (0)
#else
#define TRELLIS_DASSERT(cond) TRELLIS_INVARIANT(cond, "debug assertion")
#endif

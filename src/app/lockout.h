// The failed-login backoff (docs/threat-model.md, "Lockout"). Pure: the store counts the
// failures (storage::Txn::IncrementFailedLogins) and keeps the lock it is given
// (storage::Txn::RaiseLockedUntil); this decides how long that lock is.
#pragma once

#include <cstdint>

namespace trellis::app {

// After `failures` consecutive failed logins, the last at `now`, the account is locked until the
// returned time (micros), 0 = not locked: from the `lock_after`-th failure on, for 1 minute,
// doubled with each further failure (1, 2, 4 ... 64 minutes, at most).
int64_t LockedUntil(int64_t failures, int64_t lock_after, int64_t now);

}  // namespace trellis::app

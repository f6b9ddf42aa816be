#include "app/lockout.h"

#include <algorithm>

namespace trellis::app {

int64_t LockedUntil(int64_t failures, int64_t lock_after, int64_t now) {
  if (failures < lock_after) return 0;
  const int64_t over = std::min<int64_t>(failures - lock_after, 6);
  return now + (int64_t{60} << over) * 1'000'000;
}

}  // namespace trellis::app

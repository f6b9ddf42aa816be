// The failed-login backoff at its boundaries: no lock below the limit, one minute at it, doubled
// with each further failure, 64 minutes at most.
#include "app/lockout.h"

#include <gtest/gtest.h>

namespace trellis::app {
namespace {

constexpr int64_t kLockAfter = 5, kNow = 1'000'000'000, kMinute = 60'000'000;

TEST(LockoutTest, NoLockBelowTheLimit) {
  for (int64_t failures = 0; failures < kLockAfter; ++failures) {
    EXPECT_EQ(LockedUntil(failures, kLockAfter, kNow), 0) << failures;
  }
}

TEST(LockoutTest, OneMinuteAtTheLimitThenDoubled) {
  EXPECT_EQ(LockedUntil(kLockAfter, kLockAfter, kNow), kNow + kMinute);
  EXPECT_EQ(LockedUntil(kLockAfter + 1, kLockAfter, kNow), kNow + 2 * kMinute);
  EXPECT_EQ(LockedUntil(kLockAfter + 2, kLockAfter, kNow), kNow + 4 * kMinute);
  EXPECT_EQ(LockedUntil(kLockAfter + 5, kLockAfter, kNow), kNow + 32 * kMinute);
}

TEST(LockoutTest, AtMostSixtyFourMinutes) {
  EXPECT_EQ(LockedUntil(kLockAfter + 6, kLockAfter, kNow), kNow + 64 * kMinute);
  EXPECT_EQ(LockedUntil(kLockAfter + 7, kLockAfter, kNow), kNow + 64 * kMinute);
  EXPECT_EQ(LockedUntil(kLockAfter + 40, kLockAfter, kNow), kNow + 64 * kMinute);
  EXPECT_EQ(LockedUntil(int64_t{1} << 62, kLockAfter, kNow), kNow + 64 * kMinute);
}

TEST(LockoutTest, CountsFromNowAndFromTheGivenLimit) {
  EXPECT_EQ(LockedUntil(3, 3, 0), kMinute);
  EXPECT_EQ(LockedUntil(2, 3, 0), 0);
  EXPECT_EQ(LockedUntil(kLockAfter, kLockAfter, kNow + 7), kNow + 7 + kMinute);
}

}  // namespace
}  // namespace trellis::app

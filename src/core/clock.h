// Time behind an interface: deadlines, consent expiry, sessions and lockouts are tested
// with a FakeClock. Times are microseconds since the Unix epoch, UTC.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>

namespace trellis {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual int64_t NowMicros() const = 0;
  int64_t NowSeconds() const { return NowMicros() / 1'000'000; }
};

Clock& SystemClock();

class FakeClock final : public Clock {
 public:
  explicit FakeClock(int64_t micros = 1'700'000'000'000'000) : now_(micros) {}
  int64_t NowMicros() const override { return now_.load(); }
  void Set(int64_t micros) { now_.store(micros); }
  void AdvanceSeconds(int64_t s) { now_.fetch_add(s * 1'000'000); }

 private:
  std::atomic<int64_t> now_;
};

// RFC 3339 UTC timestamp with second precision, e.g. "2026-11-24T22:03:14Z".
std::string FormatTimestamp(int64_t micros);
// "YYYY-MM-DD" of the UTC day containing `micros`.
std::string FormatDate(int64_t micros);

}  // namespace trellis

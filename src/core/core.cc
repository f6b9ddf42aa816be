#include <pthread.h>
#include <sys/random.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <mutex>
#include <chrono>
#include <cstdio>
#include <ctime>

#include "core/assert.h"
#include "core/big_endian.h"
#include "core/clock.h"
#include "core/ids.h"
#include "core/rng.h"

namespace trellis {

uint64_t Rng::Next64() {
  uint8_t b[8];
  Fill(b, sizeof b);
  return LoadBigEndian64(b);
}

namespace {

void GetRandom(uint8_t* out, size_t n) {
  while (n > 0) {
    ssize_t got = getrandom(out, n, 0);
    if (got < 0) {
      TRELLIS_INVARIANT(errno == EINTR, "getrandom failed");
      continue;
    }
    out += got;
    n -= static_cast<size_t>(got);
  }
}

std::atomic<uint64_t> fork_generation{0};

// The kernel's CSPRNG through a per-thread buffer: one getrandom() per 4 KiB instead of one per
// id (every request takes a request id: a system call each was measurable in the GET
// benchmark). Each byte is handed out once. The key buffer (crypto/secret.cc's KeyRandom) has a
// loop like this one, kept apart on purpose: its comment says why.
class KernelRng final : public Rng {
 public:
  void Fill(uint8_t* out, size_t n) override {
    struct Buffer {
      uint8_t bytes[4096];
      size_t pos = sizeof(bytes);
      uint64_t generation = 0;
    };
    thread_local Buffer b;
    if (const uint64_t g = ForkGeneration(); g != b.generation) {
      b.pos = sizeof(b.bytes);
      b.generation = g;
    }
    while (n > 0) {
      if (b.pos == sizeof(b.bytes)) {
        GetRandom(b.bytes, sizeof b.bytes);
        b.pos = 0;
      }
      const size_t take = std::min(n, sizeof(b.bytes) - b.pos);
      std::memcpy(out, b.bytes + b.pos, take);
      std::memset(b.bytes + b.pos, 0, take);
      b.pos += take;
      out += take;
      n -= take;
    }
  }
};

class SplitMix final : public Rng {
 public:
  explicit SplitMix(uint64_t seed) : s_(seed) {}
  void Fill(uint8_t* out, size_t n) override {
    while (n > 0) {
      uint64_t z = (s_ += 0x9e3779b97f4a7c15ULL);
      z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
      z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
      z ^= z >> 31;
      for (int i = 0; i < 8 && n > 0; ++i, --n) *out++ = static_cast<uint8_t>(z >> (8 * i));
    }
  }

 private:
  uint64_t s_;
};

class RealClock final : public Clock {
 public:
  int64_t NowMicros() const override {
    return std::chrono::duration_cast<std::chrono::microseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }
};

constexpr char kBase32[] = "abcdefghijklmnopqrstuvwxyz234567";

}  // namespace

uint64_t ForkGeneration() {
  static std::once_flag registered;
  std::call_once(registered, [] { pthread_atfork(nullptr, nullptr, [] { fork_generation.fetch_add(1); }); });
  return fork_generation.load(std::memory_order_relaxed);
}

Rng& SystemRng() {
  static KernelRng rng;
  return rng;
}

std::unique_ptr<Rng> NewSeededRng(uint64_t seed) { return std::make_unique<SplitMix>(seed); }

Clock& SystemClock() {
  static RealClock clock;
  return clock;
}

std::string FormatTimestamp(int64_t micros) {
  // std::chrono's civil calendar, not gmtime_r + strftime: glibc's strftime calls tzset(),
  // which stats /etc/localtime on every call (two system calls per record response).
  using namespace std::chrono;
  const sys_seconds t{seconds{micros / 1'000'000}};  // truncated toward zero, as before
  const sys_days day = floor<days>(t);
  const year_month_day ymd{day};
  const hh_mm_ss hms{t - day};
  const int year = static_cast<int>(ymd.year());
  if (year < 0 || year > 9999) {  // as printf's %04d writes them ("-001", "10000")
    char y[48];
    const int n = std::snprintf(y, sizeof y, "%04d-%02u-%02uT%02lld:%02lld:%02lldZ", year,
                                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                                static_cast<long long>(hms.hours().count()),
                                static_cast<long long>(hms.minutes().count()),
                                static_cast<long long>(hms.seconds().count()));
    return std::string(y, static_cast<size_t>(n));
  }
  // Years 0..9999: fixed width, written in place (snprintf was half the cost of a call).
  char buf[] = "0000-00-00T00:00:00Z";
  auto put = [&buf](size_t at, size_t width, unsigned v) {
    for (size_t i = width; i-- > 0; v /= 10) buf[at + i] = static_cast<char>('0' + v % 10);
  };
  put(0, 4, static_cast<unsigned>(year));
  put(5, 2, static_cast<unsigned>(ymd.month()));
  put(8, 2, static_cast<unsigned>(ymd.day()));
  put(11, 2, static_cast<unsigned>(hms.hours().count()));
  put(14, 2, static_cast<unsigned>(hms.minutes().count()));
  put(17, 2, static_cast<unsigned>(hms.seconds().count()));
  return std::string(buf, sizeof buf - 1);
}

std::string FormatDate(int64_t micros) { return FormatTimestamp(micros).substr(0, 10); }

std::string NewRandomId(Rng& rng, std::string_view prefix) {
  uint8_t bytes[17];
  rng.Fill(bytes, sizeof bytes);
  std::string out;
  out.reserve(prefix.size() + 1 + 26);  // one allocation
  out += prefix;
  out += '_';
  // 26 characters x 5 bits = 130 bits drawn from 136 random bits.
  uint32_t acc = 0;
  int bits = 0;
  size_t i = 0;
  while (out.size() < prefix.size() + 1 + 26) {
    if (bits < 5) {
      acc = (acc << 8) | bytes[i++];
      bits += 8;
    }
    out += kBase32[(acc >> (bits - 5)) & 31];
    bits -= 5;
  }
  return out;
}

bool IsWellFormedId(std::string_view s, std::string_view prefix) {
  if (s.size() != prefix.size() + 27 || s.substr(0, prefix.size()) != prefix || s[prefix.size()] != '_') {
    return false;
  }
  for (char c : s.substr(prefix.size() + 1)) {
    if (!((c >= 'a' && c <= 'z') || (c >= '2' && c <= '7'))) return false;
  }
  return true;
}

}  // namespace trellis

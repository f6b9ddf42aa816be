#include "crypto/secret.h"

#include "core/rng.h"

#include <sodium.h>

#include <pthread.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <mutex>
#include <vector>

#include "core/assert.h"

namespace trellis::crypto {

void InitCrypto() {
  static std::once_flag once;
  std::call_once(once, [] { TRELLIS_INVARIANT(sodium_init() >= 0, "libsodium failed to initialise"); });
}

namespace {

// Hands out zeroed 32-byte slots from slabs of 64 KiB that are mmap'ed, locked and marked
// not-for-core-dumps once (sodium_mlock, best effort: RLIMIT_MEMLOCK may refuse, as before).
// Slabs are never unmapped; a released slot is wiped before it is reused.
//
// Each thread keeps up to kLocalMax wiped slots of its own and goes to the shared list (under
// the mutex) only for kBatch at a time: a GET makes and drops several keys, and the server's
// I/O threads otherwise met on this one mutex (a contended lock is a futex system call).
class KeySlots {
 public:
  static KeySlots& Get() {
    static KeySlots* slots = new KeySlots;  // never destroyed: keys may die during exit
    return *slots;
  }
  uint8_t* Take() {
    Local* local = ThisThread();
    if (local == nullptr) return TakeShared();
    if (local->n == 0) {
      std::lock_guard lock(mu_);
      for (; local->n < kBatch; ++local->n) local->slots[local->n] = TakeLocked();
    }
    return local->slots[--local->n];
  }
  void Give(uint8_t* p) {
    sodium_memzero(p, kKeyBytes);
    Local* local = ThisThread();
    if (local == nullptr) {
      std::lock_guard lock(mu_);
      free_.push_back(p);
      return;
    }
    if (local->n == kLocalMax) {
      std::lock_guard lock(mu_);
      for (; local->n > kLocalMax - kBatch; --local->n) free_.push_back(local->slots[local->n - 1]);
    }
    local->slots[local->n++] = p;
  }

 private:
  static constexpr size_t kSlabBytes = 64 * 1024;
  static constexpr int kBatch = 8;
  static constexpr int kLocalMax = 2 * kBatch;
  struct Local {
    uint8_t* slots[kLocalMax];
    int n = 0;
  };
  // Gives the thread's slots back to the shared list when the thread ends; a key that dies
  // after that (a thread_local destroyed later) goes straight to the shared list.
  struct LocalHolder {
    Local local;
    LocalHolder() { current = &local; }
    ~LocalHolder() {
      current = nullptr;
      ended = true;
      KeySlots& slots = Get();
      std::lock_guard lock(slots.mu_);
      for (int i = 0; i < local.n; ++i) slots.free_.push_back(local.slots[i]);
    }
  };
  static inline thread_local Local* current = nullptr;  // trivially destructible: safe after the holder
  static inline thread_local bool ended = false;
  static Local* ThisThread() {
    if (current != nullptr || ended) return current;
    thread_local LocalHolder holder;  // constructed once, on the thread's first key
    return current;
  }
  uint8_t* TakeShared() {
    std::lock_guard lock(mu_);
    return TakeLocked();
  }
  uint8_t* TakeLocked() {
    if (free_.empty()) Grow();
    uint8_t* p = free_.back();
    free_.pop_back();
    return p;
  }
  void Grow() {
    void* slab = ::mmap(nullptr, kSlabBytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    TRELLIS_INVARIANT(slab != MAP_FAILED, "cannot map memory for keys");
    sodium_mlock(slab, kSlabBytes);  // also MADV_DONTDUMP; best effort
    auto* bytes = static_cast<uint8_t*>(slab);
    for (size_t off = kSlabBytes; off >= kKeyBytes; off -= kKeyBytes) free_.push_back(bytes + off - kKeyBytes);
  }
  std::mutex mu_;
  std::vector<uint8_t*> free_;
};

}  // namespace

Key32::Key32() : bytes_(nullptr) {
  InitCrypto();
  bytes_ = KeySlots::Get().Take();  // zero-filled, locked
}

Key32::~Key32() { KeySlots::Get().Give(bytes_); }  // wiped

Key32::Key32(Key32&& other) noexcept : Key32() {
  std::memcpy(bytes_, other.bytes_, kKeyBytes);
  sodium_memzero(other.bytes_, kKeyBytes);
}

Key32& Key32::operator=(Key32&& other) noexcept {
  if (this != &other) {
    std::memcpy(bytes_, other.bytes_, kKeyBytes);
    sodium_memzero(other.bytes_, kKeyBytes);
  }
  return *this;
}

namespace {

// Bytes of libsodium's CSPRNG for keys, drawn 4 KiB at a time per thread (libsodium asks the
// kernel for 256 bytes per getrandom call, so one call per 8 keys instead of one per key: the
// HTCDS import makes a data key per survivor, and a getrandom per key was ~4 % of its CPU).
// The bytes are as random as one randombytes_buf call per key; each byte is handed out once and
// wiped as it is; the buffer is a locked page (never swapped, left out of core dumps) wiped when
// the thread ends; a fork drops what the parent drew (ForkGeneration;
// Randomness.KeysAndNoncesNeverRepeatAcrossThreadsAndFork).
//
// Kept apart from core's KernelRng on purpose, though the draw loop is alike: a shared helper
// (in core, for KernelRng) would take as parameters what makes this buffer fit for keys — the
// wipe as bytes leave (sodium_memzero), the wipe of the undrawn bytes when a fork is seen
// (KernelRng only skips them), the source — so a key's guarantees would rest on every caller
// passing the right policy to code in another layer. The loop is ten lines; the whole key path
// stays readable here, in one place.
class KeyRandom {
 public:
  static void Fill(uint8_t* out, size_t n) {
    thread_local KeyRandom r;
    r.Take(out, n);
  }

 private:
  static constexpr size_t kBytes = 4096;
  KeyRandom() {
    void* page = ::mmap(nullptr, kBytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (page == MAP_FAILED) return;  // Take draws straight from libsodium
    buf_ = static_cast<uint8_t*>(page);
    sodium_mlock(buf_, kBytes);  // also MADV_DONTDUMP; best effort, as for the key slots
  }
  ~KeyRandom() {
    if (!buf_) return;
    sodium_munlock(buf_, kBytes);  // wipes first
    ::munmap(buf_, kBytes);
  }
  void Take(uint8_t* out, size_t n) {
    if (!buf_) {
      randombytes_buf(out, n);
      return;
    }
    const uint64_t generation = ForkGeneration();
    if (generation != generation_) {
      sodium_memzero(buf_, kBytes);
      pos_ = kBytes;
      generation_ = generation;
    }
    while (n > 0) {
      if (pos_ == kBytes) {
        randombytes_buf(buf_, kBytes);
        pos_ = 0;
      }
      const size_t take = std::min(n, kBytes - pos_);
      std::memcpy(out, buf_ + pos_, take);
      sodium_memzero(buf_ + pos_, take);
      pos_ += take;
      out += take;
      n -= take;
    }
  }
  uint8_t* buf_ = nullptr;
  size_t pos_ = kBytes;
  uint64_t generation_ = 0;
};

}  // namespace

Key32 Key32::Random() {
  Key32 k;
  KeyRandom::Fill(k.bytes_, kKeyBytes);
  return k;
}

Key32 Key32::FromBytes(std::span<const uint8_t> bytes) {
  TRELLIS_INVARIANT(bytes.size() == kKeyBytes, "key of the wrong size");
  Key32 k;
  std::memcpy(k.bytes_, bytes.data(), kKeyBytes);
  return k;
}

bool Key32::IsZero() const { return sodium_is_zero(bytes_, kKeyBytes) == 1; }

void RandomBytes(uint8_t* out, size_t n) {
  InitCrypto();
  randombytes_buf(out, n);
}

void Wipe(void* p, size_t n) { sodium_memzero(p, n); }

}  // namespace trellis::crypto

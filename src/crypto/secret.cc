#include "crypto/secret.h"

#include <sodium.h>

#include <sys/mman.h>
#include <unistd.h>

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
class KeySlots {
 public:
  static KeySlots& Get() {
    static KeySlots* slots = new KeySlots;  // never destroyed: keys may die during exit
    return *slots;
  }
  uint8_t* Take() {
    std::lock_guard lock(mu_);
    if (free_.empty()) Grow();
    uint8_t* p = free_.back();
    free_.pop_back();
    return p;
  }
  void Give(uint8_t* p) {
    sodium_memzero(p, kKeyBytes);
    std::lock_guard lock(mu_);
    free_.push_back(p);
  }

 private:
  static constexpr size_t kSlabBytes = 64 * 1024;
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

Key32 Key32::Random() {
  Key32 k;
  randombytes_buf(k.bytes_, kKeyBytes);
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

#include "crypto/secret.h"

#include <sodium.h>

#include <cstring>
#include <mutex>

#include "core/assert.h"

namespace trellis::crypto {

void InitCrypto() {
  static std::once_flag once;
  std::call_once(once, [] { TRELLIS_INVARIANT(sodium_init() >= 0, "libsodium failed to initialise"); });
}

Key32::Key32() {
  InitCrypto();
  sodium_mlock(bytes_.data(), bytes_.size());  // best effort: RLIMIT_MEMLOCK may refuse
}

Key32::~Key32() { sodium_munlock(bytes_.data(), bytes_.size()); }  // munlock also wipes

Key32::Key32(Key32&& other) noexcept : Key32() {
  std::memcpy(bytes_.data(), other.bytes_.data(), kKeyBytes);
  sodium_memzero(other.bytes_.data(), kKeyBytes);
}

Key32& Key32::operator=(Key32&& other) noexcept {
  if (this != &other) {
    std::memcpy(bytes_.data(), other.bytes_.data(), kKeyBytes);
    sodium_memzero(other.bytes_.data(), kKeyBytes);
  }
  return *this;
}

Key32 Key32::Random() {
  Key32 k;
  randombytes_buf(k.bytes_.data(), kKeyBytes);
  return k;
}

Key32 Key32::FromBytes(std::span<const uint8_t> bytes) {
  TRELLIS_INVARIANT(bytes.size() == kKeyBytes, "key of the wrong size");
  Key32 k;
  std::memcpy(k.bytes_.data(), bytes.data(), kKeyBytes);
  return k;
}

bool Key32::IsZero() const { return sodium_is_zero(bytes_.data(), kKeyBytes) == 1; }

void RandomBytes(uint8_t* out, size_t n) {
  InitCrypto();
  randombytes_buf(out, n);
}

void Wipe(void* p, size_t n) { sodium_memzero(p, n); }

}  // namespace trellis::crypto

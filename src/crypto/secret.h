// Key material that cannot be copied, is locked in memory (sodium_mlock: never swapped out,
// left out of core dumps) and wiped on destruction (sodium_memzero), as duckdb's EncryptionKey.
// The bytes live in 32-byte slots of page-aligned slabs that are locked once when the slab is
// made, so creating, moving and destroying a key makes no system call (an mlock/munlock pair
// per key cost about an eighth of the server's CPU per request; see docs/benchmarks.md).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

namespace trellis::crypto {

inline constexpr size_t kKeyBytes = 32;

class Key32 {
 public:
  Key32();  // zero-filled, locked
  ~Key32();
  Key32(const Key32&) = delete;
  Key32& operator=(const Key32&) = delete;
  Key32(Key32&& other) noexcept;
  Key32& operator=(Key32&& other) noexcept;

  // A fresh random key from the kernel CSPRNG (libsodium's randombytes_buf), drawn through a
  // per-thread buffer of 4 KiB: one system call per 8 keys instead of one per key (secret.cc).
  static Key32 Random();
  // Copies exactly kKeyBytes from `bytes` (the caller wipes its own copy).
  static Key32 FromBytes(std::span<const uint8_t> bytes);

  const uint8_t* data() const { return bytes_; }
  uint8_t* mutable_data() { return bytes_; }
  static constexpr size_t size() { return kKeyBytes; }
  bool IsZero() const;

 private:
  uint8_t* bytes_;  // a slot of a locked slab, never null
};

// Fills `out` with bytes from libsodium's CSPRNG.
void RandomBytes(uint8_t* out, size_t n);

// Wipes memory in a way the compiler cannot optimise away.
void Wipe(void* p, size_t n);

// Must be called once before any other crypto function (idempotent, thread-safe).
void InitCrypto();

}  // namespace trellis::crypto

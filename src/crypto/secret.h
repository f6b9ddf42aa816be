// Key material that cannot be copied, is locked in memory (sodium_mlock: never swapped out)
// and wiped on destruction (sodium_memzero), as duckdb's EncryptionKey.
#pragma once

#include <array>
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

  // A fresh random key from the kernel CSPRNG.
  static Key32 Random();
  // Copies exactly kKeyBytes from `bytes` (the caller wipes its own copy).
  static Key32 FromBytes(std::span<const uint8_t> bytes);

  const uint8_t* data() const { return bytes_.data(); }
  uint8_t* mutable_data() { return bytes_.data(); }
  static constexpr size_t size() { return kKeyBytes; }
  bool IsZero() const;

 private:
  alignas(16) std::array<uint8_t, kKeyBytes> bytes_{};
};

// Fills `out` with bytes from libsodium's CSPRNG.
void RandomBytes(uint8_t* out, size_t n);

// Wipes memory in a way the compiler cannot optimise away.
void Wipe(void* p, size_t n);

// Must be called once before any other crypto function (idempotent, thread-safe).
void InitCrypto();

}  // namespace trellis::crypto

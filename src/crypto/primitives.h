// Hashes, signatures, tokens and password hashing (libsodium). Thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/status.h"
#include "crypto/secret.h"

namespace trellis::crypto {

// SHA-256 digest (32 raw bytes).
std::string Sha256(std::string_view data);
// The same digest from libsodium's portable code (the fallback; tests compare the two).
std::string Sha256Portable(std::string_view data);
std::string ToHex(std::string_view bytes);
Result<std::string> FromHex(std::string_view hex);
std::string ToBase64Url(std::string_view bytes);  // no padding
Result<std::string> FromBase64Url(std::string_view text);

// Constant-time equality.
bool ConstantTimeEquals(std::string_view a, std::string_view b);

// A bearer secret of 256 random bits as base64url text: session cookies, API tokens, CSRF.
std::string NewTokenText();

// Ed25519 signing key (the audit checkpoint key). Secret part locked and wiped.
class SigningKey {
 public:
  // Derives the key pair from a 32-byte seed.
  explicit SigningKey(const Key32& seed);
  std::string PublicKey() const { return public_key_; }  // 32 raw bytes
  std::string Sign(std::string_view message) const;      // 64-byte detached signature

 private:
  std::string public_key_;
  Key32 seed_;
};
bool VerifySignature(std::string_view public_key, std::string_view message, std::string_view signature);

// Argon2id password hashing, libsodium's string format ($argon2id$v=19$m=...,t=...,p=...).
enum class PwhashStrength { kInteractive, kModerate };
Result<std::string> HashPassword(std::string_view password, PwhashStrength strength = PwhashStrength::kInteractive);
bool VerifyPassword(std::string_view stored_hash, std::string_view password);
// A valid hash of a random password, for equalising timing when the user does not exist (S8).
const std::string& DummyPasswordHash();

// Derives a key from a passphrase (Argon2id MODERATE unless `fast_for_tests`).
Result<Key32> DeriveKeyFromPassphrase(std::string_view passphrase, std::string_view salt16,
                                      uint64_t opslimit, size_t memlimit);
uint64_t PassphraseOpsLimit();
size_t PassphraseMemLimit();

// Derives a purpose-specific subkey (crypto_kdf, BLAKE2b) from a master key.
Key32 DeriveSubkey(const Key32& master, uint64_t id, const char context[8]);

}  // namespace trellis::crypto

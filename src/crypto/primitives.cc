#include "crypto/primitives.h"

#include <openssl/evp.h>
#include <sodium.h>

#include <cstring>
#include <memory>

namespace trellis::crypto {
namespace {
const uint8_t* U8(std::string_view s) { return reinterpret_cast<const uint8_t*>(s.data()); }
}  // namespace

// SHA-256 from OpenSSL's libcrypto, which uses the CPU's SHA extensions where there are some:
// ~4x libsodium's portable code on an audit entry (0.35 against 1.4 us for 400 bytes), and the
// audit chain hashes every entry twice. Each thread keeps one digest context. Should OpenSSL
// fail (it does not for SHA-256), libsodium's implementation answers: the bytes are the same.
std::string Sha256(std::string_view data) {
  static EVP_MD* const md = EVP_MD_fetch(nullptr, "SHA2-256", nullptr);
  thread_local const std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
  std::string out(crypto_hash_sha256_BYTES, '\0');
  unsigned int n = 0;
  if (md != nullptr && ctx != nullptr && EVP_DigestInit_ex2(ctx.get(), md, nullptr) == 1 &&
      EVP_DigestUpdate(ctx.get(), data.data(), data.size()) == 1 &&
      EVP_DigestFinal_ex(ctx.get(), reinterpret_cast<unsigned char*>(out.data()), &n) == 1 && n == out.size()) {
    return out;
  }
  return Sha256Portable(data);
}

std::string Sha256Portable(std::string_view data) {
  InitCrypto();
  std::string out(crypto_hash_sha256_BYTES, '\0');
  crypto_hash_sha256(reinterpret_cast<uint8_t*>(out.data()), U8(data), data.size());
  return out;
}

std::string ToHex(std::string_view bytes) {
  std::string out(bytes.size() * 2 + 1, '\0');
  sodium_bin2hex(out.data(), out.size(), U8(bytes), bytes.size());
  out.pop_back();
  return out;
}

Result<std::string> FromHex(std::string_view hex) {
  std::string out(hex.size() / 2 + 1, '\0');
  size_t len = 0;
  const char* end = nullptr;
  if (sodium_hex2bin(reinterpret_cast<uint8_t*>(out.data()), out.size(), hex.data(), hex.size(), nullptr,
                     &len, &end) != 0 ||
      end != hex.data() + hex.size()) {
    return Status::Invalid("not hexadecimal");
  }
  out.resize(len);
  return out;
}

std::string ToBase64Url(std::string_view bytes) {
  const int variant = sodium_base64_VARIANT_URLSAFE_NO_PADDING;
  std::string out(sodium_base64_ENCODED_LEN(bytes.size(), variant), '\0');
  sodium_bin2base64(out.data(), out.size(), U8(bytes), bytes.size(), variant);
  out.resize(out.size() - 1);
  return out;
}

Result<std::string> FromBase64Url(std::string_view text) {
  std::string out(text.size(), '\0');
  size_t len = 0;
  const char* end = nullptr;
  if (sodium_base642bin(reinterpret_cast<uint8_t*>(out.data()), out.size(), text.data(), text.size(),
                        nullptr, &len, &end, sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
      end != text.data() + text.size()) {
    return Status::Invalid("not base64url");
  }
  out.resize(len);
  return out;
}

bool ConstantTimeEquals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && sodium_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::string NewTokenText() {
  uint8_t raw[32];
  RandomBytes(raw, sizeof raw);
  std::string t = ToBase64Url({reinterpret_cast<char*>(raw), sizeof raw});
  Wipe(raw, sizeof raw);
  return t;
}

SigningKey::SigningKey(const Key32& seed) {
  InitCrypto();
  uint8_t pk[crypto_sign_PUBLICKEYBYTES];
  uint8_t sk[crypto_sign_SECRETKEYBYTES];
  crypto_sign_seed_keypair(pk, sk, seed.data());
  Wipe(sk, sizeof sk);
  public_key_.assign(reinterpret_cast<char*>(pk), sizeof pk);
  std::memcpy(seed_.mutable_data(), seed.data(), kKeyBytes);
}

std::string SigningKey::Sign(std::string_view message) const {
  // libsodium's Ed25519 secret key is seed || public key (what crypto_sign_seed_keypair
  // writes): assembled here instead of derived again, which cost a scalar multiplication per
  // signature (every audit checkpoint).
  static_assert(crypto_sign_SECRETKEYBYTES == kKeyBytes + crypto_sign_PUBLICKEYBYTES);
  uint8_t sk[crypto_sign_SECRETKEYBYTES];
  std::memcpy(sk, seed_.data(), kKeyBytes);
  std::memcpy(sk + kKeyBytes, public_key_.data(), crypto_sign_PUBLICKEYBYTES);
  std::string sig(crypto_sign_BYTES, '\0');
  crypto_sign_detached(reinterpret_cast<uint8_t*>(sig.data()), nullptr, U8(message), message.size(), sk);
  Wipe(sk, sizeof sk);
  return sig;
}

bool VerifySignature(std::string_view public_key, std::string_view message, std::string_view signature) {
  InitCrypto();
  if (public_key.size() != crypto_sign_PUBLICKEYBYTES || signature.size() != crypto_sign_BYTES) return false;
  return crypto_sign_verify_detached(U8(signature), U8(message), message.size(), U8(public_key)) == 0;
}

Result<std::string> HashPassword(std::string_view password, PwhashStrength strength) {
  InitCrypto();
  char out[crypto_pwhash_STRBYTES];
  const bool moderate = strength == PwhashStrength::kModerate;
  if (crypto_pwhash_str_alg(out, password.data(), password.size(),
                            moderate ? crypto_pwhash_OPSLIMIT_MODERATE : crypto_pwhash_OPSLIMIT_INTERACTIVE,
                            moderate ? crypto_pwhash_MEMLIMIT_MODERATE : crypto_pwhash_MEMLIMIT_INTERACTIVE,
                            crypto_pwhash_ALG_ARGON2ID13) != 0) {
    return Status::Internal("out of memory hashing a password");
  }
  return std::string(out);
}

bool VerifyPassword(std::string_view stored_hash, std::string_view password) {
  InitCrypto();
  std::string h(stored_hash);
  return crypto_pwhash_str_verify(h.c_str(), password.data(), password.size()) == 0;
}

const std::string& DummyPasswordHash() {
  static const std::string hash = [] {
    std::string pw = NewTokenText();
    return HashPassword(pw).value();
  }();
  return hash;
}

uint64_t PassphraseOpsLimit() { return crypto_pwhash_OPSLIMIT_MODERATE; }
size_t PassphraseMemLimit() { return crypto_pwhash_MEMLIMIT_MODERATE; }

Result<Key32> DeriveKeyFromPassphrase(std::string_view passphrase, std::string_view salt16, uint64_t opslimit,
                                      size_t memlimit) {
  InitCrypto();
  if (salt16.size() != crypto_pwhash_SALTBYTES) return Status::Invalid("bad salt");
  Key32 key;
  if (crypto_pwhash(key.mutable_data(), kKeyBytes, passphrase.data(), passphrase.size(), U8(salt16),
                    opslimit, memlimit, crypto_pwhash_ALG_ARGON2ID13) != 0) {
    return Status::Internal("out of memory deriving the key");
  }
  return key;
}

Key32 DeriveSubkey(const Key32& master, uint64_t id, const char context[8]) {
  Key32 sub;
  crypto_kdf_derive_from_key(sub.mutable_data(), kKeyBytes, id, context, master.data());
  return sub;
}

}  // namespace trellis::crypto

#include "crypto/envelope.h"

#include "core/big_endian.h"
#include "core/rng.h"

#include <sodium.h>

#include <algorithm>
#include <cstring>

namespace trellis::crypto {
namespace {

constexpr size_t kNonce = crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;
constexpr size_t kTag = crypto_aead_xchacha20poly1305_ietf_ABYTES;
constexpr size_t kHeader = 1 + 4 + kNonce;

const uint8_t* U8(std::string_view s) { return reinterpret_cast<const uint8_t*>(s.data()); }

// AD for a field: "F" | u32 record-id length | record id | field name | u32 key version.
void AppendFieldAd(std::string* ad, std::string_view record_id, std::string_view field, uint32_t version) {
  ad->push_back('F');
  AppendBigEndian32(ad, static_cast<uint32_t>(record_id.size()));
  ad->append(record_id);
  ad->append(field);
  AppendBigEndian32(ad, version);
}
std::string FieldAd(std::string_view record_id, std::string_view field, uint32_t version) {
  std::string ad;
  ad.reserve(16 + record_id.size() + field.size());
  AppendFieldAd(&ad, record_id, field, version);
  return ad;
}

std::string WrapAd(std::string_view survivor_id, uint32_t master_version) {
  std::string ad = "K";
  AppendBigEndian32(&ad, master_version);
  ad.append(survivor_id);
  return ad;
}

// Random nonces from a per-thread ChaCha20 keystream seeded from the kernel: one system call
// per 64 KiB of nonces instead of one per seal (a getrandom per field was an eighth of an
// import's CPU). XChaCha20's 192-bit nonces are safe to draw at random. A forked child re-keys
// (ForkGeneration), so it never repeats the parent's nonces.
void NonceBytes(uint8_t* out, size_t n) {
  struct Stream {
    uint8_t key[crypto_stream_chacha20_ietf_KEYBYTES];
    uint64_t block = 0;
    uint8_t buf[64 * 1024];
    size_t pos = sizeof(buf);
    size_t refills = 0;
    uint64_t generation = 0;
    ~Stream() { sodium_memzero(this, sizeof(*this)); }
  };
  thread_local Stream s;
  if (const uint64_t generation = ForkGeneration(); generation != s.generation) {
    sodium_memzero(s.buf, sizeof s.buf);
    s.pos = sizeof s.buf;
    s.refills = 0;  // re-key at the next refill
    s.generation = generation;
  }
  while (n > 0) {
    if (s.pos == sizeof(s.buf)) {
      if (s.refills++ % 256 == 0) RandomBytes(s.key, sizeof s.key);  // re-key every 16 MiB
      uint8_t nonce[crypto_stream_chacha20_ietf_NONCEBYTES] = {};
      std::memcpy(nonce, &s.block, sizeof s.block);
      ++s.block;
      crypto_stream_chacha20_ietf(s.buf, sizeof s.buf, nonce, s.key);
      s.pos = 0;
    }
    const size_t take = std::min(n, sizeof(s.buf) - s.pos);
    std::memcpy(out, s.buf + s.pos, take);
    sodium_memzero(s.buf + s.pos, take);  // a nonce is handed out once
    s.pos += take;
    out += take;
    n -= take;
  }
}

// version byte | u32 | nonce | ciphertext+tag, written to `out` (kHeader + pt.size() + kTag bytes)
void SealTo(char* out, const Key32& key, uint32_t version, std::string_view ad, std::string_view pt) {
  out[0] = static_cast<char>(kEnvelopeV1);
  StoreBigEndian32(out + 1, version);
  uint8_t* nonce = reinterpret_cast<uint8_t*>(out) + 5;
  NonceBytes(nonce, kNonce);
  unsigned long long clen = 0;
  crypto_aead_xchacha20poly1305_ietf_encrypt(reinterpret_cast<uint8_t*>(out) + kHeader, &clen, U8(pt), pt.size(),
                                             U8(ad), ad.size(), nullptr, nonce, key.data());
}

std::string Seal(const Key32& key, uint32_t version, std::string_view ad, std::string_view pt) {
  std::string out(kHeader + pt.size() + kTag, '\0');
  SealTo(out.data(), key, version, ad, pt);
  return out;
}

Result<std::string> Open(const Key32& key, std::string_view ad, std::string_view env) {
  if (env.size() < kHeader + kTag || static_cast<uint8_t>(env[0]) != kEnvelopeV1) {
    return Status::DataLoss("malformed envelope");
  }
  std::string pt(env.size() - kHeader - kTag, '\0');
  unsigned long long plen = 0;
  if (crypto_aead_xchacha20poly1305_ietf_decrypt(reinterpret_cast<uint8_t*>(pt.data()), &plen, nullptr,
                                                 U8(env) + kHeader, env.size() - kHeader, U8(ad),
                                                 ad.size(), U8(env) + 5, key.data()) != 0) {
    return Status::DataLoss("envelope does not open");
  }
  return pt;
}

}  // namespace

std::string SealField(const Key32& data_key, uint32_t data_key_version, std::string_view record_id,
                      std::string_view field, std::string_view plaintext) {
  return Seal(data_key, data_key_version, FieldAd(record_id, field, data_key_version), plaintext);
}

size_t SealedFieldSize(size_t plaintext_size) { return kHeader + plaintext_size + kTag; }

void SealFieldTo(char* out, const Key32& data_key, uint32_t data_key_version, std::string_view record_id,
                 std::string_view field, std::string_view plaintext) {
  // The AD in a per-thread buffer: no allocation per field.
  thread_local std::string ad;
  ad.clear();
  AppendFieldAd(&ad, record_id, field, data_key_version);
  SealTo(out, data_key, data_key_version, ad, plaintext);
}

uint32_t EnvelopeKeyVersion(std::string_view envelope) {
  if (envelope.size() < kHeader + kTag || static_cast<uint8_t>(envelope[0]) != kEnvelopeV1) return 0;
  return LoadBigEndian32(envelope.data() + 1);
}

Result<std::string> OpenField(const Key32& data_key, std::string_view record_id, std::string_view field,
                              std::string_view envelope) {
  uint32_t version = EnvelopeKeyVersion(envelope);
  if (version == 0) return Status::DataLoss("malformed envelope");
  return Open(data_key, FieldAd(record_id, field, version), envelope);
}

std::string WrapDataKey(const Key32& master, uint32_t master_version, std::string_view survivor_id,
                        const Key32& data_key) {
  return Seal(master, master_version, WrapAd(survivor_id, master_version),
              std::string_view(reinterpret_cast<const char*>(data_key.data()), kKeyBytes));
}

uint32_t WrappedMasterVersion(std::string_view wrapped) { return EnvelopeKeyVersion(wrapped); }

Result<Key32> UnwrapDataKey(const Key32& master, std::string_view survivor_id, std::string_view wrapped) {
  uint32_t version = WrappedMasterVersion(wrapped);
  if (version == 0) return Status::DataLoss("malformed wrapped key");
  auto raw = Open(master, WrapAd(survivor_id, version), wrapped);
  if (!raw.ok()) return raw.status();
  if (raw->size() != kKeyBytes) return Status::DataLoss("wrapped key of the wrong size");
  Key32 k = Key32::FromBytes({reinterpret_cast<const uint8_t*>(raw->data()), kKeyBytes});
  Wipe(raw->data(), raw->size());
  return k;
}

std::string SealBox(const Key32& key, std::string_view ad, std::string_view plaintext) {
  return Seal(key, 1, ad, plaintext);
}

Result<std::string> OpenBox(const Key32& key, std::string_view ad, std::string_view box) {
  return Open(key, ad, box);
}

}  // namespace trellis::crypto

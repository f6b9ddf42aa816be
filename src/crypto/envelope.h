// Field envelopes and data-key wrapping (S5). Formats: docs/formats/field-envelope.md.
//
// Every identifying-or-above field value is sealed on its own with the survivor's data key
// using XChaCha20-Poly1305-IETF. The additional data binds the record id, the field name and
// the data-key version, so a ciphertext moved to another record or field, or opened with
// another key version, fails to open. Data keys are wrapped by a versioned master key.
// All functions are thread-safe; none logs or returns plaintext in errors.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/status.h"
#include "crypto/secret.h"

namespace trellis::crypto {

inline constexpr uint8_t kEnvelopeV1 = 0x01;

// Seals `plaintext` as the value of `field` in record `record_id`.
std::string SealField(const Key32& data_key, uint32_t data_key_version, std::string_view record_id,
                      std::string_view field, std::string_view plaintext);

// SealField writing the envelope to `out`, which has room for SealedFieldSize(plaintext.size())
// bytes: the same envelope, without a string of its own (the HTCDS import seals each field
// straight into the record's sealed column).
size_t SealedFieldSize(size_t plaintext_size);
void SealFieldTo(char* out, const Key32& data_key, uint32_t data_key_version, std::string_view record_id,
                 std::string_view field, std::string_view plaintext);

// Opens an envelope made by SealField with the same record id and field name. Any mismatch
// (other record, other field, other key, tampered bytes) is kDataLoss.
Result<std::string> OpenField(const Key32& data_key, std::string_view record_id, std::string_view field,
                              std::string_view envelope);

// The data-key version recorded in an envelope, or 0 when malformed.
uint32_t EnvelopeKeyVersion(std::string_view envelope);

// Wraps a survivor's data key under master key `master_version`; AD binds the survivor id.
std::string WrapDataKey(const Key32& master, uint32_t master_version, std::string_view survivor_id,
                        const Key32& data_key);
// The master-key version a wrapped key needs, or 0 when malformed.
uint32_t WrappedMasterVersion(std::string_view wrapped);
Result<Key32> UnwrapDataKey(const Key32& master, std::string_view survivor_id, std::string_view wrapped);

// Generic authenticated encryption of a small secret under a key, with caller AD.
std::string SealBox(const Key32& key, std::string_view ad, std::string_view plaintext);
Result<std::string> OpenBox(const Key32& key, std::string_view ad, std::string_view box);

}  // namespace trellis::crypto

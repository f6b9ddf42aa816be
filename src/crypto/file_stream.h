// Encrypted files (backups, evidence attachments, exports at rest) with libsodium's
// crypto_secretstream_xchacha20poly1305: chunked, authenticated, truncation- and
// reordering-evident. Format: "TRELLIS-STREAM-1\n" | u32 key id | 24-byte header |
// repeated (u32 length | ciphertext chunk); the last chunk carries TAG_FINAL.
#pragma once

#include <cstdint>
#include <string>

#include "core/status.h"
#include "crypto/secret.h"

namespace trellis::crypto {

// Encrypts `in_path` into `out_path` (created 0600). `key_id` is stored in clear so the
// reader can pick the right key (e.g. the master-key version the stream key derives from).
Status EncryptFile(const Key32& key, uint32_t key_id, const std::string& in_path, const std::string& out_path);
// The key id recorded in an encrypted file.
Result<uint32_t> EncryptedFileKeyId(const std::string& path);
// Decrypts; any tampering, truncation or wrong key is kDataLoss and `out_path` is removed.
Status DecryptFile(const Key32& key, const std::string& in_path, const std::string& out_path);

}  // namespace trellis::crypto

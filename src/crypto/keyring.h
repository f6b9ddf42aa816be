// KeyRing: the versioned master keys and the audit signing seed of one data directory.
//
// Stored in one file (`<data>/keyring`, mode 0600), either as plain key material (protected by
// file permissions, for hosts with disk encryption and a secrets manager) or sealed under a
// key derived from a passphrase with Argon2id MODERATE. Format: docs/formats/field-envelope.md.
// A KeyRing is immutable once loaded except through Rotate(); Save() replaces the file atomically.
// Thread-safety: const methods may be called concurrently; Rotate/Save need exclusive access.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/status.h"
#include "crypto/primitives.h"
#include "crypto/secret.h"

namespace trellis::crypto {

class KeyRing {
 public:
  // A new key ring with master key version 1 and a fresh signing seed.
  static std::unique_ptr<KeyRing> Generate();
  // Loads `path`. `passphrase` must be given when the file is passphrase-sealed.
  static Result<std::unique_ptr<KeyRing>> Load(const std::string& path, const std::string& passphrase = {});
  // Writes to `path` atomically (temp file, fsync, rename), mode 0600. An empty passphrase
  // writes the plain form. `fast_kdf` lowers Argon2id cost for tests only.
  Status Save(const std::string& path, const std::string& passphrase = {}, bool fast_kdf = false) const;

  uint32_t current_version() const { return current_; }
  // The master key of `version`, or nullptr when this ring does not hold it.
  const Key32* Master(uint32_t version) const;
  const Key32& CurrentMaster() const { return *Master(current_); }
  std::vector<uint32_t> Versions() const;

  // Adds a new master key version and makes it current. Old versions stay until Retire().
  uint32_t Rotate();
  // Drops every version older than the current one (after all data keys were re-wrapped).
  void RetireOldVersions();

  const SigningKey& audit_signer() const { return *signer_; }

 private:
  KeyRing() = default;
  std::map<uint32_t, Key32> masters_;
  uint32_t current_ = 0;
  Key32 signing_seed_;
  std::unique_ptr<SigningKey> signer_;
};

}  // namespace trellis::crypto

// TOTP second factor (RFC 6238: HMAC-SHA1, 30-second steps, 6 digits — what common
// authenticator apps expect), computed by liboath (oath-toolkit). Secrets are raw bytes from
// libsodium's CSPRNG; callers keep them sealed at rest and wipe their copies (crypto::Wipe).
// Thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/status.h"

namespace trellis::crypto {

inline constexpr int64_t kTotpStepSeconds = 30;
inline constexpr unsigned kTotpDigits = 6;
inline constexpr size_t kTotpSecretBytes = 20;  // 160 bits, RFC 4226's recommendation

// A fresh random secret of kTotpSecretBytes raw bytes.
std::string NewTotpSecret();

// RFC 4648 base32 without padding (the form authenticator apps take), and back (case and
// spaces ignored, padding optional).
std::string Base32Encode(std::string_view bytes);
Result<std::string> Base32Decode(std::string_view text);

// The RFC 6238 time step of a time in seconds since the epoch.
int64_t TotpStep(int64_t unix_seconds);

// The code of the step holding `unix_seconds` (`digits` long; RFC 6238's vectors use 8).
std::string TotpCode(std::string_view secret, int64_t unix_seconds, unsigned digits = kTotpDigits);

// The time step within ±`window` steps of `unix_seconds` whose code equals `code` (compared in
// constant time), or nullopt. The caller refuses steps already used (replay protection).
std::optional<int64_t> TotpMatch(std::string_view secret, int64_t unix_seconds, std::string_view code,
                                 unsigned window = 1);

// The otpauth:// URI authenticator apps read from a QR code (Key Uri Format).
std::string TotpUri(std::string_view issuer, std::string_view account, std::string_view secret);

}  // namespace trellis::crypto

#include "crypto/totp.h"

#include <liboath/oath.h>

#include <cctype>
#include <cstdlib>
#include <mutex>

#include "crypto/primitives.h"
#include "crypto/secret.h"

namespace trellis::crypto {
namespace {

void InitOath() {
  static std::once_flag once;
  std::call_once(once, [] { TRELLIS_INVARIANT(oath_init() == OATH_OK, "liboath failed to initialise"); });
}

// liboath's comparison hook: 0 when equal. Constant time in the code's length.
int CompareCodes(void* handle, const char* generated) {
  std::string_view given = *static_cast<std::string_view*>(handle);
  return ConstantTimeEquals(given, std::string_view(generated)) ? 0 : 1;
}

std::string PercentEncode(std::string_view s) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

}  // namespace

std::string NewTotpSecret() {
  std::string s(kTotpSecretBytes, '\0');
  RandomBytes(reinterpret_cast<uint8_t*>(s.data()), s.size());
  return s;
}

std::string Base32Encode(std::string_view bytes) {
  InitOath();
  char* out = nullptr;
  size_t len = 0;
  TRELLIS_INVARIANT(oath_base32_encode(bytes.data(), bytes.size(), &out, &len) == OATH_OK, "base32 encoding failed");
  std::string text(out, len);
  Wipe(out, len);
  std::free(out);
  while (!text.empty() && text.back() == '=') text.pop_back();
  return text;
}

Result<std::string> Base32Decode(std::string_view text) {
  InitOath();
  std::string clean;
  for (char c : text) {
    if (c == ' ' || c == '-') continue;
    clean += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  while (clean.size() % 8 != 0) clean += '=';
  char* out = nullptr;
  size_t len = 0;
  if (oath_base32_decode(clean.data(), clean.size(), &out, &len) != OATH_OK) return Status::Invalid("not base32");
  std::string bytes(out, len);
  Wipe(out, len);
  std::free(out);
  return bytes;
}

int64_t TotpStep(int64_t unix_seconds) { return unix_seconds / kTotpStepSeconds; }

std::string TotpCode(std::string_view secret, int64_t unix_seconds, unsigned digits) {
  InitOath();
  char out[16] = {};
  TRELLIS_INVARIANT(digits >= 6 && digits <= 8, "TOTP codes have 6 to 8 digits");
  TRELLIS_INVARIANT(oath_totp_generate2(secret.data(), secret.size(), static_cast<time_t>(unix_seconds),
                                        kTotpStepSeconds, 0, digits, 0, out) == OATH_OK,
                    "TOTP generation failed");
  return out;
}

std::optional<int64_t> TotpMatch(std::string_view secret, int64_t unix_seconds, std::string_view code,
                                 unsigned window) {
  InitOath();
  if (code.size() < 6 || code.size() > 8) return std::nullopt;
  for (char c : code) {
    if (c < '0' || c > '9') return std::nullopt;
  }
  int pos = 0;
  uint64_t counter = 0;
  const int rc = oath_totp_validate3_callback(secret.data(), secret.size(), static_cast<time_t>(unix_seconds),
                                              kTotpStepSeconds, 0, static_cast<unsigned>(code.size()), window, &pos,
                                              &counter, CompareCodes, &code);
  if (rc < 0) return std::nullopt;
  return static_cast<int64_t>(counter);
}

std::string TotpUri(std::string_view issuer, std::string_view account, std::string_view secret) {
  const std::string iss = PercentEncode(issuer);
  return "otpauth://totp/" + iss + ":" + PercentEncode(account) + "?secret=" + Base32Encode(secret) +
         "&issuer=" + iss + "&algorithm=SHA1&digits=" + std::to_string(kTotpDigits) +
         "&period=" + std::to_string(kTotpStepSeconds);
}

}  // namespace trellis::crypto

// TOTP through liboath (RFC 6238 Appendix B vectors, SHA-1), base32, window and URI.
#include "crypto/totp.h"

#include <gtest/gtest.h>

namespace trellis::crypto {
namespace {

const std::string kRfcSecret = "12345678901234567890";  // RFC 6238 Appendix B, SHA-1

TEST(Totp, Rfc6238AppendixBVectors) {
  const std::pair<int64_t, const char*> vectors[] = {{59, "94287082"},          {1111111109, "07081804"},
                                                     {1111111111, "14050471"},  {1234567890, "89005924"},
                                                     {2000000000, "69279037"},  {20000000000, "65353130"}};
  for (const auto& [t, code] : vectors) {
    EXPECT_EQ(TotpCode(kRfcSecret, t, 8), code) << t;
    auto step = TotpMatch(kRfcSecret, t, code, 0);
    ASSERT_TRUE(step.has_value()) << t;
    EXPECT_EQ(*step, t / 30);
    // Six-digit codes are the last six digits of the same HOTP value.
    EXPECT_EQ(TotpCode(kRfcSecret, t, 6), std::string(code).substr(2));
  }
}

TEST(Totp, WindowIsOneStepEitherSide) {
  const std::string secret = NewTotpSecret();
  ASSERT_EQ(secret.size(), kTotpSecretBytes);
  const int64_t now = 1'780'000'020;
  const std::string code = TotpCode(secret, now);
  EXPECT_EQ(TotpMatch(secret, now, code), TotpStep(now));
  EXPECT_EQ(TotpMatch(secret, now + 30, code), TotpStep(now));  // one step late: accepted
  EXPECT_EQ(TotpMatch(secret, now - 30, code), TotpStep(now));  // one step early: accepted
  EXPECT_FALSE(TotpMatch(secret, now + 60, code).has_value());
  EXPECT_FALSE(TotpMatch(secret, now - 60, code).has_value());
}

TEST(Totp, RejectsMalformedCodes) {
  const std::string secret = NewTotpSecret();
  for (const char* bad : {"", "12345", "12a456", "123456789", " 123456", "-12345"}) {
    EXPECT_FALSE(TotpMatch(secret, 1'780'000'000, bad).has_value()) << bad;
  }
}

TEST(Totp, Base32RoundTripAndUri) {
  EXPECT_EQ(Base32Encode("12345678901234567890"), "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
  auto back = Base32Decode("gezd gnbv gy3t qojq gezd gnbv gy3t qojq");
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, "12345678901234567890");
  EXPECT_FALSE(Base32Decode("not base32!").ok());
  EXPECT_EQ(TotpUri("Trellis", "ana@ngo", kRfcSecret),
            "otpauth://totp/Trellis:ana%40ngo?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=Trellis"
            "&algorithm=SHA1&digits=6&period=30");
}

}  // namespace
}  // namespace trellis::crypto

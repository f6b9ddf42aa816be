#include "storage/record_codec.h"

#include <gtest/gtest.h>

namespace trellis::storage {
namespace {

TEST(RecordCodec, SealedRoundTripAndTotalOnGarbage) {
  std::map<std::string, std::string> m = {{"a", std::string("\0\1", 2)}, {"bb", ""}};
  std::map<std::string, std::string> back;
  ASSERT_TRUE(DecodeSealed(EncodeSealed(m), &back));
  EXPECT_EQ(back, m);
  std::map<std::string, std::string> junk;
  EXPECT_FALSE(DecodeSealed("\xff\xff", &junk));
  EXPECT_FALSE(DecodePlain("{", &junk));
}

}  // namespace
}  // namespace trellis::storage

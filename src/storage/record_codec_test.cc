#include "storage/record_codec.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <string>
#include <vector>

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

// BeginPlain/AppendPlain/EndPlain (the HTCDS import) write exactly EncodePlain's bytes.
TEST(RecordCodec, PlainWriterMatchesEncodePlain) {
  std::string every_ascii;
  for (int c = 1; c < 0x80; ++c) every_ascii.push_back(static_cast<char>(c));
  const std::vector<std::map<std::string, std::string>> maps = {
      {},
      {{"cas_Status", "Active"}},
      {{"a", ""}, {"b", "quote \" backslash \\ slash / tab \t nl \n cr \r bs \b ff \f"}},
      {{"ctl", std::string("\0\x01\x1f\x7f", 4)}, {"utf8", "Jos\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"}},
      {{"all", every_ascii}, {"prs_Gender", "Feminine"}, {"vic_TypeOfExploitation", "ForcedLabour;Servitude"}},
  };
  for (const auto& m : maps) {
    std::string out;
    BeginPlain(&out);
    for (const auto& [name, value] : m) AppendPlain(&out, name, value);
    EndPlain(&out);
    EXPECT_EQ(out, EncodePlain(m));
    std::map<std::string, std::string> back;
    ASSERT_TRUE(DecodePlain(out, &back));
    EXPECT_EQ(back, m);
  }
}

TEST(RecordCodec, SealedSpaceMatchesAppendSealed) {
  std::string a, b;
  AppendSealed(&a, "prs_FirstName", "envelope-1");
  AppendSealed(&a, "prs_SecondName", std::string(300, 'x'));
  for (const auto& [name, env] : std::vector<std::pair<std::string, std::string>>{
           {"prs_FirstName", "envelope-1"}, {"prs_SecondName", std::string(300, 'x')}}) {
    const size_t before = b.size();
    char* at = AppendSealedSpace(&b, name, env.size());
    std::copy(env.begin(), env.end(), at);
    EXPECT_EQ(b.size() - before, SealedEntrySize(name, env.size()));
  }
  EXPECT_EQ(a, b);
}

}  // namespace
}  // namespace trellis::storage

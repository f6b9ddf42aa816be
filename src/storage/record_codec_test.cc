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

TEST(RecordCodec, PlainAndTeamRoundTrip) {
  // Escapes, quotes, control characters and non-ASCII text survive nlohmann's encoder and
  // simdjson's decoder unchanged.
  std::map<std::string, std::string> m = {{"prs_Citizenship", "GT;SV"},
                                          {"trl_Notes", "l\u00ednea 1\n\"quoted\" \\ back\tslash \x01"},
                                          {"empty", ""},
                                          {"ni\u00f1o", "\xe4\xb8\xad\xe6\x96\x87"}};
  std::map<std::string, std::string> back;
  ASSERT_TRUE(DecodePlain(EncodePlain(m), &back));
  EXPECT_EQ(back, m);
  std::vector<std::string> team = {"u_1", "u_\"2\"", ""};
  std::vector<std::string> team_back;
  ASSERT_TRUE(DecodeTeam(EncodeTeam(team), &team_back));
  EXPECT_EQ(team_back, team);
  std::vector<std::string> none;
  ASSERT_TRUE(DecodeTeam(EncodeTeam({}), &none));
  EXPECT_TRUE(none.empty());
}

TEST(RecordCodec, PlainAndTeamRejectWrongShapesAndSkipNonStrings) {
  std::map<std::string, std::string> m;
  EXPECT_FALSE(DecodePlain("[]", &m));
  EXPECT_FALSE(DecodePlain("{\"a\":\"x\"} trailing", &m));
  EXPECT_FALSE(DecodePlain("{\"a\":\"\xff\"}", &m));  // not UTF-8
  ASSERT_TRUE(DecodePlain(R"({"a":"x","n":1,"o":{"b":"c"}})", &m));
  EXPECT_EQ(m, (std::map<std::string, std::string>{{"a", "x"}}));
  std::vector<std::string> t;
  EXPECT_FALSE(DecodeTeam("{}", &t));
  EXPECT_FALSE(DecodeTeam("[\"a\"", &t));
  ASSERT_TRUE(DecodeTeam(R"(["a",2,null,"b"])", &t));
  EXPECT_EQ(t, (std::vector<std::string>{"a", "b"}));
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

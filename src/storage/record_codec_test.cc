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

}  // namespace
}  // namespace trellis::storage

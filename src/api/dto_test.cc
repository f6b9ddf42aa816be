// Record responses written by RapidJSON: the same document, key order and bytes as the
// nlohmann tree they replaced (its dump sorts keys), for every kind of field value.
#include "api/dto.h"

#include <gtest/gtest.h>

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <nlohmann/json.hpp>

namespace trellis::api {
namespace {

app::RecordView Survivor() {
  app::RecordView v;
  domain::Record& r = v.record;
  r.kind = domain::RecordKind::kSurvivor;
  r.id = r.survivor_id = "s_1";
  r.agency_id = "a_1";
  r.version = 3;
  r.created_at = 1'767'225'600'000'000;  // 2026-01-01T00:00:00Z
  r.updated_at = 1'767'225'661'000'000;
  r.fields = {{"prs_FirstName", "Mar\xc3\xad" "a \"la\" \\ /\n\t\x01"},
              {"prs_Citizenship", "GT;SV"},
              {"prs_Deceased", "false"},
              {"trl_Minor", "true"},
              {"prs_NumberOfChildren", "2"},
              {"not_a_field", "dropped"}};
  v.redacted = {"prs_Email", "trl_Statement"};
  return v;
}

TEST(RecordJsonText, MatchesTheSortedDocument) {
  auto text = RecordJsonText(Survivor());
  ASSERT_TRUE(text.ok()) << text.status().ToString();
  const auto j = nlohmann::json::parse(*text);
  EXPECT_EQ(j.dump(), *text);  // sorted keys, compact, same escaping
  EXPECT_EQ(j["id"], "s_1");
  EXPECT_EQ(j["kind"], "survivor");
  EXPECT_EQ(j["version"], 3);
  EXPECT_EQ(j["created_at"], "2026-01-01T00:00:00Z");
  EXPECT_EQ(j["updated_at"], "2026-01-01T00:01:01Z");
  EXPECT_EQ(j["fields"]["prs_FirstName"], "Mar\xc3\xad" "a \"la\" \\ /\n\t\x01");
  EXPECT_EQ(j["fields"]["prs_Citizenship"], nlohmann::json::array({"GT", "SV"}));
  EXPECT_EQ(j["fields"]["prs_Deceased"], false);
  EXPECT_EQ(j["fields"]["trl_Minor"], true);
  EXPECT_EQ(j["fields"]["prs_NumberOfChildren"], 2);
  EXPECT_FALSE(j["fields"].contains("not_a_field"));
  EXPECT_EQ(j["redacted"], nlohmann::json::array({"prs_Email", "trl_Statement"}));
  EXPECT_EQ(j["team"], nlohmann::json::array());
  EXPECT_FALSE(j.contains("survivor_id"));  // cases only
  EXPECT_FALSE(j.contains("case_number"));
}

TEST(RecordJsonText, CasesAndPages) {
  app::RecordView c;
  c.record.kind = domain::RecordKind::kCase;
  c.record.id = "c_1";
  c.record.survivor_id = "s_1";
  c.record.case_number = "TR-7K2M-9QXD";
  c.record.fields = {{"cas_Status", "Active"}};
  c.record.team = {"u_1", "u_2"};
  auto page = RecordPageJsonText({c, Survivor()}, "cur");
  ASSERT_TRUE(page.ok());
  const auto j = nlohmann::json::parse(*page);
  EXPECT_EQ(j.dump(), *page);
  ASSERT_EQ(j["items"].size(), 2u);
  EXPECT_EQ(j["items"][0]["case_number"], "TR-7K2M-9QXD");
  EXPECT_EQ(j["items"][0]["survivor_id"], "s_1");
  EXPECT_EQ(j["items"][0]["team"], nlohmann::json::array({"u_1", "u_2"}));
  EXPECT_EQ(j["next_cursor"], "cur");
  auto last = RecordPageJsonText({}, "");
  ASSERT_TRUE(last.ok());
  EXPECT_EQ(*last, R"({"items":[],"next_cursor":null})");
}

// A character to escape is escaped at any position of a longer string, also next to multi-byte
// UTF-8 text, and the bytes are what nlohmann writes for the same document.
TEST(RecordJsonText, EscapesAtEveryPositionOfLongStrings) {
  for (const char* special : {"\"", "\\", "\n", "\t", "\x01", "\xc3\xad"}) {
    for (size_t at = 0; at <= 48; ++at) {
      app::RecordView v = Survivor();
      std::string value(48, 'a');
      value.insert(at, special);
      v.record.fields["prs_FirstName"] = value;
      auto text = RecordJsonText(v);
      ASSERT_TRUE(text.ok());
      const auto j = nlohmann::json::parse(*text);
      EXPECT_EQ(j.dump(), *text) << at;
      EXPECT_EQ(j["fields"]["prs_FirstName"], value) << at;
    }
  }
}

// Strings with nothing to escape are copied in one piece, the others go through RapidJSON's
// escaping: either way the bytes are RapidJSON's own. Every ASCII byte value, at every position of
// strings shorter and longer than the eight bytes the scan reads at a time.
TEST(RecordJsonText, EveryByteValueAsRapidJsonWritesIt) {
  for (int b = 0; b < 0x80; ++b) {
    for (size_t len : {1u, 2u, 3u, 5u, 6u, 7u, 8u, 9u, 16u, 17u}) {
      for (size_t at = 0; at < len; ++at) {
        std::string value(len, 'x');
        value[at] = static_cast<char>(b);
        rapidjson::StringBuffer expected;
        rapidjson::Writer<rapidjson::StringBuffer> plain(expected);
        plain.String(value.data(), static_cast<rapidjson::SizeType>(value.size()));
        app::RecordView v = Survivor();
        v.record.fields["prs_FirstName"] = value;
        auto text = RecordJsonText(v);
        ASSERT_TRUE(text.ok());
        const std::string want = std::string("\"prs_FirstName\":") + expected.GetString() + ",";
        EXPECT_NE(text->find(want), std::string::npos) << "byte " << b << " at " << at << " of " << len;
      }
    }
  }
  app::RecordView v = Survivor();
  v.record.fields["prs_FirstName"] = "";
  v.record.fields["prs_Email"] = "Mar\xc3\xad" "a Jos\xc3\xa9 P\xc3\xa9rez";
  auto text = RecordJsonText(v);
  ASSERT_TRUE(text.ok());
  EXPECT_NE(text->find("\"prs_Email\":\"Mar\xc3\xad" "a Jos\xc3\xa9 P\xc3\xa9rez\",\"prs_FirstName\":\"\","), std::string::npos)
      << *text;
}

TEST(RecordJsonText, InvalidUtf8IsAnErrorNotAResponse) {
  app::RecordView v = Survivor();
  v.record.fields["prs_FirstName"] = "bad \xff byte";
  EXPECT_EQ(RecordJsonText(v).status().code(), Code::kInternal);
  for (size_t len : {1u, 3u, 7u, 8u, 9u, 17u}) {  // in short strings, the words, the last (overlapping) word
    for (size_t at = 0; at < len; ++at) {
      std::string value(len, 'a');
      value[at] = '\xc3';  // a lead byte with no continuation byte
      v.record.fields["prs_FirstName"] = value;
      EXPECT_EQ(RecordJsonText(v).status().code(), Code::kInternal) << at << " of " << len;
    }
  }
  v.record.fields["prs_FirstName"] = "\xff";
  EXPECT_EQ(RecordJsonText(v).status().code(), Code::kInternal);
}

}  // namespace
}  // namespace trellis::api

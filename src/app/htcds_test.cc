// ReadHtcds in pieces (the import reads a large file on every core): the same table, and the
// same first error, as a read in one piece.
#include "app/htcds.h"

#include <gtest/gtest.h>

#include <string>

namespace trellis::app {
namespace {

// Every (row, column) value of a table, row-major, for comparison.
std::vector<std::string> Cells(const HtcdsTable& t) {
  std::vector<std::string> out;
  for (size_t r = 0; r < t.rows(); ++r) {
    for (size_t c = 0; c < t.columns().size(); ++c) out.emplace_back(t.Value(r, c));
  }
  return out;
}

// A file whose rows hold the traps of a split: quoted commas and line feeds, "" escapes, CRLF
// and LF endings, blank lines, empty cells and a byte-order mark.
std::string TrickyFile(int rows) {
  std::string csv = "\xef\xbb\xbfprs_FirstName,prs_Gender,trl_Statement,cas_Status\r\n";
  for (int i = 0; i < rows; ++i) {
    csv += "\"Name " + std::to_string(i) + ", \"\"Jr\"\"\",Feminine,";
    csv += i % 3 == 0 ? "\"line one\nline two\"" : (i % 3 == 1 ? "" : "plain");
    csv += i % 2 ? ",Active\r\n" : ",Closed\n";
    if (i % 7 == 0) csv += "\n";
  }
  return csv;
}

TEST(HtcdsPieces, SameTableAsOnePiece) {
  const std::string csv = TrickyFile(500);
  auto one = ReadHtcds(csv, 1);
  ASSERT_TRUE(one.ok()) << one.status().ToString();
  ASSERT_EQ(one->rows(), 500u);
  for (size_t parts : {2, 3, 8, 64, 5000}) {
    auto pieces = ReadHtcds(csv, parts);
    ASSERT_TRUE(pieces.ok()) << parts << ": " << pieces.status().ToString();
    EXPECT_EQ(pieces->columns(), one->columns()) << parts;
    EXPECT_EQ(Cells(*pieces), Cells(*one)) << parts;
  }
  EXPECT_EQ(one->Value(0, 2), "line one\nline two");
  EXPECT_EQ(one->Value(1, 0), "Name 1, \"Jr\"");
}

TEST(HtcdsPieces, SameFirstErrorAsOnePiece) {
  std::string csv = TrickyFile(400);
  // A bad value near the end and a malformed quote after it: the bad value is reported (row 401
  // = the 400th data row), as when reading in one piece.
  csv += "Ana,Purple,,Active\n";
  csv += "\"unterminated,Feminine,,Active\n";
  for (size_t parts : {1, 2, 3, 16}) {
    auto r = ReadHtcds(csv, parts);
    ASSERT_FALSE(r.ok()) << parts;
    EXPECT_NE(r.status().message().find("row 402, column 2 (prs_Gender)"), std::string::npos)
        << parts << ": " << r.status().message();
  }
  // Only the malformed quote: every split reports it at the same row.
  std::string bad = TrickyFile(300) + "\"unterminated,Feminine,,Active\n";
  auto one = ReadHtcds(bad, 1);
  ASSERT_FALSE(one.ok());
  for (size_t parts : {2, 3, 16}) {
    auto r = ReadHtcds(bad, parts);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().message(), one.status().message()) << parts;
  }
}

TEST(HtcdsPieces, HeaderOnlyAndEmpty) {
  auto header = ReadHtcds(std::string("prs_FirstName,cas_Status\n"), 4);
  ASSERT_TRUE(header.ok());
  EXPECT_EQ(header->rows(), 0u);
  auto empty = ReadHtcds(std::string(""), 4);
  ASSERT_FALSE(empty.ok());
  EXPECT_NE(empty.status().message().find("row 1: the file is empty"), std::string::npos);
  auto blank = ReadHtcds(std::string("\n\n"), 4);
  ASSERT_FALSE(blank.ok());
  EXPECT_EQ(blank.status().message(), ReadHtcds(std::string("\n\n"), 1).status().message());
}

}  // namespace
}  // namespace trellis::app

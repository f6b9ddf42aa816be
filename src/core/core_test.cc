#include <gtest/gtest.h>

#include <set>

#include "core/clock.h"
#include "core/ids.h"
#include "core/rng.h"
#include "core/status.h"

namespace trellis {
namespace {

TEST(Ids, RandomIdsAreWellFormedAndDistinct) {
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    std::string id = NewRandomId(SystemRng(), "s");
    EXPECT_TRUE(IsWellFormedId(id, "s")) << id;
    EXPECT_TRUE(seen.insert(id).second);
  }
  EXPECT_FALSE(IsWellFormedId("s_abc", "s"));
  EXPECT_FALSE(IsWellFormedId("c_aaaaaaaaaaaaaaaaaaaaaaaaaa", "s"));
  EXPECT_FALSE(IsWellFormedId("s_aaaaaaaaaaaaaaaaaaaaaaaaa1", "s"));
}

TEST(Ids, SeededRngIsDeterministic) {
  auto a = NewSeededRng(7), b = NewSeededRng(7);
  EXPECT_EQ(NewRandomId(*a, "c"), NewRandomId(*b, "c"));
}

TEST(Status, ResultCarriesValueOrError) {
  Result<int> ok = 3;
  EXPECT_TRUE(ok.ok());
  EXPECT_EQ(*ok, 3);
  Result<int> bad = Status::Invalid("nope", "field_x");
  EXPECT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), Code::kInvalidArgument);
  EXPECT_EQ(bad.status().field(), "field_x");
}

TEST(Clock, FormatsUtc) {
  EXPECT_EQ(FormatTimestamp(0), "1970-01-01T00:00:00Z");
  EXPECT_EQ(FormatDate(951782400LL * 1000000), "2000-02-29");
  FakeClock c(0);
  c.AdvanceSeconds(86400);
  EXPECT_EQ(FormatDate(c.NowMicros()), "1970-01-02");
}

}  // namespace
}  // namespace trellis

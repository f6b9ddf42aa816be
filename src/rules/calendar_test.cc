#include "rules/calendar.h"

#include <gtest/gtest.h>

namespace trellis::rules {
namespace {

Date D(const char* s) { return *ParseDate(s); }

TEST(RulesCalendar, ParsesOnlyRealCalendarDays) {
  EXPECT_TRUE(ParseDate("2024-02-29"));
  EXPECT_FALSE(ParseDate("2023-02-29"));
  EXPECT_FALSE(ParseDate("2023-13-01"));
  EXPECT_FALSE(ParseDate("2023-1-01"));
  EXPECT_FALSE(ParseDate("2023-01-01T00"));
  EXPECT_FALSE(ParseDate(""));
  EXPECT_EQ(FormatDate(D("1999-12-31")), "1999-12-31");
}

TEST(RulesCalendar, AgeInWholeYearsWithLeapDayBirthdays) {
  EXPECT_EQ(AgeOn(D("1995-04-12"), D("2026-04-11")), 30);
  EXPECT_EQ(AgeOn(D("1995-04-12"), D("2026-04-12")), 31);
  EXPECT_EQ(AgeOn(D("2008-02-29"), D("2026-02-28")), 17);  // not yet: non-leap year
  EXPECT_EQ(AgeOn(D("2008-02-29"), D("2026-03-01")), 18);
  EXPECT_EQ(AgeOn(D("2008-02-29"), D("2028-02-29")), 20);
  EXPECT_EQ(Birthday(D("2008-02-29"), 18), D("2026-03-01"));
  EXPECT_EQ(Birthday(D("2008-02-29"), 20), D("2028-02-29"));
}

TEST(RulesCalendar, AnniversariesClampToMonthEnd) {
  EXPECT_EQ(AddYears(D("2024-02-29"), 1), D("2025-02-28"));
  EXPECT_EQ(AddMonths(D("2025-08-31"), 6), D("2026-02-28"));
  EXPECT_EQ(AddMonths(D("2025-10-15"), 6), D("2026-04-15"));
  EXPECT_EQ(AddMonths(D("2025-12-31"), -1), D("2025-11-30"));
}

TEST(RulesCalendar, FederalHolidaysAsObserved) {
  EXPECT_TRUE(IsFederalHoliday(D("2025-07-04")));
  EXPECT_TRUE(IsFederalHoliday(D("2021-12-31")));  // 1 Jan 2022 was a Saturday
  EXPECT_TRUE(IsFederalHoliday(D("2026-01-19")));  // MLK day
  EXPECT_TRUE(IsFederalHoliday(D("2025-11-27")));  // Thanksgiving
  EXPECT_TRUE(IsFederalHoliday(D("2023-06-19")));  // Juneteenth
  EXPECT_FALSE(IsFederalHoliday(D("2020-06-19")));  // before Pub. L. 117-17
  EXPECT_EQ(NextBusinessDay(D("2022-11-20")), D("2022-11-21"));  // Sunday
  EXPECT_EQ(NextBusinessDay(D("2026-05-02")), D("2026-05-04"));  // Saturday
  EXPECT_EQ(NextBusinessDay(D("2025-07-04")), D("2025-07-07"));  // Friday holiday
  EXPECT_EQ(NextBusinessDay(D("2024-05-01")), D("2024-05-01"));
}

}  // namespace
}  // namespace trellis::rules

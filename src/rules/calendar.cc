#include "rules/calendar.h"

#include <date/date.h>

namespace trellis::rules {
namespace {

using date::days;
using date::sys_days;
using date::year_month_day;

year_month_day ToYmd(Date d) { return year_month_day{sys_days{days{d}}}; }
Date FromYmd(const year_month_day& ymd) {
  return static_cast<Date>(sys_days{ymd}.time_since_epoch().count());
}
Date ClampedYmd(date::year y, date::month m, date::day dd) {
  auto last = date::year_month_day_last{y, date::month_day_last{m}}.day();
  return FromYmd(year_month_day{y, m, dd > last ? last : dd});
}

int Digit(char c) { return c >= '0' && c <= '9' ? c - '0' : -1; }

// The nth (1-based) weekday `wd` of a month, or the last one when n == -1.
Date NthWeekday(int y, unsigned m, date::weekday wd, int n) {
  if (n < 0) {
    return FromYmd(year_month_day{
        date::year_month_weekday_last{date::year{y}, date::month{m}, date::weekday_last{wd}}});
  }
  return FromYmd(year_month_day{date::year_month_weekday{
      date::year{y}, date::month{m}, date::weekday_indexed{wd, static_cast<unsigned>(n)}}});
}

// A fixed-date holiday falling on Saturday is observed the Friday before, on Sunday the
// Monday after (5 U.S.C. 6103(b); Executive Order 11582).
Date Observed(int y, unsigned m, unsigned dd) {
  Date d = FromYmd(year_month_day{date::year{y}, date::month{m}, date::day{dd}});
  auto wd = date::weekday{sys_days{days{d}}};
  if (wd == date::Saturday) return d - 1;
  if (wd == date::Sunday) return d + 1;
  return d;
}

bool IsHolidayOfYear(Date d, int y) {
  using namespace date;
  if (d == Observed(y, 1, 1) || d == Observed(y, 7, 4) || d == Observed(y, 11, 11) ||
      d == Observed(y, 12, 25))
    return true;
  if (y >= 2021 && d == Observed(y, 6, 19)) return true;  // Juneteenth, Pub. L. 117-17
  if (y >= 1986 && d == NthWeekday(y, 1, Monday, 3)) return true;  // Birthday of M. L. King
  return d == NthWeekday(y, 2, Monday, 3) ||                       // Washington's Birthday
         d == NthWeekday(y, 5, Monday, -1) ||                      // Memorial Day
         d == NthWeekday(y, 9, Monday, 1) ||                       // Labor Day
         d == NthWeekday(y, 10, Monday, 2) ||                      // Columbus Day
         d == NthWeekday(y, 11, Thursday, 4);                      // Thanksgiving Day
}

}  // namespace

std::optional<Date> ParseDate(std::string_view t) {
  if (t.size() != 10 || t[4] != '-' || t[7] != '-') return std::nullopt;
  int v[8];
  const int pos[8] = {0, 1, 2, 3, 5, 6, 8, 9};
  for (int i = 0; i < 8; ++i) {
    v[i] = Digit(t[pos[i]]);
    if (v[i] < 0) return std::nullopt;
  }
  int y = v[0] * 1000 + v[1] * 100 + v[2] * 10 + v[3];
  unsigned m = v[4] * 10 + v[5], dd = v[6] * 10 + v[7];
  if (y < 1800) return std::nullopt;
  year_month_day ymd{date::year{y}, date::month{m}, date::day{dd}};
  if (!ymd.ok()) return std::nullopt;
  return FromYmd(ymd);
}

void FormatDateTo(Date d, char out[10]) {
  auto ymd = ToYmd(d);
  int y = static_cast<int>(ymd.year());
  unsigned m = static_cast<unsigned>(ymd.month()), dd = static_cast<unsigned>(ymd.day());
  if (y < 0 || y > 9999) y = 0;
  out[0] = static_cast<char>('0' + y / 1000);
  out[1] = static_cast<char>('0' + y / 100 % 10);
  out[2] = static_cast<char>('0' + y / 10 % 10);
  out[3] = static_cast<char>('0' + y % 10);
  out[4] = '-';
  out[5] = static_cast<char>('0' + m / 10);
  out[6] = static_cast<char>('0' + m % 10);
  out[7] = '-';
  out[8] = static_cast<char>('0' + dd / 10);
  out[9] = static_cast<char>('0' + dd % 10);
}

std::string FormatDate(Date d) {
  char buf[10];
  FormatDateTo(d, buf);
  return std::string(buf, 10);
}

int AgeOn(Date birth, Date on) {
  auto b = ToYmd(birth), o = ToYmd(on);
  int years = static_cast<int>(o.year()) - static_cast<int>(b.year());
  // Compare (month, day); a 29 February birthday is not reached on 28 February.
  if (date::month_day{o.month(), o.day()} < date::month_day{b.month(), b.day()}) --years;
  return years;
}

Date Birthday(Date birth, int years) {
  auto b = ToYmd(birth);
  auto y = b.year() + date::years{years};
  if (b.month() == date::February && b.day() == date::day{29} && !y.is_leap())
    return FromYmd(year_month_day{y, date::March, date::day{1}});
  return FromYmd(year_month_day{y, b.month(), b.day()});
}

Date AddYears(Date d, int years) {
  auto ymd = ToYmd(d);
  return ClampedYmd(ymd.year() + date::years{years}, ymd.month(), ymd.day());
}

Date AddMonths(Date d, int months) {
  auto ymd = ToYmd(d);
  auto ym = date::year_month{ymd.year(), ymd.month()} + date::months{months};
  return ClampedYmd(ym.year(), ym.month(), ymd.day());
}

bool IsFederalHoliday(Date d) {
  int y = static_cast<int>(ToYmd(d).year());
  // New Year's Day of y+1 may be observed on 31 December of y.
  return IsHolidayOfYear(d, y) || (d == Observed(y + 1, 1, 1));
}

Date NextBusinessDay(Date d) {
  for (int i = 0; i < 14; ++i, ++d) {
    auto wd = date::weekday{sys_days{days{d}}};
    if (wd != date::Saturday && wd != date::Sunday && !IsFederalHoliday(d)) return d;
  }
  return d;
}

Date DateFromMicros(int64_t micros) {
  int64_t secs = micros / 1'000'000;
  int64_t dd = secs / 86400;
  if (secs < 0 && secs % 86400 != 0) --dd;
  return static_cast<Date>(dd);
}

}  // namespace trellis::rules

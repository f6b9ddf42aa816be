// Calendar arithmetic for deadlines and ages. A Date is a count of days since 1970-01-01
// (proleptic Gregorian), so comparisons and day differences are integer operations.
//
// Conventions (criteria.md "Derived facts", "Uncertainties"):
//  - a person attains age N on the Nth anniversary of birth; someone born on 29 February
//    attains it on 1 March in non-leap years (Birthday, AgeOn);
//  - an event's anniversary (AddYears / AddMonths) is clamped to the end of the month, so an
//    event on 29 February has its anniversary on 28 February (conservative for deadlines).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace trellis::rules {

using Date = int32_t;  // days since 1970-01-01

// Strict "YYYY-MM-DD" with a real calendar day (2023-02-29 is rejected).
std::optional<Date> ParseDate(std::string_view text);
std::string FormatDate(Date d);
void FormatDateTo(Date d, char out[10]);

// Whole years completed from `birth` to `on` (negative if `on` is before `birth`).
int AgeOn(Date birth, Date on);
// The day a person born on `birth` attains age `years`.
Date Birthday(Date birth, int years);
Date AddYears(Date d, int years);    // clamped to end of month
Date AddMonths(Date d, int months);  // clamped to end of month
// `d` if it is a business day, else the next day that is not a Saturday, Sunday or federal
// legal holiday as observed under 5 U.S.C. 6103.
Date NextBusinessDay(Date d);
bool IsFederalHoliday(Date d);
// Today's date in UTC from microseconds since the epoch.
Date DateFromMicros(int64_t micros);

}  // namespace trellis::rules

#include "domain/consent.h"

#include <algorithm>
#include <cctype>
#include <chrono>

namespace trellis::domain {

const std::vector<std::string_view>& ReleasePurposes() {
  static const std::vector<std::string_view> v = {"investigation",     "prosecution",     "immigration_relief",
                                                  "services_referral", "victim_compensation", "health_care",
                                                  "continued_presence"};
  return v;
}
const std::vector<std::string_view>& RevocationReasons() {
  static const std::vector<std::string_view> v = {"survivor_request", "purpose_fulfilled", "safety_concern",
                                                  "recorded_in_error", "other"};
  return v;
}
const std::vector<std::string_view>& CompelledBases() {
  static const std::vector<std::string_view> v = {"court_order", "subpoena", "warrant", "statutory_mandate"};
  return v;
}
const std::vector<std::string_view>& ReleaseLanguages() {
  static const std::vector<std::string_view> v = {"en", "es"};
  return v;
}

namespace {

std::chrono::sys_days ToDays(std::string_view d) {
  int y = std::stoi(std::string(d.substr(0, 4)));
  unsigned m = static_cast<unsigned>(std::stoi(std::string(d.substr(5, 2))));
  unsigned dd = static_cast<unsigned>(std::stoi(std::string(d.substr(8, 2))));
  return std::chrono::sys_days(std::chrono::year(y) / std::chrono::month(m) / std::chrono::day(dd));
}

// Lower case, runs of white space as one space, trimmed.
std::string NormalName(std::string_view s) {
  std::string out;
  bool space = false;
  for (char c : s) {
    if (std::isspace(static_cast<unsigned char>(c))) {
      space = !out.empty();
      continue;
    }
    if (space) out += ' ';
    space = false;
    out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return out;
}

}  // namespace

int64_t DaysBetween(std::string_view from, std::string_view to) { return (ToDays(to) - ToDays(from)).count(); }

int64_t DayStartMicros(std::string_view d) {
  return std::chrono::duration_cast<std::chrono::microseconds>(ToDays(d).time_since_epoch()).count();
}

bool IsMinorOn(const SurvivorConsentFacts& f, std::string_view on_date) {
  if (f.minor_flag) return true;
  if (f.birthdate.empty() || !IsValidDate(f.birthdate) || !IsValidDate(on_date)) return false;
  using namespace std::chrono;
  year_month_day b(ToDays(f.birthdate)), on(ToDays(on_date));
  int age = static_cast<int>(on.year()) - static_cast<int>(b.year());
  if (on.month() < b.month() || (on.month() == b.month() && on.day() < b.day())) --age;
  return age < 18;
}

Status ValidateSigners(const std::vector<Signer>& signers, const SurvivorConsentFacts& f, std::string_view effective_on) {
  if (signers.empty()) return Status::Invalid("at least the survivor must sign", "signers");
  if (signers.size() > 4) return Status::Invalid("may name at most 4 signers", "signers");
  int survivors = 0, guardians = 0;
  std::vector<std::string> perpetrators;
  for (auto line : SplitList(f.alleged_perpetrators, '\n')) {
    std::string n = NormalName(line);
    if (!n.empty()) perpetrators.push_back(n);
  }
  for (const Signer& s : signers) {
    if (s.relationship == "survivor") {
      ++survivors;
    } else if (s.relationship == "parent" || s.relationship == "guardian") {
      ++guardians;
    } else {
      return Status::Invalid("a signer's relationship must be survivor, parent or guardian", "signers");
    }
    const std::string n = NormalName(s.name);
    if (n.empty() || s.name.size() > 200 || !IsValidUtf8(s.name)) {
      return Status::Invalid("every signer needs a name of at most 200 characters", "signers");
    }
    if (std::find(perpetrators.begin(), perpetrators.end(), n) != perpetrators.end()) {
      return Status::Invalid("a signer is recorded as an alleged perpetrator and can never consent", "signers");
    }
  }
  if (survivors != 1) return Status::Invalid("the survivor must sign, once", "signers");
  if (IsMinorOn(f, effective_on) && !f.may_consent_alone && guardians == 0) {
    return Status::Invalid("the survivor is a minor: a parent or guardian must sign too", "signers");
  }
  return Status::Ok();
}

Result<std::vector<Category>> ParseReleaseCategories(const std::vector<std::string>& names, std::string_view field) {
  std::vector<Category> out;
  if (names.empty()) return Status::Invalid("name at least one category", std::string(field));
  for (const auto& n : names) {
    auto c = ParseCategory(n);
    if (!c.ok()) return Status::Invalid("is not a data category", std::string(field));
    if (*c == Category::kLegalWorkProduct) {
      return Status::Invalid("attorney work product is never released", std::string(field));
    }
    if (std::find(out.begin(), out.end(), *c) == out.end()) out.push_back(*c);
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace trellis::domain

#include "domain/consent.h"

#include <gtest/gtest.h>

namespace trellis::domain {
namespace {

TEST(ConsentSigners, SurvivorMustSignOnce) {
  SurvivorConsentFacts adult{"1990-01-01"};
  EXPECT_TRUE(ValidateSigners({{"survivor", "Ana"}}, adult, "2026-01-01").ok());
  EXPECT_EQ(ValidateSigners({}, adult, "2026-01-01").field(), "signers");
  EXPECT_FALSE(ValidateSigners({{"guardian", "Rosa"}}, adult, "2026-01-01").ok());
  EXPECT_FALSE(ValidateSigners({{"survivor", "Ana"}, {"survivor", "Ana"}}, adult, "2026-01-01").ok());
  EXPECT_FALSE(ValidateSigners({{"survivor", "  "}}, adult, "2026-01-01").ok());
  EXPECT_FALSE(ValidateSigners({{"friend", "Bo"}, {"survivor", "Ana"}}, adult, "2026-01-01").ok());
}

TEST(ConsentSigners, MinorNeedsGuardianUnlessMayConsentAlone) {
  SurvivorConsentFacts minor{"2010-06-15"};
  // 17 the day before the 18th birthday, adult on it.
  EXPECT_TRUE(IsMinorOn(minor, "2028-06-14"));
  EXPECT_FALSE(IsMinorOn(minor, "2028-06-15"));
  Status st = ValidateSigners({{"survivor", "Lu"}}, minor, "2026-01-01");
  EXPECT_FALSE(st.ok());
  EXPECT_EQ(st.field(), "signers");
  EXPECT_TRUE(ValidateSigners({{"survivor", "Lu"}, {"guardian", "Mara"}}, minor, "2026-01-01").ok());
  EXPECT_TRUE(ValidateSigners({{"survivor", "Lu"}, {"parent", "Mara"}}, minor, "2026-01-01").ok());
  EXPECT_TRUE(ValidateSigners({{"survivor", "Lu"}}, minor, "2028-06-15").ok());  // adult by then
  SurvivorConsentFacts alone = minor;
  alone.may_consent_alone = true;
  EXPECT_TRUE(ValidateSigners({{"survivor", "Lu"}}, alone, "2026-01-01").ok());
  SurvivorConsentFacts flagged{"", true};
  EXPECT_FALSE(ValidateSigners({{"survivor", "Lu"}}, flagged, "2026-01-01").ok());
}

TEST(ConsentSigners, AllegedPerpetratorCanNeverSign) {
  SurvivorConsentFacts minor{"2012-01-01"};
  minor.alleged_perpetrators = "Victor Lobo\n  jorge   MALO \n";
  Status st = ValidateSigners({{"survivor", "Lu"}, {"guardian", "Jorge Malo"}}, minor, "2026-01-01");
  EXPECT_FALSE(st.ok());
  EXPECT_EQ(st.field(), "signers");
  EXPECT_EQ(st.message().find("Jorge"), std::string::npos);  // never echoes the name
  EXPECT_FALSE(ValidateSigners({{"survivor", "Lu"}, {"parent", "victor  lobo"}}, minor, "2026-01-01").ok());
  EXPECT_TRUE(ValidateSigners({{"survivor", "Lu"}, {"parent", "Rosa Lobo"}}, minor, "2026-01-01").ok());
}

TEST(ConsentCategories, ParsesAndRefusesWorkProduct) {
  auto c = ParseReleaseCategories({"identity", "trafficking_history", "identity"}, "categories");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->size(), 2u);
  EXPECT_EQ(ParseReleaseCategories({}, "categories").status().field(), "categories");
  EXPECT_FALSE(ParseReleaseCategories({"legal_work_product"}, "categories").ok());
  EXPECT_FALSE(ParseReleaseCategories({"everything"}, "categories").ok());
}

TEST(ConsentDates, DaysAndDayStart) {
  EXPECT_EQ(DaysBetween("2026-01-01", "2027-01-01"), 365);
  EXPECT_EQ(DaysBetween("2028-01-01", "2027-12-31"), -1);
  EXPECT_EQ(DayStartMicros("1970-01-02"), 86'400'000'000);
}

}  // namespace
}  // namespace trellis::domain

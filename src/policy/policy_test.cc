#include "policy/policy.h"

#include <gtest/gtest.h>

namespace trellis::policy {
namespace {

using domain::RecordKind;
using domain::Role;

const Role kAllRoles[] = {Role::kAdvocate,          Role::kCaseManager,    Role::kAttorney, Role::kParalegal,
                          Role::kSocialWorker,      Role::kSupervisor,     Role::kLeVictimSpecialist,
                          Role::kLeInvestigator,    Role::kAuditor,        Role::kAdministrator};
const Action kAllActions[] = {Action::kRead,   Action::kList,   Action::kSearch, Action::kExport,
                              Action::kCreate, Action::kUpdate, Action::kErase};

// The matrix over role x agency x action x field for the same-agency foundation rules.
TEST(Policy, Matrix) {
  for (Role role : kAllRoles) {
    for (bool same_agency : {true, false}) {
      for (bool on_team : {true, false}) {
        for (Action action : kAllActions) {
          for (RecordKind kind : {RecordKind::kSurvivor, RecordKind::kCase}) {
            Subject s{"u_me", "a_1", role};
            Resource r{kind, same_agency ? "a_1" : "a_2", on_team ? std::vector<std::string>{"u_me"} : std::vector<std::string>{"u_other"}, "s_1"};
            Decision d = Decide(s, action, r, {});
            bool expect_allowed = same_agency && CanWorkCases(role) && (action != Action::kErase || role == Role::kSupervisor);
            ASSERT_EQ(d.allowed(), expect_allowed) << domain::RoleName(role) << " " << ActionName(action);
            for (const domain::FieldSpec* f : domain::FieldsOf(kind)) {
              bool visible = d.FieldAllowed(*f);
              if (!expect_allowed) {
                EXPECT_FALSE(visible);
                continue;
              }
              bool expect = true;
              if (f->sensitivity == domain::Sensitivity::kPrivileged) expect = domain::IsLegalTeam(role);
              if (f->category == domain::Category::kLocation) expect = expect && on_team;
              EXPECT_EQ(visible, expect) << domain::RoleName(role) << " " << f->name;
            }
          }
        }
      }
    }
  }
}

// The consent matrix (S1, S3, S4): role x (same agency, other agency) x release state
// (none, active, expired, revoked) x released category x action, asserting allow/deny per field.
enum class ReleaseState { kNone, kActive, kExpired, kRevoked, kPending, kOtherRecipient, kOtherSurvivor };
const ReleaseState kAllStates[] = {ReleaseState::kNone,    ReleaseState::kActive,         ReleaseState::kExpired,
                                   ReleaseState::kRevoked, ReleaseState::kPending,        ReleaseState::kOtherRecipient,
                                   ReleaseState::kOtherSurvivor};
const domain::Category kAllCategories[] = {
    domain::Category::kDemographic,  domain::Category::kIdentity,         domain::Category::kContact,
    domain::Category::kLocation,     domain::Category::kTraffickingHistory, domain::Category::kImmigration,
    domain::Category::kMedical,      domain::Category::kSafetyPlan,       domain::Category::kCaseWorkflow,
    domain::Category::kLegalWorkProduct};

constexpr int64_t kNow = 1'800'000'000'000'000;

Grant GrantIn(ReleaseState st, domain::Category c) {
  Grant g{"g_1", GrantKind::kRelease, "s_1", "a_me", "", CategoryBit(c), kNow - 1000, kNow + 1000, 0};
  switch (st) {
    case ReleaseState::kExpired: g.expires_at = kNow; break;  // exclusive: expired at this very instant
    case ReleaseState::kRevoked: g.revoked_at = kNow - 1; break;
    case ReleaseState::kPending: g.effective_at = kNow + 1; break;
    case ReleaseState::kOtherRecipient: g.recipient_agency_id = "a_third"; break;
    case ReleaseState::kOtherSurvivor: g.survivor_id = "s_2"; break;
    default: break;
  }
  return g;
}

TEST(PolicyConsent, GeneratedMatrix) {
  int checked = 0;
  for (Role role : kAllRoles) {
    for (bool same_agency : {true, false}) {
      for (ReleaseState st : kAllStates) {
        for (domain::Category cat : kAllCategories) {
          for (Action action : kAllActions) {
            for (RecordKind kind : {RecordKind::kSurvivor, RecordKind::kCase}) {
              Subject s{"u_me", "a_me", role};
              Resource r{kind, same_agency ? "a_me" : "a_owner", {"u_other"}, "s_1"};
              std::vector<Grant> grants;
              if (st != ReleaseState::kNone) grants.push_back(GrantIn(st, cat));
              Decision d = Decide(s, action, r, {kNow, grants});
              const bool read_like = action == Action::kRead || action == Action::kList || action == Action::kSearch ||
                                     action == Action::kExport;
              const bool release_in_force = st == ReleaseState::kActive;
              bool expect_allowed;
              if (!CanWorkCases(role)) {
                expect_allowed = false;
              } else if (same_agency) {
                expect_allowed = action != Action::kErase || role == Role::kSupervisor;
              } else {
                expect_allowed = read_like && release_in_force;
              }
              ASSERT_EQ(d.allowed(), expect_allowed)
                  << domain::RoleName(role) << " same=" << same_agency << " state=" << static_cast<int>(st) << " "
                  << domain::CategoryName(cat) << " " << ActionName(action);
              EXPECT_EQ(d.disclosure, expect_allowed && !same_agency);
              for (const domain::FieldSpec* f : domain::FieldsOf(kind)) {
                bool expect = false;
                if (expect_allowed && same_agency) {
                  expect = (f->sensitivity != domain::Sensitivity::kPrivileged || domain::IsLegalTeam(role)) &&
                           f->category != domain::Category::kLocation;  // not on the team
                } else if (expect_allowed) {
                  expect = f->category == cat && f->sensitivity != domain::Sensitivity::kPrivileged;  // S4
                }
                ASSERT_EQ(d.FieldAllowed(*f), expect) << domain::RoleName(role) << " " << f->name;
                ++checked;
              }
            }
          }
        }
      }
    }
  }
  EXPECT_GT(checked, 50000);
}

TEST(PolicyConsent, UnionOfGrantsAndNoWritesAcrossAgencies) {
  Subject s{"u_me", "a_me", Role::kLeInvestigator};
  Resource r{RecordKind::kSurvivor, "a_owner", {}, "s_1"};
  std::vector<Grant> gs = {GrantIn(ReleaseState::kActive, domain::Category::kIdentity),
                           GrantIn(ReleaseState::kActive, domain::Category::kTraffickingHistory)};
  gs[1].id = "g_2";
  Decision d = Decide(s, Action::kRead, r, {kNow, gs});
  EXPECT_TRUE(d.FieldAllowed(*domain::FindField(RecordKind::kSurvivor, "prs_FirstName")));
  EXPECT_TRUE(d.FieldAllowed(*domain::FindField(RecordKind::kSurvivor, "trl_Statement")));
  EXPECT_FALSE(d.FieldAllowed(*domain::FindField(RecordKind::kSurvivor, "prs_MailingCity")));
  EXPECT_EQ(d.grant_ids, (std::vector<std::string>{"g_1", "g_2"}));
  EXPECT_STREQ(d.reason, "release");
  for (Action a : {Action::kCreate, Action::kUpdate, Action::kErase}) EXPECT_FALSE(Decide(s, a, r, {kNow, gs}).allowed());
}

TEST(PolicyConsent, BreakGlassIsForOneUserAndOneHour) {
  Grant bg{"g_bg", GrantKind::kBreakGlass, "s_1", "a_me", "u_me", ~CategoryBit(domain::Category::kLegalWorkProduct),
           kNow - 10, kNow + 10, 0};
  Resource other{RecordKind::kCase, "a_owner", {}, "s_1"};
  Decision d = Decide({"u_me", "a_me", Role::kAdvocate}, Action::kRead, other, {kNow, std::span(&bg, 1)});
  EXPECT_TRUE(d.allowed());
  EXPECT_EQ(d.basis, GrantKind::kBreakGlass);
  EXPECT_FALSE(d.FieldAllowed(*domain::FindField(RecordKind::kCase, "trl_AttorneyWorkProduct")));
  EXPECT_TRUE(d.FieldAllowed(*domain::FindField(RecordKind::kCase, "trl_SafetyPlan")));
  // A colleague of the same agency does not share it; after the hour it is gone.
  EXPECT_FALSE(Decide({"u_colleague", "a_me", Role::kAdvocate}, Action::kRead, other, {kNow, std::span(&bg, 1)}).allowed());
  EXPECT_FALSE(Decide({"u_me", "a_me", Role::kAdvocate}, Action::kRead, other, {kNow + 10, std::span(&bg, 1)}).allowed());
  // Same agency, not on the team: break-glass opens the location fields.
  Resource own{RecordKind::kSurvivor, "a_me", {"u_other"}, "s_1"};
  const auto& city = *domain::FindField(RecordKind::kSurvivor, "prs_MailingCity");
  EXPECT_FALSE(Decide({"u_me", "a_me", Role::kAdvocate}, Action::kRead, own, {kNow}).FieldAllowed(city));
  EXPECT_TRUE(Decide({"u_me", "a_me", Role::kAdvocate}, Action::kRead, own, {kNow, std::span(&bg, 1)}).FieldAllowed(city));
}

TEST(Policy, AttorneyWorkProductOnlyForLegalTeam) {
  const domain::FieldSpec& wp = *domain::FindField(RecordKind::kCase, "trl_AttorneyWorkProduct");
  Resource r{RecordKind::kCase, "a_1", {"u_me"}};
  EXPECT_TRUE(Decide({"u_me", "a_1", Role::kAttorney}, Action::kRead, r, {}).FieldAllowed(wp));
  EXPECT_TRUE(Decide({"u_me", "a_1", Role::kParalegal}, Action::kRead, r, {}).FieldAllowed(wp));
  Decision sup = Decide({"u_me", "a_1", Role::kSupervisor}, Action::kRead, r, {});
  EXPECT_FALSE(sup.FieldAllowed(wp));
  EXPECT_EQ(sup.effect, Effect::kAllowRedacted);
}

TEST(Policy, EmptyAgencyNeverMatches) {
  EXPECT_FALSE(Decide({"u", "", Role::kSupervisor}, Action::kRead, {RecordKind::kCase, "", {}}, {}).allowed());
}

}  // namespace
}  // namespace trellis::policy

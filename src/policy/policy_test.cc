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
            Resource r{kind, same_agency ? "a_1" : "a_2", on_team ? std::vector<std::string>{"u_me"} : std::vector<std::string>{"u_other"}};
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

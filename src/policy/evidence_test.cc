#include "policy/evidence.h"

#include <gtest/gtest.h>

namespace trellis::policy {
namespace {

using domain::Role;

const Role kAllRoles[] = {Role::kAdvocate,     Role::kCaseManager, Role::kAttorney,           Role::kParalegal,
                          Role::kSocialWorker, Role::kSupervisor,  Role::kLeVictimSpecialist, Role::kLeInvestigator,
                          Role::kAuditor,      Role::kAdministrator};
const Action kAllActions[] = {Action::kRead,   Action::kList,   Action::kSearch, Action::kExport,
                              Action::kCreate, Action::kUpdate, Action::kErase};

enum class State { kNone, kNamed, kNotNamed, kExpired, kRevoked, kPending, kOtherRecipient, kOtherSurvivor, kBreakGlass };
const State kAllStates[] = {State::kNone,    State::kNamed,          State::kNotNamed,
                            State::kExpired, State::kRevoked,        State::kPending,
                            State::kOtherRecipient, State::kOtherSurvivor, State::kBreakGlass};

constexpr int64_t kNow = 1'000'000;

Grant GrantFor(State st) {
  Grant g;
  g.id = "g_1";
  g.kind = st == State::kBreakGlass ? GrantKind::kBreakGlass : GrantKind::kRelease;
  g.survivor_id = st == State::kOtherSurvivor ? "s_2" : "s_1";
  g.recipient_agency_id = st == State::kOtherRecipient ? "a_3" : "a_2";
  g.recipient_user_id = st == State::kBreakGlass ? "u_me" : "";
  g.categories = 0xffff;
  g.effective_at = st == State::kPending ? kNow + 1 : 0;
  g.expires_at = st == State::kExpired ? kNow : kNow + 100;
  g.revoked_at = st == State::kRevoked ? kNow - 1 : 0;
  if (st != State::kNotNamed) g.evidence_ids = {"e_other", "e_1"};
  return g;
}

// role x (same agency, other agency) x release state x work product x action.
TEST(EvidencePolicy, Matrix) {
  for (Role role : kAllRoles) {
    for (bool same_agency : {true, false}) {
      for (State st : kAllStates) {
        for (bool wp : {false, true}) {
          for (Action action : kAllActions) {
            Subject s{"u_me", same_agency ? "a_1" : "a_2", role};
            EvidenceResource item{"e_1", "a_1", "s_1", wp};
            std::vector<Grant> grants;
            if (st != State::kNone) grants.push_back(GrantFor(st));
            Decision d = DecideEvidence(s, action, item, {kNow, grants});
            const bool read = action == Action::kRead || action == Action::kList || action == Action::kSearch ||
                              action == Action::kExport;
            bool expect = false;
            if (CanWorkCases(role)) {
              if (same_agency) {
                expect = (read || action == Action::kCreate) && (!wp || domain::IsLegalTeam(role));
              } else {
                expect = read && !wp && st == State::kNamed;
              }
            }
            ASSERT_EQ(d.allowed(), expect) << domain::RoleName(role) << " same=" << same_agency << " state="
                                           << static_cast<int>(st) << " wp=" << wp << " " << ActionName(action);
            EXPECT_EQ(d.disclosure, expect && !same_agency);
            if (d.disclosure) {
              EXPECT_EQ(d.grant_ids, std::vector<std::string>{"g_1"});
              EXPECT_EQ(d.basis, GrantKind::kRelease);
            }
          }
        }
      }
    }
  }
}

TEST(EvidencePolicy, MalformedInputsDeny) {
  Subject s{"u_me", "a_1", Role::kAdvocate};
  EXPECT_FALSE(DecideEvidence(s, Action::kRead, {"e_1", "", "s_1", false}, {kNow, {}}).allowed());
  EXPECT_FALSE(DecideEvidence(s, Action::kRead, {"e_1", "a_1", "", false}, {kNow, {}}).allowed());
  EXPECT_FALSE(DecideEvidence({"u_me", "", Role::kAdvocate}, Action::kRead, {"e_1", "a_1", "s_1", false}, {kNow, {}})
                   .allowed());
  // A release naming the item for another survivor's record does not open it.
  Grant g = GrantFor(State::kNamed);
  g.survivor_id = "s_9";
  std::vector<Grant> gs{g};
  EXPECT_FALSE(DecideEvidence({"u_me", "a_2", Role::kLeVictimSpecialist}, Action::kRead, {"e_1", "a_1", "s_1", false},
                              {kNow, gs})
                   .allowed());
}

// A release of named items only (no category) shares those items, not the survivor's records.
TEST(EvidencePolicy, AReleaseOfItemsOnlyOpensNoRecord) {
  Grant g = GrantFor(State::kNamed);
  g.categories = 0;
  std::vector<Grant> gs{g};
  Subject le{"u_me", "a_2", Role::kLeVictimSpecialist};
  for (auto kind : {domain::RecordKind::kSurvivor, domain::RecordKind::kCase}) {
    for (Action a : {Action::kRead, Action::kList, Action::kExport}) {
      EXPECT_FALSE(Decide(le, a, {kind, "a_1", {}, "s_1"}, {kNow, gs}).allowed());
    }
  }
  EXPECT_TRUE(DecideEvidence(le, Action::kRead, {"e_1", "a_1", "s_1", false}, {kNow, gs}).allowed());
}

}  // namespace
}  // namespace trellis::policy

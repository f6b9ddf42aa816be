// The consent matrix of S1/S3 (issue #4), generated and driven over HTTP against the real
// `trellis serve`: every role × agency (the owning NGO; law enforcement, legal services and
// another NGO as recipients) × release state (none, active, expired, revoked) × released category
// × action (read = GET record, list = GET list, search = GET list with a filter, export =
// `trellis export htcds --user U --identifying`).
//
// The expected answer comes from an oracle below that restates docs/consent.md; it never calls
// src/policy. Each cell asserts allow/deny, that a denied read is byte for byte the answer for a
// random missing id (apart from X-Request-Id and Date), that the answer holds exactly the fields
// the oracle allows (a canary is seeded in every field), and that lists, searches and exports
// never hold a record the caller may not see.
//
// Time: an expired release needs time to pass. The store is set up through the app layer in this
// process (the same use cases the CLI runs) with an injected FakeClock: "expired" releases are
// recorded while that clock stands 60 days in the past, so they ran out long before the server
// starts. The server under test is the unmodified production binary on the system clock; no test
// hook is compiled into it or enabled by it (docs/consent.md, "Testing time").
#include <gtest/gtest.h>

#include <atomic>
#include <functional>
#include <mutex>
#include <nlohmann/json.hpp>
#include <random>
#include <set>
#include <sstream>
#include <thread>

#include "app/app.h"
#include "core/clock.h"
#include "domain/fields.h"
#include "domain/model.h"
#include "support/harness.h"

namespace trellis::testing {
namespace {

using json = nlohmann::json;
using domain::AgencyKind;
using domain::Category;
using domain::FieldSpec;
using domain::FieldType;
using domain::RecordKind;
using domain::Role;
using domain::Sensitivity;

constexpr int64_t kDay = 86'400'000'000;
constexpr int kNumberBase = 200;  // number fields hold 200 + survivor index (at most 1000)

enum class State { kNone, kActive, kExpired, kRevoked };
const char* StateName(State s) {
  switch (s) {
    case State::kNone: return "none";
    case State::kActive: return "active";
    case State::kExpired: return "expired";
    case State::kRevoked: return "revoked";
  }
  return "?";
}

constexpr Role kRoles[] = {Role::kAdvocate,   Role::kCaseManager,        Role::kAttorney,       Role::kParalegal,
                           Role::kSocialWorker, Role::kSupervisor,        Role::kLeVictimSpecialist,
                           Role::kLeInvestigator, Role::kAuditor,         Role::kAdministrator};
// "owner" holds every survivor; the others are the recipients a release can name.
struct AgencyDef {
  const char* key;
  AgencyKind kind;
};
constexpr AgencyDef kAgencies[] = {{"owner", AgencyKind::kNgoServiceProvider},
                                   {"le", AgencyKind::kLawEnforcementLocal},
                                   {"legal", AgencyKind::kLegalServices},
                                   {"ngo2", AgencyKind::kNgoServiceProvider}};
constexpr const char* kRecipients[] = {"le", "legal", "ngo2"};

struct MUser {
  std::string agency;  // key in kAgencies
  Role role;
  std::string username, id, token;
};

struct MSurvivor {
  int index = 0;
  State state = State::kNone;
  std::vector<Category> categories;  // of the release (empty for "none")
  std::string recipient;             // agency key the release names
  std::string sid, cid;
  std::string label() const {
    std::string c;
    for (auto cat : categories) c += std::string(c.empty() ? "" : "+") + domain::CategoryName(cat);
    return std::string(StateName(state)) + "/" + c + "/" + recipient;
  }
};

// ---- The oracle: docs/consent.md and SECURITY.md S1/S4, restated without src/policy. ----
bool WorksCases(Role r) { return r != Role::kAuditor && r != Role::kAdministrator; }
bool LegalTeam(Role r) { return r == Role::kAttorney || r == Role::kParalegal; }
// May `u` see the records of survivor `s` at all (read, list, search, export alike)?
bool OracleVisible(const MUser& u, const MSurvivor& s) {
  if (!WorksCases(u.role)) return false;                      // auditors, administrators: no survivor data
  if (u.agency == "owner") return true;                       // same agency
  return s.state == State::kActive && s.recipient == u.agency;  // another agency: a release in force naming it
}
// The records' team is the owner agency's advocate (who created them).
bool OracleField(const MUser& u, const MSurvivor& s, const FieldSpec& f) {
  if (!OracleVisible(u, s)) return false;
  if (u.agency == "owner") {
    if (f.sensitivity == Sensitivity::kPrivileged) return LegalTeam(u.role);             // S4
    if (f.category == Category::kLocation) return u.role == Role::kAdvocate;             // team only
    return true;
  }
  if (f.sensitivity == Sensitivity::kPrivileged) return false;  // S4, whatever a release says
  return std::find(s.categories.begin(), s.categories.end(), f.category) != s.categories.end();
}

// ---- Canaries: a value in every writable field, unique per (survivor, field) where the type allows. ----
std::string Canary(int survivor, size_t field) {
  return "Zc" + std::to_string(survivor) + "q" + std::to_string(field) + "X";
}
size_t FieldIndex(const FieldSpec& f) {
  auto all = domain::AllFields();
  for (size_t i = 0; i < all.size(); ++i) {
    if (&all[i] == &f) return i;
  }
  return all.size();
}
// The value seeded in `f` of survivor `k`'s records; empty when the field is not seeded.
std::string SeedValue(int k, const FieldSpec& f) {
  if (f.system_only) return {};
  if (f.name == "trl_ReliefFacts") return "{}";
  switch (f.type) {
    case FieldType::kText:
    case FieldType::kLongText: return Canary(k, FieldIndex(f));
    case FieldType::kDate: return std::to_string(1940 + k % 50) + "-02-0" + std::to_string(1 + FieldIndex(f) % 9);
    case FieldType::kNumber: return std::to_string(kNumberBase + k);  // unique per survivor: attributes export rows
    case FieldType::kCheckbox: return "false";                 // trl_Minor false: an adult signs alone
    case FieldType::kPicklist:
    case FieldType::kMultiPicklist:
      if (f.name == "cas_Status") return k % 2 ? "Closed" : "Active";
      return std::string(f.values.front());
    case FieldType::kCountry:
    case FieldType::kCountries: return "MX";
    case FieldType::kLanguage: return "es";
  }
  return {};
}
// Fields a record of survivor k holds (seeded, plus the screening summary derived from facts).
std::vector<const FieldSpec*> HeldFields(RecordKind kind) {
  std::vector<const FieldSpec*> out;
  for (const FieldSpec* f : domain::FieldsOf(kind)) {
    if (!SeedValue(0, *f).empty() || f->name == "trl_ScreeningSummary") out.push_back(f);
  }
  return out;
}

std::map<std::string, std::string> Comparable(std::map<std::string, std::string> h) {
  h.erase("x-request-id");
  h.erase("date");
  return h;
}

// Every "Zc<k>q<i>X" canary in `text`.
std::vector<std::string> CanariesIn(const std::string& text) {
  std::vector<std::string> out;
  for (size_t pos = text.find("Zc"); pos != std::string::npos; pos = text.find("Zc", pos + 2)) {
    size_t end = text.find('X', pos);
    if (end != std::string::npos && end - pos < 16) out.push_back(text.substr(pos, end - pos + 1));
  }
  return out;
}

// Runs fn(i) for i in [0, n) on a few threads (the server has workers; group commit batches audits).
void ParallelFor(size_t n, const std::function<void(size_t)>& fn) {
  std::atomic<size_t> next{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (size_t i; (i = next.fetch_add(1)) < n;) fn(i);
    });
  }
  for (auto& t : threads) t.join();
}

// Minimal CSV reader for the export (RFC 4180 quoting).
std::vector<std::vector<std::string>> ParseCsv(const std::string& text) {
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> row;
  std::string cell;
  bool quoted = false;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (quoted) {
      if (c == '"' && i + 1 < text.size() && text[i + 1] == '"') {
        cell += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        cell += c;
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      row.push_back(std::move(cell));
      cell.clear();
    } else if (c == '\n') {
      row.push_back(std::move(cell));
      cell.clear();
      rows.push_back(std::move(row));
      row.clear();
    } else if (c != '\r') {
      cell += c;
    }
  }
  return rows;
}

class ConsentMatrixTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    data_ = dir_->path + "/data";
    std::string why;
    if (!Setup(&why)) {
      setup_error_ = new std::string(why);
      return;
    }
    server_ = new ServerProcess();
    if (!server_->Start(data_, dir_->path + "/server.log", {"--quiet"})) setup_error_ = new std::string("server did not start");
  }
  static void TearDownTestSuite() {
    delete server_;
    delete dir_;
    delete setup_error_;
  }
  void SetUp() override {
    if (setup_error_) GTEST_FAIL() << *setup_error_;
  }

  // Builds the store through the app layer, with a FakeClock (see the top of the file).
  static bool Setup(std::string* why) {
    if (Status st = app::App::Init({.data_dir = data_}); !st.ok()) return *why = st.ToString(), false;
    FakeClock clock(SystemClock().NowMicros());
    auto opened = app::App::Open({.data_dir = data_, .clock = &clock, .reader_connections = 2});
    if (!opened.ok()) return *why = opened.status().ToString(), false;
    app::App& a = **opened;
    const app::Principal op = app::CliOperator();
    std::map<std::string, std::string> agency_ids;
    for (const auto& def : kAgencies) {
      auto ag = a.AddAgency(op, std::string("Matrix ") + def.key, def.kind);
      if (!ag.ok()) return *why = ag.status().ToString(), false;
      agency_ids[def.key] = ag->id;
    }
    for (const auto& def : kAgencies) {
      for (Role role : kRoles) users_.push_back({def.key, role, std::string(def.key) + "_" + domain::RoleName(role)});
    }
    // Users (an Argon2id hash each) and bearer tokens (no login per request), on a few threads.
    std::mutex mu;
    ParallelFor(users_.size(), [&](size_t i) {
      MUser& u = users_[i];
      auto added = a.AddUser(op, agency_ids[u.agency], u.username, u.username, u.role, "matrix-password-2026");
      auto token = added.ok() ? a.CreateToken(op, u.username, "matrix", 0) : Result<std::string>(added.status());
      if (!token.ok()) {
        std::lock_guard lock(mu);
        *why = token.status().ToString();
        return;
      }
      u.id = added->id;
      u.token = *token;
    });
    if (!why->empty()) return false;
    auto advocate = a.FindUser("owner_advocate");
    auto attorney = a.FindUser("owner_attorney");
    if (!advocate.ok() || !attorney.ok()) return *why = "no advocate or attorney", false;
    const app::Principal adv = a.PrincipalFor(*advocate);
    const app::Principal att = a.PrincipalFor(*attorney);  // writes the attorney work product (S4)

    // The survivors: one with no release; then, for each recipient, each state and each releasable
    // category, one survivor released to that recipient alone; and one with every category.
    std::vector<Category> releasable;
    for (int c = 0; c <= static_cast<int>(Category::kLegalWorkProduct); ++c) {
      if (static_cast<Category>(c) != Category::kLegalWorkProduct) releasable.push_back(static_cast<Category>(c));
    }
    survivors_.push_back({0, State::kNone, {}, ""});
    for (const char* r : kRecipients) {
      for (State s : {State::kActive, State::kExpired, State::kRevoked}) {
        for (Category c : releasable) survivors_.push_back({0, s, {c}, r});
      }
      survivors_.push_back({0, State::kActive, releasable, r});
    }
    const int64_t now = clock.NowMicros();
    for (size_t k = 0; k < survivors_.size(); ++k) {
      MSurvivor& s = survivors_[k];
      s.index = static_cast<int>(k);
      clock.Set(now);
      for (RecordKind kind : {RecordKind::kSurvivor, RecordKind::kCase}) {
        app::RecordInput in, privileged;
        for (const FieldSpec* f : domain::FieldsOf(kind)) {
          std::string v = SeedValue(s.index, *f);
          if (!v.empty()) (f->sensitivity == Sensitivity::kPrivileged ? privileged : in).set[std::string(f->name)] = v;
        }
        in.survivor_id = s.sid;
        auto rec = a.Create(adv, kind, in, "matrix");
        if (!rec.ok()) return *why = "create " + rec.status().ToString() + " " + rec.status().field(), false;
        (kind == RecordKind::kSurvivor ? s.sid : s.cid) = rec->record.id;
        if (!privileged.set.empty()) {
          auto up = a.Update(att, kind, rec->record.id, rec->record.version, privileged, "matrix");
          if (!up.ok()) return *why = "update " + up.status().ToString(), false;
        }
      }
      if (s.state == State::kNone) continue;
      app::ReleaseInput rel;
      rel.survivor_id = s.sid;
      rel.recipient_agency_id = agency_ids[s.recipient];
      for (Category c : s.categories) rel.categories.push_back(domain::CategoryName(c));
      rel.purpose = "investigation";
      rel.signers = {{"survivor", "Matrix Signer"}};
      // Expired: recorded 60 days ago for 10 days. Active and revoked: from today for 30 days.
      if (s.state == State::kExpired) clock.Set(now - 60 * kDay);
      rel.effective_on = FormatDate(clock.NowMicros());
      rel.expires_on = FormatDate(clock.NowMicros() + (s.state == State::kExpired ? 10 : 30) * kDay);
      auto g = a.CreateRelease(adv, rel, "matrix");
      if (!g.ok()) return *why = "release " + g.status().ToString() + " " + g.status().field(), false;
      clock.Set(now);
      if (s.state == State::kRevoked) {
        auto rv = a.RevokeGrant(adv, g->id, "survivor_request", "matrix");
        if (!rv.ok()) return *why = "revoke " + rv.status().ToString(), false;
      }
    }
    return true;
  }

  static int port() { return server_->port(); }
  static std::map<std::string, std::string> Auth(const MUser& u) { return {{"Authorization", "Bearer " + u.token}}; }
  static const MSurvivor* BySurvivorId(const std::string& id) {
    for (const auto& s : survivors_) {
      if (s.sid == id) return &s;
    }
    return nullptr;
  }
  static const MSurvivor* ByRecordId(const std::string& id) {
    for (const auto& s : survivors_) {
      if (s.sid == id || s.cid == id) return &s;
    }
    return nullptr;
  }
  // The field names the oracle lets `u` see on `s`'s record of `kind`.
  static std::set<std::string> Expected(const MUser& u, const MSurvivor& s, RecordKind kind) {
    std::set<std::string> out;
    for (const FieldSpec* f : HeldFields(kind)) {
      if (OracleField(u, s, *f)) out.insert(std::string(f->name));
    }
    return out;
  }
  // Checks one record object of an answer (GET body or list item) against the oracle: exactly
  // the allowed fields, and for another agency no withheld field's name anywhere in the object.
  // (Canaries are checked over whole bodies by CheckCanaries.)
  static void CheckRecord(const MUser& u, const MSurvivor& s, RecordKind kind, const json& rec, const std::string& where) {
    const std::string body = rec.dump();
    std::set<std::string> got;
    for (const auto& [name, _] : rec["fields"].items()) got.insert(name);
    EXPECT_EQ(got, Expected(u, s, kind)) << where;
    if (u.agency != "owner") {
      // Another agency learns nothing of withheld fields: not even their names, nor who works the case.
      for (const FieldSpec* f : HeldFields(kind)) {
        if (!OracleField(u, s, *f)) {
          EXPECT_EQ(body.find("\"" + std::string(f->name) + "\""), std::string::npos) << where << " " << f->name;
        }
      }
      EXPECT_TRUE(rec["team"].empty()) << where;
      EXPECT_TRUE(rec["redacted"].empty()) << where;
    }
  }
  // Every canary in `body` belongs to a field the oracle lets `u` see.
  static void CheckCanaries(const MUser& u, const std::string& body, const std::string& where) {
    for (const std::string& c : CanariesIn(body)) {
      const int k = std::atoi(c.c_str() + 2);
      const size_t fi = std::strtoul(c.c_str() + c.find('q') + 1, nullptr, 10);
      ASSERT_LT(static_cast<size_t>(k), survivors_.size()) << where << " " << c;
      ASSERT_LT(fi, domain::AllFields().size()) << where << " " << c;
      EXPECT_TRUE(OracleField(u, survivors_[k], domain::AllFields()[fi]))
          << where << ": " << u.username << " sees " << domain::AllFields()[fi].name << " of " << survivors_[k].label();
    }
  }
  static std::string RandomId(const std::string& like) {
    static std::mutex mu;
    static std::mt19937_64 rng(std::random_device{}());
    std::lock_guard lock(mu);
    std::string id = like.substr(0, 2);
    const char alpha[] = "abcdefghijkmnpqrstvwxyz23456789";
    while (id.size() < like.size()) id += alpha[rng() % (sizeof alpha - 1)];
    return id;
  }

  static TempDir* dir_;
  static std::string data_;
  static ServerProcess* server_;
  static std::string* setup_error_;
  static std::vector<MUser> users_;
  static std::vector<MSurvivor> survivors_;
};
TempDir* ConsentMatrixTest::dir_ = nullptr;
std::string ConsentMatrixTest::data_;
ServerProcess* ConsentMatrixTest::server_ = nullptr;
std::string* ConsentMatrixTest::setup_error_ = nullptr;
std::vector<MUser> ConsentMatrixTest::users_;
std::vector<MSurvivor> ConsentMatrixTest::survivors_;

// read: GET /survivors/{id} and /cases/{id} for every user × survivor.
TEST_F(ConsentMatrixTest, Read) {
  std::atomic<int> allowed{0}, denied{0};
  ParallelFor(users_.size() * survivors_.size(), [&](size_t i) {
    const MUser& u = users_[i / survivors_.size()];
    const MSurvivor& s = survivors_[i % survivors_.size()];
    for (RecordKind kind : {RecordKind::kSurvivor, RecordKind::kCase}) {
      const std::string id = kind == RecordKind::kSurvivor ? s.sid : s.cid;
      const std::string base = kind == RecordKind::kSurvivor ? "/api/v1/survivors/" : "/api/v1/cases/";
      const std::string where = u.username + " read " + domain::RecordKindName(kind) + " " + s.label();
      auto r = Http(port(), "GET", base + id, "", Auth(u));
      if (OracleVisible(u, s)) {
        ++allowed;
        ASSERT_EQ(r.status, 200) << where << " " << r.body;
        json rec = json::parse(r.body);
        EXPECT_EQ(rec["id"], id) << where;
        CheckRecord(u, s, kind, rec, where);
      } else {
        ++denied;
        auto absent = Http(port(), "GET", base + RandomId(id), "", Auth(u));
        EXPECT_EQ(r.status, 404) << where;
        EXPECT_EQ(r.status, absent.status) << where;
        EXPECT_EQ(r.body, absent.body) << where;
        EXPECT_EQ(Comparable(r.headers), Comparable(absent.headers)) << where;
      }
      CheckCanaries(u, r.body, where);
    }
  });
  // The generated matrix really covers both outcomes, in every agency.
  EXPECT_GT(allowed.load(), 0);
  EXPECT_GT(denied.load(), 0);
}

// list and search: GET lists, unfiltered and filtered (survivor_id; status), for every user.
// "Search" in this API is the list filters; there is no free-text search endpoint.
TEST_F(ConsentMatrixTest, ListAndSearch) {
  struct Query {
    RecordKind kind;
    std::string target;
    std::function<bool(const MUser&, const MSurvivor&)> matches;  // besides visibility
    std::string action;
  };
  std::vector<Query> queries = {
      {RecordKind::kSurvivor, "/api/v1/survivors?limit=200", [](auto&, auto&) { return true; }, "list"},
      {RecordKind::kCase, "/api/v1/cases?limit=200", [](auto&, auto&) { return true; }, "list"},
      // A search by a field's value may only find records whose value the caller may see:
      // otherwise the match itself discloses a field outside the release.
      {RecordKind::kCase, "/api/v1/cases?limit=200&status=Active",
       [](const MUser& u, const MSurvivor& s) {
         return s.index % 2 == 0 && OracleField(u, s, *domain::FindField(RecordKind::kCase, "cas_Status"));
       },
       "search"},
  };
  for (const auto& s : survivors_) {
    queries.push_back({RecordKind::kCase, "/api/v1/cases?limit=200&survivor_id=" + s.sid,
                       [id = s.sid](auto&, const MSurvivor& t) { return t.sid == id; }, "search"});
  }
  ParallelFor(users_.size() * queries.size(), [&](size_t i) {
    const MUser& u = users_[i / queries.size()];
    const Query& q = queries[i % queries.size()];
    const std::string where = u.username + " " + q.action + " " + q.target;
    auto r = Http(port(), "GET", q.target, "", Auth(u));
    ASSERT_EQ(r.status, 200) << where << " " << r.body;
    json page = json::parse(r.body);
    std::set<std::string> got, want;
    for (const auto& item : page["items"]) {
      const std::string id = item["id"];
      got.insert(id);
      const MSurvivor* s = ByRecordId(id);
      ASSERT_NE(s, nullptr) << where << " lists an unknown record";
      if (OracleVisible(u, *s)) CheckRecord(u, *s, q.kind, item, where + " " + s->label());
    }
    for (const auto& s : survivors_) {
      if (OracleVisible(u, s) && q.matches(u, s)) want.insert(q.kind == RecordKind::kSurvivor ? s.sid : s.cid);
    }
    EXPECT_EQ(got.size(), page["items"].size()) << where;  // no record twice
    EXPECT_EQ(got, want) << where;
    EXPECT_TRUE(page["next_cursor"].is_null()) << where;
    CheckCanaries(u, r.body, where);
  });
}

// export: `trellis export htcds --user U --identifying` (the CLI as the user; another process on
// the same store, while the server runs).
TEST_F(ConsentMatrixTest, Export) {
  ParallelFor(users_.size(), [&](size_t i) {
    const MUser& u = users_[i];
    const std::string out_path = dir_->path + "/export_" + u.username + ".csv";
    std::string out;
    const int rc = RunTrellis({"export", "htcds", "--data", data_, "--user", u.username, "--out", out_path, "--identifying"}, &out);
    const std::string where = u.username + " export";
    if (!WorksCases(u.role)) {
      EXPECT_EQ(rc, 4) << where << " " << out;  // not allowed
      EXPECT_TRUE(CanariesIn(ReadFile(out_path)).empty()) << where;
      return;
    }
    ASSERT_EQ(rc, 0) << where << " " << out;
    const std::string csv = ReadFile(out_path);
    CheckCanaries(u, csv, where);
    auto rows = ParseCsv(csv);
    ASSERT_FALSE(rows.empty()) << where;
    const auto& header = rows[0];
    // Attribute each row to a survivor by its unique values (text canaries, numbers kNumberBase + k).
    std::set<int> seen;
    for (size_t r = 1; r < rows.size(); ++r) {
      std::set<int> ks;
      for (const auto& cell : rows[r]) {
        if (cell.rfind("Zc", 0) == 0) ks.insert(std::atoi(cell.c_str() + 2));
        if (!cell.empty() && cell.size() <= 4 && std::all_of(cell.begin(), cell.end(), ::isdigit) &&
            std::atoi(cell.c_str()) >= kNumberBase) {
          ks.insert(std::atoi(cell.c_str()) - kNumberBase);
        }
      }
      ASSERT_EQ(ks.size(), 1u) << where << " row " << r << " cannot be attributed to one survivor";
      const int k = *ks.begin();
      ASSERT_LT(static_cast<size_t>(k), survivors_.size());
      const MSurvivor& s = survivors_[k];
      EXPECT_TRUE(OracleVisible(u, s)) << where << " exports " << s.label();
      EXPECT_TRUE(seen.insert(k).second) << where << " exports " << s.label() << " twice";
      // Exactly the allowed columns are filled.
      std::set<std::string> filled, want = Expected(u, s, RecordKind::kSurvivor);
      for (const auto& f : Expected(u, s, RecordKind::kCase)) want.insert(f);
      for (size_t c = 0; c < header.size() && c < rows[r].size(); ++c) {
        if (!rows[r][c].empty()) filled.insert(header[c]);
      }
      EXPECT_EQ(filled, want) << where << " " << s.label();
    }
    size_t visible = 0;
    for (const auto& s : survivors_) visible += OracleVisible(u, s);
    EXPECT_EQ(seen.size(), visible) << where;
  });
}

}  // namespace
}  // namespace trellis::testing

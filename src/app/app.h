// App: the use cases of Trellis, the only place that combines policy, storage, crypto and
// audit. The HTTP API, the CLI and every export reach data through these calls only, so
// policy, redaction and audit apply to all of them alike.
//
// Contract of every data call:
//  - the caller is a Principal obtained from Login / Authenticate* (or the CLI operator);
//  - a record the principal may not see answers kNotFound, exactly like a missing record (S1);
//  - every decision and every read of identifying data is appended to the audit log before
//    the call returns (group commit; the call fails if the audit append fails) — or, inside an
//    AuditDeferral (below), before the caller may release the call's result;
//  - values of identifying and more protected fields are sealed with the survivor's data key
//    before they reach the store, and opened only for fields the decision allows.
// Thread-safety: an App is shared by all request threads; every method is thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/status.h"
#include "domain/consent.h"
#include "domain/model.h"

namespace trellis::storage {
class ReadPin;
}

namespace trellis::app {

struct Principal {
  domain::User user;
  std::string session_hash;  // empty for API tokens and the CLI
  std::string csrf_hash;     // session's CSRF token hash (cookie sessions only)
  bool via_cookie = false;
};

// Who performs a CLI command (an operator holding the data directory's keys).
Principal CliOperator(const std::string& agency_id = {});

struct RecordView {
  domain::Record record;             // only the fields the principal may see
  std::vector<std::string> redacted;  // names of fields present but withheld
};

struct ListRequest {
  domain::RecordKind kind = domain::RecordKind::kCase;
  std::optional<std::string> survivor_id;
  std::optional<std::string> status;
  bool mine = false;  // only records whose team names the principal
  int64_t updated_since = 0;
  std::string cursor;  // opaque, from a previous page
  int limit = 50;      // 1..200
};
struct ListPage {
  std::vector<RecordView> items;
  std::string next_cursor;  // empty on the last page
};

struct RecordInput {
  std::map<std::string, std::string> set;  // field -> canonical value (validated here)
  std::vector<std::string> unset;          // fields to remove (updates only)
  std::optional<std::vector<std::string>> team;
  std::string survivor_id;  // cases: the survivor the case belongs to
};

// --- consent (docs/consent.md) ---
struct ReleaseInput {
  std::string survivor_id;
  std::string recipient_agency_id;
  std::vector<std::string> categories;  // category names (domain::Category)
  std::string purpose;                  // domain::ReleasePurposes()
  std::string language = "en";          // of the release text: domain::ReleaseLanguages()
  std::string effective_on;             // YYYY-MM-DD (UTC day); empty: today
  std::string expires_on;               // YYYY-MM-DD, required: the last day in force
  std::vector<domain::Signer> signers;
  std::vector<std::string> evidence_ids;  // named evidence items (may stand without categories)
};

struct CompelledInput {
  std::string survivor_id;
  std::string recipient_agency_id;
  std::vector<std::string> categories;  // the minimum data set, named explicitly
  std::string basis;                    // domain::CompelledBases()
  std::string reference;                // e.g. the order's docket number (sealed)
  std::string expires_on;               // YYYY-MM-DD, at most kMaxCompelledDays ahead
};

// A release, break-glass grant or compelled disclosure as its viewer may see it. Signers and
// reasons are opened only for the survivor's own agency.
struct GrantView {
  std::string id, kind, survivor_id, owner_agency_id, recipient_agency_id, recipient_user_id;
  std::vector<std::string> categories;
  std::string purpose, language;
  int64_t effective_at = 0, expires_at = 0, created_at = 0;
  std::string created_by;
  int64_t revoked_at = 0;
  std::string revoked_by, revoke_reason;
  int64_t task_done_at = 0;
  std::string status;  // "active", "pending", "expired", "revoked"
  std::vector<domain::Signer> signers;
  std::string reason;  // break-glass reason / compelled reference (owner only)
  std::vector<std::string> evidence_ids;  // releases: the evidence items named
  std::string signed_copy_id;             // the signed copy's evidence item (owner only; "" = none)
};

// --- evidence items (docs/consent.md, "Evidence items") ---
struct EvidenceInput {
  std::string survivor_id;
  std::string case_id;  // optional: one of the survivor's cases
  std::string title, kind, description, date;  // domain::EvidenceFields
};
struct EvidenceView {
  std::string id, survivor_id, case_id, kind, grant_id, created_by;
  std::string title, description, date;
  std::string content_type;  // "" = no file
  std::string sha256;        // hex, of the file's plaintext
  int64_t size = 0, created_at = 0;
};
struct EvidenceFile {
  std::string content_type, filename, bytes;
};

struct DisclosureItem {
  int64_t seq = 0, at = 0;
  std::string record_id, actor_user_id, actor_agency_id, action, categories, basis, grant_ids;
};

struct LoginResult {
  Principal principal;
  std::string session_token;  // cookie value (secret)
  std::string csrf_token;     // for the X-CSRF-Token header (secret)
};

// Where the store lives. `data_dir` always holds the key ring (file `keyring`); `store` names
// the database: empty = the SQLite file `trellis.db` in data_dir, "sqlite:PATH" = a SQLite file
// elsewhere, "postgresql://..." = PostgreSQL (storage::OpenStore). With PostgreSQL every app
// server needs the same key-ring file (distribute it as a secret; docs/deploy/postgres.md).
struct InitOptions {
  std::string data_dir;
  std::string store;  // see above; empty = SQLite in data_dir
  std::string passphrase;  // empty: plain 0600 key file
  bool fast_kdf_for_tests = false;
};

struct OpenOptions {
  std::string data_dir;
  std::string store;  // see InitOptions
  std::string passphrase;
  Clock* clock = nullptr;  // default: the system clock
  int reader_connections = 8;
  std::string rules_dir;  // relief rule files; empty: ResolveRulesDir's default
};

struct ImportReport {
  int64_t rows = 0;
  int64_t survivors = 0;
  int64_t cases = 0;
};

struct SessionLimits {
  int64_t idle_seconds = 30 * 60;
  int64_t absolute_seconds = 12 * 3600;
  int max_failures_before_lockout = 5;
};

// Lets a server finish a request without parking a thread while its audit entries commit.
// While an AuditDeferral is open on a thread, App calls made on that thread queue their audit
// entries (in the same order, with the same content) and return without waiting for the group
// commit. Their results must not leave the process until the callback given to Finish() reports
// that every entry queued in the scope is durable; if one failed, the caller answers with that
// error instead of the result (exactly what the synchronous call would have returned). The
// guarantee of S12/S17 is unchanged: no response reveals data whose read is not yet recorded.
// Not nestable; one per thread at a time. Used by the HTTP server (api/server.cc).
class AuditDeferral {
 public:
  AuditDeferral();
  // Without Finish(), waits here for the entries (the synchronous behaviour).
  ~AuditDeferral();
  AuditDeferral(const AuditDeferral&) = delete;
  AuditDeferral& operator=(const AuditDeferral&) = delete;

  // Closes the scope. `durable` is called exactly once: with Ok when every entry is durable (or
  // none was queued), else with the first failure. It runs at once on this thread when nothing
  // is pending, otherwise on the audit writer thread: it must be quick (post the rest).
  void Finish(std::function<void(const Status&)> durable);

  struct State;

 private:
  std::shared_ptr<State> state_;
};

// One request's reads from one snapshot of the store: while a SharedReads is open on a thread,
// the App calls made on that thread read through one read transaction (authentication and the
// use case's reads together) instead of one each, and a write they make ends it, so that later
// reads of the request see the write. Nothing outlives the scope: the next request reads the
// store afresh (S3). One per thread; used by the HTTP router around each request.
class App;
class SharedReads {
 public:
  explicit SharedReads(App& app);
  ~SharedReads();
  SharedReads(const SharedReads&) = delete;
  SharedReads& operator=(const SharedReads&) = delete;

 private:
  std::unique_ptr<storage::ReadPin> pin_;
};

class App {
 public:
  // Creates a new data directory: key ring, store, schema. Fails if one exists there.
  static Status Init(const InitOptions& options);
  static Result<std::unique_ptr<App>> Open(const OpenOptions& options);
  ~App();

  Clock& clock() const;
  const SessionLimits& session_limits() const;
  // True when the store is the embedded SQLite file: its reads take microseconds and never wait
  // on a network (the server may run read requests on its I/O threads).
  bool store_is_embedded() const;
  friend class SharedReads;

  // --- agencies and users (administration) ---
  Result<domain::Agency> AddAgency(const Principal& by, const std::string& name, domain::AgencyKind kind);
  Result<std::vector<domain::Agency>> ListAgencies(const Principal& by);
  Result<domain::User> AddUser(const Principal& by, const std::string& agency_id, const std::string& username,
                               const std::string& display_name, domain::Role role, const std::string& password);
  Result<std::vector<domain::User>> ListUsers(const Principal& by);
  Status DisableUser(const Principal& by, const std::string& user_id);

  // --- authentication (S8, S9) ---
  // Unknown user, wrong password, disabled or locked account all answer the same
  // kUnauthenticated "invalid username or password" after the same work. When the user has a
  // TOTP second factor, `second_factor` must hold a current code or an unused recovery code:
  // empty (with the right password) answers kUnauthenticated with field "second_factor"; a
  // wrong or reused code answers like a wrong password and counts toward the lockout.
  Result<LoginResult> Login(const std::string& username, const std::string& password, const std::string& request_id,
                            const std::string& second_factor = {});
  Result<Principal> AuthenticateSession(const std::string& session_token);
  Result<Principal> AuthenticateBearer(const std::string& token);
  bool CheckCsrf(const Principal& p, const std::string& csrf_token) const;
  Status Logout(const Principal& p, const std::string& request_id);
  // A bearer token for scripts; the secret is returned once and stored hashed.
  Result<std::string> CreateToken(const Principal& by, const std::string& username, const std::string& name,
                                  int64_t ttl_seconds);
  Principal PrincipalFor(const domain::User& user) const;
  Result<domain::User> FindUser(const std::string& username);

  // --- survivors and cases ---
  Result<RecordView> Create(const Principal& p, domain::RecordKind kind, const RecordInput& in,
                            const std::string& request_id);
  Result<RecordView> Get(const Principal& p, domain::RecordKind kind, const std::string& id,
                         const std::string& request_id);
  Result<RecordView> Update(const Principal& p, domain::RecordKind kind, const std::string& id,
                            int64_t expected_version, const RecordInput& in, const std::string& request_id);
  Result<ListPage> List(const Principal& p, const ListRequest& req, const std::string& request_id);

  // --- consent: releases, break-glass, compelled disclosure, accounting (docs/consent.md) ---
  // Staff of the survivor's agency record a signed release; errors name the field. The survivor
  // answers kNotFound when the caller's agency may not see it.
  Result<GrantView> CreateRelease(const Principal& p, const ReleaseInput& in, const std::string& request_id);
  // Revokes any grant on a survivor of the caller's agency; in effect on the next request.
  Result<GrantView> RevokeGrant(const Principal& p, const std::string& grant_id, const std::string& reason,
                                const std::string& request_id);
  // Every grant on a survivor (the survivor's agency only).
  Result<std::vector<GrantView>> ListGrants(const Principal& p, const std::string& survivor_id,
                                            const std::string& request_id);
  // The grants in force naming the caller's agency (the partner view: what is shared with us).
  Result<std::vector<GrantView>> ListSharedWithMe(const Principal& p, const std::string& request_id);
  // The printable release text (HTML) in `lang` (empty: the release's language).
  Result<std::string> ReleaseDocument(const Principal& p, const std::string& grant_id, const std::string& lang,
                                      const std::string& request_id);
  // Emergency access for one hour to every category but attorney work product; reason required;
  // alerts the supervisors of the survivor's agency. Answers the same whether or not the
  // survivor exists (no existence oracle); audited either way.
  Result<GrantView> BreakGlass(const Principal& p, const std::string& survivor_id, const std::string& reason,
                               const std::string& request_id);
  // Records a compelled disclosure (court order, subpoena...): the legal basis, the minimum data
  // set, and a task to notify the survivor.
  Result<GrantView> RecordCompelledDisclosure(const Principal& p, const CompelledInput& in,
                                              const std::string& request_id);
  // Break-glass alerts on the caller's agency's survivors (supervisors).
  Result<std::vector<GrantView>> ListAlerts(const Principal& p, const std::string& request_id);
  // Compelled disclosures of the caller's agency whose survivor is still to be notified.
  Result<std::vector<GrantView>> ListTasks(const Principal& p, const std::string& request_id);
  Result<GrantView> CompleteTask(const Principal& p, const std::string& grant_id, const std::string& request_id);
  // The accounting of disclosures of one survivor (S13), for the survivor's agency.
  Result<std::vector<DisclosureItem>> ListDisclosures(const Principal& p, const std::string& survivor_id,
                                                      const std::string& request_id);

  // --- evidence items (docs/consent.md): same agency, or named by a release in force ---
  Result<EvidenceView> CreateEvidence(const Principal& p, const EvidenceInput& in, const std::string& request_id);
  // Stores the item's file (once): content type on the allow-list and matching the bytes,
  // 1 byte to domain::kMaxEvidenceBytes; sealed with the survivor's data key.
  Result<EvidenceView> PutEvidenceContent(const Principal& p, const std::string& evidence_id,
                                          const std::string& content_type, const std::string& bytes,
                                          const std::string& request_id);
  Result<std::vector<EvidenceView>> ListEvidence(const Principal& p, const std::string& survivor_id,
                                                 const std::string& request_id);
  Result<EvidenceView> GetEvidence(const Principal& p, const std::string& evidence_id, const std::string& request_id);
  Result<EvidenceFile> GetEvidenceContent(const Principal& p, const std::string& evidence_id,
                                          const std::string& request_id);
  // The signed copy of a release (the survivor's agency): a "signed_release" evidence item
  // linked to the grant, one per release.
  Result<EvidenceView> AttachSignedCopy(const Principal& p, const std::string& grant_id,
                                        const std::string& content_type, const std::string& bytes,
                                        const std::string& request_id);

  // --- relief screening (rules/) ---
  // Screens the case's stored facts (trl_ReliefFacts) with the rules in force on `as_of`
  // (empty: today). Needs read access to the case's immigration data; audited.
  Result<std::string> ScreenCase(const Principal& p, const std::string& case_id, const std::string& as_of,
                                 const std::string& lang, const std::string& request_id);
  struct RulesDiffRow {
    std::string case_id, case_number, what, from, to;  // what: "T outcome", "deadline asylum_one_year_deadline"
  };
  // Re-screens every stored case with facts under two rule sets (operator only) and lists what
  // changes: outcomes per relief and statutory deadlines.
  Result<std::vector<RulesDiffRow>> RulesDiff(const std::string& from_dir, const std::string& to_dir,
                                              const std::string& as_of);

  // --- HTCDS 2.0 CSV ---
  // All-or-nothing: any error names row, column and (for non-sealed columns) the value.
  Result<ImportReport> ImportHtcds(const Principal& p, const std::string& agency_id, const std::string& csv_path,
                                   const std::function<void(int64_t done, int64_t total)>& progress);
  // Writes what `p` may see, one row per case (survivor fields repeated), or per survivor
  // without cases. By default the export is de-identified: sealed (identifying and more
  // protected) columns are left out. `identifying` adds those the caller may see. Cells that
  // a spreadsheet would run as a formula are neutralised (S16).
  Result<int64_t> ExportHtcds(const Principal& p, const std::string& out_path, bool identifying,
                              const std::string& request_id);

  // --- demo data ---
  struct DemoLogin {
    std::string username, password, role, agency;
  };
  Result<std::vector<DemoLogin>> CreateDemo(int64_t cases, uint64_t seed, bool with_users);
  // The demo logins whose users exist in this store (for `serve --print-demo-logins`).
  std::vector<DemoLogin> DemoLogins();

  // --- operations ---
  struct AuditItem {
    int64_t seq, time;
    std::string actor, action, outcome, target, survivor, request, detail;
  };
  struct AuditPage {
    std::vector<AuditItem> items;
    int64_t next_before = 0;  // 0 on the last page
  };
  // The audit trail of the caller's agency (entries whose actor belongs to it), newest first.
  // Supervisors and auditors only; reading it is itself audited.
  Result<AuditPage> ListAudit(const Principal& p, int64_t before_seq, int limit, const std::string& survivor_id,
                              const std::string& request_id);

  struct AuditVerifyResult {
    bool ok;
    int64_t entries;
    int64_t checkpoints;
    int64_t first_bad_seq;
    std::string reason;
  };
  Result<AuditVerifyResult> VerifyAudit();
  // Adds a master-key version, re-wraps every data key, then retires old versions unless
  // `keep_old` (needed to restore backups taken before the rotation).
  Result<int64_t> RotateKeys(const std::string& passphrase, bool keep_old);
  // An encrypted, consistent backup. Without `include_keys`, data keys are left out so that
  // erasing a survivor later also makes this backup unreadable for them (S6).
  // Its temporary files (a copy of the store, with data keys until they are stripped) are
  // removed on every way out; those a backup cut short left are removed by the next backup, the
  // next open and every erasure, never while the backup that made them runs (it holds a lock).
  Status Backup(const std::string& out_path, bool include_keys);
  // Erases one survivor: destroys the data key (crypto-shredding) and deletes the records; then
  // removes what restores and backups cut short left in the data directory (copies of the store
  // with the key; not those of a backup running now, which removes its own when it ends).
  // Returns how many backups were running then: their copies may hold the key until they end.
  Result<int> EraseSurvivor(const Principal& p, const std::string& survivor_id, const std::string& request_id);
  Status Integrity();

  // Appends an audit entry (IDs only); used by the API for events such as denied requests.
  Status Audit(const Principal& p, const std::string& action, const std::string& outcome, const std::string& target,
               const std::string& survivor, const std::string& request_id, const std::string& detail = {});
  // The same, and `durable` learns the entry's fate: it is called exactly once, with Ok once the
  // entry is durable or with the append's failure. Without an AuditDeferral that happens before
  // AuditThen returns (which then returns the same status); inside one, AuditThen returns Ok at
  // once and `durable` runs on the audit writer thread when the entry's batch has committed or
  // failed, before the deferral reports it (so it must be quick and must not call App). For
  // something to be given up only once the record of giving it is durable (Jobs::TakeFile).
  Status AuditThen(const Principal& p, const std::string& action, const std::string& outcome, const std::string& target,
                   const std::string& survivor, const std::string& request_id, const std::string& detail,
                   std::function<void(const Status&)> durable);

  // --- TOTP second factor (S8; docs/threat-model.md "Second factor") ---
  // The user manages their own from a signed-in browser session (not an API token); an
  // administrator of the same agency, or the CLI operator, may reset anyone's. Audited (IDs only).
  struct SecondFactorStatus {
    bool enabled = false;
    bool pending = false;  // enrolment begun, not yet confirmed
    int recovery_codes_left = 0;
  };
  struct TotpEnrolment {
    std::string secret_base32;  // for typing into an authenticator app
    std::string otpauth_uri;    // for the QR code
  };
  Result<SecondFactorStatus> SecondFactor(const Principal& p);
  // Starts (or restarts) enrolment with a new secret; kConflict when already enabled.
  Result<TotpEnrolment> BeginTotp(const Principal& p, const std::string& request_id);
  // Enables the pending secret when `code` is current; returns the recovery codes (shown once,
  // stored hashed, each usable once).
  Result<std::vector<std::string>> ConfirmTotp(const Principal& p, const std::string& code,
                                               const std::string& request_id);
  // Turns the second factor off; needs the password and a current code (or a recovery code).
  // Wrong answers count toward the lockout like failed logins.
  Status DisableTotp(const Principal& p, const std::string& password, const std::string& code,
                     const std::string& request_id);
  // Removes a user's second factor (lost device). kNotFound for users the caller may not manage.
  Status ResetTotp(const Principal& by, const std::string& user_id, const std::string& request_id);

  struct Impl;

 private:
  // ImportHtcds without the audit entry of a refused import (ImportHtcds adds it).
  Result<ImportReport> ImportHtcdsRows(const Principal& p, const std::string& agency_id, const std::string& csv_path,
                                       const std::function<void(int64_t done, int64_t total)>& progress);
  explicit App(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Restores an encrypted backup into `data_dir` (the server must be stopped). The backup is
// decrypted with the key ring of `data_dir`; data keys absent from the backup are taken from
// the current store, so survivors erased since the backup stay unreadable (S6).
// PostgreSQL stores are restored with pg_restore (kFailedPrecondition when `store` names one).
Status Restore(const std::string& data_dir, const std::string& passphrase, const std::string& backup_path,
               const std::string& store = {});

// Copies the whole store at `from` into the empty store at `to` (locations as in InitOptions):
// ciphertexts, data keys, users, sessions, tokens and the audit chain with its checkpoints, as
// they are (no key is needed: nothing is decrypted). Returns rows copied per table.
Result<std::vector<std::pair<std::string, int64_t>>> MigrateStore(const std::string& from, const std::string& to);

}  // namespace trellis::app

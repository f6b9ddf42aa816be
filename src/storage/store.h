// CaseStore: the repository interface every backend implements (sqlite/, postgres/).
//
// The store persists what app/ hands it and knows nothing of policy: values of sealed fields
// arrive and leave as envelopes (crypto/envelope.h), plain fields as canonical text. No
// SQL dialect leaks through this interface.
//
// Thread-safety: every method may be called from any thread. Reads run concurrently. Write()
// runs its callback inside one transaction: either everything the callback did is committed
// durably (fsync) before Write() returns ok, or nothing is. SQLite serialises writers; on
// PostgreSQL transactions of several threads and several app servers run concurrently
// (READ COMMITTED) and stay correct because every read-modify-write is either guarded by a
// version (UpdateRecord), serialised in the database (AppendAudit) or an increment made by the
// database (IncrementFailedLogins).
//
// Several processes may open one store at once (SQLite: one host; PostgreSQL: many hosts).
//
// SQLite keeps the audit tables and disclosures in a file of their own (OpenSqliteStore); a
// transaction there is atomic per file only, so no caller writes those and other tables in one
// Write() — except CopyStore, whose target is empty (a half-done copy is refused as non-empty).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "core/status.h"
#include "domain/model.h"
#include "storage/tables.h"

namespace trellis::storage {

// A record as stored: plain fields in clear, sealed fields as envelopes.
struct StoredRecord {
  domain::RecordKind kind = domain::RecordKind::kSurvivor;
  std::string id;
  std::string agency_id;
  std::string survivor_id;
  std::string case_number;
  std::string status;  // cas_Status, for list filters (a case-class field, not sealed)
  int64_t version = 0;
  int64_t created_at = 0;
  int64_t updated_at = 0;
  std::map<std::string, std::string> plain;
  std::map<std::string, std::string> sealed;  // field -> envelope
  std::vector<std::string> team;
};

// A record in its stored encoding (record_codec.h: EncodePlain, EncodeSealed, EncodeTeam), for
// bulk inserts: the HTCDS import seals every field straight into this form.
struct EncodedRecord {
  domain::RecordKind kind = domain::RecordKind::kSurvivor;
  std::string id;
  std::string agency_id;
  std::string survivor_id;
  std::string case_number;
  std::string status;
  int64_t version = 0;
  int64_t created_at = 0;
  int64_t updated_at = 0;
  std::string plain;   // EncodePlain
  std::string sealed;  // EncodeSealed
  std::string team;    // EncodeTeam
};

struct UserRow {
  domain::User user;
  std::string password_hash;
  int64_t failed_logins = 0;
  int64_t locked_until = 0;  // micros
  int64_t created_at = 0;
};

struct SessionRow {
  std::string token_hash;
  std::string user_id;
  std::string csrf_hash;
  int64_t created_at = 0;
  int64_t last_seen_at = 0;
  int64_t expires_at = 0;  // absolute lifetime
};

struct TokenRow {
  std::string id;
  std::string token_hash;
  std::string user_id;
  std::string name;
  int64_t created_at = 0;
  int64_t expires_at = 0;  // 0 = no expiry
  int64_t revoked_at = 0;
};

struct DataKeyRow {
  std::string survivor_id;
  std::string wrapped;  // crypto::WrapDataKey output
  uint32_t key_version = 1;
};

struct ListQuery {
  domain::RecordKind kind = domain::RecordKind::kCase;
  std::vector<std::string> agency_ids;  // only these agencies (empty = none)
  // ... or (OR) records of these survivors, whatever their agency: the survivors released to
  // the caller's agency (consent). The policy still decides each row.
  std::vector<std::string> survivor_ids;
  std::optional<std::string> survivor_id;
  std::optional<std::string> status;
  std::optional<std::string> team_member;  // cases whose team names this user
  int64_t updated_since = 0;
  // Keyset paging: records strictly after (created_at, id) in (created_at, id) order.
  int64_t after_created = 0;
  std::string after_id;
  int limit = 50;
};

// A release of information, a break-glass grant or a compelled disclosure (docs/consent.md).
// The store keeps it as given; app/ decides what it means (policy::Grant).
struct GrantRow {
  std::string id;
  std::string kind;  // "release", "break_glass", "compelled"
  std::string survivor_id;
  std::string owner_agency_id;      // the survivor's agency ("" when no such survivor)
  std::string recipient_agency_id;
  std::string recipient_user_id;    // break-glass: the one user; "" otherwise
  std::string categories;           // category names, comma-separated
  std::string purpose;              // release: purpose code; compelled: legal basis code
  std::string language;             // "en" / "es": the language of the release text
  int64_t effective_at = 0;         // micros
  int64_t expires_at = 0;           // micros, exclusive
  int64_t created_at = 0;
  std::string created_by;           // user id
  int64_t revoked_at = 0;           // 0 = in force
  std::string revoked_by;
  std::string revoke_reason;        // code
  int64_t task_done_at = 0;         // compelled: when the survivor was notified (0 = task open)
  std::string sealed;               // envelope sealed by app/ (signers, reasons); may be empty
  std::string evidence_ids;         // releases: evidence item ids named, comma-separated
};

struct GrantQuery {
  std::optional<std::string> survivor_id;
  std::optional<std::string> recipient_agency_id;
  std::optional<std::string> owner_agency_id;
  std::optional<std::string> kind;
  int64_t in_force_at = 0;  // > 0: only grants not revoked with effective_at <= t < expires_at
  int limit = 1000;
};

// One disclosure: data of a survivor read, listed or exported by someone of another agency.
struct DisclosureRow {
  int64_t seq = 0;  // assigned by the store
  std::string survivor_id;
  std::string record_id;
  int64_t at = 0;  // micros
  std::string actor_user_id;
  std::string actor_agency_id;
  std::string action;      // "read", "list", "export", ...
  std::string categories;  // category names shown, comma-separated
  std::string basis;       // "release", "break_glass", "compelled"
  std::string grant_ids;   // comma-separated
  std::string request_id;
};

// A user's TOTP second factor (SECURITY.md S8; docs/threat-model.md). The secret is sealed by
// app/ (crypto::SealBox under a subkey of master key `key_version`); recovery codes are kept as
// hashes only. Updated under optimistic concurrency (`version`) so a TOTP step or a recovery
// code is accepted once even when two logins race.
struct SecondFactorRow {
  std::string user_id;
  std::string state;            // "pending" (enrolment begun) or "enabled"
  std::string secret_sealed;    // envelope; never plaintext
  int64_t key_version = 0;      // master-key version the secret is sealed under
  int64_t last_step = 0;        // last accepted TOTP time step (replay protection)
  std::string recovery_hashes;  // hex SHA-256 of the unused recovery codes, comma-separated
  int64_t version = 0;
  int64_t created_at = 0;
  int64_t updated_at = 0;
};

// An evidence item (docs/consent.md): metadata in clear only where it names no one; title,
// description, date and the file's SHA-256 in `sealed`, the file itself in `content`, both
// envelopes sealed by app/ with the survivor's data key.
struct EvidenceRow {
  std::string id;
  std::string survivor_id;
  std::string case_id;       // "" = the survivor's, not one case's
  std::string agency_id;     // the survivor's agency
  std::string kind;          // domain::EvidenceKinds()
  std::string grant_id;      // signed_release: the release it is the signed copy of; "" otherwise
  std::string content_type;  // canonical type of the file; "" = no file
  int64_t size = 0;          // plaintext bytes of the file; 0 = no file
  int64_t created_at = 0;
  std::string created_by;
  std::string sealed;   // envelope
  std::string content;  // envelope of the file (filled only by GetEvidence(..., true))
};

// The write side of one transaction.
class Txn {
 public:
  virtual ~Txn() = default;
  virtual Status PutAgency(const domain::Agency& a, int64_t now) = 0;
  virtual Status InsertUser(const UserRow& u) = 0;
  // Stores the login counters as given (used to reset them to 0 after a successful login).
  virtual Status UpdateUserLogin(const std::string& user_id, int64_t failed_logins, int64_t locked_until) = 0;
  // failed_logins = failed_logins + 1, computed by the database, so increments made at once by
  // several threads or app servers all count. Returns the new count; kNotFound when absent.
  // The row stays write-locked until the transaction ends (SQLite: the whole store; PostgreSQL:
  // the row), so what the caller writes next in this transaction follows from this count.
  virtual Result<int64_t> IncrementFailedLogins(const std::string& user_id) = 0;
  // locked_until = max(locked_until, until): raised to `until` when that is later, never
  // lowered. kNotFound when absent.
  virtual Status RaiseLockedUntil(const std::string& user_id, int64_t until) = 0;
  virtual Status SetUserDisabled(const std::string& user_id, bool disabled) = 0;
  virtual Status SetUserPassword(const std::string& user_id, const std::string& hash) = 0;
  virtual Status InsertSession(const SessionRow& s) = 0;
  virtual Status TouchSession(const std::string& token_hash, int64_t now) = 0;
  virtual Status DeleteSession(const std::string& token_hash) = 0;
  virtual Status DeleteUserSessions(const std::string& user_id) = 0;
  virtual Status InsertToken(const TokenRow& t) = 0;
  virtual Status RevokeToken(const std::string& token_id, int64_t now) = 0;
  virtual Status PutDataKey(const DataKeyRow& k) = 0;  // insert or replace (re-wrap)
  virtual Status DeleteDataKey(const std::string& survivor_id) = 0;
  // Inserts a new record; kAlreadyExists when the id is taken.
  virtual Status InsertRecord(const StoredRecord& r) = 0;
  // Replaces a record if its stored version equals `expected_version` (then stored as
  // r.version); kConflict otherwise, kNotFound when absent.
  virtual Status UpdateRecord(const StoredRecord& r, int64_t expected_version) = 0;
  // Bulk insert (HTCDS import): the data keys of new survivors, then new records, with the
  // effect of PutDataKey for each key and InsertRecord for each record (kAlreadyExists when a
  // record id is taken; a backend may also refuse to replace an existing data key). The default
  // calls those single-row methods; a backend may batch the rows into fewer statements.
  virtual Status InsertBulk(std::span<const DataKeyRow> keys, std::span<const EncodedRecord> records);
  virtual Status DeleteSurvivorRecords(const std::string& survivor_id) = 0;
  virtual Status SetMeta(const std::string& key, const std::string& value) = 0;
  // Inserts one row of any table as ExportTables produced it (moving a store between
  // backends); kAlreadyExists when the key is taken.
  virtual Status ImportRow(const TableRow& row) = 0;
  // Grants (consent): inserted once; kAlreadyExists when the id is taken.
  virtual Status InsertGrant(const GrantRow& g) = 0;
  // Updates the mutable columns (revoked_at, revoked_by, revoke_reason, task_done_at) of g.id;
  // kNotFound when absent.
  virtual Status UpdateGrant(const GrantRow& g) = 0;
  virtual Status InsertDisclosure(const DisclosureRow& d) = 0;  // d.seq is ignored
  // Second factor: insert or replace the user's row; replace it if its stored version equals
  // `expected_version` (kConflict otherwise, kNotFound when absent); delete (absent is ok).
  virtual Status PutSecondFactor(const SecondFactorRow& r) = 0;
  virtual Status UpdateSecondFactor(const SecondFactorRow& r, int64_t expected_version) = 0;
  virtual Status DeleteSecondFactor(const std::string& user_id) = 0;
  // Evidence: inserted once (kAlreadyExists when the id is taken). SetEvidenceContent stores
  // the file (content_type, size, sealed, content of e) of an item that has none yet: kNotFound
  // when absent, kConflict when it has a file. DeleteSurvivorRecords deletes the items too.
  virtual Status InsertEvidence(const EvidenceRow& e) = 0;
  virtual Status SetEvidenceContent(const EvidenceRow& e) = 0;
};

struct AuditRow {
  int64_t seq;
  std::string encoded;
  std::string chain_hash;
};
struct AuditCheckpointRow {
  int64_t seq;
  std::string chain_hash;
  std::string signature;
  int64_t signed_at;
};

// While a ReadPin is alive, the reads the thread that made it makes through its store share
// one snapshot (one read transaction) instead of taking one each; a write through the store on
// that thread ends the shared snapshot, so that later reads see it. One per thread at a time;
// destroyed on the thread that made it.
class ReadPin {
 public:
  virtual ~ReadPin() = default;
};

class CaseStore {
 public:
  virtual ~CaseStore() = default;

  virtual Status Write(const std::function<Status(Txn&)>& fn) = 0;

  // See ReadPin. nullptr when the backend has nothing to share (every read is then its own
  // snapshot, as without a pin).
  virtual std::unique_ptr<ReadPin> PinReads() { return nullptr; }

  virtual Result<domain::Agency> GetAgency(const std::string& id) = 0;
  virtual Result<std::vector<domain::Agency>> ListAgencies() = 0;
  virtual Result<UserRow> GetUserById(const std::string& id) = 0;
  virtual Result<UserRow> GetUserByName(const std::string& username) = 0;
  virtual Result<std::vector<UserRow>> ListUsers(const std::string& agency_id) = 0;
  virtual Result<SessionRow> GetSession(const std::string& token_hash) = 0;
  virtual Result<TokenRow> GetToken(const std::string& token_hash) = 0;
  // Authentication in one read (the hot path of every request): the session or token and its
  // user, from one snapshot; kNotFound when either is missing. Nothing is cached: revocation,
  // logout, lockout and disabling apply on the next request, from any app server.
  // (The defaults make the two separate reads; a backend overrides them with one query.)
  virtual Result<std::pair<SessionRow, UserRow>> GetSessionWithUser(const std::string& token_hash);
  virtual Result<std::pair<TokenRow, UserRow>> GetTokenWithUser(const std::string& token_hash);
  virtual Result<DataKeyRow> GetDataKey(const std::string& survivor_id) = 0;
  // Calls fn for every data key (key rotation); stops early if fn returns non-ok.
  virtual Status ForEachDataKey(const std::function<Status(const DataKeyRow&)>& fn) = 0;
  virtual Result<StoredRecord> GetRecord(domain::RecordKind kind, const std::string& id) = 0;
  // A record with what reading it needs: its survivor's wrapped data key (none when erased) and
  // every grant on its survivor, newest first (at most 1000, as ListGrants). kNotFound when the
  // record is missing. The default makes three reads; a backend overrides it with one query.
  struct RecordRead {
    StoredRecord record;
    std::optional<DataKeyRow> key;
    std::vector<GrantRow> grants;
  };
  virtual Result<RecordRead> GetRecordForRead(domain::RecordKind kind, const std::string& id);
  virtual Result<std::vector<StoredRecord>> ListRecords(const ListQuery& q) = 0;
  virtual Result<int64_t> CountRecords(domain::RecordKind kind, const std::vector<std::string>& agency_ids) = 0;
  // Every record in (created_at, id) order, for export.
  // (Implemented once, in store.cc, by keyset paging over ListRecords.)
  Status ForEachRecord(domain::RecordKind kind, const std::vector<std::string>& agency_ids,
                       const std::function<Status(const StoredRecord&)>& fn);
  virtual Result<std::optional<std::string>> GetMeta(const std::string& key) = 0;
  // Grants: by id (kNotFound), or every grant matching all the set filters of `q`, newest
  // first, at most q.limit. One indexed query (survivor, recipient or owner).
  virtual Result<GrantRow> GetGrant(const std::string& id) = 0;
  virtual Result<std::vector<GrantRow>> ListGrants(const GrantQuery& q) = 0;
  // A survivor's disclosures, oldest first.
  virtual Result<std::vector<DisclosureRow>> ListDisclosures(const std::string& survivor_id) = 0;
  // A user's second factor (kNotFound when none), and every row (master-key rotation re-seals).
  virtual Result<SecondFactorRow> GetSecondFactor(const std::string& user_id) = 0;
  virtual Result<std::vector<SecondFactorRow>> ListSecondFactors() = 0;
  // Evidence: one item (kNotFound), with its file only when `with_content`; a survivor's items
  // without files, oldest first (one indexed query).
  virtual Result<EvidenceRow> GetEvidence(const std::string& id, bool with_content) = 0;
  virtual Result<std::vector<EvidenceRow>> ListEvidence(const std::string& survivor_id) = 0;

  // Audit: appended atomically with its checkpoint; read back in order for verification.
  // In one exclusive write transaction: reads the last stored entry (seq 0 when empty),
  // calls `build` with it, and stores the rows and checkpoint it returns.
  // `also`, when set, runs in the same transaction after the rows are written (rows that must
  // commit with their audit entries, e.g. disclosures); its failure rolls everything back.
  // `also` may write disclosures only: on SQLite the audit tables and disclosures are in their
  // own file, and a transaction over both files would be atomic per file only.
  using AuditBuilder = std::function<std::pair<std::vector<AuditRow>, AuditCheckpointRow>(const AuditRow& last)>;
  virtual Status AppendAudit(const AuditBuilder& build, const std::function<Status(Txn&)>& also = nullptr) = 0;
  virtual Result<AuditRow> LastAudit() = 0;  // seq 0 when empty
  virtual Status ForEachAudit(int64_t from_seq, const std::function<bool(const AuditRow&)>& fn) = 0;
  virtual Result<std::vector<AuditCheckpointRow>> ListCheckpoints() = 0;
  // Up to `limit` entries with seq < before_seq (0 = from the end), newest first.
  virtual Result<std::vector<AuditRow>> ListAuditBefore(int64_t before_seq, int limit) = 0;

  // Backups: a consistent copy of the whole store at `path` (plain file; the caller encrypts).
  virtual Status SnapshotTo(const std::string& path) = 0;
  // Integrity check of the backend (SQLite: PRAGMA integrity_check; PostgreSQL: schema
  // version and an audit log without gaps).
  virtual Status CheckIntegrity() = 0;

  // Every row of every table of Tables(), in that order, from one consistent snapshot. Fails
  // (kFailedPrecondition) when the backend holds a table that Tables() does not name, so a copy
  // is never silently incomplete.
  virtual Status ExportTables(const std::function<Status(const TableRow&)>& fn) = 0;
};

struct SqliteOptions {
  int reader_connections = 8;
  bool create_if_missing = false;
};

// Opens (and migrates) the SQLite store at `path`. Its audit chain, checkpoints and
// disclosures live in a second file beside it, SqliteAuditPath(path), attached to every
// connection; opening moves them there from a file that still holds them (the one-file layout
// of older stores and of backups). Opening fails (kDataLoss) when the audit file is missing
// although the store file no longer holds the audit tables, or holds other audit rows than a
// store file that still does.
Result<std::unique_ptr<CaseStore>> OpenSqliteStore(const std::string& path, const SqliteOptions& options = {});
// The audit file of the SQLite store at `store_path`: "/d/trellis.db" -> "/d/trellis-audit.db";
// "-audit.db" appended when the path does not end in ".db".
std::string SqliteAuditPath(const std::string& store_path);
// Makes the SQLite file at `path` self-contained (the backup format: one file, every table):
// copies the audit tables of SqliteAuditPath(path) into it, then removes that file.
Status FoldSqliteAuditFile(const std::string& path);

struct PostgresOptions {
  int connections = 8;  // pool size; callers beyond it wait for a free connection
};

// Opens (and migrates) the PostgreSQL store at `url`, a libpq connection URI
// ("postgresql://user@host:5432/db?sslmode=verify-full"). The database must exist; the schema
// is created or upgraded (under an advisory lock, so app servers starting together are safe).
// kUnavailable when the server cannot be reached; kFailedPrecondition when this binary was
// built without TRELLIS_POSTGRES.
Result<std::unique_ptr<CaseStore>> OpenPostgresStore(const std::string& url, const PostgresOptions& options = {});

struct StoreOptions {
  int connections = 8;             // SQLite readers / PostgreSQL pool size
  bool create_if_missing = false;  // SQLite only: create the file (PostgreSQL: the database must exist)
};

// Opens the store a location names: "postgresql://..." or "postgres://..." (PostgreSQL),
// "sqlite:PATH" or a plain PATH (SQLite file).
Result<std::unique_ptr<CaseStore>> OpenStore(const std::string& location, const StoreOptions& options = {});
// True when `location` names a PostgreSQL store.
bool IsPostgresLocation(const std::string& location);

// Copies every row of `from` into `to` in one transaction of `to` (ciphertexts, data keys,
// users, sessions, tokens, the audit chain and its checkpoints, byte for byte). `to` must be
// empty (kFailedPrecondition otherwise). Returns the number of rows copied per table.
Result<std::vector<std::pair<std::string, int64_t>>> CopyStore(CaseStore& from, CaseStore& to);

// Prepares a snapshot file for a backup that must not carry data keys: deletes every data key
// from the copy and vacuums it so no trace remains (crypto-shredding holds for backups, S6).
Status StripDataKeysFromSnapshot(const std::string& snapshot_path);
// Copies the data keys of the live store at `live_path` into the restored file `restored_path`
// for every survivor whose key the restored file lacks and the live store still has.
Status MergeDataKeysInto(const std::string& restored_path, const std::string& live_path);

}  // namespace trellis::storage

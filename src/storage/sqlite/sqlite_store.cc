// SQLite backend of CaseStore: WAL journal, synchronous=FULL (an acknowledged write survives
// power loss), secure_delete, prepared statements only, schema migrations with a version table.
//
// Two files: the store (`trellis.db`) and its audit file (`trellis-audit.db`, SqliteAuditPath),
// ATTACHed to every connection as schema `audit`. The audit file holds the audit chain, its
// checkpoints and the accounting of disclosures: the audit group commit (one per batch of
// requests) then never changes the store file, so the readers keep their page cache of it
// (SQLite drops a connection's whole cache of a file when another connection changed it).
// A transaction writes to one of the two files, never both: in WAL mode a transaction across
// files is atomic per file only.
#include <fcntl.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <nlohmann/json.hpp>
#include <vector>

#include "storage/record_codec.h"
#include "storage/store.h"

namespace trellis::storage {
namespace {

using domain::RecordKind;

// Each entry upgrades the schema by one version; never edit a released step, add one.
// Steps 1 and 2 create the audit tables in the main file; every open then moves them into the
// audit file (SqliteStore::MoveAuditTables). A later step that changes an audit table names
// it `audit.`.
const char* const kMigrations[] = {
    // 1: the initial schema
    R"sql(
CREATE TABLE meta(key TEXT PRIMARY KEY, value BLOB NOT NULL);
CREATE TABLE agencies(id TEXT PRIMARY KEY, name TEXT NOT NULL, kind TEXT NOT NULL, created_at INTEGER NOT NULL);
CREATE TABLE users(
  id TEXT PRIMARY KEY, agency_id TEXT NOT NULL REFERENCES agencies(id), username TEXT NOT NULL UNIQUE,
  display_name TEXT NOT NULL, role TEXT NOT NULL, password_hash TEXT NOT NULL,
  disabled INTEGER NOT NULL DEFAULT 0, failed_logins INTEGER NOT NULL DEFAULT 0,
  locked_until INTEGER NOT NULL DEFAULT 0, created_at INTEGER NOT NULL);
CREATE TABLE sessions(
  token_hash BLOB PRIMARY KEY, user_id TEXT NOT NULL REFERENCES users(id), csrf_hash BLOB NOT NULL,
  created_at INTEGER NOT NULL, last_seen_at INTEGER NOT NULL, expires_at INTEGER NOT NULL);
CREATE INDEX sessions_user ON sessions(user_id);
CREATE TABLE api_tokens(
  token_hash BLOB PRIMARY KEY, id TEXT NOT NULL UNIQUE, user_id TEXT NOT NULL REFERENCES users(id),
  name TEXT NOT NULL, created_at INTEGER NOT NULL, expires_at INTEGER NOT NULL, revoked_at INTEGER NOT NULL);
CREATE TABLE data_keys(survivor_id TEXT PRIMARY KEY, key_version INTEGER NOT NULL, wrapped BLOB NOT NULL);
CREATE TABLE records(
  id TEXT PRIMARY KEY, kind INTEGER NOT NULL, agency_id TEXT NOT NULL, survivor_id TEXT NOT NULL,
  case_number TEXT NOT NULL, status TEXT NOT NULL, version INTEGER NOT NULL,
  created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL, plain TEXT NOT NULL, sealed BLOB NOT NULL,
  team TEXT NOT NULL);
CREATE INDEX records_list ON records(kind, agency_id, created_at, id);
CREATE INDEX records_survivor ON records(survivor_id);
CREATE TABLE audit_log(seq INTEGER PRIMARY KEY, entry BLOB NOT NULL, chain_hash BLOB NOT NULL);
CREATE TABLE audit_checkpoints(seq INTEGER PRIMARY KEY, chain_hash BLOB NOT NULL, signature BLOB NOT NULL,
  signed_at INTEGER NOT NULL);
)sql",
    // 2: consent — releases, break-glass grants and compelled disclosures; accounting of disclosures
    R"sql(
CREATE TABLE grants(
  id TEXT PRIMARY KEY, kind TEXT NOT NULL, survivor_id TEXT NOT NULL, owner_agency_id TEXT NOT NULL,
  recipient_agency_id TEXT NOT NULL, recipient_user_id TEXT NOT NULL, categories TEXT NOT NULL,
  purpose TEXT NOT NULL, language TEXT NOT NULL, effective_at INTEGER NOT NULL, expires_at INTEGER NOT NULL,
  created_at INTEGER NOT NULL, created_by TEXT NOT NULL, revoked_at INTEGER NOT NULL, revoked_by TEXT NOT NULL,
  revoke_reason TEXT NOT NULL, task_done_at INTEGER NOT NULL, sealed BLOB NOT NULL);
CREATE INDEX grants_survivor ON grants(survivor_id);
CREATE INDEX grants_recipient ON grants(recipient_agency_id, expires_at);
CREATE INDEX grants_owner ON grants(owner_agency_id, kind);
CREATE TABLE disclosures(
  seq INTEGER PRIMARY KEY, survivor_id TEXT NOT NULL, record_id TEXT NOT NULL, at INTEGER NOT NULL,
  actor_user_id TEXT NOT NULL, actor_agency_id TEXT NOT NULL, action TEXT NOT NULL, categories TEXT NOT NULL,
  basis TEXT NOT NULL, grant_ids TEXT NOT NULL, request_id TEXT NOT NULL);
CREATE INDEX disclosures_survivor ON disclosures(survivor_id, seq);
)sql",
    // 3: TOTP second factor (secret sealed, recovery codes hashed)
    R"sql(
CREATE TABLE second_factors(
  user_id TEXT PRIMARY KEY REFERENCES users(id), state TEXT NOT NULL, secret_sealed BLOB NOT NULL,
  key_version INTEGER NOT NULL, last_step INTEGER NOT NULL, recovery_hashes TEXT NOT NULL,
  version INTEGER NOT NULL, created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL);
)sql",
    // 4: evidence items (sealed metadata and file), and the items a release names
    R"sql(
ALTER TABLE grants ADD COLUMN evidence_ids TEXT NOT NULL DEFAULT '';
CREATE TABLE evidence(
  id TEXT PRIMARY KEY, survivor_id TEXT NOT NULL, case_id TEXT NOT NULL, agency_id TEXT NOT NULL,
  kind TEXT NOT NULL, grant_id TEXT NOT NULL, content_type TEXT NOT NULL, size INTEGER NOT NULL,
  created_at INTEGER NOT NULL, created_by TEXT NOT NULL, sealed BLOB NOT NULL, content BLOB NOT NULL);
CREATE INDEX evidence_survivor ON evidence(survivor_id, created_at);
)sql",
    // 5: disclosures folded into the survivor index in bulk (MigrateFoldedDisclosures, in code:
    // it must find the schema that holds the table, and be idempotent across the two files)
    nullptr,
    // 6: the survivor index as a table of its own, filled in bulk up to a mark
    // (MigrateDisclosureIndex, in code for the same reasons)
    nullptr,
};

constexpr char kSecondFactorCols[] =
    "user_id, state, secret_sealed, key_version, last_step, recovery_hashes, version, created_at, updated_at";

constexpr char kEvidenceCols[] =
    "id, survivor_id, case_id, agency_id, kind, grant_id, content_type, size, created_at, created_by, sealed";

constexpr char kGrantCols[] =
    "id, kind, survivor_id, owner_agency_id, recipient_agency_id, recipient_user_id, categories, purpose, language,"
    " effective_at, expires_at, created_at, created_by, revoked_at, revoked_by, revoke_reason, task_done_at, sealed,"
    " evidence_ids";

// A connection with its prepared-statement cache (statements are prepared once per connection).
struct Conn {
  explicit Conn(sqlite3* d) : db(d) {}
  ~Conn() {
    for (auto& [_, st] : cache) sqlite3_finalize(st);
    sqlite3_close(db);
  }
  Conn(const Conn&) = delete;
  Conn& operator=(const Conn&) = delete;
  sqlite3* db;
  std::unordered_map<std::string, sqlite3_stmt*> cache;
  // Token and session rows (with their users') this reader read while the store file stayed
  // unchanged (RowCacheFresh), by token hash.
  int64_t rows_version = -1;
  std::unordered_map<std::string, std::pair<TokenRow, UserRow>> token_rows;
  std::unordered_map<std::string, std::pair<SessionRow, UserRow>> session_rows;
};

// True when the rows cached on reader `c` are still what its reads would return, i.e. no
// connection (of any process) has committed to the store file since they were read. SQLite's
// data_version of the main file changes exactly then; it is read in the caller's read
// transaction (it starts one if none is open), so a cached row is the row of that snapshot. The
// cache is dropped at each change: a revoked token, a disabled user, any write at all, applies
// to the next read as with no cache. A reader never writes (a connection's own commits do not
// change its data_version).
bool RowCacheFresh(Conn& c) {
  sqlite3_stmt* st = nullptr;
  auto it = c.cache.find("PRAGMA main.data_version");
  if (it != c.cache.end()) {
    st = it->second;
  } else if (sqlite3_prepare_v3(c.db, "PRAGMA main.data_version", -1, SQLITE_PREPARE_PERSISTENT, &st, nullptr) == SQLITE_OK) {
    c.cache.emplace("PRAGMA main.data_version", st);
  } else {
    return false;
  }
  const bool row = sqlite3_step(st) == SQLITE_ROW;
  const int64_t version = row ? sqlite3_column_int64(st, 0) : -1;
  sqlite3_reset(st);
  if (row && version == c.rows_version) return true;
  c.rows_version = row ? version : -1;
  c.token_rows.clear();
  c.session_rows.clear();
  return false;
}

// The row `rows` holds for `key` while it is fresh (RowCacheFresh), else `read()`, which is kept
// when found (at most 256 per map: a client sends the same token or cookie with each request).
template <typename Row>
Result<Row> CachedRow(Conn& c, std::unordered_map<std::string, Row>& rows, const std::string& key,
                      const std::function<Result<Row>()>& read) {
  if (RowCacheFresh(c)) {
    auto hit = rows.find(key);
    if (hit != rows.end()) return hit->second;
  }
  Result<Row> r = read();
  if (r.ok() && c.rows_version >= 0) {
    if (rows.size() >= 256) rows.clear();
    rows.emplace(key, *r);
  }
  return r;
}

// A cached statement borrowed for one use; reset and unbound when the Stmt goes away.
class Stmt {
 public:
  Stmt(Conn& c, const std::string& sql) : db_(c.db) {
    auto it = c.cache.find(sql);
    if (it != c.cache.end()) {
      s_ = it->second;
    } else if (sqlite3_prepare_v3(c.db, sql.c_str(), -1, SQLITE_PREPARE_PERSISTENT, &s_, nullptr) == SQLITE_OK) {
      c.cache.emplace(sql, s_);
    } else {
      s_ = nullptr;
    }
  }
  ~Stmt() {
    if (s_) {
      sqlite3_reset(s_);
      sqlite3_clear_bindings(s_);
    }
  }
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;

  bool ok() const { return s_ != nullptr; }
  Stmt& Bind(int i, std::string_view v) {
    sqlite3_bind_text(s_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Stmt& BindBlob(int i, std::string_view v) {
    sqlite3_bind_blob(s_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    return *this;
  }
  // Binds without a copy: `v` must stay alive and unchanged until the statement is reset.
  Stmt& BindStatic(int i, std::string_view v) {
    sqlite3_bind_text(s_, i, v.data(), static_cast<int>(v.size()), SQLITE_STATIC);
    return *this;
  }
  Stmt& BindBlobStatic(int i, std::string_view v) {
    sqlite3_bind_blob(s_, i, v.data(), static_cast<int>(v.size()), SQLITE_STATIC);
    return *this;
  }
  Stmt& Bind(int i, int64_t v) {
    sqlite3_bind_int64(s_, i, v);
    return *this;
  }
  void Reset() {
    sqlite3_reset(s_);
    sqlite3_clear_bindings(s_);
  }
  // SQLITE_ROW, SQLITE_DONE or an error code.
  int Step() { return s_ ? sqlite3_step(s_) : SQLITE_ERROR; }
  std::string Text(int col) const { return std::string(View(col)); }
  // The column's bytes in SQLite's buffer: valid until the statement steps, resets or ends.
  std::string_view View(int col) const {
    const void* p = sqlite3_column_blob(s_, col);
    int n = sqlite3_column_bytes(s_, col);
    return p ? std::string_view(static_cast<const char*>(p), n) : std::string_view();
  }
  int64_t Int(int col) const { return sqlite3_column_int64(s_, col); }
  bool Null(int col) const { return sqlite3_column_type(s_, col) == SQLITE_NULL; }
  Status Done(const char* what) {
    if (!s_) return Status::Internal(std::string(what) + ": " + sqlite3_errmsg(db_));
    int rc = Step();
    if (rc == SQLITE_DONE) return Status::Ok();
    // A key taken is the caller's conflict (409); any other constraint (NOT NULL, CHECK, a
    // foreign key, a trigger) is a fault of ours.
    const int ext = sqlite3_extended_errcode(db_);
    if (ext == SQLITE_CONSTRAINT_UNIQUE || ext == SQLITE_CONSTRAINT_PRIMARYKEY || ext == SQLITE_CONSTRAINT_ROWID) {
      return Status(Code::kAlreadyExists, std::string(what) + ": already exists");
    }
    return Status::Internal(std::string(what) + ": " + sqlite3_errmsg(db_));
  }

 private:
  sqlite3* db_;
  sqlite3_stmt* s_ = nullptr;
};

Status Exec(sqlite3* db, const char* sql) {
  char* err = nullptr;
  if (sqlite3_exec(db, sql, nullptr, nullptr, &err) != SQLITE_OK) {
    std::string msg = err ? err : "sqlite error";
    sqlite3_free(err);
    return Status::Internal(msg);
  }
  return Status::Ok();
}

// The tables kept in the audit file (schema `audit`), in the order they are moved.
const char* const kAuditTables[] = {"audit_log", "audit_checkpoints", "disclosures", "disclosure_index",
                                    "disclosure_index_mark"};

// Tables of the SQLite store that hold nothing of their own: the survivor index of disclosures
// and its mark, derived from `disclosures` (MigrateDisclosureIndex). Not in storage/tables.h:
// they are neither exported nor imported (ImportRow indexes the disclosures it inserts).
bool IsDerivedTable(std::string_view name) { return name == "disclosure_index" || name == "disclosure_index_mark"; }

// Page cache of every connection (KiB). A bulk insert raises the writer's to kBulkCacheKiB for
// the rest of its transaction: with the 8 MB cache, the one big import transaction spills pages
// to the WAL that it later changes again, and at the commit SQLite then re-reads every WAL frame
// written after the first such page to recompute the frame checksums (~33,000 extra reads of
// 4 KiB for 100,000 rows). 16 MB removes them at that size and halves them at 300,000 rows; a
// cache that holds the whole transaction costs more (one page fault per new page) than it saves.
constexpr int kCacheKiB = 8000;
constexpr int kBulkCacheKiB = 16000;

Status SetCacheKiB(sqlite3* db, int kib) {
  return Exec(db, ("PRAGMA cache_size=-" + std::to_string(kib)).c_str());
}

Result<sqlite3*> OpenConnection(const std::string& path, bool create) {
  sqlite3* db = nullptr;
  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | (create ? SQLITE_OPEN_CREATE : 0);
  if (sqlite3_open_v2(path.c_str(), &db, flags, nullptr) != SQLITE_OK) {
    sqlite3_close(db);
    return Status(Code::kFailedPrecondition, "cannot open the store at " + path);
  }
  sqlite3_busy_timeout(db, 10000);
  Status st = Exec(db,
                   "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA secure_delete=ON;"
                   "PRAGMA foreign_keys=ON; PRAGMA temp_store=MEMORY;");
  if (st.ok()) st = SetCacheKiB(db, kCacheKiB);
  if (!st.ok()) {
    sqlite3_close(db);
    return st;
  }
  return db;
}

// An integer from the first column of the first row of `sql` (0 when no row).
Result<int64_t> QueryInt(sqlite3* db, const std::string& sql) {
  sqlite3_stmt* st = nullptr;
  if (sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr) != SQLITE_OK) {
    return Status::Internal(std::string("query: ") + sqlite3_errmsg(db));
  }
  const int rc = sqlite3_step(st);
  const int64_t v = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
  sqlite3_finalize(st);
  if (rc != SQLITE_ROW && rc != SQLITE_DONE) return Status::Internal(std::string("query: ") + sqlite3_errmsg(db));
  return v;
}

Result<bool> HasTable(sqlite3* db, const std::string& schema, const std::string& table) {
  auto n = QueryInt(db, "SELECT count(*) FROM " + schema + ".sqlite_master WHERE type='table' AND name='" + table + "'");
  if (!n.ok()) return n.status();
  return *n > 0;
}

// Step 5, superseded by step 6 (MigrateDisclosureIndex drops both indexes made here). The
// accounting of disclosures (S13) answers "every disclosure of this survivor's data"; it read
// the index `disclosures_by_survivor`. A cross-agency read adds its row in the audit group
// commit; indexed at once, each row lands at the end of its survivor's range, one more B-tree
// page per distinct survivor in every batch (measured: ~100 instead of ~12 WAL writes per batch
// of cross-agency reads spread over 100 survivors). So a new row was written `folded = 0`, outside
// that partial index (its own partial index on seq appends at the end), and the audit writer
// folded the unfolded rows into it in one UPDATE every 512 rows, one page write per
// survivor per fold. The fold ran inside one audit batch and lengthened it: 512 rows a fold gave
// the release benchmark cross/same 0.71 and a p99 of 17-18 ms for cross-agency reads, 2,048 rows
// 0.68-0.70 and 33-37 ms (docs/benchmarks.md, session 11). Rows that were there before this
// step counted as folded.
Status MigrateFoldedDisclosures(sqlite3* db) {
  auto in_main = HasTable(db, "main", "disclosures");  // a one-file store not yet moved (or a new one)
  if (!in_main.ok()) return in_main.status();
  const std::string schema = *in_main ? "main" : "audit";
  auto has_column = QueryInt(db, "SELECT count(*) FROM pragma_table_info('disclosures', '" + schema +
                                     "') WHERE name = 'folded'");
  if (!has_column.ok()) return has_column.status();
  if (*has_column == 0) {
    TRELLIS_RETURN_IF_ERROR(
        Exec(db, ("ALTER TABLE " + schema + ".disclosures ADD COLUMN folded INTEGER NOT NULL DEFAULT 1").c_str()));
  }
  const std::string ddl = "DROP INDEX IF EXISTS " + schema + ".disclosures_survivor;"
                          "CREATE INDEX IF NOT EXISTS " + schema + ".disclosures_by_survivor"
                          " ON disclosures(survivor_id, seq) WHERE folded = 1;"
                          "CREATE INDEX IF NOT EXISTS " + schema + ".disclosures_unfolded"
                          " ON disclosures(seq) WHERE folded = 0;";
  return Exec(db, ddl.c_str());
}

// Step 6. The fold of step 5 rewrote every waiting row (`folded = 1`) and moved it from one
// partial index of the table into another: ~280 WAL frames per fold of 512 rows over 100
// survivors, half of what a batch of cross-agency reads wrote (docs/benchmarks.md, session 13).
// Now the survivor index is a table of its own, `disclosure_index` (survivor_id, seq; WITHOUT
// ROWID, nothing else), and `disclosure_index_mark` holds the seq up to which every row of
// `disclosures` is in it. A new row is only appended to `disclosures` (seq is its rowid); every
// kIndexDisclosures rows the audit writer inserts the ones past the mark into the index, sorted
// by survivor, and moves the mark, in the same audit batch. Measured on a copy of the release
// benchmark's store (915,750 rows, 100 survivors): 101 frames for 512 rows, 513 for 4,096. The
// accounting reads the index, then the rows past the mark (a range of rowids). Every row there
// before this step is indexed here; `folded` stays, unused.
Status MigrateDisclosureIndex(sqlite3* db) {
  auto in_main = HasTable(db, "main", "disclosures");
  if (!in_main.ok()) return in_main.status();
  const std::string schema = *in_main ? "main" : "audit";
  const std::string ddl =
      "CREATE TABLE IF NOT EXISTS " + schema + ".disclosure_index(survivor_id TEXT NOT NULL, seq INTEGER NOT NULL,"
      " PRIMARY KEY (survivor_id, seq)) WITHOUT ROWID;"
      "CREATE TABLE IF NOT EXISTS " + schema + ".disclosure_index_mark(id INTEGER PRIMARY KEY CHECK (id = 1),"
      " seq INTEGER NOT NULL);"
      "INSERT OR IGNORE INTO " + schema + ".disclosure_index SELECT survivor_id, seq FROM " + schema +
      ".disclosures ORDER BY survivor_id, seq;"
      "INSERT OR REPLACE INTO " + schema + ".disclosure_index_mark(id, seq) SELECT 1, coalesce(max(seq), 0) FROM " +
      schema + ".disclosures;"
      "DROP INDEX IF EXISTS " + schema + ".disclosures_by_survivor;"
      "DROP INDEX IF EXISTS " + schema + ".disclosures_unfolded;"
      "DROP INDEX IF EXISTS " + schema + ".disclosures_survivor;";
  return Exec(db, ddl.c_str());
}

// Rows a batch of audit entries may leave outside the survivor index before it indexes them.
// More rows a time write fewer pages per row (measured above: 0.20 frames a row at 512 and
// 2,048 rows, 0.12 at 4,096 over 100 survivors) and make that one batch longer.
constexpr int64_t kIndexDisclosures = 4096;

// Creates table `table` and its indexes in schema `to` with the DDL schema `from` has (unless
// there already), then copies every row from `from` into it (rows already there are kept).
Status CopyTable(sqlite3* db, const std::string& from, const std::string& to, const std::string& table) {
  sqlite3_stmt* st = nullptr;
  const std::string q = "SELECT name, sql FROM " + from + ".sqlite_master WHERE tbl_name=? AND sql IS NOT NULL"
                        " ORDER BY type='index', name";
  if (sqlite3_prepare_v2(db, q.c_str(), -1, &st, nullptr) != SQLITE_OK) {
    return Status::Internal(std::string("copy table: ") + sqlite3_errmsg(db));
  }
  sqlite3_bind_text(st, 1, table.c_str(), -1, SQLITE_TRANSIENT);
  std::vector<std::string> ddl;
  while (sqlite3_step(st) == SQLITE_ROW) {
    // SQLite stores "CREATE TABLE name(...)" / "CREATE [UNIQUE] INDEX name ON ...": the first
    // occurrence of the name is the object's own, which gets the target schema.
    const std::string name = reinterpret_cast<const char*>(sqlite3_column_text(st, 0));
    std::string sql = reinterpret_cast<const char*>(sqlite3_column_text(st, 1));
    const size_t at = sql.find(name);
    if (at == std::string::npos) continue;
    sql.insert(at, "IF NOT EXISTS " + to + ".");
    ddl.push_back(std::move(sql));
  }
  sqlite3_finalize(st);
  if (ddl.empty()) return Status::Internal("copy table: no table " + from + "." + table);
  for (const std::string& sql : ddl) TRELLIS_RETURN_IF_ERROR(Exec(db, sql.c_str()));
  const std::string copy = "INSERT OR IGNORE INTO " + to + "." + table + " SELECT * FROM " + from + "." + table;
  return Exec(db, copy.c_str());
}

// True when schemas `a` and `b` hold the same rows in table `table` (compared by rowid, if it
// has one, and every column; one pass, no sort).
Result<bool> SameRows(sqlite3* db, const std::string& a, const std::string& b, const std::string& table) {
  auto without_rowid = QueryInt(db, "SELECT wr FROM pragma_table_list WHERE schema = '" + a + "' AND name = '" +
                                        table + "'");
  if (!without_rowid.ok()) return without_rowid.status();
  sqlite3_stmt* st = nullptr;
  const std::string q = "SELECT name FROM pragma_table_info(?, ?)";
  if (sqlite3_prepare_v2(db, q.c_str(), -1, &st, nullptr) != SQLITE_OK) {
    return Status::Internal(std::string("compare: ") + sqlite3_errmsg(db));
  }
  sqlite3_bind_text(st, 1, table.c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_bind_text(st, 2, a.c_str(), -1, SQLITE_TRANSIENT);
  std::string on = *without_rowid ? "1" : "x.rowid = y.rowid";
  while (sqlite3_step(st) == SQLITE_ROW) {
    const std::string col = reinterpret_cast<const char*>(sqlite3_column_text(st, 0));
    on += " AND x.\"" + col + "\" IS y.\"" + col + "\"";
  }
  sqlite3_finalize(st);
  auto n = QueryInt(db, "SELECT (SELECT count(*) FROM " + a + "." + table + ") = (SELECT count(*) FROM " + b + "." +
                            table + ") AND (SELECT count(*) FROM " + a + "." + table + ") = (SELECT count(*) FROM " +
                            a + "." + table + " x JOIN " + b + "." + table + " y ON " + on + ")");
  if (!n.ok()) return n.status();
  return *n == 1;
}

// Attaches the audit file at `audit_path` as schema `audit` (journal mode, synchronous and
// secure_delete are per schema). The file must exist: ATTACH creates a file only for a
// connection opened with SQLITE_OPEN_CREATE, and only the writer may create it (0600,
// EnsureAuditFile).
Status AttachAudit(sqlite3* db, const std::string& audit_path) {
  sqlite3_stmt* st = nullptr;
  if (sqlite3_prepare_v2(db, "ATTACH DATABASE ? AS audit", -1, &st, nullptr) != SQLITE_OK) {
    return Status::Internal(std::string("attach: ") + sqlite3_errmsg(db));
  }
  sqlite3_bind_text(st, 1, audit_path.c_str(), -1, SQLITE_TRANSIENT);
  const int rc = sqlite3_step(st);
  sqlite3_finalize(st);
  if (rc != SQLITE_DONE) return Status(Code::kFailedPrecondition, "cannot open the audit file at " + audit_path);
  return Exec(db, "PRAGMA audit.journal_mode=WAL; PRAGMA audit.synchronous=FULL; PRAGMA audit.secure_delete=ON;");
}

// Creates the audit file (empty, 0600: an empty file is an empty SQLite database) when it is
// missing, for a store that is new (no `meta` table yet) or still holds its audit tables in the
// main file (an older layout, a restored backup: MoveAuditTables moves them next). A store whose
// main file no longer holds them and whose audit file is missing has lost its audit trail:
// opening it fails rather than start an empty chain that would hide the loss.
Status EnsureAuditFile(sqlite3* db, const std::string& audit_path) {
  if (::access(audit_path.c_str(), F_OK) == 0) return Status::Ok();
  auto has_meta = HasTable(db, "main", "meta");
  if (!has_meta.ok()) return has_meta.status();
  auto has_log = HasTable(db, "main", "audit_log");
  if (!has_log.ok()) return has_log.status();
  if (*has_meta && !*has_log) {
    return Status::DataLoss("the audit file " + audit_path +
                            " is missing (put it back from where it was moved, or run `trellis restore` again if"
                            " a restore was interrupted)");
  }
  const int fd = ::open(audit_path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0 && errno != EEXIST) {
    return Status(Code::kFailedPrecondition, "cannot create the audit file at " + audit_path);
  }
  if (fd >= 0) ::close(fd);
  return Status::Ok();
}

// A connection of the store: its main file with the audit file attached. Only the writer
// (`writer`) creates the audit file.
Result<sqlite3*> OpenStoreConnection(const std::string& path, bool create, bool writer) {
  auto db = OpenConnection(path, create);
  if (!db.ok()) return db.status();
  const std::string audit_path = SqliteAuditPath(path);
  Status st = writer ? EnsureAuditFile(*db, audit_path) : Status::Ok();
  if (st.ok()) st = AttachAudit(*db, audit_path);
  if (!st.ok()) {
    sqlite3_close(*db);
    return st;
  }
  return db;
}

StoredRecord ReadRecord(Stmt& s) {
  // Column order: id kind agency_id survivor_id case_number status version created updated plain sealed team
  StoredRecord r;
  r.id = s.Text(0);
  r.kind = static_cast<RecordKind>(s.Int(1));
  r.agency_id = s.Text(2);
  r.survivor_id = s.Text(3);
  r.case_number = s.Text(4);
  r.status = s.Text(5);
  r.version = s.Int(6);
  r.created_at = s.Int(7);
  r.updated_at = s.Int(8);
  DecodePlain(s.View(9), &r.plain);  // decoded from SQLite's buffer: no copy of the columns
  DecodeSealed(s.View(10), &r.sealed);
  DecodeTeam(s.View(11), &r.team);
  return r;
}

// "a, b" -> "p.a, p.b": a column list qualified with a table alias.
std::string Prefixed(const char* alias, std::string_view cols) {
  std::string out;
  size_t pos = 0;
  while (pos < cols.size()) {
    size_t comma = cols.find(',', pos);
    if (comma == std::string_view::npos) comma = cols.size();
    std::string_view col = cols.substr(pos, comma - pos);
    while (!col.empty() && col.front() == ' ') col.remove_prefix(1);
    out += (out.empty() ? "" : ", ") + std::string(alias) + std::string(col);
    pos = comma + 1;
  }
  return out;
}

constexpr char kRecordCols[] =
    "id, kind, agency_id, survivor_id, case_number, status, version, created_at, updated_at, plain, sealed, team";

// The columns kUserCols from column `at` on.
UserRow ReadUser(Stmt& s, int at = 0) {
  UserRow u;
  u.user.id = s.Text(at + 0);
  u.user.agency_id = s.Text(at + 1);
  u.user.username = s.Text(at + 2);
  u.user.display_name = s.Text(at + 3);
  auto role = domain::ParseRole(s.Text(at + 4));
  u.user.role = role.ok() ? *role : domain::Role::kAuditor;
  u.password_hash = s.Text(at + 5);
  u.user.disabled = s.Int(at + 6) != 0;
  u.failed_logins = s.Int(at + 7);
  u.locked_until = s.Int(at + 8);
  u.created_at = s.Int(at + 9);
  return u;
}
constexpr char kUserCols[] =
    "id, agency_id, username, display_name, role, password_hash, disabled, failed_logins, locked_until, created_at";

// "<head> (?,?,?),(?,?,?)..." with `rows` groups of `cols` parameters.
std::string MultiRowInsert(const std::string& head, size_t cols, size_t rows) {
  std::string group = "(";
  for (size_t c = 0; c < cols; ++c) group += c ? ",?" : "?";
  group += ")";
  std::string sql = head;
  for (size_t r = 0; r < rows; ++r) sql += (r ? "," : "") + group;
  return sql;
}

class SqliteTxn final : public Txn {
 public:
  explicit SqliteTxn(Conn& c) : c_(c) {}
  bool bulk_cache() const { return bulk_cache_; }

  Status PutAgency(const domain::Agency& a, int64_t now) override {
    Stmt s(c_, "INSERT INTO agencies(id, name, kind, created_at) VALUES(?,?,?,?) "
                "ON CONFLICT(id) DO UPDATE SET name=excluded.name, kind=excluded.kind");
    return s.Bind(1, a.id).Bind(2, a.name).Bind(3, domain::AgencyKindName(a.kind)).Bind(4, now).Done("agency");
  }
  Status InsertUser(const UserRow& u) override {
    Stmt s(c_, "INSERT INTO users(id, agency_id, username, display_name, role, password_hash, disabled,"
                " failed_logins, locked_until, created_at) VALUES(?,?,?,?,?,?,?,?,?,?)");
    return s.Bind(1, u.user.id).Bind(2, u.user.agency_id).Bind(3, u.user.username).Bind(4, u.user.display_name)
        .Bind(5, domain::RoleName(u.user.role)).Bind(6, u.password_hash).Bind(7, int64_t{u.user.disabled})
        .Bind(8, u.failed_logins).Bind(9, u.locked_until).Bind(10, u.created_at).Done("user");
  }
  Status UpdateUserLogin(const std::string& id, int64_t failed, int64_t locked_until) override {
    Stmt s(c_, "UPDATE users SET failed_logins=?, locked_until=? WHERE id=?");
    return s.Bind(1, failed).Bind(2, locked_until).Bind(3, id).Done("user");
  }
  // Inside Write()'s BEGIN IMMEDIATE transaction, which no other writer (thread or process) can
  // interleave with until it ends.
  Result<int64_t> IncrementFailedLogins(const std::string& id) override {
    Stmt s(c_, "UPDATE users SET failed_logins = failed_logins + 1 WHERE id=? RETURNING failed_logins");
    const int rc = s.Bind(1, id).Step();
    if (rc == SQLITE_DONE) return Status::NotFound();
    if (rc != SQLITE_ROW) return Status::Internal(std::string("user: ") + sqlite3_errmsg(c_.db));
    const int64_t failures = s.Int(0);
    if (s.Step() != SQLITE_DONE) return Status::Internal(std::string("user: ") + sqlite3_errmsg(c_.db));
    return failures;
  }
  Status RaiseLockedUntil(const std::string& id, int64_t until) override {
    Stmt s(c_, "UPDATE users SET locked_until = max(locked_until, ?) WHERE id=?");
    TRELLIS_RETURN_IF_ERROR(s.Bind(1, until).Bind(2, id).Done("user"));
    return Changed();
  }
  Status SetUserDisabled(const std::string& id, bool disabled) override {
    Stmt s(c_, "UPDATE users SET disabled=? WHERE id=?");
    TRELLIS_RETURN_IF_ERROR(s.Bind(1, int64_t{disabled}).Bind(2, id).Done("user"));
    return Changed();
  }
  Status SetUserPassword(const std::string& id, const std::string& hash) override {
    Stmt s(c_, "UPDATE users SET password_hash=?, failed_logins=0, locked_until=0 WHERE id=?");
    TRELLIS_RETURN_IF_ERROR(s.Bind(1, hash).Bind(2, id).Done("user"));
    return Changed();
  }
  Status InsertSession(const SessionRow& r) override {
    Stmt s(c_, "INSERT INTO sessions(token_hash, user_id, csrf_hash, created_at, last_seen_at, expires_at)"
                " VALUES(?,?,?,?,?,?)");
    return s.BindBlob(1, r.token_hash).Bind(2, r.user_id).BindBlob(3, r.csrf_hash).Bind(4, r.created_at)
        .Bind(5, r.last_seen_at).Bind(6, r.expires_at).Done("session");
  }
  Status TouchSession(const std::string& token_hash, int64_t now) override {
    Stmt s(c_, "UPDATE sessions SET last_seen_at=? WHERE token_hash=?");
    return s.Bind(1, now).BindBlob(2, token_hash).Done("session");
  }
  Status DeleteSession(const std::string& token_hash) override {
    Stmt s(c_, "DELETE FROM sessions WHERE token_hash=?");
    return s.BindBlob(1, token_hash).Done("session");
  }
  Status DeleteUserSessions(const std::string& user_id) override {
    Stmt s(c_, "DELETE FROM sessions WHERE user_id=?");
    return s.Bind(1, user_id).Done("session");
  }
  Status InsertToken(const TokenRow& t) override {
    Stmt s(c_, "INSERT INTO api_tokens(token_hash, id, user_id, name, created_at, expires_at, revoked_at)"
                " VALUES(?,?,?,?,?,?,?)");
    return s.BindBlob(1, t.token_hash).Bind(2, t.id).Bind(3, t.user_id).Bind(4, t.name).Bind(5, t.created_at)
        .Bind(6, t.expires_at).Bind(7, t.revoked_at).Done("token");
  }
  Status RevokeToken(const std::string& id, int64_t now) override {
    Stmt s(c_, "UPDATE api_tokens SET revoked_at=? WHERE id=? AND revoked_at=0");
    TRELLIS_RETURN_IF_ERROR(s.Bind(1, now).Bind(2, id).Done("token"));
    return Changed();
  }
  Status PutDataKey(const DataKeyRow& k) override {
    Stmt s(c_, "INSERT OR REPLACE INTO data_keys(survivor_id, key_version, wrapped) VALUES(?,?,?)");
    return s.Bind(1, k.survivor_id).Bind(2, int64_t{k.key_version}).BindBlob(3, k.wrapped).Done("data key");
  }
  Status DeleteDataKey(const std::string& survivor_id) override {
    Stmt s(c_, "DELETE FROM data_keys WHERE survivor_id=?");
    TRELLIS_RETURN_IF_ERROR(s.Bind(1, survivor_id).Done("data key"));
    return Changed();
  }
  Status InsertRecord(const StoredRecord& r) override {
    Stmt s(c_, "INSERT INTO records(id, kind, agency_id, survivor_id, case_number, status, version, created_at,"
                " updated_at, plain, sealed, team) VALUES(?,?,?,?,?,?,?,?,?,?,?,?)");
    return BindRecord(s, r).Done("record");
  }
  // Up to kBulkRows rows per INSERT statement (12 columns x 64 rows stay far below SQLite's
  // 32,766 parameters), prepared once per connection, values bound without copying.
  static constexpr size_t kBulkRows = 64;
  Status InsertBulk(std::span<const DataKeyRow> keys, std::span<const EncodedRecord> records) override {
    if (!bulk_cache_) {
      TRELLIS_RETURN_IF_ERROR(SetCacheKiB(c_.db, kBulkCacheKiB));
      bulk_cache_ = true;  // Write() restores kCacheKiB after the transaction
    }
    for (size_t at = 0; at < keys.size(); at += kBulkRows) {
      const size_t n = std::min(kBulkRows, keys.size() - at);
      Stmt s(c_, MultiRowInsert("INSERT INTO data_keys(survivor_id, key_version, wrapped) VALUES", 3, n));
      for (size_t i = 0; i < n; ++i) {
        const DataKeyRow& k = keys[at + i];
        const int b = static_cast<int>(3 * i);
        s.BindStatic(b + 1, k.survivor_id).Bind(b + 2, int64_t{k.key_version}).BindBlobStatic(b + 3, k.wrapped);
      }
      TRELLIS_RETURN_IF_ERROR(s.Done("data key"));
    }
    for (size_t at = 0; at < records.size(); at += kBulkRows) {
      const size_t n = std::min(kBulkRows, records.size() - at);
      Stmt s(c_, MultiRowInsert(std::string("INSERT INTO records(") + kRecordCols + ") VALUES", 12, n));
      for (size_t i = 0; i < n; ++i) {
        const EncodedRecord& r = records[at + i];
        const int b = static_cast<int>(12 * i);
        s.BindStatic(b + 1, r.id).Bind(b + 2, static_cast<int64_t>(r.kind)).BindStatic(b + 3, r.agency_id)
            .BindStatic(b + 4, r.survivor_id).BindStatic(b + 5, r.case_number).BindStatic(b + 6, r.status)
            .Bind(b + 7, r.version).Bind(b + 8, r.created_at).Bind(b + 9, r.updated_at).BindStatic(b + 10, r.plain)
            .BindBlobStatic(b + 11, r.sealed).BindStatic(b + 12, r.team);
      }
      TRELLIS_RETURN_IF_ERROR(s.Done("record"));
    }
    return Status::Ok();
  }
  Status UpdateRecord(const StoredRecord& r, int64_t expected_version) override {
    Stmt s(c_, "UPDATE records SET id=?1, kind=?2, agency_id=?3, survivor_id=?4, case_number=?5, status=?6,"
                " version=?7, created_at=?8, updated_at=?9, plain=?10, sealed=?11, team=?12"
                " WHERE id=?1 AND version=?13");
    TRELLIS_RETURN_IF_ERROR(BindRecord(s, r).Bind(13, expected_version).Done("record"));
    if (sqlite3_changes(c_.db) == 1) return Status::Ok();
    Stmt probe(c_, "SELECT 1 FROM records WHERE id=?");
    probe.Bind(1, r.id);
    if (probe.Step() == SQLITE_ROW) return Status::Conflict("the record was changed by someone else; reload it");
    return Status::NotFound();
  }
  Status DeleteSurvivorRecords(const std::string& survivor_id) override {
    {
      Stmt e(c_, "DELETE FROM evidence WHERE survivor_id=?");
      TRELLIS_RETURN_IF_ERROR(e.Bind(1, survivor_id).Done("evidence"));
    }
    Stmt s(c_, "DELETE FROM records WHERE survivor_id=?");
    return s.Bind(1, survivor_id).Done("record");
  }
  Status SetMeta(const std::string& key, const std::string& value) override {
    Stmt s(c_, "INSERT OR REPLACE INTO meta(key, value) VALUES(?,?)");
    return s.Bind(1, key).BindBlob(2, value).Done("meta");
  }
  Status ImportRow(const TableRow& row) override {
    const TableSpec& t = *row.table;
    if (row.cells.size() != t.columns.size()) return Status::Internal("import: wrong number of cells");
    std::string cols, marks;
    for (size_t i = 0; i < t.columns.size(); ++i) {
      cols += (i ? ", " : "") + std::string(t.columns[i].name);
      marks += i ? ",?" : "?";
    }
    Stmt s(c_, "INSERT INTO " + std::string(t.name) + "(" + cols + ") VALUES(" + marks + ")");
    for (size_t i = 0; i < t.columns.size(); ++i) {
      const int at = static_cast<int>(i + 1);
      if (const int64_t* v = std::get_if<int64_t>(&row.cells[i])) {
        s.Bind(at, *v);
      } else if (t.columns[i].kind == ColumnKind::kBlob) {
        s.BindBlob(at, std::get<std::string>(row.cells[i]));
      } else {
        s.Bind(at, std::get<std::string>(row.cells[i]));
      }
    }
    // Disclosures land past the mark of the survivor index, listed from there meanwhile: the
    // next open of the store indexes them in bulk when there are kIndexDisclosures or more
    // (PrepareDisclosureIndex), the audit writer with the next ones otherwise.
    return s.Done(t.name);
  }
  Status InsertGrant(const GrantRow& g) override {
    Stmt s(c_, std::string("INSERT INTO grants(") + kGrantCols + ") VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)");
    return s.Bind(1, g.id).Bind(2, g.kind).Bind(3, g.survivor_id).Bind(4, g.owner_agency_id)
        .Bind(5, g.recipient_agency_id).Bind(6, g.recipient_user_id).Bind(7, g.categories).Bind(8, g.purpose)
        .Bind(9, g.language).Bind(10, g.effective_at).Bind(11, g.expires_at).Bind(12, g.created_at)
        .Bind(13, g.created_by).Bind(14, g.revoked_at).Bind(15, g.revoked_by).Bind(16, g.revoke_reason)
        .Bind(17, g.task_done_at).BindBlob(18, g.sealed).Bind(19, g.evidence_ids).Done("grant");
  }
  Status UpdateGrant(const GrantRow& g) override {
    Stmt s(c_, "UPDATE grants SET revoked_at=?, revoked_by=?, revoke_reason=?, task_done_at=? WHERE id=?");
    TRELLIS_RETURN_IF_ERROR(s.Bind(1, g.revoked_at).Bind(2, g.revoked_by).Bind(3, g.revoke_reason)
                                .Bind(4, g.task_done_at).Bind(5, g.id).Done("grant"));
    return Changed();
  }
  Status InsertDisclosure(const DisclosureRow& d) override {
    // Past the mark: indexed with the next ones in bulk (MigrateDisclosureIndex, AppendAudit).
    Stmt s(c_, "INSERT INTO audit.disclosures(survivor_id, record_id, at, actor_user_id, actor_agency_id, action,"
                " categories, basis, grant_ids, request_id) VALUES(?,?,?,?,?,?,?,?,?,?)");
    return s.Bind(1, d.survivor_id).Bind(2, d.record_id).Bind(3, d.at).Bind(4, d.actor_user_id)
        .Bind(5, d.actor_agency_id).Bind(6, d.action).Bind(7, d.categories).Bind(8, d.basis).Bind(9, d.grant_ids)
        .Bind(10, d.request_id).Done("disclosure");
  }
  Status InsertEvidence(const EvidenceRow& e) override {
    Stmt s(c_, std::string("INSERT INTO evidence(") + kEvidenceCols + ", content) VALUES(?,?,?,?,?,?,?,?,?,?,?,?)");
    return s.Bind(1, e.id).Bind(2, e.survivor_id).Bind(3, e.case_id).Bind(4, e.agency_id).Bind(5, e.kind)
        .Bind(6, e.grant_id).Bind(7, e.content_type).Bind(8, e.size).Bind(9, e.created_at).Bind(10, e.created_by)
        .BindBlob(11, e.sealed).BindBlob(12, e.content).Done("evidence");
  }
  Status SetEvidenceContent(const EvidenceRow& e) override {
    Stmt s(c_, "UPDATE evidence SET content_type=?, size=?, sealed=?, content=? WHERE id=? AND size=0");
    TRELLIS_RETURN_IF_ERROR(s.Bind(1, e.content_type).Bind(2, e.size).BindBlob(3, e.sealed).BindBlob(4, e.content)
                                .Bind(5, e.id).Done("evidence"));
    if (sqlite3_changes(c_.db) == 1) return Status::Ok();
    Stmt probe(c_, "SELECT 1 FROM evidence WHERE id=?");
    probe.Bind(1, e.id);
    if (probe.Step() == SQLITE_ROW) return Status::Conflict("this item already has a file");
    return Status::NotFound();
  }

 private:
  Status Changed() { return sqlite3_changes(c_.db) > 0 ? Status::Ok() : Status::NotFound(); }

 public:
  Status PutSecondFactor(const SecondFactorRow& r) override {
    Stmt s(c_, std::string("INSERT OR REPLACE INTO second_factors(") + kSecondFactorCols + ") VALUES(?,?,?,?,?,?,?,?,?)");
    return BindSecondFactor(s, r).Done("second factor");
  }
  Status UpdateSecondFactor(const SecondFactorRow& r, int64_t expected_version) override {
    Stmt s(c_, "UPDATE second_factors SET state=?2, secret_sealed=?3, key_version=?4, last_step=?5,"
                " recovery_hashes=?6, version=?7, created_at=?8, updated_at=?9 WHERE user_id=?1 AND version=?10");
    TRELLIS_RETURN_IF_ERROR(BindSecondFactor(s, r).Bind(10, expected_version).Done("second factor"));
    if (sqlite3_changes(c_.db) > 0) return Status::Ok();
    Stmt e(c_, "SELECT 1 FROM second_factors WHERE user_id=?");
    e.Bind(1, r.user_id);
    return e.Step() == SQLITE_ROW ? Status::Conflict("the second factor changed") : Status::NotFound();
  }
  Status DeleteSecondFactor(const std::string& user_id) override {
    Stmt s(c_, "DELETE FROM second_factors WHERE user_id=?");
    return s.Bind(1, user_id).Done("second factor");
  }

 private:
  Stmt& BindSecondFactor(Stmt& s, const SecondFactorRow& r) {
    return s.Bind(1, r.user_id).Bind(2, r.state).BindBlob(3, r.secret_sealed).Bind(4, r.key_version)
        .Bind(5, r.last_step).Bind(6, r.recovery_hashes).Bind(7, r.version).Bind(8, r.created_at)
        .Bind(9, r.updated_at);
  }
  Stmt& BindRecord(Stmt& s, const StoredRecord& r) {
    return s.Bind(1, r.id).Bind(2, static_cast<int64_t>(r.kind)).Bind(3, r.agency_id).Bind(4, r.survivor_id)
        .Bind(5, r.case_number).Bind(6, r.status).Bind(7, r.version).Bind(8, r.created_at).Bind(9, r.updated_at)
        .Bind(10, EncodePlain(r.plain)).BindBlob(11, EncodeSealed(r.sealed)).Bind(12, EncodeTeam(r.team));
  }
  Conn& c_;
  bool bulk_cache_ = false;  // InsertBulk raised the page cache
};

// Runs `fn` in a write transaction of connection `db` (BEGIN IMMEDIATE), committed when it
// succeeds, rolled back otherwise.
Status InWriteTxn(sqlite3* db, const std::function<Status()>& fn) {
  TRELLIS_RETURN_IF_ERROR(Exec(db, "BEGIN IMMEDIATE"));
  Status st = fn();
  if (!st.ok()) {
    (void)Exec(db, "ROLLBACK");
    return st;
  }
  return Exec(db, "COMMIT");
}

// Inserts every disclosure row past the mark into the survivor index, sorted by survivor, and
// moves the mark to the last row; rows another process added are included. In the caller's
// write transaction: no row can come between the two statements.
Status IndexDisclosures(Conn& c) {
  TRELLIS_RETURN_IF_ERROR(Stmt(c, "INSERT INTO audit.disclosure_index SELECT survivor_id, seq FROM audit.disclosures"
                                  " WHERE seq > (SELECT seq FROM audit.disclosure_index_mark) ORDER BY survivor_id, seq")
                              .Done("disclosure index"));
  return Stmt(c, "UPDATE audit.disclosure_index_mark SET seq = (SELECT max(seq) FROM audit.disclosures)")
      .Done("disclosure index");
}

class SqliteStore;

// The reader connection a thread's ReadPin holds, with its open read transaction (if a read has
// begun one since the pin was made or the thread last wrote).
struct PinnedReader {
  const SqliteStore* store = nullptr;
  std::unique_ptr<Conn> conn;
  bool in_txn = false;
  bool in_use = false;  // a read is running on it: a nested read takes its own connection
};
thread_local PinnedReader* tls_pinned = nullptr;

class SqliteStore final : public CaseStore {
 public:
  SqliteStore(std::string path, sqlite3* writer, int readers)
      : path_(std::move(path)), writer_(std::make_unique<Conn>(writer)), max_readers_(readers) {}

  Status Migrate() {
    std::lock_guard lock(write_mu_);
    TRELLIS_RETURN_IF_ERROR(Exec(writer_->db, "CREATE TABLE IF NOT EXISTS schema_version(version INTEGER NOT NULL)"));
    int64_t version = 0;
    {
      Stmt s(*writer_, "SELECT max(version) FROM schema_version");
      if (s.Step() == SQLITE_ROW) version = s.Int(0);
    }
    const int64_t latest = static_cast<int64_t>(std::size(kMigrations));
    if (version > latest) return Status(Code::kFailedPrecondition, "the store is newer than this trellis binary");
    // A step in SQL writes the main file only and commits with its version. A step in code may
    // write the audit file (where the disclosure tables live once moved): it commits first, its
    // version after it, in a transaction of its own — a transaction writes one file, never
    // both (a crash between two files' commits could otherwise record a step whose changes were
    // lost). Code steps are idempotent: after a crash between the two, the next open runs it again.
    auto record = [&](int64_t step) {
      Stmt s(*writer_, "INSERT INTO schema_version(version) VALUES(?)");
      return s.Bind(1, step).Done("schema");
    };
    for (int64_t v = version; v < latest; ++v) {
      const int64_t step = v + 1;
      if (kMigrations[v] != nullptr) {
        TRELLIS_RETURN_IF_ERROR(InWriteTxn(writer_->db, [&] {
          TRELLIS_RETURN_IF_ERROR(Exec(writer_->db, kMigrations[v]));
          return record(step);
        }));
        continue;
      }
      TRELLIS_RETURN_IF_ERROR(InWriteTxn(writer_->db, [&]() -> Status {
        switch (step) {
          case 5: return MigrateFoldedDisclosures(writer_->db);
          case 6: return MigrateDisclosureIndex(writer_->db);
          default: return Status::Internal("schema step " + std::to_string(step) + " has no code");
        }
      }));
      TRELLIS_RETURN_IF_ERROR(InWriteTxn(writer_->db, [&] { return record(step); }));
    }
    return Status::Ok();
  }

  // SQLite learns the size of a WAL-mode database from the WAL header in the shared memory
  // index; while the WAL holds no frame written since that index was built — a store just
  // opened and not written since, as a read-mostly store after a restart — every read
  // transaction asks the file system instead (an fstat per read, a system call on every
  // request). Rewriting the header page once (the same user_version) puts the size there for
  // every connection of every process until the last one closes. Only an optimisation: a
  // failure (another process writing, a read-only file) is ignored.
  void RecordSizeInWal() {
    struct stat st {};
    if (::stat((path_ + "-wal").c_str(), &st) == 0 && st.st_size > 0) return;
    std::lock_guard lock(write_mu_);
    auto v = QueryInt(writer_->db, "PRAGMA main.user_version");
    if (v.ok()) (void)Exec(writer_->db, ("PRAGMA main.user_version=" + std::to_string(*v)).c_str());
  }

  // At open, after MoveAuditTables: the survivor index of disclosures is derived, so a missing
  // index or a missing or empty mark (a damaged file, or a step-6 migration of an older binary
  // that recorded its version and lost the audit file's half in a crash) is rebuilt rather than
  // fail or hide rows.
  // Then counts the rows past the mark, and indexes them now when there are kIndexDisclosures
  // or more (rows a copy into this store brought, migrate-store or a PostgreSQL backup; rows
  // another process left): the server's first audit batches need not do it.
  Status PrepareDisclosureIndex() {
    std::lock_guard lock(write_mu_);
    sqlite3* db = writer_->db;
    // One row of mark, and an index table to read (an error when either table is gone).
    auto marks = QueryInt(db, "SELECT (SELECT count(*) FROM audit.disclosure_index_mark)"
                              " + (SELECT count(*) FROM audit.disclosure_index WHERE 0)");
    if (!marks.ok() || *marks != 1) TRELLIS_RETURN_IF_ERROR(InWriteTxn(db, [db] { return MigrateDisclosureIndex(db); }));
    auto n = QueryInt(db, "SELECT count(*) FROM audit.disclosures"
                          " WHERE seq > (SELECT seq FROM audit.disclosure_index_mark)");
    if (!n.ok()) return n.status();
    unindexed_disclosures_ = *n;
    if (unindexed_disclosures_ < kIndexDisclosures) return Status::Ok();
    TRELLIS_RETURN_IF_ERROR(InWriteTxn(db, [this] { return IndexDisclosures(*writer_); }));
    unindexed_disclosures_ = 0;
    return Status::Ok();
  }

  // Moves the audit tables from the main file into the audit file where the main file still
  // holds them (a store of the one-file layout, a restored backup, a new store after its
  // migrations). Two transactions that each write one file: copy into the audit file, then
  // drop from the main file. After a crash between them the next open copies again (rows
  // already there are kept) and drops. The audit file must then hold exactly the main file's
  // rows: anything else means it belongs to another history, and the open fails.
  Status MoveAuditTables() {
    std::lock_guard lock(write_mu_);
    sqlite3* db = writer_->db;
    bool any = false;
    for (const char* t : kAuditTables) {
      auto has = HasTable(db, "main", t);
      if (!has.ok()) return has.status();
      any = any || *has;
    }
    if (!any) return Status::Ok();
    for (const bool drop : {false, true}) {
      TRELLIS_RETURN_IF_ERROR(InWriteTxn(db, [&]() -> Status {
        for (const char* t : kAuditTables) {
          auto has = HasTable(db, "main", t);
          if (!has.ok()) return has.status();
          if (!*has) continue;
          if (drop) {
            TRELLIS_RETURN_IF_ERROR(Exec(db, (std::string("DROP TABLE main.") + t).c_str()));
            continue;
          }
          TRELLIS_RETURN_IF_ERROR(CopyTable(db, "main", "audit", t));
          auto same = SameRows(db, "main", "audit", t);
          if (!same.ok()) return same.status();
          if (!*same) {
            return Status::DataLoss(std::string("the audit file ") + SqliteAuditPath(path_) + " holds other rows of " +
                                    t + " than the store: it belongs to another store or history");
          }
        }
        return Status::Ok();
      }));
    }
    return Status::Ok();
  }

  Status Write(const std::function<Status(Txn&)>& fn) override {
    std::lock_guard lock(write_mu_);
    // Prepared once (cached on the connection): sqlite3_exec would parse them on every commit.
    auto run = [this](const char* sql) { return Stmt(*writer_, sql).Done(sql); };
    TRELLIS_RETURN_IF_ERROR(run("BEGIN IMMEDIATE"));
    SqliteTxn txn(*writer_);
    Status st = fn(txn);
    if (!st.ok()) {
      (void)run("ROLLBACK");
    } else {
      st = run("COMMIT");
      if (!st.ok()) (void)run("ROLLBACK");
    }
    if (txn.bulk_cache()) (void)SetCacheKiB(writer_->db, kCacheKiB);  // frees the extra pages
    EndPinnedSnapshot();  // this thread's next read sees what it wrote
    return st;
  }

  std::unique_ptr<ReadPin> PinReads() override {
    if (tls_pinned != nullptr) return nullptr;  // one per thread: the outer pin goes on
    auto conn = TakeReader();
    if (!conn.ok()) return nullptr;  // reads then open their own connections and snapshots
    return std::make_unique<Pin>(*this, std::move(*conn));
  }

  Result<domain::Agency> GetAgency(const std::string& id) override {
    return WithReader<domain::Agency>([&](Conn& db) -> Result<domain::Agency> {
      Stmt s(db, "SELECT id, name, kind FROM agencies WHERE id=?");
      s.Bind(1, id);
      if (s.Step() != SQLITE_ROW) return Status::NotFound();
      return ReadAgency(s);
    });
  }
  Result<std::vector<domain::Agency>> ListAgencies() override {
    return WithReader<std::vector<domain::Agency>>([&](Conn& db) -> Result<std::vector<domain::Agency>> {
      Stmt s(db, "SELECT id, name, kind FROM agencies ORDER BY name, id");
      std::vector<domain::Agency> out;
      while (s.Step() == SQLITE_ROW) out.push_back(ReadAgency(s));
      return out;
    });
  }
  Result<UserRow> GetUserById(const std::string& id) override { return GetUser("id", id); }
  Result<UserRow> GetUserByName(const std::string& name) override { return GetUser("username", name); }
  Result<std::vector<UserRow>> ListUsers(const std::string& agency_id) override {
    return WithReader<std::vector<UserRow>>([&](Conn& db) -> Result<std::vector<UserRow>> {
      std::string sql = std::string("SELECT ") + kUserCols + " FROM users WHERE agency_id=? ORDER BY username";
      Stmt s(db, sql);
      s.Bind(1, agency_id);
      std::vector<UserRow> out;
      while (s.Step() == SQLITE_ROW) out.push_back(ReadUser(s));
      return out;
    });
  }
  Result<SessionRow> GetSession(const std::string& token_hash) override {
    return WithReader<SessionRow>([&](Conn& db) -> Result<SessionRow> {
      Stmt s(db, "SELECT token_hash, user_id, csrf_hash, created_at, last_seen_at, expires_at FROM sessions"
                 " WHERE token_hash=?");
      s.BindBlob(1, token_hash);
      if (s.Step() != SQLITE_ROW) return Status::NotFound();
      return SessionRow{s.Text(0), s.Text(1), s.Text(2), s.Int(3), s.Int(4), s.Int(5)};
    });
  }
  Result<TokenRow> GetToken(const std::string& token_hash) override {
    return WithReader<TokenRow>([&](Conn& db) -> Result<TokenRow> {
      Stmt s(db, "SELECT id, token_hash, user_id, name, created_at, expires_at, revoked_at FROM api_tokens"
                 " WHERE token_hash=?");
      s.BindBlob(1, token_hash);
      if (s.Step() != SQLITE_ROW) return Status::NotFound();
      return TokenRow{s.Text(0), s.Text(1), s.Text(2), s.Text(3), s.Int(4), s.Int(5), s.Int(6)};
    });
  }
  // One statement each: one read transaction, one pool checkout.
  Result<std::pair<SessionRow, UserRow>> GetSessionWithUser(const std::string& token_hash) override {
    return WithReader<std::pair<SessionRow, UserRow>>([&](Conn& db) -> Result<std::pair<SessionRow, UserRow>> {
      static const std::string sql =
          std::string("SELECT s.token_hash, s.user_id, s.csrf_hash, s.created_at, s.last_seen_at, s.expires_at, ") +
          Prefixed("u.", kUserCols) + " FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.token_hash=?";
      return CachedRow<std::pair<SessionRow, UserRow>>(
          db, db.session_rows, token_hash, [&]() -> Result<std::pair<SessionRow, UserRow>> {
            Stmt s(db, sql);
            s.BindBlob(1, token_hash);
            if (s.Step() != SQLITE_ROW) return Status::NotFound();
            return std::make_pair(SessionRow{s.Text(0), s.Text(1), s.Text(2), s.Int(3), s.Int(4), s.Int(5)},
                                  ReadUser(s, 6));
          });
    });
  }
  Result<std::pair<TokenRow, UserRow>> GetTokenWithUser(const std::string& token_hash) override {
    return WithReader<std::pair<TokenRow, UserRow>>([&](Conn& db) -> Result<std::pair<TokenRow, UserRow>> {
      static const std::string sql =
          std::string("SELECT t.id, t.token_hash, t.user_id, t.name, t.created_at, t.expires_at, t.revoked_at, ") +
          Prefixed("u.", kUserCols) + " FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE t.token_hash=?";
      return CachedRow<std::pair<TokenRow, UserRow>>(
          db, db.token_rows, token_hash, [&]() -> Result<std::pair<TokenRow, UserRow>> {
            Stmt s(db, sql);
            s.BindBlob(1, token_hash);
            if (s.Step() != SQLITE_ROW) return Status::NotFound();
            return std::make_pair(TokenRow{s.Text(0), s.Text(1), s.Text(2), s.Text(3), s.Int(4), s.Int(5), s.Int(6)},
                                  ReadUser(s, 7));
          });
    });
  }
  Result<RecordRead> GetRecordForRead(RecordKind kind, const std::string& id) override {
    return WithReader<RecordRead>([&](Conn& db) -> Result<RecordRead> {
      // One row per grant on the survivor (or one row with NULL grant columns).
      static const std::string sql = std::string("SELECT ") + Prefixed("r.", kRecordCols) +
                                     ", k.survivor_id, k.wrapped, k.key_version, " + Prefixed("g.", kGrantCols) +
                                     " FROM records r LEFT JOIN data_keys k ON k.survivor_id = r.survivor_id"
                                     " LEFT JOIN grants g ON g.survivor_id = r.survivor_id"
                                     " WHERE r.id=? AND r.kind=?";
      constexpr int kKey = 12, kGrant = 15;
      Stmt s(db, sql);
      s.Bind(1, id).Bind(2, static_cast<int64_t>(kind));
      if (s.Step() != SQLITE_ROW) return Status::NotFound();
      RecordRead out;
      out.record = ReadRecord(s);
      if (!s.Null(kKey)) out.key = DataKeyRow{s.Text(kKey), s.Text(kKey + 1), static_cast<uint32_t>(s.Int(kKey + 2))};
      do {
        if (!s.Null(kGrant)) out.grants.push_back(ReadGrant(s, kGrant));
      } while (s.Step() == SQLITE_ROW);
      // Newest first, at most 1000 (as ListGrants). Sorted here, not by ORDER BY: SQLite would
      // build a temporary B-tree for every read of a record (an eighth of a GET's CPU).
      std::sort(out.grants.begin(), out.grants.end(), [](const GrantRow& a, const GrantRow& b) {
        return a.created_at != b.created_at ? a.created_at > b.created_at : a.id < b.id;
      });
      if (out.grants.size() > 1000) out.grants.resize(1000);
      return out;
    });
  }
  Result<DataKeyRow> GetDataKey(const std::string& survivor_id) override {
    return WithReader<DataKeyRow>([&](Conn& db) -> Result<DataKeyRow> {
      Stmt s(db, "SELECT survivor_id, wrapped, key_version FROM data_keys WHERE survivor_id=?");
      s.Bind(1, survivor_id);
      if (s.Step() != SQLITE_ROW) return Status::NotFound();
      return DataKeyRow{s.Text(0), s.Text(1), static_cast<uint32_t>(s.Int(2))};
    });
  }
  Status ForEachDataKey(const std::function<Status(const DataKeyRow&)>& fn) override {
    auto r = WithReader<int>([&](Conn& db) -> Result<int> {
      Stmt s(db, "SELECT survivor_id, wrapped, key_version FROM data_keys ORDER BY survivor_id");
      while (s.Step() == SQLITE_ROW) {
        TRELLIS_RETURN_IF_ERROR(fn(DataKeyRow{s.Text(0), s.Text(1), static_cast<uint32_t>(s.Int(2))}));
      }
      return 0;
    });
    return r.status();
  }
  Result<StoredRecord> GetRecord(RecordKind kind, const std::string& id) override {
    return WithReader<StoredRecord>([&](Conn& db) -> Result<StoredRecord> {
      static const std::string sql = std::string("SELECT ") + kRecordCols + " FROM records WHERE id=? AND kind=?";
      Stmt s(db, sql);
      s.Bind(1, id).Bind(2, static_cast<int64_t>(kind));
      if (s.Step() != SQLITE_ROW) return Status::NotFound();
      return ReadRecord(s);
    });
  }
  Result<std::vector<StoredRecord>> ListRecords(const ListQuery& q) override {
    return WithReader<std::vector<StoredRecord>>([&](Conn& db) -> Result<std::vector<StoredRecord>> {
      std::vector<StoredRecord> out;
      if (q.agency_ids.empty() && q.survivor_ids.empty()) return out;
      const int first_survivor = 10 + static_cast<int>(q.agency_ids.size());
      std::string sql = std::string("SELECT ") + kRecordCols + " FROM records WHERE kind=?1 AND (agency_id IN (";
      for (size_t i = 0; i < q.agency_ids.size(); ++i) sql += (i ? ",?" : "?") + std::to_string(10 + i);
      sql += ")";
      if (!q.survivor_ids.empty()) {
        sql += " OR survivor_id IN (";
        for (size_t i = 0; i < q.survivor_ids.size(); ++i) sql += (i ? ",?" : "?") + std::to_string(first_survivor + i);
        sql += ")";
      }
      sql += ") AND (created_at > ?2 OR (created_at = ?2 AND id > ?3)) AND updated_at >= ?4";
      if (q.survivor_id) sql += " AND survivor_id = ?5";
      if (q.status) sql += " AND status = ?6";
      if (q.team_member) sql += " AND instr(team, ?7) > 0";
      sql += " ORDER BY created_at, id LIMIT ?8";
      Stmt s(db, sql);
      if (!s.ok()) return Status::Internal("list query failed to prepare");
      s.Bind(1, static_cast<int64_t>(q.kind)).Bind(2, q.after_created).Bind(3, q.after_id).Bind(4, q.updated_since);
      if (q.survivor_id) s.Bind(5, *q.survivor_id);
      if (q.status) s.Bind(6, *q.status);
      if (q.team_member) s.Bind(7, "\"" + *q.team_member + "\"");
      s.Bind(8, static_cast<int64_t>(q.limit));
      for (size_t i = 0; i < q.agency_ids.size(); ++i) s.Bind(static_cast<int>(10 + i), q.agency_ids[i]);
      for (size_t i = 0; i < q.survivor_ids.size(); ++i) s.Bind(static_cast<int>(first_survivor + i), q.survivor_ids[i]);
      while (s.Step() == SQLITE_ROW) out.push_back(ReadRecord(s));
      return out;
    });
  }
  Result<int64_t> CountRecords(RecordKind kind, const std::vector<std::string>& agency_ids) override {
    return WithReader<int64_t>([&](Conn& db) -> Result<int64_t> {
      int64_t total = 0;
      for (const auto& a : agency_ids) {
        Stmt s(db, "SELECT count(*) FROM records WHERE kind=? AND agency_id=?");
        s.Bind(1, static_cast<int64_t>(kind)).Bind(2, a);
        if (s.Step() == SQLITE_ROW) total += s.Int(0);
      }
      return total;
    });
  }
  Result<std::optional<std::string>> GetMeta(const std::string& key) override {
    return WithReader<std::optional<std::string>>([&](Conn& db) -> Result<std::optional<std::string>> {
      Stmt s(db, "SELECT value FROM meta WHERE key=?");
      s.Bind(1, key);
      if (s.Step() != SQLITE_ROW) return std::optional<std::string>();
      return std::optional<std::string>(s.Text(0));
    });
  }

  Result<SecondFactorRow> GetSecondFactor(const std::string& user_id) override {
    return WithReader<SecondFactorRow>([&](Conn& db) -> Result<SecondFactorRow> {
      Stmt s(db, std::string("SELECT ") + kSecondFactorCols + " FROM second_factors WHERE user_id=?");
      s.Bind(1, user_id);
      if (s.Step() != SQLITE_ROW) return Status::NotFound();
      return ReadSecondFactor(s);
    });
  }
  Result<std::vector<SecondFactorRow>> ListSecondFactors() override {
    return WithReader<std::vector<SecondFactorRow>>([&](Conn& db) -> Result<std::vector<SecondFactorRow>> {
      Stmt s(db, std::string("SELECT ") + kSecondFactorCols + " FROM second_factors ORDER BY user_id");
      std::vector<SecondFactorRow> out;
      while (s.Step() == SQLITE_ROW) out.push_back(ReadSecondFactor(s));
      return out;
    });
  }
  static SecondFactorRow ReadSecondFactor(Stmt& s) {
    return {s.Text(0), s.Text(1), s.Text(2), s.Int(3), s.Int(4), s.Text(5), s.Int(6), s.Int(7), s.Int(8)};
  }

  Result<GrantRow> GetGrant(const std::string& id) override {
    return WithReader<GrantRow>([&](Conn& db) -> Result<GrantRow> {
      Stmt s(db, std::string("SELECT ") + kGrantCols + " FROM grants WHERE id=?");
      s.Bind(1, id);
      if (s.Step() != SQLITE_ROW) return Status::NotFound();
      return ReadGrant(s);
    });
  }
  Result<std::vector<GrantRow>> ListGrants(const GrantQuery& q) override {
    return WithReader<std::vector<GrantRow>>([&](Conn& db) -> Result<std::vector<GrantRow>> {
      std::string sql = std::string("SELECT ") + kGrantCols + " FROM grants WHERE 1=1";
      if (q.survivor_id) sql += " AND survivor_id=?1";
      if (q.recipient_agency_id) sql += " AND recipient_agency_id=?2";
      if (q.owner_agency_id) sql += " AND owner_agency_id=?3";
      if (q.kind) sql += " AND kind=?4";
      if (q.in_force_at > 0) sql += " AND revoked_at=0 AND effective_at<=?5 AND expires_at>?5";
      sql += " ORDER BY created_at DESC, id LIMIT ?6";
      Stmt s(db, sql);
      if (!s.ok()) return Status::Internal("grant query failed to prepare");
      if (q.survivor_id) s.Bind(1, *q.survivor_id);
      if (q.recipient_agency_id) s.Bind(2, *q.recipient_agency_id);
      if (q.owner_agency_id) s.Bind(3, *q.owner_agency_id);
      if (q.kind) s.Bind(4, *q.kind);
      if (q.in_force_at > 0) s.Bind(5, q.in_force_at);
      s.Bind(6, static_cast<int64_t>(q.limit));
      std::vector<GrantRow> out;
      while (s.Step() == SQLITE_ROW) out.push_back(ReadGrant(s));
      return out;
    });
  }
  Result<std::vector<DisclosureRow>> ListDisclosures(const std::string& survivor_id) override {
    return WithReader<std::vector<DisclosureRow>>([&](Conn& db) -> Result<std::vector<DisclosureRow>> {
      // The indexed rows through the survivor index, then the few past its mark (a range of
      // rowids at the end of the table). One read transaction: the mark and the index agree.
      // Both parts come in seq order (the index's, the rowids'): SQLite merges them, no sort.
      static const std::string rest =
          " d.record_id, d.at, d.actor_user_id, d.actor_agency_id, d.action, d.categories, d.basis, d.grant_ids,"
          " d.request_id";
      Stmt s(db, "SELECT i.seq, i.survivor_id," + rest +
                     " FROM audit.disclosure_index i JOIN audit.disclosures d ON d.seq = i.seq WHERE i.survivor_id=?1"
                     " UNION ALL SELECT d.seq, d.survivor_id," + rest + " FROM audit.disclosures d"
                     " WHERE d.seq > (SELECT seq FROM audit.disclosure_index_mark) AND d.survivor_id=?1 ORDER BY 1");
      s.Bind(1, survivor_id);
      std::vector<DisclosureRow> out;
      while (s.Step() == SQLITE_ROW) {
        out.push_back({s.Int(0), s.Text(1), s.Text(2), s.Int(3), s.Text(4), s.Text(5), s.Text(6), s.Text(7),
                       s.Text(8), s.Text(9), s.Text(10)});
      }
      return out;
    });
  }

  Result<EvidenceRow> GetEvidence(const std::string& id, bool with_content) override {
    return WithReader<EvidenceRow>([&](Conn& db) -> Result<EvidenceRow> {
      Stmt s(db, std::string("SELECT ") + kEvidenceCols + (with_content ? ", content" : "") + " FROM evidence WHERE id=?");
      s.Bind(1, id);
      if (s.Step() != SQLITE_ROW) return Status::NotFound();
      EvidenceRow e = ReadEvidence(s);
      if (with_content) e.content = s.Text(11);
      return e;
    });
  }
  Result<std::vector<EvidenceRow>> ListEvidence(const std::string& survivor_id) override {
    return WithReader<std::vector<EvidenceRow>>([&](Conn& db) -> Result<std::vector<EvidenceRow>> {
      Stmt s(db, std::string("SELECT ") + kEvidenceCols + " FROM evidence WHERE survivor_id=? ORDER BY created_at, id");
      s.Bind(1, survivor_id);
      std::vector<EvidenceRow> out;
      while (s.Step() == SQLITE_ROW) out.push_back(ReadEvidence(s));
      return out;
    });
  }

  // Writes the audit file only: `also` must write nothing but rows of the audit file
  // (disclosures), or the transaction would span two files (atomic per file only).
  // BEGIN IMMEDIATE also takes the main file's write lock, but a transaction that changes
  // nothing there leaves it (and the readers' cache of it) untouched. (A connection of its own
  // for the audit file, locking that file only, was measured: it made the readers pay two more
  // system calls per request — SQLite takes a WAL read lock with fcntl only when no other
  // connection of the process holds it, and the audit transaction's read of the main file held
  // it nearly all the time under load — more than it saved; docs/benchmarks.md, session 11.)
  Status AppendAudit(const AuditBuilder& build, const std::function<Status(Txn&)>& also) override {
    return Write([&](Txn& txn) -> Status {
      AuditRow last{0, "", ""};
      {
        Stmt h(*writer_, "SELECT seq, entry, chain_hash FROM audit.audit_log ORDER BY seq DESC LIMIT 1");
        if (h.Step() == SQLITE_ROW) last = {h.Int(0), h.Text(1), h.Text(2)};
      }
      auto [rows, cp] = build(last);
      Stmt s(*writer_, "INSERT INTO audit.audit_log(seq, entry, chain_hash) VALUES(?,?,?)");
      for (const AuditRow& r : rows) {
        TRELLIS_RETURN_IF_ERROR(s.Bind(1, r.seq).BindBlob(2, r.encoded).BindBlob(3, r.chain_hash).Done("audit"));
        s.Reset();
      }
      Stmt c(*writer_, "INSERT INTO audit.audit_checkpoints(seq, chain_hash, signature, signed_at) VALUES(?,?,?,?)");
      TRELLIS_RETURN_IF_ERROR(c.Bind(1, cp.seq).BindBlob(2, cp.chain_hash).BindBlob(3, cp.signature)
                                  .Bind(4, cp.signed_at).Done("audit checkpoint"));
      if (!also) return Status::Ok();
      const int64_t before = sqlite3_total_changes64(writer_->db);
      TRELLIS_RETURN_IF_ERROR(also(txn));
      unindexed_disclosures_ += sqlite3_total_changes64(writer_->db) - before;  // `also` inserts disclosures only
      if (unindexed_disclosures_ < kIndexDisclosures) return Status::Ok();
      TRELLIS_RETURN_IF_ERROR(IndexDisclosures(*writer_));
      unindexed_disclosures_ = 0;
      return Status::Ok();
    });
  }
  Result<AuditRow> LastAudit() override {
    return WithReader<AuditRow>([&](Conn& db) -> Result<AuditRow> {
      Stmt s(db, "SELECT seq, entry, chain_hash FROM audit.audit_log ORDER BY seq DESC LIMIT 1");
      if (s.Step() != SQLITE_ROW) return AuditRow{0, "", ""};
      return AuditRow{s.Int(0), s.Text(1), s.Text(2)};
    });
  }
  Status ForEachAudit(int64_t from_seq, const std::function<bool(const AuditRow&)>& fn) override {
    auto r = WithReader<int>([&](Conn& db) -> Result<int> {
      Stmt s(db, "SELECT seq, entry, chain_hash FROM audit.audit_log WHERE seq >= ? ORDER BY seq");
      s.Bind(1, from_seq);
      while (s.Step() == SQLITE_ROW) {
        if (!fn(AuditRow{s.Int(0), s.Text(1), s.Text(2)})) break;
      }
      return 0;
    });
    return r.status();
  }
  Result<std::vector<AuditCheckpointRow>> ListCheckpoints() override {
    return WithReader<std::vector<AuditCheckpointRow>>(
        [&](Conn& db) -> Result<std::vector<AuditCheckpointRow>> {
          Stmt s(db, "SELECT seq, chain_hash, signature, signed_at FROM audit.audit_checkpoints ORDER BY seq");
          std::vector<AuditCheckpointRow> out;
          while (s.Step() == SQLITE_ROW) out.push_back({s.Int(0), s.Text(1), s.Text(2), s.Int(3)});
          return out;
        });
  }

  Result<std::vector<AuditRow>> ListAuditBefore(int64_t before_seq, int limit) override {
    return WithReader<std::vector<AuditRow>>([&](Conn& db) -> Result<std::vector<AuditRow>> {
      Stmt s(db, "SELECT seq, entry, chain_hash FROM audit.audit_log WHERE seq < ? ORDER BY seq DESC LIMIT ?");
      s.Bind(1, before_seq > 0 ? before_seq : INT64_MAX).Bind(2, static_cast<int64_t>(limit));
      std::vector<AuditRow> out;
      while (s.Step() == SQLITE_ROW) out.push_back({s.Int(0), s.Text(1), s.Text(2)});
      return out;
    });
  }

  // One file holding every table (the backup format): the main file is copied first, then the
  // audit file (so the audit copy covers every data commit of the main copy: a change's audit
  // entries are appended after it commits), and the audit copy is folded into the main copy.
  Status SnapshotTo(const std::string& path) override {
    const std::string audit_copy = SqliteAuditPath(path);
    ::unlink(path.c_str());
    ::unlink(audit_copy.c_str());
    {
      std::lock_guard lock(write_mu_);
      {
        Stmt s(*writer_, "VACUUM INTO ?");
        TRELLIS_RETURN_IF_ERROR(s.Bind(1, path).Done("snapshot"));
      }
      Stmt a(*writer_, "VACUUM audit INTO ?");
      TRELLIS_RETURN_IF_ERROR(a.Bind(1, audit_copy).Done("snapshot of the audit file"));
    }
    return FoldSqliteAuditFile(path);
  }
  Status ExportTables(const std::function<Status(const TableRow&)>& fn) override {
    auto r = WithReader<int>([&](Conn& db) -> Result<int> {
      // One read transaction: one snapshot of each file, the main file's taken first.
      TRELLIS_RETURN_IF_ERROR(Exec(db.db, "BEGIN"));
      struct End {
        sqlite3* db;
        ~End() {
          if (!Exec(db, "COMMIT").ok()) (void)Exec(db, "ROLLBACK");  // never back to the pool in a transaction
        }
      } end{db.db};
      {
        Stmt names(db, "SELECT name FROM main.sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%'"
                       " AND name <> 'schema_version' UNION ALL"
                       " SELECT name FROM audit.sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%'");
        while (names.Step() == SQLITE_ROW) {
          const std::string name = names.Text(0);
          if (IsDerivedTable(name)) continue;
          bool known = false;
          for (const TableSpec& t : Tables()) known = known || name == t.name;
          if (!known) return Status(Code::kFailedPrecondition, "export: table " + name + " is not in storage/tables.h");
        }
      }
      for (const TableSpec& t : Tables()) {
        std::string cols;
        for (size_t i = 0; i < t.columns.size(); ++i) cols += (i ? ", " : "") + std::string(t.columns[i].name);
        Stmt s(db, "SELECT " + cols + " FROM " + t.name + " ORDER BY " + t.order_by);
        if (!s.ok()) return Status::Internal(std::string("export: cannot read ") + t.name);
        TableRow row{&t, {}};
        while (s.Step() == SQLITE_ROW) {
          row.cells.clear();
          for (size_t i = 0; i < t.columns.size(); ++i) {
            const int col = static_cast<int>(i);
            if (t.columns[i].kind == ColumnKind::kInt) {
              row.cells.emplace_back(s.Int(col));
            } else {
              row.cells.emplace_back(s.Text(col));
            }
          }
          TRELLIS_RETURN_IF_ERROR(fn(row));
        }
      }
      return 0;
    });
    return r.status();
  }
  Status CheckIntegrity() override {
    auto r = WithReader<int>([&](Conn& db) -> Result<int> {
      Stmt s(db, "PRAGMA integrity_check");
      if (s.Step() != SQLITE_ROW || s.Text(0) != "ok") return Status::DataLoss("integrity_check failed");
      return 0;
    });
    return r.status();
  }

 private:
  // The columns kGrantCols from column `at` on.
  static GrantRow ReadGrant(Stmt& s, int at = 0) {
    GrantRow g;
    g.id = s.Text(at + 0);
    g.kind = s.Text(at + 1);
    g.survivor_id = s.Text(at + 2);
    g.owner_agency_id = s.Text(at + 3);
    g.recipient_agency_id = s.Text(at + 4);
    g.recipient_user_id = s.Text(at + 5);
    g.categories = s.Text(at + 6);
    g.purpose = s.Text(at + 7);
    g.language = s.Text(at + 8);
    g.effective_at = s.Int(at + 9);
    g.expires_at = s.Int(at + 10);
    g.created_at = s.Int(at + 11);
    g.created_by = s.Text(at + 12);
    g.revoked_at = s.Int(at + 13);
    g.revoked_by = s.Text(at + 14);
    g.revoke_reason = s.Text(at + 15);
    g.task_done_at = s.Int(at + 16);
    g.sealed = s.Text(at + 17);
    g.evidence_ids = s.Text(at + 18);
    return g;
  }
  static EvidenceRow ReadEvidence(Stmt& s) {
    EvidenceRow e;
    e.id = s.Text(0);
    e.survivor_id = s.Text(1);
    e.case_id = s.Text(2);
    e.agency_id = s.Text(3);
    e.kind = s.Text(4);
    e.grant_id = s.Text(5);
    e.content_type = s.Text(6);
    e.size = s.Int(7);
    e.created_at = s.Int(8);
    e.created_by = s.Text(9);
    e.sealed = s.Text(10);
    return e;
  }
  static domain::Agency ReadAgency(Stmt& s) {
    domain::Agency a{s.Text(0), s.Text(1)};
    auto k = domain::ParseAgencyKind(s.Text(2));
    if (k.ok()) a.kind = *k;
    return a;
  }
  Result<UserRow> GetUser(const char* col, const std::string& v) {
    return WithReader<UserRow>([&](Conn& db) -> Result<UserRow> {
      std::string sql = std::string("SELECT ") + kUserCols + " FROM users WHERE " + col + "=?";
      Stmt s(db, sql);
      s.Bind(1, v);
      if (s.Step() != SQLITE_ROW) return Status::NotFound();
      return ReadUser(s);
    });
  }

  // Runs fn on a reader connection from the pool (opened on demand).
  template <typename T>
  Result<T> WithReader(const std::function<Result<T>(Conn&)>& fn) {
    PinnedReader* pin = tls_pinned;
    if (pin != nullptr && pin->store == this && !pin->in_use) {
      // Under a ReadPin: the reads share one read transaction (three system calls each for a
      // WAL read lock and the file size, saved on every read after the first).
      if (!pin->in_txn) {
        Stmt begin(*pin->conn, "BEGIN");
        TRELLIS_RETURN_IF_ERROR(begin.Done("begin a read"));
        pin->in_txn = true;
      }
      pin->in_use = true;
      Result<T> r = fn(*pin->conn);
      pin->in_use = false;
      return r;
    }
    auto conn = TakeReader();
    if (!conn.ok()) return conn.status();
    // Each read is one statement (SQLite gives it a consistent snapshot of its own).
    Result<T> r = fn(**conn);
    ReturnReader(std::move(*conn));
    return r;
  }

  Result<std::unique_ptr<Conn>> TakeReader() {
    {
      std::lock_guard lock(pool_mu_);
      if (!idle_readers_.empty()) {
        std::unique_ptr<Conn> conn = std::move(idle_readers_.back());
        idle_readers_.pop_back();
        return conn;
      }
    }
    auto opened = OpenStoreConnection(path_, false, /*writer=*/false);
    if (!opened.ok()) return opened.status();
    return std::make_unique<Conn>(*opened);
  }

  void ReturnReader(std::unique_ptr<Conn> conn) {
    std::lock_guard lock(pool_mu_);
    if (static_cast<int>(idle_readers_.size()) < max_readers_) idle_readers_.push_back(std::move(conn));
  }

  // Ends the read transaction of this thread's pin on this store, if one is open.
  void EndPinnedSnapshot() {
    PinnedReader* pin = tls_pinned;
    if (pin == nullptr || pin->store != this || !pin->in_txn) return;
    Stmt commit(*pin->conn, "COMMIT");
    if (!commit.Done("end a read").ok()) (void)Exec(pin->conn->db, "ROLLBACK");
    pin->in_txn = false;
  }

  class Pin final : public ReadPin {
   public:
    Pin(SqliteStore& store, std::unique_ptr<Conn> conn) : store_(store) {
      reader_.store = &store;
      reader_.conn = std::move(conn);
      tls_pinned = &reader_;
    }
    ~Pin() override {
      store_.EndPinnedSnapshot();
      tls_pinned = nullptr;
      store_.ReturnReader(std::move(reader_.conn));
    }

   private:
    SqliteStore& store_;
    PinnedReader reader_;
  };

  std::string path_;
  std::unique_ptr<Conn> writer_;
  int64_t unindexed_disclosures_ = 0;  // under write_mu_; counted at open, then by AppendAudit
  int max_readers_;
  std::mutex write_mu_;
  std::mutex pool_mu_;
  std::vector<std::unique_ptr<Conn>> idle_readers_;
};

}  // namespace

Result<std::unique_ptr<CaseStore>> OpenSqliteStore(const std::string& path, const SqliteOptions& options) {
  // Before SQLite initialises: no memory statistics, whose global mutex every sqlite3_malloc
  // and free of every connection takes (we never read them). Ignored if SQLite already started.
  static std::once_flag configured;
  std::call_once(configured, [] { sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0); });
  if (!options.create_if_missing && ::access(path.c_str(), F_OK) != 0) {
    return Status(Code::kFailedPrecondition, "no store at " + path + " (run `trellis init`)");
  }
  auto db = OpenStoreConnection(path, options.create_if_missing, /*writer=*/true);
  if (!db.ok()) return db.status();
  auto store = std::make_unique<SqliteStore>(path, *db, options.reader_connections);
  TRELLIS_RETURN_IF_ERROR(store->Migrate());
  TRELLIS_RETURN_IF_ERROR(store->MoveAuditTables());
  TRELLIS_RETURN_IF_ERROR(store->PrepareDisclosureIndex());
  store->RecordSizeInWal();
  return std::unique_ptr<CaseStore>(std::move(store));
}

std::string SqliteAuditPath(const std::string& store_path) {
  constexpr std::string_view kExt = ".db";
  if (store_path.size() > kExt.size() && store_path.ends_with(kExt)) {
    return store_path.substr(0, store_path.size() - kExt.size()) + "-audit.db";
  }
  return store_path + "-audit.db";
}

Status FoldSqliteAuditFile(const std::string& path) {
  const std::string audit_path = SqliteAuditPath(path);
  Status st;
  {
    auto db = OpenConnection(path, false);
    if (!db.ok()) return db.status();
    Conn conn(*db);
    st = Exec(*db, "PRAGMA journal_mode=DELETE");
    if (st.ok()) {
      Stmt attach(conn, "ATTACH DATABASE ? AS folded");
      st = attach.Bind(1, audit_path).Done("attach");
    }
    if (st.ok()) st = Exec(*db, "BEGIN IMMEDIATE");
    for (const char* t : kAuditTables) {
      if (!st.ok()) break;
      auto has = HasTable(*db, "folded", t);
      if (!has.ok()) st = has.status();
      else if (*has) st = CopyTable(*db, "folded", "main", t);
    }
    if (st.ok()) {
      st = Exec(*db, "COMMIT");
    } else {
      (void)Exec(*db, "ROLLBACK");
    }
  }
  if (st.ok()) {
    for (const char* suffix : {"", "-wal", "-shm", "-journal"}) std::remove((audit_path + suffix).c_str());
  }
  return st;
}

Status StripDataKeysFromSnapshot(const std::string& snapshot_path) {
  auto db = OpenConnection(snapshot_path, false);
  if (!db.ok()) return db.status();
  Status st = Exec(*db, "PRAGMA journal_mode=DELETE; DELETE FROM data_keys; VACUUM;");
  sqlite3_close(*db);
  return st;
}

Status MergeDataKeysInto(const std::string& restored_path, const std::string& live_path) {
  auto db = OpenConnection(restored_path, false);
  if (!db.ok()) return db.status();
  Conn conn(*db);
  Status st;
  {
    Stmt attach(conn, "ATTACH DATABASE ? AS live");
    st = attach.Bind(1, live_path).Done("attach");
  }
  if (st.ok()) {
    st = Exec(*db,
              "INSERT OR IGNORE INTO main.data_keys(survivor_id, key_version, wrapped)"
              " SELECT survivor_id, key_version, wrapped FROM live.data_keys;"
              "DETACH DATABASE live;");
  }
  return st;
}

}  // namespace trellis::storage

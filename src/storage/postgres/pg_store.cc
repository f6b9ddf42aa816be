// PostgreSQL backend of CaseStore (libpqxx): a small pool of connections, each with the
// prepared statements of pg_schema.cc; BYTEA for every byte string; migrations under an
// advisory lock. Several app servers may share one database:
//  - records: UpdateRecord's `WHERE version = expected` re-checks the row after a concurrent
//    writer commits (READ COMMITTED), so the loser gets kConflict, never a lost update;
//  - audit: AppendAudit takes `LOCK TABLE audit_log IN EXCLUSIVE MODE` (readers go on, other
//    appenders wait) and reads the head inside that transaction: one chain, no fork, no gap;
//  - sessions, lockout counters, tokens and data keys live in the database like everything else.
// Durability: every connection runs with synchronous_commit=on, so Write() returns ok only after
// the commit record is flushed (and, with synchronous standbys configured, replicated).
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <pqxx/pqxx>

#include "storage/postgres/pg_schema.h"
#include "storage/record_codec.h"
#include "storage/store.h"

namespace trellis::storage {
namespace {

using domain::RecordKind;

// ---- conversions --------------------------------------------------------------------------

std::string Text(const pqxx::field& f) { return std::string(f.c_str(), f.size()); }
std::string Bytes(const pqxx::field& f) { return pqxx::binarystring(f).str(); }
int64_t Int(const pqxx::field& f) { return f.as<int64_t>(); }
pqxx::binarystring Blob(const std::string& s) { return pqxx::binarystring(s); }

// A PostgreSQL text[] literal: {"a","b"} with \ and " escaped.
std::string TextArray(const std::vector<std::string>& v) {
  std::string out = "{";
  for (size_t i = 0; i < v.size(); ++i) {
    if (i) out += ',';
    out += '"';
    for (char c : v[i]) {
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
    out += '"';
  }
  return out + "}";
}

// BYTEA in text input form (hex), for statements whose parameters are all text.
std::string HexBytea(const std::string& bytes) {
  static const char kHex[] = "0123456789abcdef";
  std::string out = "\\x";
  out.reserve(2 + 2 * bytes.size());
  for (unsigned char c : bytes) {
    out += kHex[c >> 4];
    out += kHex[c & 15];
  }
  return out;
}

// Maps what libpqxx throws to a Status; the message never carries the connection URL.
Status FromException(const char* what) {
  try {
    throw;
  } catch (const pqxx::unique_violation&) {
    // A key taken is the caller's conflict (409); any other constraint (NOT NULL, CHECK, a
    // foreign key) is a fault of ours (below, as an sql_error).
    return Status(Code::kAlreadyExists, std::string(what) + ": already exists");
  } catch (const pqxx::in_doubt_error& e) {
    return Status(Code::kUnavailable, std::string(what) + ": the outcome of the commit is unknown");
  } catch (const pqxx::broken_connection& e) {
    return Status(Code::kUnavailable, std::string(what) + ": the database is unreachable");
  } catch (const pqxx::transaction_rollback& e) {
    // Deadlock or serialization failure: the database rolled back; the caller may retry.
    return Status(Code::kUnavailable, std::string(what) + ": the database aborted the transaction; retry");
  } catch (const pqxx::sql_error& e) {
    return Status::Internal(std::string(what) + ": " + e.what());
  } catch (const std::exception& e) {
    return Status::Internal(std::string(what) + ": " + e.what());
  }
}

StoredRecord ReadRecord(const pqxx::row& r) {
  StoredRecord s;
  s.id = Text(r[0]);
  s.kind = static_cast<RecordKind>(Int(r[1]));
  s.agency_id = Text(r[2]);
  s.survivor_id = Text(r[3]);
  s.case_number = Text(r[4]);
  s.status = Text(r[5]);
  s.version = Int(r[6]);
  s.created_at = Int(r[7]);
  s.updated_at = Int(r[8]);
  DecodePlain(Text(r[9]), &s.plain);
  DecodeSealed(Bytes(r[10]), &s.sealed);
  DecodeTeam(Text(r[11]), &s.team);
  return s;
}

UserRow ReadUser(const pqxx::row& r) {
  UserRow u;
  u.user.id = Text(r[0]);
  u.user.agency_id = Text(r[1]);
  u.user.username = Text(r[2]);
  u.user.display_name = Text(r[3]);
  auto role = domain::ParseRole(Text(r[4]));
  u.user.role = role.ok() ? *role : domain::Role::kAuditor;
  u.password_hash = Text(r[5]);
  u.user.disabled = Int(r[6]) != 0;
  u.failed_logins = Int(r[7]);
  u.locked_until = Int(r[8]);
  u.created_at = Int(r[9]);
  return u;
}

domain::Agency ReadAgency(const pqxx::row& r) {
  domain::Agency a{Text(r[0]), Text(r[1])};
  auto k = domain::ParseAgencyKind(Text(r[2]));
  if (k.ok()) a.kind = *k;
  return a;
}

SecondFactorRow ReadSecondFactor(const pqxx::row& r) {
  return {Text(r[0]), Text(r[1]), Bytes(r[2]), Int(r[3]), Int(r[4]), Text(r[5]), Int(r[6]), Int(r[7]), Int(r[8])};
}

EvidenceRow ReadEvidence(const pqxx::row& r) {
  EvidenceRow e;
  e.id = Text(r[0]);
  e.survivor_id = Text(r[1]);
  e.case_id = Text(r[2]);
  e.agency_id = Text(r[3]);
  e.kind = Text(r[4]);
  e.grant_id = Text(r[5]);
  e.content_type = Text(r[6]);
  e.size = Int(r[7]);
  e.created_at = Int(r[8]);
  e.created_by = Text(r[9]);
  e.sealed = Bytes(r[10]);
  return e;
}

GrantRow ReadGrant(const pqxx::row& r) {
  GrantRow g;
  g.id = r[0].c_str();
  g.kind = r[1].c_str();
  g.survivor_id = r[2].c_str();
  g.owner_agency_id = r[3].c_str();
  g.recipient_agency_id = r[4].c_str();
  g.recipient_user_id = r[5].c_str();
  g.categories = r[6].c_str();
  g.purpose = r[7].c_str();
  g.language = r[8].c_str();
  g.effective_at = Int(r[9]);
  g.expires_at = Int(r[10]);
  g.created_at = Int(r[11]);
  g.created_by = r[12].c_str();
  g.revoked_at = Int(r[13]);
  g.revoked_by = r[14].c_str();
  g.revoke_reason = r[15].c_str();
  g.task_done_at = Int(r[16]);
  g.sealed = Bytes(r[17]);
  g.evidence_ids = r[18].c_str();
  return g;
}

AuditRow ReadAudit(const pqxx::row& r) { return AuditRow{Int(r[0]), Bytes(r[1]), Bytes(r[2])}; }

// ---- connection pool ----------------------------------------------------------------------

std::unique_ptr<pqxx::connection> Connect(const std::string& url, bool prepare) {
  auto c = std::make_unique<pqxx::connection>(url);
  {
    pqxx::nontransaction n(*c);
    // An acknowledged write is on disk (and on synchronous standbys) whatever the server default.
    n.exec("SET synchronous_commit TO on");
    // Every transaction of the store is written for READ COMMITTED: a concurrent update waits
    // for the row lock and then works on the committed row (the failed-login count, optimistic
    // record versions, the audit head read under its lock). libpqxx's `work` sends a plain BEGIN,
    // so a stricter server or database default would turn those waits into serialization
    // failures (StoreTest.ConcurrentIncrementsCountUnderAStricterServerDefault).
    n.exec("SET default_transaction_isolation TO 'read committed'");
  }
  if (prepare) {
    for (const auto& [name, sql] : pg::Statements()) c->prepare(name, sql);
  }
  return c;
}

// A fixed-size pool: connections are opened on demand up to `max`; a borrower waits for a free
// one. A connection that broke (server restart, fail-over) is dropped, not returned.
class Pool {
 public:
  Pool(std::string url, int max) : url_(std::move(url)), max_(max < 1 ? 1 : max) {}

  class Lease {
   public:
    Lease(Pool* p, std::unique_ptr<pqxx::connection> c) : pool_(p), conn_(std::move(c)) {}
    Lease(Lease&& o) noexcept = default;
    ~Lease() {
      if (pool_ && conn_) pool_->Return(std::move(conn_));
    }
    pqxx::connection& operator*() { return *conn_; }

   private:
    Pool* pool_;
    std::unique_ptr<pqxx::connection> conn_;
  };

  Result<Lease> Acquire() {
    std::unique_lock lock(mu_);
    if (!cv_.wait_for(lock, std::chrono::seconds(30), [&] { return !idle_.empty() || open_ < max_; })) {
      return Status(Code::kUnavailable, "no free database connection");
    }
    if (!idle_.empty()) {
      auto c = std::move(idle_.back());
      idle_.pop_back();
      return Lease(this, std::move(c));
    }
    ++open_;
    lock.unlock();
    try {
      return Lease(this, Connect(url_, true));
    } catch (...) {
      std::lock_guard relock(mu_);
      --open_;
      cv_.notify_one();
      return FromException("connect");
    }
  }

 private:
  void Return(std::unique_ptr<pqxx::connection> c) {
    std::lock_guard lock(mu_);
    if (c->is_open()) {
      idle_.push_back(std::move(c));
    } else {
      --open_;
    }
    cv_.notify_one();
  }

  const std::string url_;
  const int max_;
  std::mutex mu_;
  std::condition_variable cv_;
  int open_ = 0;
  std::vector<std::unique_ptr<pqxx::connection>> idle_;
};

// ---- the write side -----------------------------------------------------------------------

class PgTxn final : public Txn {
 public:
  explicit PgTxn(pqxx::work& w) : w_(w) {}

  Status PutAgency(const domain::Agency& a, int64_t now) override {
    return Run("agency", [&] {
      return w_.exec_prepared("put_agency", a.id, a.name, std::string(domain::AgencyKindName(a.kind)), now);
    });
  }
  Status InsertUser(const UserRow& u) override {
    return Inserted("user", [&] {
      return w_.exec_prepared("insert_user", u.user.id, u.user.agency_id, u.user.username, u.user.display_name,
                              std::string(domain::RoleName(u.user.role)), u.password_hash,
                              int64_t{u.user.disabled}, u.failed_logins, u.locked_until, u.created_at);
    });
  }
  Status UpdateUserLogin(const std::string& id, int64_t failed, int64_t locked_until) override {
    return Run("user", [&] { return w_.exec_prepared("update_user_login", failed, locked_until, id); });
  }
  // The row lock this UPDATE takes holds until the transaction ends, and Write() runs its whole
  // callback in one pqxx::work, committed once: what the caller writes next (app/auth.cc: the
  // lock that follows from this count) is atomic with it. A concurrent increment on any server
  // waits, then increments the committed count (READ COMMITTED: pqxx::work sends a plain BEGIN).
  Result<int64_t> IncrementFailedLogins(const std::string& id) override {
    try {
      pqxx::result res = w_.exec_prepared("increment_failed_logins", id);
      if (res.empty()) return Status::NotFound();
      return Int(res[0][0]);
    } catch (...) {
      return FromException("user");
    }
  }
  Status RaiseLockedUntil(const std::string& id, int64_t until) override {
    return Changed("user", [&] { return w_.exec_prepared("raise_locked_until", until, id); });
  }
  Status SetUserDisabled(const std::string& id, bool disabled) override {
    return Changed("user", [&] { return w_.exec_prepared("set_user_disabled", int64_t{disabled}, id); });
  }
  Status SetUserPassword(const std::string& id, const std::string& hash) override {
    return Changed("user", [&] { return w_.exec_prepared("set_user_password", hash, id); });
  }
  Status InsertSession(const SessionRow& r) override {
    return Inserted("session", [&] {
      return w_.exec_prepared("insert_session", Blob(r.token_hash), r.user_id, Blob(r.csrf_hash), r.created_at,
                              r.last_seen_at, r.expires_at);
    });
  }
  Status TouchSession(const std::string& token_hash, int64_t now) override {
    return Run("session", [&] { return w_.exec_prepared("touch_session", now, Blob(token_hash)); });
  }
  Status DeleteSession(const std::string& token_hash) override {
    return Run("session", [&] { return w_.exec_prepared("delete_session", Blob(token_hash)); });
  }
  Status DeleteUserSessions(const std::string& user_id) override {
    return Run("session", [&] { return w_.exec_prepared("delete_user_sessions", user_id); });
  }
  Status InsertToken(const TokenRow& t) override {
    return Inserted("token", [&] {
      return w_.exec_prepared("insert_token", Blob(t.token_hash), t.id, t.user_id, t.name, t.created_at,
                              t.expires_at, t.revoked_at);
    });
  }
  Status RevokeToken(const std::string& id, int64_t now) override {
    return Changed("token", [&] { return w_.exec_prepared("revoke_token", now, id); });
  }
  Status PutDataKey(const DataKeyRow& k) override {
    return Run("data key", [&] {
      return w_.exec_prepared("put_data_key", k.survivor_id, int64_t{k.key_version}, Blob(k.wrapped));
    });
  }
  Status DeleteDataKey(const std::string& survivor_id) override {
    return Changed("data key", [&] { return w_.exec_prepared("delete_data_key", survivor_id); });
  }
  Status InsertRecord(const StoredRecord& r) override {
    return Inserted("record", [&] {
      return w_.exec_prepared("insert_record", r.id, static_cast<int64_t>(r.kind), r.agency_id, r.survivor_id,
                              r.case_number, r.status, r.version, r.created_at, r.updated_at, EncodePlain(r.plain),
                              Blob(EncodeSealed(r.sealed)), EncodeTeam(r.team));
    });
  }
  Status InsertBulk(std::span<const DataKeyRow> keys, std::span<const EncodedRecord> records) override {
    for (const DataKeyRow& k : keys) TRELLIS_RETURN_IF_ERROR(PutDataKey(k));
    for (const EncodedRecord& r : records) {
      TRELLIS_RETURN_IF_ERROR(Inserted("record", [&] {
        return w_.exec_prepared("insert_record", r.id, static_cast<int64_t>(r.kind), r.agency_id, r.survivor_id,
                                r.case_number, r.status, r.version, r.created_at, r.updated_at, r.plain,
                                Blob(r.sealed), r.team);
      }));
    }
    return Status::Ok();
  }
  Status UpdateRecord(const StoredRecord& r, int64_t expected_version) override {
    try {
      pqxx::result res =
          w_.exec_prepared("update_record", r.id, static_cast<int64_t>(r.kind), r.agency_id, r.survivor_id,
                           r.case_number, r.status, r.version, r.created_at, r.updated_at, EncodePlain(r.plain),
                           Blob(EncodeSealed(r.sealed)), EncodeTeam(r.team), expected_version);
      if (res.affected_rows() == 1) return Status::Ok();
      if (!w_.exec_prepared("record_exists", r.id).empty()) {
        return Status::Conflict("the record was changed by someone else; reload it");
      }
      return Status::NotFound();
    } catch (...) {
      return FromException("record");
    }
  }
  Status DeleteSurvivorRecords(const std::string& survivor_id) override {
    TRELLIS_RETURN_IF_ERROR(Run("evidence", [&] { return w_.exec_prepared("delete_survivor_evidence", survivor_id); }));
    return Run("record", [&] { return w_.exec_prepared("delete_survivor_records", survivor_id); });
  }
  Status SetMeta(const std::string& key, const std::string& value) override {
    return Run("meta", [&] { return w_.exec_prepared("set_meta", key, Blob(value)); });
  }
  Status ImportRow(const TableRow& row) override {
    const TableSpec& t = *row.table;
    if (row.cells.size() != t.columns.size()) return Status::Internal("import: wrong number of cells");
    std::vector<std::string> params;
    params.reserve(t.columns.size());
    for (size_t i = 0; i < t.columns.size(); ++i) {
      if (const int64_t* v = std::get_if<int64_t>(&row.cells[i])) {
        params.push_back(std::to_string(*v));
      } else if (t.columns[i].kind == ColumnKind::kBlob) {
        params.push_back(HexBytea(std::get<std::string>(row.cells[i])));
      } else {
        params.push_back(std::get<std::string>(row.cells[i]));
      }
    }
    TRELLIS_RETURN_IF_ERROR(Run(t.name, [&] {
      return w_.exec_prepared(std::string("import_") + t.name, pqxx::prepare::make_dynamic_params(params));
    }));
    // Rows copied with their own sequence numbers: move the sequence past them.
    if (std::string_view(t.name) == "disclosures") {
      return Run(t.name, [&] { return w_.exec_prepared("disclosures_sequence"); });
    }
    return Status::Ok();
  }
  Status InsertGrant(const GrantRow& g) override {
    return Inserted("grant", [&] {
      return w_.exec_prepared("insert_grant", g.id, g.kind, g.survivor_id, g.owner_agency_id, g.recipient_agency_id,
                              g.recipient_user_id, g.categories, g.purpose, g.language, g.effective_at, g.expires_at,
                              g.created_at, g.created_by, g.revoked_at, g.revoked_by, g.revoke_reason, g.task_done_at,
                              Blob(g.sealed), g.evidence_ids);
    });
  }
  Status UpdateGrant(const GrantRow& g) override {
    return Changed("grant", [&] {
      return w_.exec_prepared("update_grant", g.revoked_at, g.revoked_by, g.revoke_reason, g.task_done_at, g.id);
    });
  }
  Status InsertDisclosure(const DisclosureRow& d) override {
    return Run("disclosure", [&] {
      return w_.exec_prepared("insert_disclosure", d.survivor_id, d.record_id, d.at, d.actor_user_id,
                              d.actor_agency_id, d.action, d.categories, d.basis, d.grant_ids, d.request_id);
    });
  }
  Status PutSecondFactor(const SecondFactorRow& r) override {
    return Run("second factor", [&] {
      return w_.exec_prepared("put_second_factor", r.user_id, r.state, Blob(r.secret_sealed), r.key_version,
                              r.last_step, r.recovery_hashes, r.version, r.created_at, r.updated_at);
    });
  }
  Status UpdateSecondFactor(const SecondFactorRow& r, int64_t expected_version) override {
    Status st = Changed("second factor", [&] {
      return w_.exec_prepared("update_second_factor", r.user_id, r.state, Blob(r.secret_sealed), r.key_version,
                              r.last_step, r.recovery_hashes, r.version, r.created_at, r.updated_at,
                              expected_version);
    });
    if (st.code() != Code::kNotFound) return st;
    try {
      if (!w_.exec_prepared("second_factor_exists", r.user_id).empty()) return Status::Conflict("the second factor changed");
      return Status::NotFound();
    } catch (...) {
      return FromException("second factor");
    }
  }
  Status DeleteSecondFactor(const std::string& user_id) override {
    return Run("second factor", [&] { return w_.exec_prepared("delete_second_factor", user_id); });
  }
  Status InsertEvidence(const EvidenceRow& e) override {
    return Inserted("evidence", [&] {
      return w_.exec_prepared("insert_evidence", e.id, e.survivor_id, e.case_id, e.agency_id, e.kind, e.grant_id,
                              e.content_type, e.size, e.created_at, e.created_by, Blob(e.sealed), Blob(e.content));
    });
  }
  Status SetEvidenceContent(const EvidenceRow& e) override {
    try {
      pqxx::result res = w_.exec_prepared("set_evidence_content", e.content_type, e.size, Blob(e.sealed),
                                          Blob(e.content), e.id);
      if (res.affected_rows() == 1) return Status::Ok();
      if (!w_.exec_prepared("evidence_exists", e.id).empty()) return Status::Conflict("this item already has a file");
      return Status::NotFound();
    } catch (...) {
      return FromException("evidence");
    }
  }

 private:
  template <typename F>
  Status Run(const char* what, F&& f) {
    try {
      f();
      return Status::Ok();
    } catch (...) {
      return FromException(what);
    }
  }
  // An INSERT ... ON CONFLICT DO NOTHING: no row means the key was taken. (A unique violation
  // would abort the whole PostgreSQL transaction; SQLite lets the caller go on, and so do we.)
  template <typename F>
  Status Inserted(const char* what, F&& f) {
    try {
      if (f().affected_rows() == 0) return Status(Code::kAlreadyExists, std::string(what) + ": already exists");
      return Status::Ok();
    } catch (...) {
      return FromException(what);
    }
  }
  template <typename F>
  Status Changed(const char* what, F&& f) {
    try {
      return f().affected_rows() > 0 ? Status::Ok() : Status::NotFound();
    } catch (...) {
      return FromException(what);
    }
  }

  pqxx::work& w_;
};

// ---- the store ----------------------------------------------------------------------------

class PgStore final : public CaseStore {
 public:
  PgStore(std::string url, int connections) : pool_(std::move(url), connections) {}

  Status Write(const std::function<Status(Txn&)>& fn) override {
    return WithConn("write", false, [&](pqxx::connection& c) -> Status {
      pqxx::work w(c);
      PgTxn txn(w);
      Status st = fn(txn);
      if (!st.ok()) return st;  // ~work rolls back
      w.commit();
      return Status::Ok();
    });
  }

  Result<domain::Agency> GetAgency(const std::string& id) override {
    return Read<domain::Agency>("agency", [&](pqxx::read_transaction& t) -> Result<domain::Agency> {
      auto r = t.exec_prepared("get_agency", id);
      if (r.empty()) return Status::NotFound();
      return ReadAgency(r[0]);
    });
  }
  Result<std::vector<domain::Agency>> ListAgencies() override {
    return Read<std::vector<domain::Agency>>("agency", [&](pqxx::read_transaction& t) {
      std::vector<domain::Agency> out;
      for (const auto& row : t.exec_prepared("list_agencies")) out.push_back(ReadAgency(row));
      return Result<std::vector<domain::Agency>>(std::move(out));
    });
  }
  Result<UserRow> GetUserById(const std::string& id) override { return GetUser("get_user_by_id", id); }
  Result<UserRow> GetUserByName(const std::string& name) override { return GetUser("get_user_by_name", name); }
  Result<std::vector<UserRow>> ListUsers(const std::string& agency_id) override {
    return Read<std::vector<UserRow>>("user", [&](pqxx::read_transaction& t) {
      std::vector<UserRow> out;
      for (const auto& row : t.exec_prepared("list_users", agency_id)) out.push_back(ReadUser(row));
      return Result<std::vector<UserRow>>(std::move(out));
    });
  }
  Result<SessionRow> GetSession(const std::string& token_hash) override {
    return Read<SessionRow>("session", [&](pqxx::read_transaction& t) -> Result<SessionRow> {
      auto r = t.exec_prepared("get_session", Blob(token_hash));
      if (r.empty()) return Status::NotFound();
      const auto& x = r[0];
      return SessionRow{Bytes(x[0]), Text(x[1]), Bytes(x[2]), Int(x[3]), Int(x[4]), Int(x[5])};
    });
  }
  Result<TokenRow> GetToken(const std::string& token_hash) override {
    return Read<TokenRow>("token", [&](pqxx::read_transaction& t) -> Result<TokenRow> {
      auto r = t.exec_prepared("get_token", Blob(token_hash));
      if (r.empty()) return Status::NotFound();
      const auto& x = r[0];
      return TokenRow{Text(x[0]), Bytes(x[1]), Text(x[2]), Text(x[3]), Int(x[4]), Int(x[5]), Int(x[6])};
    });
  }
  Result<DataKeyRow> GetDataKey(const std::string& survivor_id) override {
    return Read<DataKeyRow>("data key", [&](pqxx::read_transaction& t) -> Result<DataKeyRow> {
      auto r = t.exec_prepared("get_data_key", survivor_id);
      if (r.empty()) return Status::NotFound();
      return DataKeyRow{Text(r[0][0]), Bytes(r[0][1]), static_cast<uint32_t>(Int(r[0][2]))};
    });
  }
  Status ForEachDataKey(const std::function<Status(const DataKeyRow&)>& fn) override {
    std::string after;
    while (true) {
      TRELLIS_ASSIGN_OR_RETURN(auto page, Read<std::vector<DataKeyRow>>("data key", [&](pqxx::read_transaction& t) {
        std::vector<DataKeyRow> out;
        for (const auto& x : t.exec_prepared("data_keys_after", after)) {
          out.push_back({Text(x[0]), Bytes(x[1]), static_cast<uint32_t>(Int(x[2]))});
        }
        return Result<std::vector<DataKeyRow>>(std::move(out));
      }));
      for (const auto& k : page) TRELLIS_RETURN_IF_ERROR(fn(k));
      if (page.size() < 1000) return Status::Ok();
      after = page.back().survivor_id;
    }
  }
  Result<StoredRecord> GetRecord(RecordKind kind, const std::string& id) override {
    return Read<StoredRecord>("record", [&](pqxx::read_transaction& t) -> Result<StoredRecord> {
      auto r = t.exec_prepared("get_record", id, static_cast<int64_t>(kind));
      if (r.empty()) return Status::NotFound();
      return ReadRecord(r[0]);
    });
  }
  Result<SecondFactorRow> GetSecondFactor(const std::string& user_id) override {
    return Read<SecondFactorRow>("second factor", [&](pqxx::read_transaction& t) -> Result<SecondFactorRow> {
      auto r = t.exec_prepared("get_second_factor", user_id);
      if (r.empty()) return Status::NotFound();
      return ReadSecondFactor(r[0]);
    });
  }
  Result<std::vector<SecondFactorRow>> ListSecondFactors() override {
    return Read<std::vector<SecondFactorRow>>("second factor", [&](pqxx::read_transaction& t) {
      std::vector<SecondFactorRow> out;
      for (const auto& row : t.exec_prepared("list_second_factors")) out.push_back(ReadSecondFactor(row));
      return Result<std::vector<SecondFactorRow>>(std::move(out));
    });
  }
  Result<GrantRow> GetGrant(const std::string& id) override {
    return Read<GrantRow>("grant", [&](pqxx::read_transaction& t) -> Result<GrantRow> {
      auto r = t.exec_prepared("get_grant", id);
      if (r.empty()) return Status::NotFound();
      return ReadGrant(r[0]);
    });
  }
  Result<std::vector<GrantRow>> ListGrants(const GrantQuery& q) override {
    return Read<std::vector<GrantRow>>("grant", [&](pqxx::read_transaction& t) {
      const std::string none;
      auto res = t.exec_prepared("list_grants", q.survivor_id.has_value(), q.survivor_id.value_or(none),
                                 q.recipient_agency_id.has_value(), q.recipient_agency_id.value_or(none),
                                 q.owner_agency_id.has_value(), q.owner_agency_id.value_or(none), q.kind.has_value(),
                                 q.kind.value_or(none), q.in_force_at, static_cast<int64_t>(q.limit));
      std::vector<GrantRow> out;
      for (const auto& row : res) out.push_back(ReadGrant(row));
      return Result<std::vector<GrantRow>>(std::move(out));
    });
  }
  Result<EvidenceRow> GetEvidence(const std::string& id, bool with_content) override {
    return Read<EvidenceRow>("evidence", [&](pqxx::read_transaction& t) -> Result<EvidenceRow> {
      auto r = t.exec_prepared(with_content ? "get_evidence_content" : "get_evidence", id);
      if (r.empty()) return Status::NotFound();
      EvidenceRow e = ReadEvidence(r[0]);
      if (with_content) e.content = Bytes(r[0][11]);
      return e;
    });
  }
  Result<std::vector<EvidenceRow>> ListEvidence(const std::string& survivor_id) override {
    return Read<std::vector<EvidenceRow>>("evidence", [&](pqxx::read_transaction& t) {
      std::vector<EvidenceRow> out;
      for (const auto& r : t.exec_prepared("list_evidence", survivor_id)) out.push_back(ReadEvidence(r));
      return Result<std::vector<EvidenceRow>>(std::move(out));
    });
  }
  Result<std::vector<DisclosureRow>> ListDisclosures(const std::string& survivor_id) override {
    return Read<std::vector<DisclosureRow>>("disclosure", [&](pqxx::read_transaction& t) {
      std::vector<DisclosureRow> out;
      for (const auto& r : t.exec_prepared("list_disclosures", survivor_id)) {
        out.push_back({Int(r[0]), r[1].c_str(), r[2].c_str(), Int(r[3]), r[4].c_str(), r[5].c_str(), r[6].c_str(),
                       r[7].c_str(), r[8].c_str(), r[9].c_str(), r[10].c_str()});
      }
      return Result<std::vector<DisclosureRow>>(std::move(out));
    });
  }
  Result<std::vector<StoredRecord>> ListRecords(const ListQuery& q) override {
    if (q.agency_ids.empty() && q.survivor_ids.empty()) return std::vector<StoredRecord>();
    return Read<std::vector<StoredRecord>>("record", [&](pqxx::read_transaction& t) {
      const std::string none;
      auto res = t.exec_prepared("list_records", static_cast<int64_t>(q.kind), TextArray(q.agency_ids),
                                 q.after_created, q.after_id, q.updated_since, q.survivor_id.has_value(),
                                 q.survivor_id.value_or(none), q.status.has_value(), q.status.value_or(none),
                                 q.team_member.has_value(), q.team_member ? "\"" + *q.team_member + "\"" : none,
                                 static_cast<int64_t>(q.limit), TextArray(q.survivor_ids));
      std::vector<StoredRecord> out;
      out.reserve(res.size());
      for (const auto& row : res) out.push_back(ReadRecord(row));
      return Result<std::vector<StoredRecord>>(std::move(out));
    });
  }
  Result<int64_t> CountRecords(RecordKind kind, const std::vector<std::string>& agency_ids) override {
    if (agency_ids.empty()) return int64_t{0};
    return Read<int64_t>("record", [&](pqxx::read_transaction& t) {
      return Result<int64_t>(Int(t.exec_prepared("count_records", static_cast<int64_t>(kind), TextArray(agency_ids))[0][0]));
    });
  }
  Result<std::optional<std::string>> GetMeta(const std::string& key) override {
    return Read<std::optional<std::string>>("meta", [&](pqxx::read_transaction& t) {
      auto r = t.exec_prepared("get_meta", key);
      if (r.empty()) return Result<std::optional<std::string>>(std::optional<std::string>());
      return Result<std::optional<std::string>>(std::optional<std::string>(Bytes(r[0][0])));
    });
  }

  Status AppendAudit(const AuditBuilder& build, const std::function<Status(Txn&)>& also) override {
    return WithConn("audit", false, [&](pqxx::connection& c) -> Status {
      pqxx::work w(c);
      // Appenders of every app server queue here; readers are not blocked.
      w.exec("LOCK TABLE audit_log IN EXCLUSIVE MODE");
      AuditRow last{0, "", ""};
      auto head = w.exec_prepared("audit_last");
      if (!head.empty()) last = ReadAudit(head[0]);
      auto [rows, cp] = build(last);
      for (const AuditRow& r : rows) w.exec_prepared("audit_insert", r.seq, Blob(r.encoded), Blob(r.chain_hash));
      w.exec_prepared("audit_checkpoint_insert", cp.seq, Blob(cp.chain_hash), Blob(cp.signature), cp.signed_at);
      if (also) {
        PgTxn txn(w);
        Status st = also(txn);
        if (!st.ok()) return st;  // ~work rolls back
      }
      w.commit();
      return Status::Ok();
    });
  }
  Result<AuditRow> LastAudit() override {
    return Read<AuditRow>("audit", [&](pqxx::read_transaction& t) {
      auto r = t.exec_prepared("audit_last");
      return Result<AuditRow>(r.empty() ? AuditRow{0, "", ""} : ReadAudit(r[0]));
    });
  }
  Status ForEachAudit(int64_t from_seq, const std::function<bool(const AuditRow&)>& fn) override {
    // In pages, so a long log is never held in memory at once.
    int64_t next = from_seq;
    while (true) {
      TRELLIS_ASSIGN_OR_RETURN(auto page, Read<std::vector<AuditRow>>("audit", [&](pqxx::read_transaction& t) {
        std::vector<AuditRow> out;
        for (const auto& x : t.exec_prepared("audit_from", next, int64_t{1000})) out.push_back(ReadAudit(x));
        return Result<std::vector<AuditRow>>(std::move(out));
      }));
      for (const auto& r : page) {
        if (!fn(r)) return Status::Ok();
      }
      if (page.size() < 1000) return Status::Ok();
      next = page.back().seq + 1;
    }
  }
  Result<std::vector<AuditCheckpointRow>> ListCheckpoints() override {
    return Read<std::vector<AuditCheckpointRow>>("audit", [&](pqxx::read_transaction& t) {
      std::vector<AuditCheckpointRow> out;
      for (const auto& x : t.exec_prepared("audit_checkpoints")) {
        out.push_back({Int(x[0]), Bytes(x[1]), Bytes(x[2]), Int(x[3])});
      }
      return Result<std::vector<AuditCheckpointRow>>(std::move(out));
    });
  }
  Result<std::vector<AuditRow>> ListAuditBefore(int64_t before_seq, int limit) override {
    return Read<std::vector<AuditRow>>("audit", [&](pqxx::read_transaction& t) {
      std::vector<AuditRow> out;
      for (const auto& x : t.exec_prepared("audit_before", before_seq > 0 ? before_seq : INT64_MAX,
                                           static_cast<int64_t>(limit))) {
        out.push_back(ReadAudit(x));
      }
      return Result<std::vector<AuditRow>>(std::move(out));
    });
  }

  // A consistent copy of the whole store as a SQLite file, so `trellis backup` (which strips
  // data keys and encrypts the file) works the same on both backends.
  Status SnapshotTo(const std::string& path) override {
    ::unlink(path.c_str());
    ::unlink(SqliteAuditPath(path).c_str());
    {
      auto copy = OpenSqliteStore(path, {.reader_connections = 1, .create_if_missing = true});
      if (!copy.ok()) return copy.status();
      auto counts = CopyStore(*this, **copy);
      if (!counts.ok()) return counts.status();
    }
    // A SQLite store keeps its audit tables in a second file; a snapshot is one file.
    return FoldSqliteAuditFile(path);
  }

  Status CheckIntegrity() override {
    return WithConn("integrity", true, [&](pqxx::connection& c) -> Status {
      pqxx::read_transaction t(c);
      const int64_t version = Int(t.exec_prepared("schema_version")[0][0]);
      if (version != static_cast<int64_t>(pg::Migrations().size())) {
        return Status::DataLoss("schema version " + std::to_string(version) + " is not this binary's");
      }
      auto span = t.exec_prepared("audit_span")[0];
      const int64_t n = Int(span[0]), lo = Int(span[1]), hi = Int(span[2]);
      if (n != 0 && (lo != 1 || hi - lo + 1 != n)) return Status::DataLoss("the audit log has a gap");
      return Status::Ok();
    });
  }

  Status ExportTables(const std::function<Status(const TableRow&)>& fn) override {
    return WithConn("export", true, [&](pqxx::connection& c) -> Status {
      // One snapshot for every table.
      pqxx::transaction<pqxx::repeatable_read, pqxx::read_only> t(c);
      for (const auto& row : t.exec_prepared("tables")) {
        const std::string name = Text(row[0]);
        bool known = name == "schema_version";
        for (const TableSpec& spec : Tables()) known = known || name == spec.name;
        if (!known) return Status(Code::kFailedPrecondition, "export: table " + name + " is not in storage/tables.h");
      }
      for (const TableSpec& spec : Tables()) {
        std::string cols;
        for (size_t i = 0; i < spec.columns.size(); ++i) cols += (i ? ", " : "") + std::string(spec.columns[i].name);
        t.exec(std::string("DECLARE export_cursor NO SCROLL CURSOR FOR SELECT ") + cols + " FROM " + spec.name +
               " ORDER BY " + spec.order_by);
        TableRow out{&spec, {}};
        while (true) {
          pqxx::result page = t.exec("FETCH 500 FROM export_cursor");
          for (const auto& row : page) {
            out.cells.clear();
            for (size_t i = 0; i < spec.columns.size(); ++i) {
              switch (spec.columns[i].kind) {
                case ColumnKind::kInt: out.cells.emplace_back(Int(row[static_cast<int>(i)])); break;
                case ColumnKind::kText: out.cells.emplace_back(Text(row[static_cast<int>(i)])); break;
                case ColumnKind::kBlob: out.cells.emplace_back(Bytes(row[static_cast<int>(i)])); break;
              }
            }
            TRELLIS_RETURN_IF_ERROR(fn(out));
          }
          if (page.size() < 500) break;
        }
        t.exec("CLOSE export_cursor");
      }
      return Status::Ok();
    });
  }

 private:
  Result<UserRow> GetUser(const char* stmt, const std::string& v) {
    return Read<UserRow>("user", [&](pqxx::read_transaction& t) -> Result<UserRow> {
      auto r = t.exec_prepared(stmt, v);
      if (r.empty()) return Status::NotFound();
      return ReadUser(r[0]);
    });
  }

  // Runs fn on a pooled connection, mapping exceptions to a Status. Reads (`retry`) are retried
  // once on a fresh connection when the old one broke (server restart, fail-over to a standby).
  template <typename F>
  auto WithConn(const char* what, bool retry, F&& fn) -> decltype(fn(std::declval<pqxx::connection&>())) {
    using R = decltype(fn(std::declval<pqxx::connection&>()));
    for (int attempt = 0;; ++attempt) {
      auto lease = pool_.Acquire();
      if (!lease.ok()) return R(lease.status());
      try {
        return fn(**lease);
      } catch (const pqxx::broken_connection&) {
        if (!retry || attempt > 0) return R(FromException(what));
      } catch (...) {
        return R(FromException(what));
      }
    }
  }
  template <typename T, typename F>
  Result<T> Read(const char* what, F&& fn) {
    return WithConn(what, true, [&](pqxx::connection& c) -> Result<T> {
      pqxx::read_transaction t(c);
      return fn(t);
    });
  }

  Pool pool_;
};

Status Migrate(const std::string& url) {
  try {
    auto c = Connect(url, false);
    pqxx::work w(*c);
    w.exec("SELECT pg_advisory_xact_lock(" + std::to_string(pg::kMigrationLock) + ")");
    w.exec("CREATE TABLE IF NOT EXISTS schema_version(version BIGINT NOT NULL)");
    const int64_t version = Int(w.exec("SELECT coalesce(max(version), 0) FROM schema_version")[0][0]);
    const auto& steps = pg::Migrations();
    const int64_t latest = static_cast<int64_t>(steps.size());
    if (version > latest) return Status(Code::kFailedPrecondition, "the store is newer than this trellis binary");
    for (int64_t v = version; v < latest; ++v) {
      w.exec(steps[v]);
      w.exec("INSERT INTO schema_version(version) VALUES(" + std::to_string(v + 1) + ")");
    }
    w.commit();
    return Status::Ok();
  } catch (...) {
    return FromException("migrate");
  }
}

}  // namespace

Result<std::unique_ptr<CaseStore>> OpenPostgresStore(const std::string& url, const PostgresOptions& options) {
  TRELLIS_RETURN_IF_ERROR(Migrate(url));
  return std::unique_ptr<CaseStore>(std::make_unique<PgStore>(url, options.connections));
}

}  // namespace trellis::storage

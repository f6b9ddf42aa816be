#include "storage/postgres/pg_schema.h"

#include "storage/tables.h"

namespace trellis::storage::pg {

const std::vector<std::string>& Migrations() {
  static const std::vector<std::string> kMigrations = {
      // 1: the initial schema (as SQLite's version 1)
      R"sql(
CREATE TABLE meta(key TEXT COLLATE "C" PRIMARY KEY, value BYTEA NOT NULL);
CREATE TABLE agencies(id TEXT COLLATE "C" PRIMARY KEY, name TEXT COLLATE "C" NOT NULL,
  kind TEXT COLLATE "C" NOT NULL, created_at BIGINT NOT NULL);
CREATE TABLE users(
  id TEXT COLLATE "C" PRIMARY KEY, agency_id TEXT COLLATE "C" NOT NULL REFERENCES agencies(id),
  username TEXT COLLATE "C" NOT NULL UNIQUE, display_name TEXT COLLATE "C" NOT NULL, role TEXT COLLATE "C" NOT NULL,
  password_hash TEXT COLLATE "C" NOT NULL, disabled BIGINT NOT NULL DEFAULT 0, failed_logins BIGINT NOT NULL DEFAULT 0,
  locked_until BIGINT NOT NULL DEFAULT 0, created_at BIGINT NOT NULL);
CREATE TABLE sessions(
  token_hash BYTEA PRIMARY KEY, user_id TEXT COLLATE "C" NOT NULL REFERENCES users(id), csrf_hash BYTEA NOT NULL,
  created_at BIGINT NOT NULL, last_seen_at BIGINT NOT NULL, expires_at BIGINT NOT NULL);
CREATE INDEX sessions_user ON sessions(user_id);
CREATE TABLE api_tokens(
  token_hash BYTEA PRIMARY KEY, id TEXT COLLATE "C" NOT NULL UNIQUE, user_id TEXT COLLATE "C" NOT NULL REFERENCES users(id),
  name TEXT COLLATE "C" NOT NULL, created_at BIGINT NOT NULL, expires_at BIGINT NOT NULL, revoked_at BIGINT NOT NULL);
CREATE TABLE data_keys(survivor_id TEXT COLLATE "C" PRIMARY KEY, key_version BIGINT NOT NULL, wrapped BYTEA NOT NULL);
CREATE TABLE records(
  id TEXT COLLATE "C" PRIMARY KEY, kind BIGINT NOT NULL, agency_id TEXT COLLATE "C" NOT NULL,
  survivor_id TEXT COLLATE "C" NOT NULL, case_number TEXT COLLATE "C" NOT NULL, status TEXT COLLATE "C" NOT NULL,
  version BIGINT NOT NULL, created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL, plain TEXT COLLATE "C" NOT NULL,
  sealed BYTEA NOT NULL, team TEXT COLLATE "C" NOT NULL);
CREATE INDEX records_list ON records(kind, agency_id, created_at, id);
CREATE INDEX records_survivor ON records(survivor_id);
CREATE TABLE audit_log(seq BIGINT PRIMARY KEY, entry BYTEA NOT NULL, chain_hash BYTEA NOT NULL);
CREATE TABLE audit_checkpoints(seq BIGINT PRIMARY KEY, chain_hash BYTEA NOT NULL, signature BYTEA NOT NULL,
  signed_at BIGINT NOT NULL);
)sql",
      // 2: consent — grants (releases, break-glass, compelled disclosures); accounting of disclosures
      R"sql(
CREATE TABLE grants(
  id TEXT COLLATE "C" PRIMARY KEY, kind TEXT COLLATE "C" NOT NULL, survivor_id TEXT COLLATE "C" NOT NULL,
  owner_agency_id TEXT COLLATE "C" NOT NULL, recipient_agency_id TEXT COLLATE "C" NOT NULL,
  recipient_user_id TEXT COLLATE "C" NOT NULL, categories TEXT COLLATE "C" NOT NULL, purpose TEXT COLLATE "C" NOT NULL,
  language TEXT COLLATE "C" NOT NULL, effective_at BIGINT NOT NULL, expires_at BIGINT NOT NULL,
  created_at BIGINT NOT NULL, created_by TEXT COLLATE "C" NOT NULL, revoked_at BIGINT NOT NULL,
  revoked_by TEXT COLLATE "C" NOT NULL, revoke_reason TEXT COLLATE "C" NOT NULL, task_done_at BIGINT NOT NULL,
  sealed BYTEA NOT NULL);
CREATE INDEX grants_survivor ON grants(survivor_id);
CREATE INDEX grants_recipient ON grants(recipient_agency_id, expires_at);
CREATE INDEX grants_owner ON grants(owner_agency_id, kind);
CREATE TABLE disclosures(
  seq BIGSERIAL PRIMARY KEY, survivor_id TEXT COLLATE "C" NOT NULL, record_id TEXT COLLATE "C" NOT NULL,
  at BIGINT NOT NULL, actor_user_id TEXT COLLATE "C" NOT NULL, actor_agency_id TEXT COLLATE "C" NOT NULL,
  action TEXT COLLATE "C" NOT NULL, categories TEXT COLLATE "C" NOT NULL, basis TEXT COLLATE "C" NOT NULL,
  grant_ids TEXT COLLATE "C" NOT NULL, request_id TEXT COLLATE "C" NOT NULL);
CREATE INDEX disclosures_survivor ON disclosures(survivor_id, seq);
)sql",
      // 3: TOTP second factor (secret sealed, recovery codes hashed)
      R"sql(
CREATE TABLE second_factors(
  user_id TEXT COLLATE "C" PRIMARY KEY REFERENCES users(id), state TEXT COLLATE "C" NOT NULL,
  secret_sealed BYTEA NOT NULL, key_version BIGINT NOT NULL, last_step BIGINT NOT NULL,
  recovery_hashes TEXT COLLATE "C" NOT NULL, version BIGINT NOT NULL, created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL);
)sql",
      // 4: evidence items (sealed metadata and file), and the items a release names
      R"sql(
ALTER TABLE grants ADD COLUMN evidence_ids TEXT COLLATE "C" NOT NULL DEFAULT '';
CREATE TABLE evidence(
  id TEXT COLLATE "C" PRIMARY KEY, survivor_id TEXT COLLATE "C" NOT NULL, case_id TEXT COLLATE "C" NOT NULL,
  agency_id TEXT COLLATE "C" NOT NULL, kind TEXT COLLATE "C" NOT NULL, grant_id TEXT COLLATE "C" NOT NULL,
  content_type TEXT COLLATE "C" NOT NULL, size BIGINT NOT NULL, created_at BIGINT NOT NULL,
  created_by TEXT COLLATE "C" NOT NULL, sealed BYTEA NOT NULL, content BYTEA NOT NULL);
CREATE INDEX evidence_survivor ON evidence(survivor_id, created_at);
)sql",
  };
  return kMigrations;
}

namespace {
constexpr char kRecordCols[] =
    "id, kind, agency_id, survivor_id, case_number, status, version, created_at, updated_at, plain, sealed, team";
constexpr char kGrantCols[] =
    "id, kind, survivor_id, owner_agency_id, recipient_agency_id, recipient_user_id, categories, purpose, language,"
    " effective_at, expires_at, created_at, created_by, revoked_at, revoked_by, revoke_reason, task_done_at, sealed,"
    " evidence_ids";
constexpr char kEvidenceCols[] =
    "id, survivor_id, case_id, agency_id, kind, grant_id, content_type, size, created_at, created_by, sealed";
constexpr char kDisclosureCols[] =
    "survivor_id, record_id, at, actor_user_id, actor_agency_id, action, categories, basis, grant_ids, request_id";
constexpr char kSecondFactorCols[] =
    "user_id, state, secret_sealed, key_version, last_step, recovery_hashes, version, created_at, updated_at";
constexpr char kUserCols[] =
    "id, agency_id, username, display_name, role, password_hash, disabled, failed_logins, locked_until, created_at";
}  // namespace

const std::vector<std::pair<std::string, std::string>>& Statements() {
  static const std::vector<std::pair<std::string, std::string>> kStatements = [] {
    const std::string rec = kRecordCols, usr = kUserCols, grant = kGrantCols, disc = kDisclosureCols,
                      evid = kEvidenceCols;
    std::vector<std::pair<std::string, std::string>> s = {
        // Txn
        {"put_agency", "INSERT INTO agencies(id, name, kind, created_at) VALUES($1,$2,$3,$4) "
                       "ON CONFLICT(id) DO UPDATE SET name=excluded.name, kind=excluded.kind"},
        {"insert_user", "INSERT INTO users(" + usr + ") VALUES($1,$2,$3,$4,$5,$6,$7,$8,$9,$10) ON CONFLICT DO NOTHING"},
        {"update_user_login", "UPDATE users SET failed_logins=$1, locked_until=$2 WHERE id=$3"},
        // The row lock this takes holds until commit: concurrent failures queue and each counts.
        {"increment_failed_logins", "UPDATE users SET failed_logins = failed_logins + 1 WHERE id=$1"
                                    " RETURNING failed_logins"},
        {"raise_locked_until", "UPDATE users SET locked_until = GREATEST(locked_until, $1) WHERE id=$2"},
        {"set_user_disabled", "UPDATE users SET disabled=$1 WHERE id=$2"},
        {"set_user_password", "UPDATE users SET password_hash=$1, failed_logins=0, locked_until=0 WHERE id=$2"},
        {"insert_session", "INSERT INTO sessions(token_hash, user_id, csrf_hash, created_at, last_seen_at, expires_at)"
                           " VALUES($1,$2,$3,$4,$5,$6) ON CONFLICT DO NOTHING"},
        {"touch_session", "UPDATE sessions SET last_seen_at=$1 WHERE token_hash=$2"},
        {"delete_session", "DELETE FROM sessions WHERE token_hash=$1"},
        {"delete_user_sessions", "DELETE FROM sessions WHERE user_id=$1"},
        {"insert_token", "INSERT INTO api_tokens(token_hash, id, user_id, name, created_at, expires_at, revoked_at)"
                         " VALUES($1,$2,$3,$4,$5,$6,$7) ON CONFLICT DO NOTHING"},
        {"revoke_token", "UPDATE api_tokens SET revoked_at=$1 WHERE id=$2 AND revoked_at=0"},
        {"put_data_key", "INSERT INTO data_keys(survivor_id, key_version, wrapped) VALUES($1,$2,$3) "
                         "ON CONFLICT(survivor_id) DO UPDATE SET key_version=excluded.key_version, wrapped=excluded.wrapped"},
        {"delete_data_key", "DELETE FROM data_keys WHERE survivor_id=$1"},
        {"insert_record", "INSERT INTO records(" + rec + ") VALUES($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12)"
                          " ON CONFLICT DO NOTHING"},
        {"update_record", "UPDATE records SET kind=$2, agency_id=$3, survivor_id=$4, case_number=$5, status=$6,"
                          " version=$7, created_at=$8, updated_at=$9, plain=$10, sealed=$11, team=$12"
                          " WHERE id=$1 AND version=$13"},
        {"record_exists", "SELECT 1 FROM records WHERE id=$1"},
        {"delete_survivor_records", "DELETE FROM records WHERE survivor_id=$1"},
        {"insert_grant", "INSERT INTO grants(" + grant + ") VALUES($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,"
                         "$16,$17,$18,$19) ON CONFLICT DO NOTHING"},
        {"update_grant", "UPDATE grants SET revoked_at=$1, revoked_by=$2, revoke_reason=$3, task_done_at=$4 WHERE id=$5"},
        {"insert_disclosure", "INSERT INTO disclosures(" + disc + ") VALUES($1,$2,$3,$4,$5,$6,$7,$8,$9,$10)"},
        {"get_grant", "SELECT " + grant + " FROM grants WHERE id=$1"},
        {"list_grants", "SELECT " + grant + " FROM grants WHERE (NOT $1::boolean OR survivor_id=$2)"
                        " AND (NOT $3::boolean OR recipient_agency_id=$4) AND (NOT $5::boolean OR owner_agency_id=$6)"
                        " AND (NOT $7::boolean OR kind=$8)"
                        " AND ($9::bigint = 0 OR (revoked_at=0 AND effective_at<=$9::bigint AND expires_at>$9::bigint))"
                        " ORDER BY created_at DESC, id LIMIT $10"},
        {"list_disclosures", "SELECT seq, " + disc + " FROM disclosures WHERE survivor_id=$1 ORDER BY seq"},
        {"disclosures_sequence", "SELECT setval(pg_get_serial_sequence('disclosures', 'seq'),"
                                 " (SELECT max(seq) FROM disclosures))"},
        {"put_second_factor", "INSERT INTO second_factors(" + std::string(kSecondFactorCols) +
                                  ") VALUES($1,$2,$3,$4,$5,$6,$7,$8,$9) ON CONFLICT(user_id) DO UPDATE SET"
                                  " state=excluded.state, secret_sealed=excluded.secret_sealed,"
                                  " key_version=excluded.key_version, last_step=excluded.last_step,"
                                  " recovery_hashes=excluded.recovery_hashes, version=excluded.version,"
                                  " created_at=excluded.created_at, updated_at=excluded.updated_at"},
        {"update_second_factor", "UPDATE second_factors SET state=$2, secret_sealed=$3, key_version=$4, last_step=$5,"
                                 " recovery_hashes=$6, version=$7, created_at=$8, updated_at=$9"
                                 " WHERE user_id=$1 AND version=$10"},
        {"second_factor_exists", "SELECT 1 FROM second_factors WHERE user_id=$1"},
        {"delete_second_factor", "DELETE FROM second_factors WHERE user_id=$1"},
        {"get_second_factor", "SELECT " + std::string(kSecondFactorCols) + " FROM second_factors WHERE user_id=$1"},
        {"list_second_factors", "SELECT " + std::string(kSecondFactorCols) + " FROM second_factors ORDER BY user_id"},
        {"insert_evidence", "INSERT INTO evidence(" + evid + ", content) VALUES($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12)"
                            " ON CONFLICT DO NOTHING"},
        {"set_evidence_content", "UPDATE evidence SET content_type=$1, size=$2, sealed=$3, content=$4"
                                 " WHERE id=$5 AND size=0"},
        {"evidence_exists", "SELECT 1 FROM evidence WHERE id=$1"},
        {"delete_survivor_evidence", "DELETE FROM evidence WHERE survivor_id=$1"},
        {"get_evidence", "SELECT " + evid + " FROM evidence WHERE id=$1"},
        {"get_evidence_content", "SELECT " + evid + ", content FROM evidence WHERE id=$1"},
        {"list_evidence", "SELECT " + evid + " FROM evidence WHERE survivor_id=$1 ORDER BY created_at, id"},
        {"set_meta", "INSERT INTO meta(key, value) VALUES($1,$2) ON CONFLICT(key) DO UPDATE SET value=excluded.value"},
        // reads
        {"get_agency", "SELECT id, name, kind FROM agencies WHERE id=$1"},
        {"list_agencies", "SELECT id, name, kind FROM agencies ORDER BY name, id"},
        {"get_user_by_id", "SELECT " + usr + " FROM users WHERE id=$1"},
        {"get_user_by_name", "SELECT " + usr + " FROM users WHERE username=$1"},
        {"list_users", "SELECT " + usr + " FROM users WHERE agency_id=$1 ORDER BY username"},
        {"get_session", "SELECT token_hash, user_id, csrf_hash, created_at, last_seen_at, expires_at FROM sessions"
                        " WHERE token_hash=$1"},
        {"get_token", "SELECT id, token_hash, user_id, name, created_at, expires_at, revoked_at FROM api_tokens"
                      " WHERE token_hash=$1"},
        {"get_data_key", "SELECT survivor_id, wrapped, key_version FROM data_keys WHERE survivor_id=$1"},
        {"data_keys_after", "SELECT survivor_id, wrapped, key_version FROM data_keys WHERE survivor_id > $1"
                            " ORDER BY survivor_id LIMIT 1000"},
        {"get_record", "SELECT " + rec + " FROM records WHERE id=$1 AND kind=$2"},
        {"list_records", "SELECT " + rec + " FROM records WHERE kind=$1"
                         " AND (agency_id = ANY($2::text[]) OR survivor_id = ANY($13::text[]))"
                         " AND (created_at > $3 OR (created_at = $3 AND id > $4)) AND updated_at >= $5"
                         " AND (NOT $6::boolean OR survivor_id = $7) AND (NOT $8::boolean OR status = $9)"
                         " AND (NOT $10::boolean OR strpos(team, $11) > 0)"
                         " ORDER BY created_at, id LIMIT $12"},
        {"count_records", "SELECT count(*) FROM records WHERE kind=$1 AND agency_id = ANY($2::text[])"},
        {"get_meta", "SELECT value FROM meta WHERE key=$1"},
        // audit
        {"audit_last", "SELECT seq, entry, chain_hash FROM audit_log ORDER BY seq DESC LIMIT 1"},
        {"audit_insert", "INSERT INTO audit_log(seq, entry, chain_hash) VALUES($1,$2,$3)"},
        {"audit_checkpoint_insert",
         "INSERT INTO audit_checkpoints(seq, chain_hash, signature, signed_at) VALUES($1,$2,$3,$4)"},
        {"audit_from", "SELECT seq, entry, chain_hash FROM audit_log WHERE seq >= $1 ORDER BY seq LIMIT $2"},
        {"audit_checkpoints", "SELECT seq, chain_hash, signature, signed_at FROM audit_checkpoints ORDER BY seq"},
        {"audit_before", "SELECT seq, entry, chain_hash FROM audit_log WHERE seq < $1 ORDER BY seq DESC LIMIT $2"},
        {"audit_span", "SELECT count(*), coalesce(min(seq), 1), coalesce(max(seq), 0) FROM audit_log"},
        {"schema_version", "SELECT coalesce(max(version), 0) FROM schema_version"},
        {"tables", "SELECT table_name::text FROM information_schema.tables WHERE table_schema = current_schema()"
                   " AND table_type = 'BASE TABLE'"},
    };
    // One INSERT per table for ImportRow.
    for (const TableSpec& t : Tables()) {
      std::string cols, marks;
      for (size_t i = 0; i < t.columns.size(); ++i) {
        cols += (i ? ", " : "") + std::string(t.columns[i].name);
        marks += (i ? ",$" : "$") + std::to_string(i + 1);
      }
      s.emplace_back(std::string("import_") + t.name,
                     std::string("INSERT INTO ") + t.name + "(" + cols + ") VALUES(" + marks + ")");
    }
    return s;
  }();
  return kStatements;
}

}  // namespace trellis::storage::pg

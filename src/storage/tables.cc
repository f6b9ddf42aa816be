#include "storage/tables.h"

namespace trellis::storage {

const std::vector<TableSpec>& Tables() {
  using K = ColumnKind;
  static const std::vector<TableSpec> kTables = {
      {"meta", {{"key", K::kText}, {"value", K::kBlob}}, "key"},
      {"agencies", {{"id", K::kText}, {"name", K::kText}, {"kind", K::kText}, {"created_at", K::kInt}}, "id"},
      {"users",
       {{"id", K::kText}, {"agency_id", K::kText}, {"username", K::kText}, {"display_name", K::kText},
        {"role", K::kText}, {"password_hash", K::kText}, {"disabled", K::kInt}, {"failed_logins", K::kInt},
        {"locked_until", K::kInt}, {"created_at", K::kInt}},
       "id"},
      {"sessions",
       {{"token_hash", K::kBlob}, {"user_id", K::kText}, {"csrf_hash", K::kBlob}, {"created_at", K::kInt},
        {"last_seen_at", K::kInt}, {"expires_at", K::kInt}},
       "token_hash"},
      {"api_tokens",
       {{"token_hash", K::kBlob}, {"id", K::kText}, {"user_id", K::kText}, {"name", K::kText},
        {"created_at", K::kInt}, {"expires_at", K::kInt}, {"revoked_at", K::kInt}},
       "token_hash"},
      {"data_keys", {{"survivor_id", K::kText}, {"key_version", K::kInt}, {"wrapped", K::kBlob}}, "survivor_id"},
      {"records",
       {{"id", K::kText}, {"kind", K::kInt}, {"agency_id", K::kText}, {"survivor_id", K::kText},
        {"case_number", K::kText}, {"status", K::kText}, {"version", K::kInt}, {"created_at", K::kInt},
        {"updated_at", K::kInt}, {"plain", K::kText}, {"sealed", K::kBlob}, {"team", K::kText}},
       "id"},
      {"grants",
       {{"id", K::kText}, {"kind", K::kText}, {"survivor_id", K::kText}, {"owner_agency_id", K::kText},
        {"recipient_agency_id", K::kText}, {"recipient_user_id", K::kText}, {"categories", K::kText},
        {"purpose", K::kText}, {"language", K::kText}, {"effective_at", K::kInt}, {"expires_at", K::kInt},
        {"created_at", K::kInt}, {"created_by", K::kText}, {"revoked_at", K::kInt}, {"revoked_by", K::kText},
        {"revoke_reason", K::kText}, {"task_done_at", K::kInt}, {"sealed", K::kBlob},
        {"evidence_ids", K::kText}},
       "id"},
      {"evidence",
       {{"id", K::kText}, {"survivor_id", K::kText}, {"case_id", K::kText}, {"agency_id", K::kText},
        {"kind", K::kText}, {"grant_id", K::kText}, {"content_type", K::kText}, {"size", K::kInt},
        {"created_at", K::kInt}, {"created_by", K::kText}, {"sealed", K::kBlob}, {"content", K::kBlob}},
       "id"},
      {"disclosures",
       {{"seq", K::kInt}, {"survivor_id", K::kText}, {"record_id", K::kText}, {"at", K::kInt},
        {"actor_user_id", K::kText}, {"actor_agency_id", K::kText}, {"action", K::kText}, {"categories", K::kText},
        {"basis", K::kText}, {"grant_ids", K::kText}, {"request_id", K::kText}},
       "seq"},
      {"second_factors",
       {{"user_id", K::kText}, {"state", K::kText}, {"secret_sealed", K::kBlob}, {"key_version", K::kInt},
        {"last_step", K::kInt}, {"recovery_hashes", K::kText}, {"version", K::kInt}, {"created_at", K::kInt},
        {"updated_at", K::kInt}},
       "user_id"},
      {"audit_log", {{"seq", K::kInt}, {"entry", K::kBlob}, {"chain_hash", K::kBlob}}, "seq"},
      {"audit_checkpoints",
       {{"seq", K::kInt}, {"chain_hash", K::kBlob}, {"signature", K::kBlob}, {"signed_at", K::kInt}},
       "seq"},
  };
  return kTables;
}

}  // namespace trellis::storage

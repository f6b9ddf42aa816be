#include "storage/store.h"

#include "storage/record_codec.h"

namespace trellis::storage {

Status CaseStore::ForEachRecord(domain::RecordKind kind, const std::vector<std::string>& agency_ids,
                                const std::function<Status(const StoredRecord&)>& fn) {
  ListQuery q;
  q.kind = kind;
  q.agency_ids = agency_ids;
  q.limit = 1000;
  while (true) {
    TRELLIS_ASSIGN_OR_RETURN(auto page, ListRecords(q));
    for (const auto& r : page) TRELLIS_RETURN_IF_ERROR(fn(r));
    if (page.size() < static_cast<size_t>(q.limit)) return Status::Ok();
    q.after_created = page.back().created_at;
    q.after_id = page.back().id;
  }
}

Status Txn::InsertBulk(std::span<const DataKeyRow> keys, std::span<const EncodedRecord> records) {
  for (const DataKeyRow& k : keys) TRELLIS_RETURN_IF_ERROR(PutDataKey(k));
  for (const EncodedRecord& e : records) {
    StoredRecord r;
    r.kind = e.kind;
    r.id = e.id;
    r.agency_id = e.agency_id;
    r.survivor_id = e.survivor_id;
    r.case_number = e.case_number;
    r.status = e.status;
    r.version = e.version;
    r.created_at = e.created_at;
    r.updated_at = e.updated_at;
    if (!DecodePlain(e.plain, &r.plain) || !DecodeSealed(e.sealed, &r.sealed) || !DecodeTeam(e.team, &r.team)) {
      return Status::Internal("bulk insert: a malformed encoded record");
    }
    TRELLIS_RETURN_IF_ERROR(InsertRecord(r));
  }
  return Status::Ok();
}

Result<std::pair<SessionRow, UserRow>> CaseStore::GetSessionWithUser(const std::string& token_hash) {
  TRELLIS_ASSIGN_OR_RETURN(SessionRow s, GetSession(token_hash));
  TRELLIS_ASSIGN_OR_RETURN(UserRow u, GetUserById(s.user_id));
  return std::make_pair(std::move(s), std::move(u));
}

Result<std::pair<TokenRow, UserRow>> CaseStore::GetTokenWithUser(const std::string& token_hash) {
  TRELLIS_ASSIGN_OR_RETURN(TokenRow t, GetToken(token_hash));
  TRELLIS_ASSIGN_OR_RETURN(UserRow u, GetUserById(t.user_id));
  return std::make_pair(std::move(t), std::move(u));
}

Result<CaseStore::RecordRead> CaseStore::GetRecordForRead(domain::RecordKind kind, const std::string& id) {
  RecordRead out;
  TRELLIS_ASSIGN_OR_RETURN(out.record, GetRecord(kind, id));
  auto key = GetDataKey(out.record.survivor_id);
  if (key.ok()) {
    out.key = std::move(key).value();
  } else if (key.status().code() != Code::kNotFound) {
    return key.status();
  }
  GrantQuery q;
  q.survivor_id = out.record.survivor_id;
  TRELLIS_ASSIGN_OR_RETURN(out.grants, ListGrants(q));
  return out;
}

}  // namespace trellis::storage

#include "storage/store.h"

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

}  // namespace trellis::storage

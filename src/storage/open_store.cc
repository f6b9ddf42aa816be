// Backend selection by location, and moving a store between backends.
#include <string_view>

#include "storage/store.h"

namespace trellis::storage {

bool IsPostgresLocation(const std::string& location) {
  return location.starts_with("postgresql://") || location.starts_with("postgres://");
}

Result<std::unique_ptr<CaseStore>> OpenStore(const std::string& location, const StoreOptions& options) {
  if (IsPostgresLocation(location)) return OpenPostgresStore(location, {.connections = options.connections});
  std::string path = location;
  if (path.starts_with("sqlite:")) path = path.substr(std::string_view("sqlite:").size());
  if (path.empty()) return Status::Invalid("empty store location", "store");
  return OpenSqliteStore(path, {.reader_connections = options.connections, .create_if_missing = options.create_if_missing});
}

#ifndef TRELLIS_HAVE_POSTGRES
Result<std::unique_ptr<CaseStore>> OpenPostgresStore(const std::string&, const PostgresOptions&) {
  return Status(Code::kFailedPrecondition, "this trellis binary was built without PostgreSQL (TRELLIS_POSTGRES=OFF)");
}
#endif

Result<std::vector<std::pair<std::string, int64_t>>> CopyStore(CaseStore& from, CaseStore& to) {
  // An empty target: no agencies, no audit entries, no meta (an initialised store has the
  // audit public key in meta).
  TRELLIS_ASSIGN_OR_RETURN(auto agencies, to.ListAgencies());
  TRELLIS_ASSIGN_OR_RETURN(auto last, to.LastAudit());
  TRELLIS_ASSIGN_OR_RETURN(auto pk, to.GetMeta("audit_public_key"));
  if (!agencies.empty() || last.seq != 0 || pk.has_value()) {
    return Status(Code::kFailedPrecondition, "the target store is not empty");
  }
  std::vector<std::pair<std::string, int64_t>> counts;
  for (const TableSpec& t : Tables()) counts.emplace_back(t.name, 0);
  Status st = to.Write([&](Txn& txn) {
    return from.ExportTables([&](const TableRow& row) -> Status {
      for (auto& [name, n] : counts) {
        if (name == row.table->name) ++n;
      }
      return txn.ImportRow(row);
    });
  });
  if (!st.ok()) return st;
  return counts;
}

}  // namespace trellis::storage

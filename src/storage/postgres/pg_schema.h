// The PostgreSQL schema (migrations) and the statements each pooled connection prepares.
// Internal to the postgres backend.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace trellis::storage::pg {

// Each entry upgrades the schema by one version; never edit a released step, add one. Same
// tables and columns as the SQLite backend (storage/tables.h); every TEXT column compares
// bytewise (COLLATE "C") so ordering and keyset paging match SQLite exactly.
const std::vector<std::string>& Migrations();

// name -> SQL of every prepared statement; a method that needs a new statement adds it here.
const std::vector<std::pair<std::string, std::string>>& Statements();

// The advisory-lock key under which migrations run (one migrator at a time per database).
inline constexpr long long kMigrationLock = 0x7472656c6c6973;  // "trellis"

}  // namespace trellis::storage::pg

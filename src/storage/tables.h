// The logical schema shared by every backend: each table, its columns and their kinds, in
// foreign-key order. Backends keep their own DDL (sqlite/, postgres/ migrations) but the
// table and column names and meanings are the same, so a store can be moved between backends
// row by row (CaseStore::ExportTables / Txn::ImportRow, used by CopyStore and by the
// PostgreSQL backend's SnapshotTo).
//
// Adding a table: add its migration to every backend AND a TableSpec here (after the tables
// it references). The conformance suite checks that a copy is complete (tests/conformance/),
// so a forgotten entry fails a test. A backend's own derived tables (SQLite's survivor index of
// disclosures, rebuilt from `disclosures`) are not listed: the backend neither exports nor
// imports them.
#pragma once

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

namespace trellis::storage {

enum class ColumnKind { kInt, kText, kBlob };

struct ColumnSpec {
  const char* name;
  ColumnKind kind;
};

struct TableSpec {
  const char* name;
  std::vector<ColumnSpec> columns;
  const char* order_by;  // a total order (the primary key), so exports are deterministic
};

// Every table of a store, referenced tables first.
const std::vector<TableSpec>& Tables();

// One cell: int64 for kInt, bytes for kText and kBlob.
using Cell = std::variant<int64_t, std::string>;

// One row of one table, cells in TableSpec column order.
struct TableRow {
  const TableSpec* table = nullptr;
  std::vector<Cell> cells;
};

}  // namespace trellis::storage

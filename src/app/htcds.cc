// HTCDS 2.0 CSV import (all-or-nothing, errors name row, column and value) and export.
#include <csv.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <deque>
#include <functional>
#include <fstream>
#include <memory>
#include <set>
#include <thread>

#include "app/app.h"
#include "app/htcds.h"
#include "app/impl.h"
#include "core/ids.h"
#include "core/rng.h"

namespace trellis::app {

using domain::RecordKind;

namespace {

struct CsvRows {
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> current;
  bool too_many = false;
};

void OnField(void* s, size_t len, void* data) {
  auto* c = static_cast<CsvRows*>(data);
  c->current.emplace_back(s ? static_cast<const char*>(s) : "", s ? len : 0);
}
void OnRow(int, void* data) {
  auto* c = static_cast<CsvRows*>(data);
  c->rows.push_back(std::move(c->current));
  c->current.clear();
}

Status ParseCsv(std::istream& in, CsvRows* out) {
  csv_parser p;
  if (csv_init(&p, CSV_STRICT | CSV_STRICT_FINI | CSV_APPEND_NULL) != 0) return Status::Internal("csv parser");
  std::unique_ptr<csv_parser, void (*)(csv_parser*)> guard(&p, csv_free);
  std::vector<char> buf(1 << 16);
  bool first = true;
  while (in) {
    in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    size_t n = static_cast<size_t>(in.gcount());
    if (n == 0) break;
    size_t skip = 0;
    if (first && n >= 3 && static_cast<unsigned char>(buf[0]) == 0xef && static_cast<unsigned char>(buf[1]) == 0xbb &&
        static_cast<unsigned char>(buf[2]) == 0xbf) {
      skip = 3;  // UTF-8 byte-order mark
    }
    first = false;
    if (csv_parse(&p, buf.data() + skip, n - skip, OnField, OnRow, out) != n - skip) {
      return Status::Invalid("row " + std::to_string(out->rows.size() + 1) + ": malformed CSV (" +
                                 csv_strerror(csv_error(&p)) + ")",
                             "file");
    }
  }
  if (csv_fini(&p, OnField, OnRow, out) != 0) {
    return Status::Invalid("row " + std::to_string(out->rows.size() + 1) + ": malformed CSV (" +
                               csv_strerror(csv_error(&p)) + ")",
                           "file");
  }
  return Status::Ok();
}

std::string At(size_t row, size_t col, const std::string& name) {
  return "row " + std::to_string(row) + ", column " + std::to_string(col) + " (" + name + ")";
}

// A spreadsheet runs a cell starting with these as a formula (OWASP CSV injection).
std::string Neutralise(const std::string& v) {
  if (!v.empty() && (v[0] == '=' || v[0] == '+' || v[0] == '-' || v[0] == '@' || v[0] == '\t' || v[0] == '\r')) {
    return "'" + v;
  }
  return v;
}

}  // namespace

Result<HtcdsRows> ParseHtcds(std::istream& in, const std::string& agency_id, int64_t now) {
  CsvRows csv;
  TRELLIS_RETURN_IF_ERROR(ParseCsv(in, &csv));
  if (csv.rows.empty()) return Status::Invalid("row 1: the file is empty; expected a header of HTCDS field names", "file");

  // Header: every column a known survivor (prs_, vic_) or case (cas_, trl_) field, once.
  struct Column {
    const domain::FieldSpec* spec;
  };
  std::vector<Column> cols;
  std::set<std::string> seen;
  bool any_case_column = false;
  for (size_t c = 0; c < csv.rows[0].size(); ++c) {
    const std::string& name = csv.rows[0][c];
    const domain::FieldSpec* spec = domain::FindField(RecordKind::kSurvivor, name);
    if (!spec) spec = domain::FindField(RecordKind::kCase, name);
    if (!spec) return Status::Invalid(At(1, c + 1, name) + ": not an HTCDS 2.0 field Trellis stores", name);
    if (!seen.insert(name).second) return Status::Invalid(At(1, c + 1, name) + ": the column appears twice", name);
    any_case_column |= spec->kind == RecordKind::kCase;
    cols.push_back({spec});
  }
  const int64_t total = static_cast<int64_t>(csv.rows.size()) - 1;

  // Validate every row before anything is written.
  HtcdsRows out;
  std::vector<domain::Record>& survivors = out.survivors;
  std::vector<domain::Record>& cases = out.cases;
  survivors.reserve(total);
  if (any_case_column) cases.reserve(total);
  for (size_t r = 1; r < csv.rows.size(); ++r) {
    const auto& row = csv.rows[r];
    if (row.size() != cols.size()) {
      return Status::Invalid("row " + std::to_string(r + 1) + ": has " + std::to_string(row.size()) +
                                 " columns, the header has " + std::to_string(cols.size()),
                             "file");
    }
    domain::Record s{RecordKind::kSurvivor};
    s.agency_id = agency_id;
    s.version = 1;
    s.created_at = s.updated_at = now;
    domain::Record k{RecordKind::kCase};
    k.agency_id = agency_id;
    k.version = 1;
    k.created_at = k.updated_at = now;
    for (size_t c = 0; c < cols.size(); ++c) {
      if (row[c].empty()) continue;
      const domain::FieldSpec& spec = *cols[c].spec;
      auto v = domain::NormalizeValue(spec, row[c]);
      if (!v.ok()) {
        std::string msg = At(r + 1, c + 1, std::string(spec.name)) + ": " + v.status().message();
        if (!spec.sealed() && domain::IsValidUtf8(row[c]) && row[c].size() <= 80) msg += " (value \"" + row[c] + "\")";
        return Status::Invalid(msg, std::string(spec.name));
      }
      (spec.kind == RecordKind::kSurvivor ? s : k).fields.emplace(spec.name, std::move(v).value());
    }
    s.id = NewRandomId(SystemRng(), "s");
    s.survivor_id = s.id;
    if (any_case_column) {
      k.id = NewRandomId(SystemRng(), "c");
      k.survivor_id = s.id;
      k.case_number = NewCaseNumber();
      cases.push_back(std::move(k));
    }
    survivors.push_back(std::move(s));
  }
  return out;

}

Result<ImportReport> App::ImportHtcds(const Principal& p, const std::string& agency_id, const std::string& csv_path,
                                      const std::function<void(int64_t, int64_t)>& progress) {
  if (p.user.id != "cli" && !(policy::CanWorkCases(p.user.role) && p.user.agency_id == agency_id)) {
    return Status::Forbidden("you may not import into this agency");
  }
  if (!impl_->store->GetAgency(agency_id).ok()) return Status::Invalid("no such agency", "agency");
  std::ifstream in(csv_path, std::ios::binary);
  if (!in) return Status::Invalid("cannot read the file", "file");
  TRELLIS_ASSIGN_OR_RETURN(HtcdsRows parsed, ParseHtcds(in, agency_id, clock().NowMicros()));
  std::vector<domain::Record>& survivors = parsed.survivors;
  std::vector<domain::Record>& cases = parsed.cases;
  const int64_t total = static_cast<int64_t>(survivors.size());
  if (progress) progress(total / 2, total);

  // Seal on both cores: a data key per survivor, every identifying field under it.
  std::vector<storage::DataKeyRow> keys(survivors.size());
  std::vector<storage::StoredRecord> sealed_s(survivors.size()), sealed_c(cases.size());
  auto seal_range = [&](size_t from, size_t to) {
    for (size_t i = from; i < to; ++i) {
      crypto::Key32 key;
      keys[i] = impl_->NewDataKey(survivors[i].id, &key);
      sealed_s[i] = SealRecord(survivors[i], key);
      if (!cases.empty()) sealed_c[i] = SealRecord(cases[i], key);
    }
  };
  const size_t half = survivors.size() / 2;
  std::thread helper(seal_range, half, survivors.size());
  seal_range(0, half);
  helper.join();
  if (progress) progress(total * 3 / 4, total);

  // Insert in key order: appending to the B-trees instead of splitting random pages.
  std::vector<size_t> by_survivor(sealed_s.size()), by_case(sealed_c.size());
  for (size_t i = 0; i < by_survivor.size(); ++i) by_survivor[i] = i;
  for (size_t i = 0; i < by_case.size(); ++i) by_case[i] = i;
  std::sort(by_survivor.begin(), by_survivor.end(), [&](size_t a, size_t b) { return sealed_s[a].id < sealed_s[b].id; });
  std::sort(by_case.begin(), by_case.end(), [&](size_t a, size_t b) { return sealed_c[a].id < sealed_c[b].id; });
  TRELLIS_RETURN_IF_ERROR(impl_->store->Write([&](storage::Txn& t) {
    for (size_t i : by_survivor) TRELLIS_RETURN_IF_ERROR(t.PutDataKey(keys[i]));
    for (size_t i : by_survivor) TRELLIS_RETURN_IF_ERROR(t.InsertRecord(sealed_s[i]));
    for (size_t i : by_case) TRELLIS_RETURN_IF_ERROR(t.InsertRecord(sealed_c[i]));
    return Status::Ok();
  }));
  if (progress) progress(total, total);
  TRELLIS_RETURN_IF_ERROR(impl_->AuditEntry(p, "import.htcds", "ok", agency_id, "", "",
                                            "rows=" + std::to_string(total)));
  return ImportReport{total, static_cast<int64_t>(survivors.size()), static_cast<int64_t>(cases.size())};
}

namespace {

// Every record of `agencies` or of `survivors` (any agency), in (created_at, id) order.
Status ForEachVisible(storage::CaseStore& store, RecordKind kind, const std::vector<std::string>& agencies,
                      const std::vector<std::string>& survivors,
                      const std::function<Status(const storage::StoredRecord&)>& fn) {
  storage::ListQuery q;
  q.kind = kind;
  q.agency_ids = agencies;
  q.survivor_ids = survivors;
  q.limit = 1000;
  while (true) {
    TRELLIS_ASSIGN_OR_RETURN(auto page, store.ListRecords(q));
    for (const auto& r : page) TRELLIS_RETURN_IF_ERROR(fn(r));
    if (page.size() < static_cast<size_t>(q.limit)) return Status::Ok();
    q.after_created = page.back().created_at;
    q.after_id = page.back().id;
  }
}

}  // namespace

Result<int64_t> App::ExportHtcds(const Principal& p, const std::string& out_path, bool identifying,
                                 const std::string& request_id) {
  if (!policy::CanWorkCases(p.user.role) || p.user.agency_id.empty()) {
    TRELLIS_RETURN_IF_ERROR(impl_->AuditEntry(p, "export.htcds", "deny", "", "", request_id, "role"));
    return Status::Forbidden("your role may not export case data");
  }
  std::vector<const domain::FieldSpec*> columns;
  for (RecordKind kind : {RecordKind::kSurvivor, RecordKind::kCase}) {
    for (const domain::FieldSpec* f : domain::FieldsOf(kind)) {
      if (identifying || !f->sealed()) columns.push_back(f);
    }
  }
  int fd = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return Status::Invalid("cannot create the export file", "out");
  std::unique_ptr<FILE, int (*)(FILE*)> out(::fdopen(fd, "w"), std::fclose);
  auto write_row = [&](const std::vector<std::string>& cells) {
    for (size_t i = 0; i < cells.size(); ++i) {
      if (i) std::fputc(',', out.get());
      csv_fwrite(out.get(), cells[i].data(), cells[i].size());
    }
    std::fputs("\r\n", out.get());
  };
  std::vector<std::string> header;
  for (const auto* f : columns) header.emplace_back(f->name);
  write_row(header);

  const int64_t now = clock().NowMicros();
  const policy::Subject subject = impl_->SubjectOf(p);
  int64_t rows = 0;
  // Cases first (with their survivor's fields), then survivors that have no case.
  std::set<std::string> survivors_with_cases;
  // Released survivors of other agencies are exported too, with only the released categories;
  // each such row is a disclosure (S13).
  TRELLIS_ASSIGN_OR_RETURN(auto grants, impl_->GrantsToAgency(p.user.agency_id, now));
  std::deque<policy::Decision> decisions;
  std::deque<RecordView> disclosed_views;
  std::vector<Impl::Disclosed> disclosed;
  auto view_of = [&](const storage::StoredRecord& s) -> Result<std::optional<RecordView>> {
    policy::Decision d = DecideRecord(subject, policy::Action::kExport, s, now, grants);
    if (!d.allowed()) return std::optional<RecordView>();
    if (d.disclosure) { decisions.push_back(d); }
    std::optional<crypto::Key32> key;
    if (identifying && !s.sealed.empty()) {
      auto k = impl_->DataKey(s.survivor_id);
      if (!k.ok()) return std::optional<RecordView>();
      key = std::move(k).value();
    }
    auto v = OpenRecord(s, key ? &*key : nullptr, d);
    if (!v.ok()) return v.status();
    if (d.disclosure) {
      disclosed_views.push_back(*v);
      disclosed.push_back({&disclosed_views.back(), &decisions.back()});
    }
    return std::optional<RecordView>(std::move(v).value());
  };
  auto emit = [&](const RecordView* surv, const RecordView* kase) {
    std::vector<std::string> cells;
    for (const auto* f : columns) {
      const RecordView* v = f->kind == RecordKind::kSurvivor ? surv : kase;
      auto it = v ? v->record.fields.find(std::string(f->name)) : decltype(v->record.fields.end()){};
      cells.push_back(v && it != v->record.fields.end() ? Neutralise(it->second) : "");
    }
    write_row(cells);
    ++rows;
  };
  std::set<std::string> released;
  for (const auto& g : grants) released.insert(g.survivor_id);
  const std::vector<std::string> agencies = {p.user.agency_id};
  const std::vector<std::string> released_ids(released.begin(), released.end());
  TRELLIS_RETURN_IF_ERROR(ForEachVisible(*impl_->store, RecordKind::kCase, agencies, released_ids, [&](const storage::StoredRecord& c) -> Status {
    TRELLIS_ASSIGN_OR_RETURN(auto kase, view_of(c));
    if (!kase) return Status::Ok();
    auto s = impl_->store->GetRecord(RecordKind::kSurvivor, c.survivor_id);
    std::optional<RecordView> surv;
    if (s.ok()) {
      TRELLIS_ASSIGN_OR_RETURN(surv, view_of(*s));
      survivors_with_cases.insert(c.survivor_id);
    }
    emit(surv ? &*surv : nullptr, &*kase);
    return Status::Ok();
  }));
  TRELLIS_RETURN_IF_ERROR(ForEachVisible(*impl_->store, RecordKind::kSurvivor, agencies, released_ids, [&](const storage::StoredRecord& s) -> Status {
    if (survivors_with_cases.count(s.id)) return Status::Ok();
    TRELLIS_ASSIGN_OR_RETURN(auto surv, view_of(s));
    if (surv) emit(&*surv, nullptr);
    return Status::Ok();
  }));
  if (std::fflush(out.get()) != 0 || ::fsync(fd) != 0) return Status::Internal("writing the export failed");
  if (!disclosed.empty()) TRELLIS_RETURN_IF_ERROR(impl_->RecordDisclosures(p, "export.htcds", disclosed, request_id));
  TRELLIS_RETURN_IF_ERROR(impl_->AuditEntry(p, "export.htcds", "ok", "", "", request_id,
                                            std::string(identifying ? "identifying" : "deidentified") +
                                                ",rows=" + std::to_string(rows)));
  return rows;
}

}  // namespace trellis::app

// HTCDS 2.0 CSV import (all-or-nothing, errors name row, column and value) and export.
#include <csv.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <deque>
#include <optional>
#include <mutex>
#include <map>
#include <future>
#include <cstring>
#include <condition_variable>
#include <functional>
#include <fstream>
#include <memory>
#include <set>
#include <thread>

#include "app/app.h"
#include "app/htcds.h"
#include "app/impl.h"
#include "core/assert.h"
#include "core/big_endian.h"
#include "core/ids.h"
#include "core/rng.h"
#include "crypto/envelope.h"
#include "storage/record_codec.h"

namespace trellis::app {

using domain::RecordKind;

namespace {

std::string At(size_t row, size_t col, std::string_view name) {
  return "row " + std::to_string(row) + ", column " + std::to_string(col) + " (" + std::string(name) + ")";
}

// A spreadsheet runs a cell starting with these as a formula (OWASP CSV injection).
std::string Neutralise(const std::string& v) {
  if (!v.empty() && (v[0] == '=' || v[0] == '+' || v[0] == '-' || v[0] == '@' || v[0] == '\t' || v[0] == '\r')) {
    return "'" + v;
  }
  return v;
}

}  // namespace

// Streaming reader: libcsv hands over one cell at a time; a row is validated when it ends,
// its normalised values appended to the table's arena. The cells of the current row live in
// buffers reused from row to row, so reading allocates nothing per cell.
class HtcdsReader {
 public:
  // `rows_before` > 0: the header was read already (a later piece of a file read in pieces).
  // `bytes` and `lines`: of the CSV to read, to reserve the table's memory once (a growing
  // arena copies itself and touches fresh pages several times over).
  HtcdsReader(HtcdsTable* t, size_t bytes, size_t lines, size_t rows_before = 0)
      : t_(*t), piece_(t->pieces_.back()), lines_(lines), rows_(rows_before) {
    piece_.arena.reserve(bytes);  // normalised values are about as long as the cells
    // Every cell takes at least one byte of the file (a comma or a line end).
    if (!t_.columns_.empty()) piece_.ends.reserve(std::min(lines * t_.columns_.size(), bytes + t_.columns_.size()));
    bytes_ = bytes;
  }

  static void OnField(void* s, size_t len, void* data) {
    auto* r = static_cast<HtcdsReader*>(data);
    if (!r->error_.ok()) return;
    if (r->n_cells_ == r->cells_.size()) r->cells_.emplace_back();
    r->cells_[r->n_cells_++].assign(s ? static_cast<const char*>(s) : "", s ? len : 0);
  }
  static void OnRow(int, void* data) {
    auto* r = static_cast<HtcdsReader*>(data);
    if (r->error_.ok()) r->error_ = r->rows_ == 0 ? r->Header() : r->Row();
    ++r->rows_;
    r->n_cells_ = 0;
  }

  Status error() const { return error_; }
  size_t rows() const { return rows_; }

  // Starts `piece` as a later piece of the file whose header `header` holds.
  static void StartPiece(HtcdsTable* piece, const HtcdsTable& header) {
    piece->columns_ = header.columns_;
    piece->has_cases_ = header.has_cases_;
  }
  // Appends the rows of the later pieces to `first`, in order (no copy of the values); false
  // if the values together exceed what one piece may hold (32-bit offsets).
  static bool Join(HtcdsTable* first, std::vector<HtcdsTable>& later) {
    size_t arena = first->pieces_.back().arena.size();
    for (const auto& t : later) arena += t.pieces_.back().arena.size();
    if (arena > UINT32_MAX) return false;
    for (auto& t : later) {
      const size_t first_row = first->rows();
      first->pieces_.push_back(std::move(t.pieces_.back()));
      first->pieces_.back().first_row = first_row;
    }
    return true;
  }

 private:
  Status Header() {
    // Every column a known survivor (prs_, vic_) or case (cas_, trl_) field, once.
    std::set<std::string_view> seen;
    for (size_t c = 0; c < n_cells_; ++c) {
      const std::string& name = cells_[c];
      const domain::FieldSpec* spec = domain::FindField(RecordKind::kSurvivor, name);
      if (!spec) spec = domain::FindField(RecordKind::kCase, name);
      if (!spec) return Status::Invalid(At(1, c + 1, name) + ": not an HTCDS 2.0 field Trellis stores", name);
      if (!seen.insert(spec->name).second) return Status::Invalid(At(1, c + 1, name) + ": the column appears twice", name);
      t_.has_cases_ |= spec->kind == RecordKind::kCase;
      t_.columns_.push_back(spec);
    }
    piece_.ends.reserve(std::min(lines_ * t_.columns_.size(), bytes_ + t_.columns_.size()));
    return Status::Ok();
  }

  Status Row() {
    const size_t row = rows_ + 1;  // 1 = the header
    const auto& cols = t_.columns_;
    if (n_cells_ != cols.size()) {
      return Status::Invalid("row " + std::to_string(row) + ": has " + std::to_string(n_cells_) +
                                 " columns, the header has " + std::to_string(cols.size()),
                             "file");
    }
    for (size_t c = 0; c < cols.size(); ++c) {
      const std::string& cell = cells_[c];
      if (!cell.empty()) {
        const domain::FieldSpec& spec = *cols[c];
        auto v = domain::NormalizeValue(spec, cell);
        if (!v.ok()) {
          std::string msg = At(row, c + 1, spec.name) + ": " + v.status().message();
          if (!spec.sealed() && domain::IsValidUtf8(cell) && cell.size() <= 80) msg += " (value \"" + cell + "\")";
          return Status::Invalid(msg, std::string(spec.name));
        }
        piece_.arena += *v;
      }
      if (piece_.arena.size() > UINT32_MAX) return Status::Invalid("row " + std::to_string(row) + ": the file is too large", "file");
      piece_.ends.push_back(static_cast<uint32_t>(piece_.arena.size()));
    }
    return Status::Ok();
  }

  HtcdsTable& t_;
  HtcdsTable::Piece& piece_;
  size_t lines_ = 0, bytes_ = 0;
  std::vector<std::string> cells_;
  size_t n_cells_ = 0;
  size_t rows_ = 0;  // complete rows so far, the header included
  Status error_ = Status::Ok();
};

namespace {

// Feeds `bytes` to a fresh libcsv parser (the options every HTCDS read uses) and `reader`, then
// finishes the parse. The first error in file order, with its row.
Status ParseAll(std::string_view bytes, HtcdsReader& reader) {
  csv_parser p;
  if (csv_init(&p, CSV_STRICT | CSV_STRICT_FINI | CSV_APPEND_NULL) != 0) return Status::Internal("csv parser");
  std::unique_ptr<csv_parser, void (*)(csv_parser*)> guard(&p, csv_free);
  auto malformed = [&] {
    return Status::Invalid("row " + std::to_string(reader.rows() + 1) + ": malformed CSV (" +
                               csv_strerror(csv_error(&p)) + ")",
                           "file");
  };
  const size_t parsed = csv_parse(&p, bytes.data(), bytes.size(), HtcdsReader::OnField, HtcdsReader::OnRow, &reader);
  TRELLIS_RETURN_IF_ERROR(reader.error());
  if (parsed != bytes.size()) return malformed();
  if (csv_fini(&p, HtcdsReader::OnField, HtcdsReader::OnRow, &reader) != 0) {
    TRELLIS_RETURN_IF_ERROR(reader.error());
    return malformed();
  }
  return reader.error();
}

// Index just past the first line feed at or after `from` that is outside quotes, given whether
// `from` is inside quotes; npos if none. In a file libcsv (strict) reads without error, quotes
// come in pairs — a quoted field's opening and closing quote, or "" inside it — so a line
// feed after an even number of quotes ends a row (or is a blank line, which libcsv skips).
size_t RowStartAfter(std::string_view s, size_t from, bool in_quotes) {
  for (size_t i = from; i < s.size(); ++i) {
    if (s[i] == '"') {
      in_quotes = !in_quotes;
    } else if (s[i] == '\n' && !in_quotes) {
      return i + 1;
    }
  }
  return std::string_view::npos;
}

// The header, then the rest split at row ends into up to `parts` pieces read on as many
// threads, each into its own table, then joined. nullopt when the file has no such split or
// any piece has an error: the caller then reads the whole file in one piece, which finds the
// same first error as before (row numbers count from the file's start).
std::optional<HtcdsTable> ReadInPieces(std::string_view csv, size_t parts) {
  const size_t header_end = RowStartAfter(csv, 0, false);
  if (header_end == std::string_view::npos) return std::nullopt;
  HtcdsTable table;
  {
    HtcdsReader header(&table, 0, 0);
    if (!ParseAll(csv.substr(0, header_end), header).ok() || header.rows() != 1) return std::nullopt;
  }
  std::vector<size_t> starts = {header_end};
  size_t quotes = 0, counted = header_end;  // quotes in [header_end, counted)
  for (size_t k = 1; k < parts; ++k) {
    const size_t target = header_end + (csv.size() - header_end) * k / parts;
    if (target <= starts.back()) continue;
    quotes += static_cast<size_t>(std::count(csv.begin() + counted, csv.begin() + target, '"'));
    counted = target;
    const size_t at = RowStartAfter(csv, target, quotes % 2 == 1);
    if (at == std::string_view::npos || at >= csv.size()) break;
    quotes += static_cast<size_t>(std::count(csv.begin() + target, csv.begin() + at, '"'));
    counted = at;
    starts.push_back(at);
  }
  starts.push_back(csv.size());
  const size_t n = starts.size() - 1;
  std::vector<HtcdsTable> pieces(n);
  std::vector<char> failed(n, 0);
  auto read_piece = [&](size_t i) {
    try {
      const std::string_view bytes = csv.substr(starts[i], starts[i + 1] - starts[i]);
      HtcdsReader::StartPiece(&pieces[i], table);
      HtcdsReader reader(&pieces[i], bytes.size(), static_cast<size_t>(std::count(bytes.begin(), bytes.end(), '\n')) + 1,
                         /*rows_before=*/1);
      failed[i] = !ParseAll(bytes, reader).ok();
    } catch (...) {
      failed[i] = 1;
    }
  };
  std::vector<std::thread> threads;
  try {
    for (size_t i = 1; i < n; ++i) threads.emplace_back(read_piece, i);
  } catch (...) {  // no thread: read in one piece
    for (auto& t : threads) t.join();
    return std::nullopt;
  }
  read_piece(0);
  for (auto& t : threads) t.join();
  if (std::count(failed.begin(), failed.end(), 1) > 0) return std::nullopt;

  HtcdsTable first = std::move(pieces[0]);
  std::vector<HtcdsTable> later(std::make_move_iterator(pieces.begin() + 1), std::make_move_iterator(pieces.end()));
  if (!HtcdsReader::Join(&first, later)) return std::nullopt;  // too large: the one-piece read names the row
  return first;
}

}  // namespace

Result<HtcdsTable> ReadHtcds(std::string_view csv, size_t parts) {
  if (csv.size() >= 3 && csv.substr(0, 3) == "\xef\xbb\xbf") csv.remove_prefix(3);  // UTF-8 byte-order mark
  if (parts > 1) {
    std::optional<HtcdsTable> table = ReadInPieces(csv, parts);
    if (table) return std::move(*table);
  }
  HtcdsTable table;
  HtcdsReader reader(&table, csv.size(), static_cast<size_t>(std::count(csv.begin(), csv.end(), '\n')) + 1);
  TRELLIS_RETURN_IF_ERROR(ParseAll(csv, reader));
  if (reader.rows() == 0) return Status::Invalid("row 1: the file is empty; expected a header of HTCDS field names", "file");
  return table;
}

Result<HtcdsTable> ReadHtcds(std::istream& in) {
  std::string csv;
  std::vector<char> buf(1 << 16);
  while (in) {
    in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    csv.append(buf.data(), static_cast<size_t>(in.gcount()));
  }
  return ReadHtcds(csv, 1);
}

Result<HtcdsRows> ParseHtcds(std::istream& in, const std::string& agency_id, int64_t now) {
  TRELLIS_ASSIGN_OR_RETURN(HtcdsTable table, ReadHtcds(in));
  HtcdsRows out;
  const auto& cols = table.columns();
  out.survivors.reserve(table.rows());
  if (table.has_cases()) out.cases.reserve(table.rows());
  for (size_t r = 0; r < table.rows(); ++r) {
    domain::Record s{RecordKind::kSurvivor};
    s.agency_id = agency_id;
    s.version = 1;
    s.created_at = s.updated_at = now;
    domain::Record k{RecordKind::kCase};
    k.agency_id = agency_id;
    k.version = 1;
    k.created_at = k.updated_at = now;
    for (size_t c = 0; c < cols.size(); ++c) {
      std::string_view v = table.Value(r, c);
      if (v.empty()) continue;
      (cols[c]->kind == RecordKind::kSurvivor ? s : k).fields.emplace(cols[c]->name, v);
    }
    s.id = NewRandomId(SystemRng(), "s");
    s.survivor_id = s.id;
    if (table.has_cases()) {
      k.id = NewRandomId(SystemRng(), "c");
      k.survivor_id = s.id;
      k.case_number = NewCaseNumber();
      out.cases.push_back(std::move(k));
    }
    out.survivors.push_back(std::move(s));
  }
  return out;
}

namespace {

// The bytes of a whole file (a regular file, a pipe or /proc/self/fd/N of a memory file), in
// memory mapped and populated in one call: on a virtual machine a page fault costs ~25 us, so
// faulting in the pages of a 20 MB buffer one at a time cost ~0.08 s of the import.
class FileBytes {
 public:
  FileBytes() = default;
  ~FileBytes() { Release(); }
  FileBytes(const FileBytes&) = delete;
  FileBytes& operator=(const FileBytes&) = delete;

  bool Read(const std::string& path) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return false;
    struct stat st {};
    bool ok = Grow(::fstat(fd, &st) == 0 && S_ISREG(st.st_mode) ? static_cast<size_t>(st.st_size) + 1 : 1 << 20);
    while (ok) {
      if (size_ == cap_ && !(ok = Grow(2 * cap_))) break;
      const ssize_t n = ::read(fd, data_ + size_, cap_ - size_);
      if (n == 0) break;
      if (n < 0) {
        ok = errno == EINTR;
        continue;
      }
      size_ += static_cast<size_t>(n);
    }
    ::close(fd);
    return ok;
  }
  std::string_view view() const { return {data_, size_}; }
  void Release() {
    if (data_) ::munmap(data_, cap_);
    data_ = nullptr;
    size_ = cap_ = 0;
  }

 private:
  bool Grow(size_t cap) {
    void* p = ::mmap(nullptr, cap, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
    if (p == MAP_FAILED) return false;
    if (data_) std::memcpy(p, data_, size_);
    const size_t size = size_;
    Release();
    data_ = static_cast<char*>(p);
    size_ = size;
    cap_ = cap;
    return true;
  }
  char* data_ = nullptr;
  size_t size_ = 0, cap_ = 0;
};

// `n` fresh random ids (NewRandomId), sorted, in one buffer: no string per id (300,000 small
// allocations for 100,000 rows), and sorting by the 8 characters after the common prefix read as
// one big-endian number (they decide almost every comparison of random ids; the whole id
// decides a tie) is several times faster than sorting strings.
class SortedIds {
 public:
  SortedIds(Rng& rng, std::string_view prefix, size_t n) {
    width_ = NewRandomId(rng, prefix).size();
    std::string drawn(n * width_, '\0');
    std::vector<std::pair<uint64_t, uint32_t>> keys(n);
    for (size_t i = 0; i < n; ++i) {
      const std::string id = NewRandomId(rng, prefix);
      TRELLIS_INVARIANT(id.size() == width_ && id.size() >= prefix.size() + 8, "ids of one width");
      std::memcpy(drawn.data() + i * width_, id.data(), width_);
      keys[i] = {LoadBigEndian64(id.data() + prefix.size()), static_cast<uint32_t>(i)};
    }
    auto id = [&](uint32_t i) { return std::string_view(drawn).substr(i * width_, width_); };
    std::sort(keys.begin(), keys.end(),
              [&](const auto& a, const auto& b) { return a.first != b.first ? a.first < b.first : id(a.second) < id(b.second); });
    chars_.resize(n * width_);
    for (size_t i = 0; i < n; ++i) std::memcpy(chars_.data() + i * width_, drawn.data() + keys[i].second * width_, width_);
  }
  std::string_view operator[](size_t i) const { return std::string_view(chars_).substr(i * width_, width_); }

 private:
  size_t width_ = 0;
  std::string chars_;
};

// Rows per chunk: the unit of sealing, inserting, progress and audit.
constexpr size_t kChunkRows = 1000;

// One chunk sealed and encoded, ready to insert.
struct SealedChunk {
  std::vector<storage::DataKeyRow> keys;
  std::vector<storage::EncodedRecord> records;
};

}  // namespace

Result<ImportReport> App::ImportHtcds(const Principal& p, const std::string& agency_id, const std::string& csv_path,
                                      const std::function<void(int64_t, int64_t)>& progress) {
  Result<ImportReport> report = ImportHtcdsRows(p, agency_id, csv_path, progress);
  if (!report.ok()) {
    // A refused or failed import is a decision too: audited with the outcome and the column
    // named by the error (never the value, which may identify someone).
    const Code code = report.status().code();
    const char* outcome = code == Code::kForbidden ? "deny" : code == Code::kInvalidArgument ? "invalid" : "error";
    std::string detail = report.status().field().empty() ? "" : "field=" + report.status().field();
    (void)Audit(p, "import.htcds", outcome, agency_id, "", "", detail);
  }
  return report;
}

Result<ImportReport> App::ImportHtcdsRows(const Principal& p, const std::string& agency_id, const std::string& csv_path,
                                          const std::function<void(int64_t, int64_t)>& progress) {
  if (p.user.id != "cli" && !(policy::CanWorkCases(p.user.role) && p.user.agency_id == agency_id)) {
    return Status::Forbidden("you may not import into this agency");
  }
  if (!impl_->store->GetAgency(agency_id).ok()) return Status::Invalid("no such agency", "agency");
  // 1. Read and validate every row before anything is written (errors name row and column),
  // on every core for a large file.
  std::optional<HtcdsTable> read;
  {
    FileBytes csv;
    if (!csv.Read(csv_path)) return Status::Invalid("cannot read the file", "file");
    const size_t parts = csv.view().size() < (1 << 20) ? 1 : std::max(1u, std::thread::hardware_concurrency());
    TRELLIS_ASSIGN_OR_RETURN(read, ReadHtcds(csv.view(), parts));
  }  // the file's bytes are freed before sealing starts
  const HtcdsTable& table = *read;
  const size_t n = table.rows();
  const bool with_cases = table.has_cases();
  const int64_t total = static_cast<int64_t>(n);
  const int64_t now = clock().NowMicros();
  if (progress) progress(0, total);

  // 2. Fresh random ids, sorted and handed out in row order: every index of the store is then
  // appended to instead of split at random pages. The order of the ids within one import shows
  // only the order of the rows in the file.
  Rng& rng = SystemRng();  // buffered per thread: one getrandom per 4 KiB of ids
  const SortedIds sids(rng, "s", n), cids(rng, "c", with_cases ? n : 0);
  std::vector<std::string> numbers(with_cases ? n : 0);
  for (auto& c : numbers) c = NewCaseNumber(rng);

  // Columns by record kind, in field-name order (the order EncodePlain and EncodeSealed use).
  struct Col {
    size_t index;
    const domain::FieldSpec* spec;
  };
  std::vector<Col> cols_of[2];  // [0] survivor, [1] case
  std::optional<size_t> status_col;
  for (size_t c = 0; c < table.columns().size(); ++c) {
    const domain::FieldSpec* f = table.columns()[c];
    cols_of[f->kind == RecordKind::kCase].push_back({c, f});
    if (f->name == "cas_Status") status_col = c;
  }
  for (auto& cols : cols_of) {
    std::sort(cols.begin(), cols.end(), [](const Col& a, const Col& b) { return a.spec->name < b.spec->name; });
  }
  const std::string no_team = storage::EncodeTeam({});

  // A record of row r, its identifying fields sealed under the survivor's data key with the
  // record id and field name as additional data (as SealRecord does).
  auto encode = [&](RecordKind kind, size_t r, std::string_view id, const crypto::Key32& key) {
    storage::EncodedRecord e;
    e.kind = kind;
    e.id = std::string(id);
    e.agency_id = agency_id;
    e.survivor_id = std::string(sids[r]);
    e.version = 1;
    e.created_at = e.updated_at = now;
    e.team = no_team;
    const auto& cols = cols_of[kind == RecordKind::kCase];
    size_t sealed_size = 0, plain_size = 2;  // the plain size before JSON escapes
    for (const Col& c : cols) {
      const size_t v = table.Value(r, c.index).size();
      if (v == 0) continue;
      if (c.spec->sealed()) {
        sealed_size += storage::SealedEntrySize(c.spec->name, crypto::SealedFieldSize(v));
      } else {
        plain_size += c.spec->name.size() + v + 6;
      }
    }
    e.sealed.reserve(sealed_size);
    e.plain.reserve(plain_size);
    storage::BeginPlain(&e.plain);
    for (const Col& c : cols) {
      std::string_view v = table.Value(r, c.index);
      if (v.empty()) continue;
      if (c.spec->sealed()) {
        // The envelope sealed straight into the record's sealed column.
        const size_t size = crypto::SealedFieldSize(v.size());
        crypto::SealFieldTo(storage::AppendSealedSpace(&e.sealed, c.spec->name, size), key, 1, id, c.spec->name, v);
      } else {
        storage::AppendPlain(&e.plain, c.spec->name, v);  // validated UTF-8, in name order
      }
    }
    storage::EndPlain(&e.plain);
    if (kind == RecordKind::kCase) {
      e.case_number = numbers[r];
      if (status_col) e.status = table.Value(r, *status_col);
    }
    return e;
  };
  auto seal_chunk = [&](size_t chunk) {
    SealedChunk out;
    const size_t from = chunk * kChunkRows, to = std::min(n, from + kChunkRows);
    out.keys.reserve(to - from);
    out.records.reserve((to - from) * (with_cases ? 2 : 1));
    for (size_t r = from; r < to; ++r) {
      crypto::Key32 key;
      out.keys.push_back(impl_->NewDataKey(std::string(sids[r]), &key));
      out.records.push_back(encode(RecordKind::kSurvivor, r, sids[r], key));
      if (with_cases) out.records.push_back(encode(RecordKind::kCase, r, cids[r], key));
    }
    return out;
  };

  // 3. Seal on helper threads while this thread inserts, chunk by chunk in order, in one
  // transaction (one fsync, at the commit). At most kAhead chunks wait sealed in memory: the
  // sealers outrun the inserting thread, and 3 keeps it fed (it waits ~0.015 s in all for
  // 100,000 rows) with less memory in flight than 8 (fewer fresh pages faulted in).
  const size_t chunks = (n + kChunkRows - 1) / kChunkRows;
  constexpr size_t kAhead = 3;
  std::mutex mu;
  std::condition_variable cv;
  std::vector<std::optional<SealedChunk>> sealed(chunks);
  size_t next_chunk = 0, inserted_chunks = 0;
  bool stop = false;
  auto sealer = [&] {
    std::unique_lock lock(mu);
    while (true) {
      cv.wait(lock, [&] { return stop || next_chunk >= chunks || next_chunk < inserted_chunks + kAhead; });
      if (stop || next_chunk >= chunks) return;
      const size_t chunk = next_chunk++;
      lock.unlock();
      SealedChunk c = seal_chunk(chunk);
      lock.lock();
      sealed[chunk] = std::move(c);
      cv.notify_all();
    }
  };
  const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  std::vector<std::thread> sealers;
  // Stops and joins the sealers on every way out, an exception included (a joinable std::thread
  // destroyed would terminate the process).
  auto stop_sealers = [&] {
    {
      std::lock_guard lock(mu);
      stop = true;
    }
    cv.notify_all();
    for (auto& th : sealers) {
      if (th.joinable()) th.join();
    }
  };
  struct JoinOnExit {
    decltype(stop_sealers)& fn;
    ~JoinOnExit() { fn(); }
  } join_on_exit{stop_sealers};
  for (unsigned i = 0; i < std::min<size_t>(cores, chunks); ++i) sealers.emplace_back(sealer);
  Status written = impl_->store->Write([&](storage::Txn& t) {
    for (size_t i = 0; i < chunks; ++i) {
      SealedChunk c;
      {
        std::unique_lock lock(mu);
        cv.wait(lock, [&] { return sealed[i].has_value(); });
        c = std::move(*sealed[i]);
        sealed[i].reset();
      }
      TRELLIS_RETURN_IF_ERROR(t.InsertBulk(c.keys, c.records));
      {
        std::lock_guard lock(mu);
        ++inserted_chunks;
      }
      cv.notify_all();
      const int64_t done = static_cast<int64_t>(std::min(n, (i + 1) * kChunkRows));
      if (progress && done < total) progress(done, total);  // `total` once committed
    }
    return Status::Ok();
  });
  stop_sealers();
  TRELLIS_RETURN_IF_ERROR(written);
  if (progress) progress(total, total);

  // 4. Audit, IDs only: one entry per chunk naming every survivor (and its case) created, then
  // the summary; appended together (one group commit).
  std::vector<std::future<Status>> audited;
  for (size_t chunk = 0; chunk < chunks; ++chunk) {
    std::string ids;
    ids.reserve(kChunkRows * (2 * sids[0].size() + 2));
    for (size_t r = chunk * kChunkRows; r < std::min(n, (chunk + 1) * kChunkRows); ++r) {
      if (!ids.empty()) ids += ',';
      ids += sids[r];
      if (with_cases) {
        ids += ':';
        ids += cids[r];
      }
    }
    audited.push_back(impl_->log->AppendAsync({.actor = p.user.id,
                                               .action = "import.htcds.records",
                                               .outcome = "ok",
                                               .target = agency_id,
                                               .detail = std::move(ids)}));
  }
  audited.push_back(impl_->log->AppendAsync({.actor = p.user.id,
                                             .action = "import.htcds",
                                             .outcome = "ok",
                                             .target = agency_id,
                                             .detail = "rows=" + std::to_string(total) +
                                                       ",entries=" + std::to_string(chunks)}));
  Status audit_status = Status::Ok();
  for (auto& f : audited) {
    Status st = f.get();
    if (audit_status.ok() && !st.ok()) audit_status = st;
  }
  TRELLIS_RETURN_IF_ERROR(audit_status);
  return ImportReport{total, total, with_cases ? total : 0};
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

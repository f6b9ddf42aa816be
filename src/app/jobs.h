// Background jobs for long work started over HTTP: HTCDS 2.0 import and export (docs/api,
// docs/ui.md "Import and export"). One worker thread runs the jobs in order; the HTTP layer
// polls Get() for progress.
//
// Rules:
//  - Only supervisors start jobs (policy::CanRunBulkJobs); a job belongs to the user who
//    started it. Any other caller asking for a job id gets kNotFound, exactly like a missing
//    id (S1).
//  - Every decision is audited (job.create, job.read, job.file, job.cancel, and the outcome
//    job.done / job.failed), IDs only.
//  - Uploaded CSV and produced export live only in anonymous memory files (memfd_create): no
//    plaintext reaches a disk-backed file system (S7). The export's file is dropped on its first
//    download — once the audit entry of that download is durable: if the append fails, the
//    download fails and the file stays — when the job is forgotten, or `file_ttl_seconds` after
//    it was produced.
//  - Cancel: a queued job can always be cancelled; a running import cannot (it is one
//    all-or-nothing transaction that must not be interrupted half-way) — kConflict; a running
//    export is discarded when it finishes (its rows are still accounted for as disclosures).
// Thread-safety: every method is thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "app/app.h"
#include "core/status.h"

namespace trellis::app {

struct JobOptions {
  int64_t file_ttl_seconds = 10 * 60;    // an export's file is dropped after this
  int64_t retain_seconds = 60 * 60;      // a finished job is forgotten after this
  int max_active_per_user = 2;           // queued + running
  int max_jobs = 200;                    // kept in memory in all (the oldest finished one makes room)
};

struct JobView {
  std::string id;
  std::string kind;   // "import_htcds", "export_htcds"
  std::string state;  // "queued", "running", "done", "failed", "cancelled"
  int64_t done = 0, total = 0;  // rows; total 0 while unknown
  int64_t created_at = 0, finished_at = 0;
  // Outcome.
  ImportReport imported;     // import_htcds, done
  int64_t exported_rows = 0;  // export_htcds, done
  int64_t bytes_written = 0;  // export_htcds: size of the CSV so far (the row total is unknown until done)
  bool identifying = false;   // export_htcds
  bool file_available = false;
  int64_t file_expires_at = 0;
  Status error;  // failed: the reason (row, column and value for a bad CSV)
};

class Jobs {
 public:
  explicit Jobs(App& app, JobOptions options = {});
  ~Jobs();  // stops the worker after the job it is running
  Jobs(const Jobs&) = delete;
  Jobs& operator=(const Jobs&) = delete;

  // Queues an import of `csv` (HTCDS 2.0 with a header row) into the caller's agency.
  Result<JobView> StartImport(const Principal& p, std::string csv, const std::string& request_id);
  // Queues an export of what the caller may see (de-identified unless `identifying`).
  Result<JobView> StartExport(const Principal& p, bool identifying, const std::string& request_id);
  Result<JobView> Get(const Principal& p, const std::string& job_id, const std::string& request_id);
  // The export's CSV, once: the file is dropped when the audit entry of this download is durable
  // (App::AuditThen; inside the server's AuditDeferral, before the response is released). If that
  // entry fails, the caller gets the error and the file stays downloadable until it expires. A
  // second call while a download is in flight answers kFailedPrecondition like a taken file.
  Result<std::string> TakeFile(const Principal& p, const std::string& job_id, const std::string& request_id);
  Result<JobView> Cancel(const Principal& p, const std::string& job_id, const std::string& request_id);

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace trellis::app

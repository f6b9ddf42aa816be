// Background jobs: HTCDS import and export over HTTP (jobs.h).
#include "app/jobs.h"

#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <thread>

#include "core/ids.h"
#include "core/rng.h"
#include "policy/policy.h"

namespace trellis::app {

namespace {

// An anonymous memory file: never on a disk-backed file system, gone when closed (S7).
class MemFile {
 public:
  MemFile() : fd_(::memfd_create("trellis-job", MFD_CLOEXEC)) {}
  ~MemFile() { Close(); }
  MemFile(const MemFile&) = delete;
  MemFile& operator=(const MemFile&) = delete;
  bool ok() const { return fd_ >= 0; }
  // A path other code can open(2) like a file (App::ImportHtcds / ExportHtcds take paths).
  std::string path() const { return "/proc/self/fd/" + std::to_string(fd_); }
  bool Write(const std::string& bytes) {
    size_t off = 0;
    while (off < bytes.size()) {
      ssize_t n = ::pwrite(fd_, bytes.data() + off, bytes.size() - off, static_cast<off_t>(off));
      if (n <= 0) return false;
      off += static_cast<size_t>(n);
    }
    return true;
  }
  int64_t Size() const {
    struct stat st {};
    return ::fstat(fd_, &st) == 0 ? static_cast<int64_t>(st.st_size) : 0;
  }
  Result<std::string> ReadAll() const {
    struct stat st {};
    if (::fstat(fd_, &st) != 0) return Status::Internal("reading the export failed");
    std::string out(static_cast<size_t>(st.st_size), '\0');
    size_t off = 0;
    while (off < out.size()) {
      ssize_t n = ::pread(fd_, out.data() + off, out.size() - off, static_cast<off_t>(off));
      if (n <= 0) return Status::Internal("reading the export failed");
      off += static_cast<size_t>(n);
    }
    return out;
  }
  void Close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_;
};

// An export's CSV and where its one download stands. Shared by the job and a download whose
// audit entry is not yet durable: the download's audit callback settles it without the job table
// (the job may be forgotten, or Jobs destroyed, before the audit writer reports).
class ExportFile {
 public:
  explicit ExportFile(std::unique_ptr<MemFile> file) : file_(std::move(file)) {}
  // Claims the one download: false when the file is taken, or a download is in flight.
  bool Claim() {
    std::lock_guard<std::mutex> lock(mu_);
    if (state_ != State::kReady) return false;
    state_ = State::kClaimed;
    return true;
  }
  Result<std::string> Read() const { return file_->ReadAll(); }
  // The claimed download's audit entry is durable (`given`: the file goes now) or failed (the
  // file is downloadable again).
  void Settle(bool given) {
    std::lock_guard<std::mutex> lock(mu_);
    if (state_ != State::kClaimed) return;
    if (given) {
      state_ = State::kTaken;
      file_->Close();  // the plaintext goes with its one download
    } else {
      state_ = State::kReady;
    }
  }
  bool available() const {
    std::lock_guard<std::mutex> lock(mu_);
    return state_ == State::kReady;
  }
  bool taken() const {
    std::lock_guard<std::mutex> lock(mu_);
    return state_ == State::kTaken;
  }

 private:
  enum class State { kReady, kClaimed, kTaken };
  mutable std::mutex mu_;
  State state_ = State::kReady;
  std::unique_ptr<MemFile> file_;
};

struct Job {
  JobView view;
  Principal owner;
  std::string request_id;            // of the request that started it (for the audit entries)
  std::unique_ptr<MemFile> input;    // import: the uploaded CSV
  std::shared_ptr<ExportFile> output;  // export: the produced CSV, until downloaded or expired
  const MemFile* writing = nullptr;  // export: the CSV being written (for bytes_written)
  bool cancel_requested = false;
};

bool Finished(const std::string& state) { return state == "done" || state == "failed" || state == "cancelled"; }

}  // namespace

struct Jobs::Impl {
  App& app;
  JobOptions options;
  std::mutex mu;
  std::condition_variable cv;
  std::map<std::string, std::unique_ptr<Job>> jobs;
  std::deque<std::string> queue;
  bool stopping = false;
  std::thread worker;

  Impl(App& a, JobOptions o) : app(a), options(o) { worker = std::thread([this] { Run(); }); }
  ~Impl() {
    {
      std::lock_guard<std::mutex> lock(mu);
      stopping = true;
    }
    cv.notify_all();
    worker.join();
  }

  int64_t Now() const { return app.clock().NowMicros(); }

  // Drops downloaded and expired files and forgets old jobs. Caller holds `mu`.
  void Sweep(int64_t now) {
    for (auto it = jobs.begin(); it != jobs.end();) {
      Job& j = *it->second;
      if (j.output && (j.output->taken() || (j.view.file_expires_at && now >= j.view.file_expires_at))) {
        j.output.reset();  // an expired file goes even while a download of it is in flight
      }
      // False while a download is in flight; true again if that download's audit failed.
      j.view.file_available = j.output && j.output->available();
      if (Finished(j.view.state) && now - j.view.finished_at >= options.retain_seconds * 1'000'000) {
        it = jobs.erase(it);
      } else {
        ++it;
      }
    }
  }

  // The caller's own job, or nullptr (then audited as denied; the caller answers kNotFound).
  Job* Find(const Principal& p, const std::string& id) {
    auto it = jobs.find(id);
    if (it == jobs.end()) return nullptr;
    Job& j = *it->second;
    if (j.owner.user.id != p.user.id || j.owner.user.agency_id != p.user.agency_id) return nullptr;
    return &j;
  }

  void Finish(Job& j, const std::string& state) {
    j.view.state = state;
    j.view.finished_at = Now();
  }

  void Run() {
    std::unique_lock<std::mutex> lock(mu);
    while (true) {
      cv.wait_for(lock, std::chrono::seconds(30), [this] { return stopping || !queue.empty(); });
      Sweep(Now());
      if (stopping) return;
      if (queue.empty()) continue;
      const std::string id = queue.front();
      queue.pop_front();
      auto it = jobs.find(id);
      if (it == jobs.end() || it->second->view.state != "queued") continue;
      Job& j = *it->second;
      j.view.state = "running";
      const std::string kind = j.view.kind;
      lock.unlock();
      // The job runs without the lock; only this thread touches input/output while running.
      Status outcome = Status::Ok();
      std::string detail;
      if (kind == "import_htcds") {
        auto r = app.ImportHtcds(j.owner, j.owner.user.agency_id, j.input->path(), [this, &j](int64_t done, int64_t total) {
          std::lock_guard<std::mutex> g(mu);
          j.view.done = done;
          j.view.total = total;
        });
        j.input.reset();  // the uploaded plaintext goes as soon as it is read
        std::lock_guard<std::mutex> g(mu);
        if (r.ok()) {
          j.view.imported = *r;
          j.view.done = j.view.total = r->rows;
          detail = "rows=" + std::to_string(r->rows);
        } else {
          outcome = r.status();
        }
      } else {
        auto out = std::make_unique<MemFile>();
        {
          std::lock_guard<std::mutex> g(mu);
          j.writing = out.get();
        }
        Result<int64_t> r = out->ok() ? app.ExportHtcds(j.owner, out->path(), j.view.identifying, j.request_id)
                                      : Result<int64_t>(Status::Internal("no memory file for the export"));
        std::lock_guard<std::mutex> g(mu);
        j.writing = nullptr;
        if (r.ok()) {
          j.view.bytes_written = out->Size();
          j.view.exported_rows = j.view.done = j.view.total = *r;
          detail = "rows=" + std::to_string(*r);
          if (!j.cancel_requested) {
            j.output = std::make_shared<ExportFile>(std::move(out));
            j.view.file_available = true;
            j.view.file_expires_at = Now() + options.file_ttl_seconds * 1'000'000;
          }
        } else {
          outcome = r.status();
        }
      }
      // Once finished, the job may be evicted by another thread (Start, Sweep): audit from copies.
      const Principal owner = j.owner;
      const std::string job_id = j.view.id;
      const std::string request_id = j.request_id;
      {
        std::lock_guard<std::mutex> g(mu);
        if (!outcome.ok()) {
          j.view.error = outcome;
          Finish(j, "failed");
        } else {
          Finish(j, j.cancel_requested ? "cancelled" : "done");
        }
      }
      (void)app.Audit(owner, outcome.ok() ? "job.done" : "job.failed", outcome.ok() ? "ok" : "error", job_id, "",
                      request_id, kind + (detail.empty() ? "" : ";" + detail) +
                                      (outcome.ok() ? "" : ";code=" + std::string(CodeName(outcome.code()))));
      lock.lock();
    }
  }

  Result<JobView> Start(const Principal& p, std::unique_ptr<Job> job, const std::string& request_id) {
    const std::string kind = job->view.kind;
    if (!policy::CanRunBulkJobs(p.user.role) || p.user.agency_id.empty()) {
      TRELLIS_RETURN_IF_ERROR(app.Audit(p, "job.create", "deny", "", "", request_id, kind + ";role"));
      return Status::Forbidden("only supervisors import and export");
    }
    std::unique_lock<std::mutex> lock(mu);
    Sweep(Now());
    int active = 0;
    for (const auto& [_, j] : jobs) {
      if (j->owner.user.id == p.user.id && !Finished(j->view.state)) ++active;
    }
    if (static_cast<int>(jobs.size()) >= options.max_jobs) {
      // Make room by forgetting the job that finished first (its file, if any, goes with it).
      auto oldest = jobs.end();
      for (auto it = jobs.begin(); it != jobs.end(); ++it) {
        if (Finished(it->second->view.state) &&
            (oldest == jobs.end() || it->second->view.finished_at < oldest->second->view.finished_at)) {
          oldest = it;
        }
      }
      if (oldest != jobs.end()) jobs.erase(oldest);
    }
    if (active >= options.max_active_per_user || static_cast<int>(jobs.size()) >= options.max_jobs) {
      lock.unlock();
      TRELLIS_RETURN_IF_ERROR(app.Audit(p, "job.create", "deny", "", "", request_id, kind + ";busy"));
      return Status(Code::kRateLimited, "wait until your running import or export has finished");
    }
    job->view.id = NewRandomId(SystemRng(), "j");
    job->view.state = "queued";
    job->view.created_at = Now();
    job->owner = p;
    job->request_id = request_id;
    JobView v = job->view;
    jobs.emplace(v.id, std::move(job));
    queue.push_back(v.id);
    lock.unlock();
    cv.notify_all();
    TRELLIS_RETURN_IF_ERROR(app.Audit(p, "job.create", "ok", v.id, "", request_id, kind));
    return v;
  }

  Status Denied(const Principal& p, const char* action, const std::string& id, const std::string& request_id) {
    TRELLIS_RETURN_IF_ERROR(app.Audit(p, action, "deny", id, "", request_id));
    return Status::NotFound();
  }
};

Jobs::Jobs(App& app, JobOptions options) : impl_(std::make_unique<Impl>(app, options)) {}
Jobs::~Jobs() = default;

Result<JobView> Jobs::StartImport(const Principal& p, std::string csv, const std::string& request_id) {
  auto job = std::make_unique<Job>();
  job->view.kind = "import_htcds";
  if (!policy::CanRunBulkJobs(p.user.role)) return impl_->Start(p, std::move(job), request_id);  // denied and audited
  if (csv.empty()) return Status::Invalid("the file is empty", "file");
  job->input = std::make_unique<MemFile>();
  if (!job->input->ok() || !job->input->Write(csv)) return Status(Code::kRateLimited, "the server is busy; try again later");
  csv.clear();
  csv.shrink_to_fit();
  return impl_->Start(p, std::move(job), request_id);
}

Result<JobView> Jobs::StartExport(const Principal& p, bool identifying, const std::string& request_id) {
  auto job = std::make_unique<Job>();
  job->view.kind = "export_htcds";
  job->view.identifying = identifying;
  return impl_->Start(p, std::move(job), request_id);
}

Result<JobView> Jobs::Get(const Principal& p, const std::string& job_id, const std::string& request_id) {
  JobView v;
  {
    std::lock_guard<std::mutex> lock(impl_->mu);
    impl_->Sweep(impl_->Now());
    Job* j = impl_->Find(p, job_id);
    if (j) v = j->view;
    if (j && j->writing) v.bytes_written = j->writing->Size();
  }
  if (v.id.empty()) return impl_->Denied(p, "job.read", job_id, request_id);
  TRELLIS_RETURN_IF_ERROR(impl_->app.Audit(p, "job.read", "allow", v.id, "", request_id, v.kind + ";" + v.state));
  return v;
}

Result<std::string> Jobs::TakeFile(const Principal& p, const std::string& job_id, const std::string& request_id) {
  std::shared_ptr<ExportFile> file;
  bool found = false;
  {
    std::lock_guard<std::mutex> lock(impl_->mu);
    impl_->Sweep(impl_->Now());
    Job* j = impl_->Find(p, job_id);
    if (j && j->view.kind == "export_htcds") {
      found = true;
      // One download at a time: a second one while the first is in flight finds it taken.
      if (j->output && j->output->Claim()) file = j->output;
      j->view.file_available = false;
    }
  }
  if (!found) return impl_->Denied(p, "job.file", job_id, request_id);
  if (!file) {
    TRELLIS_RETURN_IF_ERROR(impl_->app.Audit(p, "job.file", "deny", job_id, "", request_id, "gone"));
    return Status(Code::kFailedPrecondition, "the file is not ready, was already downloaded, or has expired");
  }
  auto bytes = file->Read();
  if (!bytes.ok()) {
    file->Settle(false);
    TRELLIS_RETURN_IF_ERROR(impl_->app.Audit(p, "job.file", "error", job_id, "", request_id, "read"));
    return bytes.status();
  }
  // The file is given up only once the record of this download is durable: if the audit append
  // fails, the caller gets that error instead of the bytes and the file stays for another try
  // (until it expires). Under the server's AuditDeferral, Settle runs when the batch commits,
  // before the response is released.
  TRELLIS_RETURN_IF_ERROR(impl_->app.AuditThen(p, "job.file", "ok", job_id, "", request_id, "",
                                               [file](const Status& durable) { file->Settle(durable.ok()); }));
  return bytes;
}

Result<JobView> Jobs::Cancel(const Principal& p, const std::string& job_id, const std::string& request_id) {
  JobView v;
  Status st = Status::Ok();
  {
    std::lock_guard<std::mutex> lock(impl_->mu);
    Job* j = impl_->Find(p, job_id);
    if (!j) {
      st = Status::NotFound();
    } else if (j->view.state == "queued") {
      j->input.reset();
      impl_->Finish(*j, "cancelled");
    } else if (j->view.state == "running" && j->view.kind == "export_htcds") {
      j->cancel_requested = true;  // its file is discarded when the export finishes
    } else if (j->view.state == "running") {
      st = Status::Conflict("an import that has started runs to the end (all rows or none)");
    } else {
      st = Status::Conflict("the job has already finished");
    }
    if (j) v = j->view;
  }
  if (st.code() == Code::kNotFound) return impl_->Denied(p, "job.cancel", job_id, request_id);
  TRELLIS_RETURN_IF_ERROR(impl_->app.Audit(p, "job.cancel", st.ok() ? "ok" : "deny", job_id, "", request_id, v.state));
  if (!st.ok()) return st;
  return v;
}

}  // namespace trellis::app

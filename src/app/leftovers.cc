// The temporary files of restores and backups, their locks and the clean-up of what those cut
// short left behind (leftovers.h).
#include "app/leftovers.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <filesystem>
#include <map>
#include <string_view>
#include <vector>

#include "core/ids.h"
#include "core/rng.h"

namespace trellis::app {

namespace fs = std::filesystem;

namespace {

constexpr std::string_view kLockExt = ".lock";

// The temporary files of a restore or a backup, in the data directory: the copy of a store
// prefix + NewRandomId(_, "t") + ".db", the audit file opening or snapshotting it makes beside it
// (storage::SqliteAuditPath: "-audit.db"), and SQLite's "-wal", "-shm" and "-journal" files of
// either. Returns the id when `name` is exactly such a name of `prefix`, else an empty view:
// a stale file is removed only if a restore or a backup made it.
std::string_view TemporaryId(std::string_view name, std::string_view prefix) {
  constexpr std::string_view kExt = ".db", kAudit = "-audit";
  if (!name.starts_with(prefix)) return {};
  name.remove_prefix(prefix.size());
  for (std::string_view sqlite_suffix : {"-wal", "-shm", "-journal"}) {
    if (name.ends_with(sqlite_suffix)) {
      name.remove_suffix(sqlite_suffix.size());
      break;
    }
  }
  if (!name.ends_with(kExt)) return {};
  name.remove_suffix(kExt.size());
  if (name.ends_with(kAudit)) name.remove_suffix(kAudit.size());
  return IsWellFormedId(name, "t") ? name : std::string_view();
}

// A backup's lock file: ".backup-" + id + ".lock" (BackupLock). The id, or an empty view.
std::string_view BackupLockId(std::string_view name) {
  if (name.size() <= kBackupPrefix.size() + kLockExt.size() || !name.starts_with(kBackupPrefix) ||
      !name.ends_with(kLockExt)) {
    return {};
  }
  name.remove_prefix(kBackupPrefix.size());
  name.remove_suffix(kLockExt.size());
  return IsWellFormedId(name, "t") ? name : std::string_view();
}

std::string BackupLockPath(const std::string& data_dir, std::string_view id) {
  return data_dir + "/" + std::string(kBackupPrefix) + std::string(id) + std::string(kLockExt);
}

// Regular files only: never a symbolic link, a directory or anything else a restore or a
// backup never makes.
bool IsRegularFile(const fs::directory_entry& e) {
  std::error_code ec;
  return e.symlink_status(ec).type() == fs::file_type::regular;
}

// flock(2), retried when a signal interrupts it. 0 on success.
int Flock(int fd, int operation) {
  int rc;
  do {
    rc = ::flock(fd, operation);
  } while (rc != 0 && errno == EINTR);
  return rc;
}

}  // namespace

TemporaryFiles::~TemporaryFiles() {
  for (const std::string& f : files_) {
    for (const char* suffix : {"", "-wal", "-shm", "-journal"}) std::remove((f + suffix).c_str());
  }
}

DataDirLock::DataDirLock(const std::string& dir, int operation)
    : fd_(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC)) {
  if (fd_ < 0) return;
  if (Flock(fd_, operation) != 0) {
    ::close(fd_);
    fd_ = -1;
  }
}

DataDirLock::~DataDirLock() {
  if (fd_ >= 0) ::close(fd_);  // releases the lock
}

BackupLock::BackupLock(const std::string& dir) {
  for (int attempt = 0; attempt < 8; ++attempt) {
    const std::string id = NewRandomId(SystemRng(), "t"), path = BackupLockPath(dir, id);
    const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) {
      if (errno == EEXIST || errno == EINTR) continue;
      return;
    }
    if (Flock(fd, LOCK_EX) != 0) {  // a cleaner holds it only while it looks (and finds it free)
      ::unlink(path.c_str());
      ::close(fd);
      return;
    }
    // Between the creation and the lock, a cleaner may have found the file free, taken it for
    // a stale one and removed it: then this lock guards no name, and another id is drawn.
    struct stat held {}, named {};
    if (::fstat(fd, &held) == 0 && ::stat(path.c_str(), &named) == 0 && held.st_dev == named.st_dev &&
        held.st_ino == named.st_ino) {
      fd_ = fd;
      id_ = id;
      path_ = path;
      return;
    }
    ::close(fd);
  }
}

BackupLock::~BackupLock() {
  if (fd_ < 0) return;
  ::unlink(path_.c_str());  // while still locked: no cleaner has it
  ::close(fd_);             // releases the lock
}

void RemoveRestoreLeftovers(const std::string& data_dir) {
  std::vector<fs::path> stale;
  std::error_code ec;
  for (fs::directory_iterator it(data_dir, ec), end; !ec && it != end; it.increment(ec)) {
    if (!TemporaryId(it->path().filename().string(), kRestorePrefix).empty() && IsRegularFile(*it)) {
      stale.push_back(it->path());
    }
  }
  for (const fs::path& f : stale) fs::remove(f, ec);
}

namespace {

// The backups running in `data_dir`; with `remove`, the files of those that are not running are
// removed on the way.
int ScanBackups(const std::string& data_dir, bool remove) {
  // The regular files named like a backup's temporary files or lock file, by backup id.
  std::map<std::string, std::vector<fs::path>, std::less<>> by_id;
  std::error_code ec;
  for (fs::directory_iterator it(data_dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    std::string_view id = TemporaryId(name, kBackupPrefix);
    if (id.empty()) id = BackupLockId(name);
    if (!id.empty() && IsRegularFile(*it)) by_id[std::string(id)].push_back(it->path());
  }
  int running = 0;
  for (const auto& [id, files] : by_id) {
    // A backup makes its lock file before its first temporary file and removes it after the
    // last: files without a lock file, or with one nobody holds, belong to no running backup.
    const std::string lock_path = BackupLockPath(data_dir, id);
    const int fd = ::open(lock_path.c_str(), O_RDWR | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0 && errno != ENOENT) continue;  // cannot tell: kept
    if (fd >= 0 && Flock(fd, LOCK_EX | LOCK_NB) != 0) {
      ::close(fd);
      ++running;  // held (or cannot tell): a backup is running, its files are kept
      continue;
    }
    if (remove) {
      for (const fs::path& f : files) {
        if (f.string() != lock_path) fs::remove(f, ec);
      }
      if (fd >= 0) ::unlink(lock_path.c_str());  // last, still locked
    }
    if (fd >= 0) ::close(fd);
  }
  return running;
}

}  // namespace

int RemoveBackupLeftovers(const std::string& data_dir) { return ScanBackups(data_dir, /*remove=*/true); }
int CountRunningBackups(const std::string& data_dir) { return ScanBackups(data_dir, /*remove=*/false); }

int RemoveLeftovers(const std::string& data_dir) {
  {
    DataDirLock lock(data_dir, LOCK_SH | LOCK_NB);  // skipped while a restore is running
    if (lock.held()) RemoveRestoreLeftovers(data_dir);
  }
  return RemoveBackupLeftovers(data_dir);
}

}  // namespace trellis::app

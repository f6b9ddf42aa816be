// Internal to app/: the temporary files restores and backups make in the data directory, the
// locks that tell a running one's files from those one cut short left behind, and the clean-up
// of the latter (docs/architecture.md, "Backups stay one file" and "A backup's temporary files").
#pragma once

#include <sys/file.h>  // LOCK_EX, LOCK_SH, LOCK_NB: the operations of a DataDirLock

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace trellis::app {

// A restore's temporary files are named kRestorePrefix + NewRandomId(_, "t") + ".db", a
// backup's kBackupPrefix + its BackupLock's id + ".db"; beside each, the audit file opening or
// snapshotting it makes (storage::SqliteAuditPath: "-audit.db") and SQLite's "-wal", "-shm" and
// "-journal" files of either. A backup's lock file is kBackupPrefix + id + ".lock".
inline constexpr std::string_view kRestorePrefix = ".restore-", kBackupPrefix = ".backup-";

// Removes `files` and SQLite's -wal, -shm and -journal files of each when destroyed: whatever
// way the scope is left (an error, an exception), none of them stays behind.
class TemporaryFiles {
 public:
  explicit TemporaryFiles(std::vector<std::string> files) : files_(std::move(files)) {}
  ~TemporaryFiles();
  TemporaryFiles(const TemporaryFiles&) = delete;
  TemporaryFiles& operator=(const TemporaryFiles&) = delete;

 private:
  std::vector<std::string> files_;
};

// A flock(2) on the data directory. A restore holds it exclusively from start to end; opening a
// store takes it shared, without waiting, to remove what restores that were cut short (killed,
// power loss) left behind: if it cannot, a restore is running and its files are not stale.
class DataDirLock {
 public:
  DataDirLock(const std::string& dir, int operation);
  ~DataDirLock();
  DataDirLock(const DataDirLock&) = delete;
  DataDirLock& operator=(const DataDirLock&) = delete;
  bool held() const { return fd_ >= 0; }

 private:
  int fd_;
};

// What a backup holds from start to end: an exclusive flock(2) on a lock file of its own,
// <data>/.backup-<id>.lock, created before its temporary files (named with the same id) and
// removed after them. Backups run while servers are live, several at once if need be; a
// cleaner tells the files of a running backup (its lock is held) from those of one that was
// cut short (the lock file is free, or gone) without waiting (RemoveBackupLeftovers).
class BackupLock {
 public:
  explicit BackupLock(const std::string& dir);
  ~BackupLock();
  BackupLock(const BackupLock&) = delete;
  BackupLock& operator=(const BackupLock&) = delete;
  bool held() const { return fd_ >= 0; }
  const std::string& id() const { return id_; }

 private:
  int fd_ = -1;
  std::string id_, path_;
};

// Temporary files that restores and backups cut short (killed, power loss) left in the data
// directory: copies of the store, which may hold data keys that must not outlive an erasure
// (S6). Only regular files named exactly as a restore or a backup names them are touched, and
// never those of one running now (a restore holds the data directory's flock; a backup a lock
// file of its own).
//
// RemoveRestoreLeftovers removes a restore's; the caller holds the data directory's lock (so no
// restore is running). RemoveBackupLeftovers removes a backup's and returns the number of
// backups running; CountRunningBackups counts them without touching a file. RemoveLeftovers
// removes both kinds (a restore's only if no restore holds the data directory's lock) and
// returns the number of backups running.
void RemoveRestoreLeftovers(const std::string& data_dir);
int RemoveBackupLeftovers(const std::string& data_dir);
int CountRunningBackups(const std::string& data_dir);
int RemoveLeftovers(const std::string& data_dir);

}  // namespace trellis::app

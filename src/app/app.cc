#include "app/app.h"

#include <sys/file.h>
#include <sys/stat.h>

#include <condition_variable>
#include <cstdio>
#include <filesystem>
#include <set>
#include <string_view>
#include <vector>

#include "app/impl.h"
#include "app/leftovers.h"
#include "core/ids.h"
#include "core/rng.h"
#include "crypto/envelope.h"
#include "crypto/file_stream.h"
#include "crypto/primitives.h"
#include "app/screening.h"

namespace trellis::app {

namespace fs = std::filesystem;

Status StoreAuditSink::AppendBatch(const audit::BatchBuilder& build) {
  std::vector<std::any> attachments;
  auto written = [&](storage::Txn& t) -> Status {
    // Disclosure rows queued with their "disclose" entries commit in the batch's transaction
    // (S13: a disclosure is durable before the read that made it is answered).
    for (const std::any& a : attachments) {
      const auto* d = std::any_cast<std::shared_ptr<const storage::DisclosureRow>>(&a);
      // Never dropped unwritten: an attachment of another type fails the batch (a fault).
      if (d == nullptr || *d == nullptr) return Status::Internal("audit: an attachment that is not a disclosure row");
      TRELLIS_RETURN_IF_ERROR(t.InsertDisclosure(**d));
    }
    return Status::Ok();
  };
  return store_.AppendAudit([&](const storage::AuditRow& last) {
    audit::Batch b = build(last.seq, last.chain_hash);
    attachments = std::move(b.attachments);
    std::vector<storage::AuditRow> rows;
    rows.reserve(b.rows.size());
    for (auto& r : b.rows) rows.push_back({r.seq, std::move(r.encoded), std::move(r.chain_hash)});
    const auto& cp = b.checkpoint;
    return std::make_pair(std::move(rows), storage::AuditCheckpointRow{cp.seq, cp.chain_hash, cp.signature, cp.signed_at});
  }, written);
}

Principal CliOperator(const std::string& agency_id) {
  Principal p;
  p.user.id = "cli";
  p.user.username = "cli";
  p.user.agency_id = agency_id;
  p.user.role = domain::Role::kAdministrator;
  return p;
}

policy::Subject App::Impl::SubjectOf(const Principal& p) const {
  return {p.user.id, p.user.agency_id, p.user.role};
}

Result<crypto::Key32> App::Impl::DataKey(const std::string& survivor_id) {
  auto row = store->GetDataKey(survivor_id);
  if (!row.ok()) return row.status().code() == Code::kNotFound ? Status::DataLoss("the data key is gone") : row.status();
  return UnwrapDataKey(*row);
}

Result<crypto::Key32> App::Impl::UnwrapDataKey(const storage::DataKeyRow& row) {
  const std::string& survivor_id = row.survivor_id;
  const auto* wrapped = &row.wrapped;
  uint32_t version = crypto::WrappedMasterVersion(*wrapped);
  {
    std::shared_lock lock(keys_mu);
    if (const crypto::Key32* master = keys->Master(version)) return crypto::UnwrapDataKey(*master, survivor_id, *wrapped);
  }
  // Another process rotated the master key: reload the key ring once.
  auto reloaded = crypto::KeyRing::Load(KeyPath(), passphrase);
  if (!reloaded.ok()) return reloaded.status();
  std::unique_lock lock(keys_mu);
  keys = std::move(reloaded).value();
  const crypto::Key32* master = keys->Master(version);
  if (!master) return Status::DataLoss("the master key version of a data key is not in the key ring");
  return crypto::UnwrapDataKey(*master, survivor_id, *wrapped);
}

storage::DataKeyRow App::Impl::NewDataKey(const std::string& survivor_id, crypto::Key32* out) {
  *out = crypto::Key32::Random();
  std::shared_lock lock(keys_mu);
  return {survivor_id, crypto::WrapDataKey(keys->CurrentMaster(), keys->current_version(), survivor_id, *out), 1};
}

// The entries queued inside one AuditDeferral and who waits for them.
struct AuditDeferral::State : std::enable_shared_from_this<AuditDeferral::State> {
  std::mutex mu;
  std::condition_variable cv;
  int pending = 0;
  Status first_error;
  bool finished = false;
  std::function<void(const Status&)> durable;

  void Queued() {
    std::lock_guard lock(mu);
    ++pending;
  }
  void Committed(const Status& st) {
    std::function<void(const Status&)> call;
    Status result;
    {
      std::lock_guard lock(mu);
      if (!st.ok() && first_error.ok()) first_error = st;
      if (--pending > 0) return;
      cv.notify_all();
      if (!finished || !durable) return;
      call = std::move(durable);
      result = first_error;
    }
    call(result);
  }
};

namespace {
thread_local AuditDeferral::State* current_deferral = nullptr;
}  // namespace

AuditDeferral::AuditDeferral() : state_(std::make_shared<State>()) {
  TRELLIS_INVARIANT(current_deferral == nullptr, "audit deferrals do not nest");
  current_deferral = state_.get();
}

AuditDeferral::~AuditDeferral() {
  if (current_deferral == state_.get()) current_deferral = nullptr;
  if (state_->finished) return;
  std::unique_lock lock(state_->mu);
  state_->cv.wait(lock, [&] { return state_->pending == 0; });
}

void AuditDeferral::Finish(std::function<void(const Status&)> durable) {
  if (current_deferral == state_.get()) current_deferral = nullptr;
  Status result;
  {
    std::lock_guard lock(state_->mu);
    state_->finished = true;
    if (state_->pending > 0) {
      state_->durable = std::move(durable);
      return;
    }
    result = state_->first_error;
  }
  durable(result);
}

Status App::Impl::AuditEntry(const Principal& p, std::string action, std::string outcome, std::string target,
                             std::string survivor, std::string request, std::string detail) {
  return AuditEntryWith({}, p, std::move(action), std::move(outcome), std::move(target), std::move(survivor),
                        std::move(request), std::move(detail));
}

Status App::Impl::AuditEntryWith(std::any attachment, const Principal& p, std::string action, std::string outcome,
                                 std::string target, std::string survivor, std::string request, std::string detail,
                                 audit::Log::Done then) {
  audit::Entry e{.actor = p.user.id,
                 .action = std::move(action),
                 .outcome = std::move(outcome),
                 .target = std::move(target),
                 .survivor = std::move(survivor),
                 .request = std::move(request),
                 .detail = std::move(detail)};
  if (AuditDeferral::State* d = current_deferral) {
    // The caller holds the result back until the entry is durable (AuditDeferral).
    d->Queued();
    log->AppendThen(
        std::move(e),
        [keep = d->shared_from_this(), then = std::move(then)](const Status& st) {
          if (then) then(st);  // before the deferral may release the response
          keep->Committed(st);
        },
        std::move(attachment));
    return Status::Ok();
  }
  Status st = log->Append(std::move(e), std::move(attachment));
  if (then) then(st);
  return st;
}

Status App::Init(const InitOptions& o) {
  std::error_code ec;
  fs::create_directories(o.data_dir, ec);
  if (ec) return Status(Code::kFailedPrecondition, "cannot create " + o.data_dir);
  ::chmod(o.data_dir.c_str(), 0700);
  const std::string location = StoreLocation(o.data_dir, o.store), key_path = o.data_dir + "/" + kKeyFile;
  const bool sqlite = !storage::IsPostgresLocation(location);
  const std::string store_path =
      !sqlite ? "" : location.starts_with("sqlite:") ? location.substr(std::string_view("sqlite:").size()) : location;
  if ((sqlite && (fs::exists(store_path) || fs::exists(storage::SqliteAuditPath(store_path)))) ||
      fs::exists(key_path)) {
    return Status(Code::kAlreadyExists, "a Trellis store already exists in " + o.data_dir);
  }
  auto store = storage::OpenStore(location, {.connections = 1, .create_if_missing = true});
  if (!store.ok()) return store.status();
  if (sqlite) ::chmod(store_path.c_str(), 0600);
  // A database that already holds a store is never taken over.
  auto existing = (*store)->GetMeta("audit_public_key");
  if (!existing.ok()) return existing.status();
  if (existing->has_value()) return Status(Code::kAlreadyExists, "the database already holds a Trellis store");
  auto ring = crypto::KeyRing::Generate();
  TRELLIS_RETURN_IF_ERROR(ring->Save(key_path, o.passphrase, o.fast_kdf_for_tests));
  return (*store)->Write([&](storage::Txn& t) {
    return t.SetMeta("audit_public_key", ring->audit_signer().PublicKey());
  });
}

Result<std::unique_ptr<App>> App::Open(const OpenOptions& o) {
  crypto::InitCrypto();
  // A restore or a backup cut short leaves a copy of a store (with data keys) in the data
  // directory; it must not outlive an erasure (S6). Never the files of one running now.
  (void)RemoveLeftovers(o.data_dir);
  auto impl = std::make_unique<Impl>();
  impl->data_dir = o.data_dir;
  impl->store_location = StoreLocation(o.data_dir, o.store);
  impl->passphrase = o.passphrase;
  impl->clock = o.clock ? o.clock : &SystemClock();
  impl->rules_dir = ResolveRulesDir(o.rules_dir, "/proc/self/exe");
  auto ring = crypto::KeyRing::Load(impl->KeyPath(), o.passphrase);
  if (!ring.ok()) return ring.status();
  impl->keys = std::move(ring).value();
  auto store = storage::OpenStore(impl->store_location, {.connections = o.reader_connections});
  if (!store.ok()) return store.status();
  impl->store = std::move(store).value();
  auto pk = impl->store->GetMeta("audit_public_key");
  if (!pk.ok()) return pk.status();
  if (!*pk) return Status(Code::kFailedPrecondition, "the store is not initialised (run `trellis init`)");
  if (**pk != impl->keys->audit_signer().PublicKey()) {
    return Status(Code::kFailedPrecondition, "the key ring does not belong to this store");
  }
  impl->sink = std::make_unique<StoreAuditSink>(*impl->store);
  impl->log = std::make_unique<audit::Log>(*impl->sink, impl->keys->audit_signer(), *impl->clock);
  return std::unique_ptr<App>(new App(std::move(impl)));
}

App::App(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
App::~App() = default;

Clock& App::clock() const { return *impl_->clock; }
const SessionLimits& App::session_limits() const { return impl_->limits; }
SharedReads::SharedReads(App& app) : pin_(app.impl_->store->PinReads()) {}
SharedReads::~SharedReads() = default;

bool App::store_is_embedded() const { return !storage::IsPostgresLocation(impl_->store_location); }

Status App::Audit(const Principal& p, const std::string& action, const std::string& outcome, const std::string& target,
                  const std::string& survivor, const std::string& request_id, const std::string& detail) {
  return impl_->AuditEntry(p, action, outcome, target, survivor, request_id, detail);
}

Status App::AuditThen(const Principal& p, const std::string& action, const std::string& outcome,
                      const std::string& target, const std::string& survivor, const std::string& request_id,
                      const std::string& detail, std::function<void(const Status&)> durable) {
  return impl_->AuditEntryWith({}, p, action, outcome, target, survivor, request_id, detail, std::move(durable));
}

Result<App::AuditVerifyResult> App::VerifyAudit() {
  auto cps = impl_->store->ListCheckpoints();
  if (!cps.ok()) return cps.status();
  std::vector<audit::Checkpoint> checkpoints;
  for (const auto& c : *cps) checkpoints.push_back({c.seq, c.chain_hash, c.signature, c.signed_at});
  // Stream the log in pages so a large log is never held in memory.
  int64_t next = 1;
  std::vector<storage::AuditRow> page;
  size_t at = 0;
  Status read_status;
  auto next_row = [&](audit::StoredEntry* out) -> bool {
    if (at == page.size()) {
      page.clear();
      at = 0;
      read_status = impl_->store->ForEachAudit(next, [&](const storage::AuditRow& r) {
        page.push_back(r);
        return page.size() < 10000;
      });
      if (page.empty() || !read_status.ok()) return false;
      next = page.back().seq + 1;
    }
    const auto& r = page[at++];
    *out = {r.seq, r.encoded, r.chain_hash};
    return true;
  };
  audit::VerifyReport rep;
  {
    std::shared_lock lock(impl_->keys_mu);
    rep = audit::Verify(next_row, checkpoints, impl_->keys->audit_signer().PublicKey());
  }
  TRELLIS_RETURN_IF_ERROR(read_status);
  return AuditVerifyResult{rep.ok, rep.entries, rep.checkpoints, rep.first_bad_seq, rep.reason};
}

Result<int64_t> App::RotateKeys(const std::string& passphrase, bool keep_old) {
  std::unique_lock lock(impl_->keys_mu);
  crypto::KeyRing& ring = *impl_->keys;
  const uint32_t next = ring.Rotate();
  // 1. Persist the ring holding old and new versions before any key is re-wrapped.
  TRELLIS_RETURN_IF_ERROR(ring.Save(impl_->KeyPath(), passphrase));
  // 2. Re-wrap every data key in one transaction.
  std::vector<storage::DataKeyRow> rewrapped;
  Status st = impl_->store->ForEachDataKey([&](const storage::DataKeyRow& row) -> Status {
    const crypto::Key32* old = ring.Master(crypto::WrappedMasterVersion(row.wrapped));
    if (!old) return Status::DataLoss("a data key names a master key version that is gone");
    auto dk = crypto::UnwrapDataKey(*old, row.survivor_id, row.wrapped);
    if (!dk.ok()) return dk.status();
    rewrapped.push_back({row.survivor_id, crypto::WrapDataKey(ring.CurrentMaster(), next, row.survivor_id, *dk),
                         row.key_version});
    return Status::Ok();
  });
  TRELLIS_RETURN_IF_ERROR(st);
  auto second_factors = ResealSecondFactors(*impl_, ring, next);  // TOTP secrets too
  if (!second_factors.ok()) return second_factors.status();
  TRELLIS_RETURN_IF_ERROR(impl_->store->Write([&](storage::Txn& t) {
    for (const auto& r : rewrapped) TRELLIS_RETURN_IF_ERROR(t.PutDataKey(r));
    for (const auto& r : *second_factors) TRELLIS_RETURN_IF_ERROR(t.UpdateSecondFactor(r, r.version - 1));
    return Status::Ok();
  }));
  // 3. Only now may old versions go.
  if (!keep_old) {
    ring.RetireOldVersions();
    TRELLIS_RETURN_IF_ERROR(ring.Save(impl_->KeyPath(), passphrase));
  }
  lock.unlock();
  TRELLIS_RETURN_IF_ERROR(impl_->AuditEntry(CliOperator(), "keys.rotate", "ok", "", "", "",
                                            "version=" + std::to_string(next) +
                                                ",rewrapped=" + std::to_string(rewrapped.size())));
  return static_cast<int64_t>(rewrapped.size());
}

namespace {
crypto::Key32 BackupKey(const crypto::Key32& master) { return crypto::DeriveSubkey(master, 1, "backup__"); }
}  // namespace

Status App::Backup(const std::string& out_path, bool include_keys) {
  // What backups cut short left goes first; never the files of one running now.
  (void)RemoveBackupLeftovers(impl_->data_dir);
  {
    BackupLock lock(impl_->data_dir);
    if (!lock.held()) {
      return Status(Code::kFailedPrecondition, "cannot create a lock file in the data directory " + impl_->data_dir);
    }
    // Until its data keys are stripped, the snapshot is a full copy of the store, with every
    // survivor's data key: on every way out (an error, an exception) it is removed, with the
    // audit file beside it and SQLite's files, before the lock is released (declared after it).
    const std::string tmp = impl_->data_dir + "/" + std::string(kBackupPrefix) + lock.id() + ".db";
    TemporaryFiles temporaries({tmp, storage::SqliteAuditPath(tmp)});
    TRELLIS_RETURN_IF_ERROR(impl_->store->SnapshotTo(tmp));
    if (!include_keys) TRELLIS_RETURN_IF_ERROR(storage::StripDataKeysFromSnapshot(tmp));
    std::shared_lock keys_lock(impl_->keys_mu);
    TRELLIS_RETURN_IF_ERROR(
        crypto::EncryptFile(BackupKey(impl_->keys->CurrentMaster()), impl_->keys->current_version(), tmp, out_path));
  }
  return impl_->AuditEntry(CliOperator(), "backup.create", "ok", "", "", "", include_keys ? "with_keys" : "without_keys");
}

Result<std::vector<std::pair<std::string, int64_t>>> MigrateStore(const std::string& from, const std::string& to) {
  if (from == to) return Status::Invalid("--from and --to name the same store", "to");
  auto source = storage::OpenStore(from, {.connections = 2});
  if (!source.ok()) return source.status();
  auto pk = (*source)->GetMeta("audit_public_key");
  if (!pk.ok()) return pk.status();
  if (!*pk) return Status(Code::kFailedPrecondition, "the source store is not initialised");
  auto target = storage::OpenStore(to, {.connections = 2, .create_if_missing = true});
  if (!target.ok()) return target.status();
  return storage::CopyStore(**source, **target);
}

Status Restore(const std::string& data_dir, const std::string& passphrase, const std::string& backup_path,
               const std::string& store) {
  if (storage::IsPostgresLocation(store)) {
    return Status(Code::kFailedPrecondition,
                  "restore a PostgreSQL store with pg_restore, or restore into SQLite and run `trellis migrate-store`"
                  " (docs/deploy/postgres.md)");
  }
  if (!store.empty()) return Status::Invalid("restore writes the SQLite file of --data; omit --store", "store");
  auto ring = crypto::KeyRing::Load(data_dir + "/" + kKeyFile, passphrase);
  if (!ring.ok()) return ring.status();
  auto key_id = crypto::EncryptedFileKeyId(backup_path);
  if (!key_id.ok()) return key_id.status();
  const crypto::Key32* master = (*ring)->Master(*key_id);
  if (!master) return Status(Code::kFailedPrecondition, "the key ring no longer holds the key of this backup");
  // One restore at a time in a data directory; what earlier ones cut short left goes first.
  DataDirLock lock(data_dir, LOCK_EX);
  if (!lock.held()) return Status(Code::kFailedPrecondition, "cannot lock the data directory " + data_dir);
  RemoveRestoreLeftovers(data_dir);
  const std::string store_path = data_dir + "/" + kStoreFile, audit_path = storage::SqliteAuditPath(store_path);
  const std::string tmp = data_dir + "/" + std::string(kRestorePrefix) + NewRandomId(SystemRng(), "t") + ".db";
  const std::string tmp_audit = storage::SqliteAuditPath(tmp);
  // Whatever way this returns (an error, an exception), no temporary file stays behind; after
  // the renames below there is nothing left to remove.
  TemporaryFiles remove_temporaries({tmp, tmp_audit});
  TRELLIS_RETURN_IF_ERROR(crypto::DecryptFile(BackupKey(*master), backup_path, tmp));
  Status st = Status::Ok();
  {
    // Opening the backup (one file) migrates it and moves its audit tables into tmp_audit.
    auto check = storage::OpenSqliteStore(tmp);
    st = check.ok() ? (*check)->CheckIntegrity() : check.status();
  }
  std::error_code exists_ec;
  if (st.ok()) {
    const bool live = fs::exists(store_path, exists_ec);
    if (exists_ec) {
      st = Status::Internal("cannot look for the store file " + store_path);
    } else if (live) {
      st = storage::MergeDataKeysInto(tmp, store_path);
    }
  }
  if (st.ok()) {
    // The replaced store's audit file goes first (it must not survive: it would join two
    // histories), then the store file is replaced, then the audit file. A crash in between
    // leaves a store file without its audit file, which refuses to open until the restore is
    // run again — never a store file with another history's audit trail.
    for (const char* suffix : {"-wal", "-shm"}) std::remove((store_path + suffix).c_str());
    for (const char* suffix : {"", "-wal", "-shm"}) std::remove((audit_path + suffix).c_str());
    if (fs::exists(audit_path, exists_ec) || exists_ec) {
      st = Status::Internal("cannot remove the audit file of the replaced store");
    }
  }
  if (st.ok()) {
    if (std::rename(tmp.c_str(), store_path.c_str()) != 0) st = Status::Internal("cannot replace the store");
    ::chmod(store_path.c_str(), 0600);
  }
  if (st.ok() && std::rename(tmp_audit.c_str(), audit_path.c_str()) != 0) {
    st = Status::Internal("cannot install the audit file");
  }
  return st;  // remove_temporaries removes what is left
}

Status App::Integrity() { return impl_->store->CheckIntegrity(); }

}  // namespace trellis::app

namespace trellis::app {

Result<App::AuditPage> App::ListAudit(const Principal& p, int64_t before_seq, int limit, const std::string& survivor_id,
                                      const std::string& request_id) {
  if (!policy::CanReadAudit(p.user.role)) {
    TRELLIS_RETURN_IF_ERROR(impl_->AuditEntry(p, "audit.read", "deny", "", "", request_id, "role"));
    return Status::Forbidden("only supervisors and auditors read the audit trail");
  }
  if (limit < 1 || limit > 200) return Status::Invalid("must be from 1 to 200", "limit");
  // Actors of the caller's agency.
  auto users = impl_->store->ListUsers(p.user.agency_id);
  if (!users.ok()) return users.status();
  std::set<std::string> actors;
  for (const auto& u : *users) actors.insert(u.user.id);
  AuditPage page;
  int64_t cursor = before_seq;
  int scanned = 0;
  while (static_cast<int>(page.items.size()) < limit && scanned < 20000) {
    auto rows = impl_->store->ListAuditBefore(cursor, 500);
    if (!rows.ok()) return rows.status();
    if (rows->empty()) {
      cursor = 0;
      break;
    }
    for (const auto& r : *rows) {
      ++scanned;
      cursor = r.seq;
      auto e = audit::Decode(r.encoded);
      if (!e.ok() || !actors.count(e->actor)) continue;
      if (!survivor_id.empty() && e->survivor != survivor_id) continue;
      page.items.push_back({e->seq, e->time, e->actor, e->action, e->outcome, e->target, e->survivor, e->request, e->detail});
      if (static_cast<int>(page.items.size()) == limit) break;
    }
    if (cursor <= 1) {
      cursor = 0;
      break;
    }
  }
  page.next_before = cursor > 1 ? cursor : 0;
  TRELLIS_RETURN_IF_ERROR(impl_->AuditEntry(p, "audit.read", "allow", "", survivor_id, request_id,
                                            "entries=" + std::to_string(page.items.size())));
  return page;
}

}  // namespace trellis::app

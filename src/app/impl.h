// Internal to app/: the state behind App and helpers shared by its .cc files.
#pragma once

#include <any>
#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>

#include "app/app.h"
#include "app/screening.h"
#include "audit/audit.h"
#include "core/rng.h"
#include "crypto/keyring.h"
#include "crypto/secret.h"
#include "policy/policy.h"
#include "storage/store.h"

namespace trellis::app {

inline constexpr char kStoreFile[] = "trellis.db";
inline constexpr char kKeyFile[] = "keyring";

// The store location of InitOptions/OpenOptions: `store`, or the SQLite file in `data_dir`.
inline std::string StoreLocation(const std::string& data_dir, const std::string& store) {
  return store.empty() ? "sqlite:" + data_dir + "/" + kStoreFile : store;
}

// Adapts the audit log's Sink to the store.
class StoreAuditSink final : public audit::Sink {
 public:
  explicit StoreAuditSink(storage::CaseStore& store) : store_(store) {}
  Status AppendBatch(const audit::BatchBuilder& build) override;

 private:
  storage::CaseStore& store_;
};

struct App::Impl {
  std::string data_dir;
  std::string store_location;  // storage::OpenStore location
  std::string passphrase;  // kept to reload the key ring after a rotation by another process
  Clock* clock = nullptr;
  SessionLimits limits;
  mutable std::shared_mutex keys_mu;
  std::unique_ptr<crypto::KeyRing> keys;
  std::unique_ptr<storage::CaseStore> store;
  std::unique_ptr<StoreAuditSink> sink;
  std::unique_ptr<audit::Log> log;
  std::string rules_dir;
  std::mutex screening_mu;  // a ScreeningService is single-threaded
  std::unique_ptr<ScreeningService> screening;

  // Validates trl_ReliefFacts and computes trl_ScreeningSummary when the facts are set.
  Status ScreenFactsInto(std::map<std::string, std::string>* fields);

  std::string StorePath() const { return data_dir + "/" + kStoreFile; }
  std::string KeyPath() const { return data_dir + "/" + kKeyFile; }

  // The survivor's data key, unwrapped with the master key version it names.
  Result<crypto::Key32> DataKey(const std::string& survivor_id);
  // The same for a wrapped key already read from the store.
  Result<crypto::Key32> UnwrapDataKey(const storage::DataKeyRow& row);
  // A new data key for a new survivor, and its wrapped form for the store.
  storage::DataKeyRow NewDataKey(const std::string& survivor_id, crypto::Key32* out);

  // A wrong password or second factor of `user_id` at `now`, counted toward the lockout: in one
  // write transaction, the store increments the count in the database
  // (storage::Txn::IncrementFailedLogins, so failures made at once by several threads or app
  // servers all count) and the lock that count calls for (app/lockout.h LockedUntil, from
  // limits.max_failures_before_lockout on) is raised, never lowered (RaiseLockedUntil).
  // Login and DisableTotp share it.
  Status RecordFailedLogin(const std::string& user_id, int64_t now);

  Status AuditEntry(const Principal& p, std::string action, std::string outcome, std::string target,
                    std::string survivor, std::string request, std::string detail = {});
  // The same, with a row the audit sink writes in the entry's batch transaction (a
  // storage::DisclosureRow): durable exactly when the entry is. `then`, if given, is told the
  // entry's fate (App::AuditThen).
  Status AuditEntryWith(std::any attachment, const Principal& p, std::string action, std::string outcome,
                        std::string target, std::string survivor, std::string request, std::string detail,
                        audit::Log::Done then = {});

  policy::Subject SubjectOf(const Principal& p) const;

  // Consent: the grants on one survivor (one indexed query, every request: no cached grant, S3),
  // and the grants in force naming the subject's agency (for lists and exports).
  Result<std::vector<policy::Grant>> GrantsOnSurvivor(const std::string& survivor_id);
  Result<std::vector<policy::Grant>> GrantsToAgency(const std::string& agency_id, int64_t now);
  // Records the disclosures of views allowed by cross-agency decisions and audits them: each
  // disclosure row rides with its "disclose" audit entry and commits in that entry's group-
  // commit batch, so under an AuditDeferral the response waits for both without parking a
  // thread, and a failure to write either fails the request.
  struct Disclosed {
    const RecordView* view;
    const policy::Decision* decision;
  };
  Status RecordDisclosures(const Principal& p, const std::string& action, const std::vector<Disclosed>& items,
                           const std::string& request_id);
  // The parts of RecordDisclosures, for disclosures that are not record views (evidence items,
  // the case an item belongs to): one row — what was shown (`record_id` of `survivor_id`, under
  // `categories`) and the decision that allowed it — and the rows audited, each riding with its
  // "disclose" entry (action `row.action`) in that entry's group-commit batch.
  storage::DisclosureRow DisclosureOf(const Principal& p, const std::string& action, const std::string& survivor_id,
                                      const std::string& record_id, std::string categories, const policy::Decision& d,
                                      const std::string& request_id, int64_t at) const;
  Status AppendDisclosures(const Principal& p, std::vector<storage::DisclosureRow> rows);
};

policy::Grant ToPolicyGrant(const storage::GrantRow& g);

// Second factor (second_factor.cc). Checks `code` (a TOTP code, or a recovery code) against the
// user's enabled second factor and records its use (the step, or the spent recovery code) under
// optimistic concurrency; kUnauthenticated when wrong, reused or raced.
Status UseSecondFactor(App::Impl& impl, const storage::SecondFactorRow& row, const std::string& code, int64_t now,
                       const Principal& who, const std::string& request_id);
// Master-key rotation: every second-factor secret re-sealed under master version `next`.
Result<std::vector<storage::SecondFactorRow>> ResealSecondFactors(App::Impl& impl, const crypto::KeyRing& ring,
                                                                  uint32_t next);

// Converts between records in memory (plaintext) and as stored (sealed).
storage::StoredRecord SealRecord(const domain::Record& r, const crypto::Key32& key);
// Opens the fields `decision` allows; lists the others as redacted. A field that fails to
// open (damaged, or key destroyed) is kDataLoss.
Result<RecordView> OpenRecord(const storage::StoredRecord& s, const crypto::Key32* key,
                              const policy::Decision& decision);
policy::Resource ResourceOf(const storage::StoredRecord& s);
// The decision for one stored record with the grants given (only those on its survivor count).
policy::Decision DecideRecord(const policy::Subject& subject, policy::Action action, const storage::StoredRecord& s,
                              int64_t now, const std::vector<policy::Grant>& grants);

// Strips, for a reader of another agency, what a release does not share: the names of withheld
// fields and the owning agency's team.
void ForeignView(const Principal& p, RecordView* v);

// A pseudonymous case number such as "TR-7K2M-9QXD": random, never derived from a name.
std::string NewCaseNumber();
std::string NewCaseNumber(Rng& rng);

// Categories of the fields in a view, comma-joined (for audit details: codes, not content).
std::string CategoriesOf(const RecordView& v);

}  // namespace trellis::app

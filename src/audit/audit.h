// The tamper-evident audit log (S12). Format: docs/formats/audit-chain.md.
//
// Entries hold IDs and codes only, never content. Each entry is encoded canonically; its leaf
// hash is SHA-256(0x00 || entry) (RFC 9162 leaf hashing) and the chain hash is
// SHA-256(0x01 || previous chain hash || leaf hash), starting from 32 zero bytes. After every
// group commit the head (sequence number, chain hash) is signed with Ed25519: a checkpoint.
// Verify() walks the stored log and names the first entry that does not verify.
#pragma once

#include <any>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <future>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/clock.h"
#include "core/status.h"
#include "crypto/primitives.h"

namespace trellis::audit {

struct Entry {
  int64_t seq = 0;    // assigned by the log
  int64_t time = 0;   // micros, assigned by the log
  std::string actor;  // user id, or "system" / "cli"
  std::string action;   // e.g. "case.read", "login.fail", "export.htcds"
  std::string outcome;  // "ok", "allow", "deny", "redact", "fail"
  std::string target;   // record / user / token id, may be empty
  std::string survivor;  // survivor whose data is concerned, may be empty
  std::string request;   // request id
  std::string detail;    // IDs or codes only (e.g. categories shown), never content
};

// Canonical encoding: "v1" and the fields joined by TAB. Fields may not contain TAB or
// newlines; Encode replaces them with spaces (IDs and codes never contain them).
std::string Encode(const Entry& e);
Result<Entry> Decode(std::string_view bytes);

std::string LeafHash(std::string_view encoded);
std::string ChainHash(std::string_view previous, std::string_view leaf);
std::string GenesisHash();  // 32 zero bytes
std::string CheckpointMessage(int64_t seq, std::string_view chain_hash);

struct StoredEntry {
  int64_t seq;
  std::string encoded;
  std::string chain_hash;
};
struct Checkpoint {
  int64_t seq;
  std::string chain_hash;
  std::string signature;
  int64_t signed_at;
};

struct Batch {
  std::vector<StoredEntry> rows;
  Checkpoint checkpoint;
  // What the entries' appenders attached (Log::AppendThen), in queue order. Opaque to the log:
  // the sink writes them in the same transaction as the rows (e.g. a disclosure row, S13).
  std::vector<std::any> attachments;
};
// Builds a batch given the stored head (seq 0 and an empty hash for an empty log).
using BatchBuilder = std::function<Batch(int64_t last_seq, const std::string& last_chain_hash)>;

// Where the log is kept. Implemented by app/ over the store. AppendBatch must, inside one
// transaction that excludes every other appender (of any process), read the stored head,
// call `build` with it, and write the rows, the checkpoint and the batch's attachments durably
// — or nothing. Reading
// the head in the database (not in memory) keeps one chain when several processes append.
class Sink {
 public:
  virtual ~Sink() = default;
  virtual Status AppendBatch(const BatchBuilder& build) = 0;
};

struct VerifyReport {
  bool ok = true;
  int64_t entries = 0;
  int64_t checkpoints = 0;
  int64_t first_bad_seq = 0;  // the first entry (or checkpoint) that fails, when !ok
  std::string reason;
};

// Verifies a log given in sequence order, with its checkpoints, against the signing key.
// `rows` is read through a callback so a large log need not be held in memory.
VerifyReport Verify(const std::function<bool(StoredEntry*)>& next_row, const std::vector<Checkpoint>& checkpoints,
                    std::string_view public_key);

// Group commit. Append() queues an entry and blocks until the batch holding it is durable
// (or failed); many concurrent callers share one transaction and one signature. AppendThen()
// queues an entry and returns at once; its callback runs on the log's writer thread once the
// batch holding the entry is durable (ok) or failed, so a server can finish a request without
// parking a thread while the batch commits. Entries are written in the order they are queued.
// A batch that fails is reported to each of its entries as kInternal, whatever code the sink
// returned (the sink's status is kept in the message). Thread-safe.
class Log {
 public:
  Log(Sink& sink, const crypto::SigningKey& signer, Clock& clock);
  ~Log();  // drains the queue
  Log(const Log&) = delete;
  Log& operator=(const Log&) = delete;

  Status Append(Entry e, std::any attachment = {});
  // Queues without waiting; for events whose caller cannot wait (never for reads of data).
  std::future<Status> AppendAsync(Entry e, std::any attachment = {});
  // Queues without waiting; `durable` is called exactly once, on the writer thread, with the
  // outcome of the batch commit. It must be quick and must not call back into this Log
  // synchronously (post the work elsewhere). A non-empty `attachment` is handed to the sink
  // with the batch holding the entry (Batch::attachments) and committed with it: when
  // `durable` reports ok, both are durable; when it fails, neither is.
  using Done = std::function<void(const Status&)>;
  void AppendThen(Entry e, Done durable, std::any attachment = {});

  int64_t last_seq() const;
  uint64_t batches() const { return batches_; }

 private:
  struct Pending {
    Entry entry;
    Done done;
    std::any attachment;
  };
  void Run();

  Sink& sink_;
  const crypto::SigningKey& signer_;
  Clock& clock_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Pending> queue_;
  bool stopping_ = false;
  int64_t last_seq_ = 0;  // the last sequence number this log wrote
  uint64_t batches_ = 0;
  std::thread worker_;
};

}  // namespace trellis::audit

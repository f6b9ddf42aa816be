#include "audit/audit.h"

#include <charconv>

#include "core/big_endian.h"

namespace trellis::audit {
namespace {

void AppendField(std::string& out, std::string_view v) {
  const size_t at = out.size();
  out.resize(at + 1 + v.size());
  char* p = out.data() + at;
  *p++ = '\t';
  for (char c : v) *p++ = c == '\t' || c == '\n' || c == '\r' ? ' ' : c;
}

}  // namespace

std::string Encode(const Entry& e) {
  // "v1", then nine fields each after a tab; seq and time have at most 20 digits each.
  constexpr size_t kFixed = 2 + 9 + 2 * 20;
  std::string out;
  out.reserve(kFixed + e.actor.size() + e.action.size() + e.outcome.size() + e.target.size() + e.survivor.size() +
              e.request.size() + e.detail.size());
  out = "v1";
  AppendField(out, std::to_string(e.seq));
  AppendField(out, std::to_string(e.time));
  AppendField(out, e.actor);
  AppendField(out, e.action);
  AppendField(out, e.outcome);
  AppendField(out, e.target);
  AppendField(out, e.survivor);
  AppendField(out, e.request);
  AppendField(out, e.detail);
  return out;
}

Result<Entry> Decode(std::string_view bytes) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  while (true) {
    size_t tab = bytes.find('\t', start);
    parts.push_back(bytes.substr(start, tab == std::string_view::npos ? std::string_view::npos : tab - start));
    if (tab == std::string_view::npos) break;
    start = tab + 1;
  }
  if (parts.size() != 10 || parts[0] != "v1") return Status::DataLoss("malformed audit entry");
  Entry e;
  auto num = [](std::string_view s, int64_t& out) {
    auto r = std::from_chars(s.data(), s.data() + s.size(), out);
    return r.ec == std::errc() && r.ptr == s.data() + s.size();
  };
  if (!num(parts[1], e.seq) || !num(parts[2], e.time)) return Status::DataLoss("malformed audit entry");
  e.actor = parts[3];
  e.action = parts[4];
  e.outcome = parts[5];
  e.target = parts[6];
  e.survivor = parts[7];
  e.request = parts[8];
  e.detail = parts[9];
  return e;
}

std::string LeafHash(std::string_view encoded) {
  std::string in(1, '\x00');
  in.append(encoded);
  return crypto::Sha256(in);
}

std::string ChainHash(std::string_view previous, std::string_view leaf) {
  std::string in(1, '\x01');
  in.append(previous);
  in.append(leaf);
  return crypto::Sha256(in);
}

std::string GenesisHash() { return std::string(32, '\0'); }

std::string CheckpointMessage(int64_t seq, std::string_view chain_hash) {
  std::string m = "trellis-audit-checkpoint-v1";
  AppendBigEndian64(&m, static_cast<uint64_t>(seq));
  m.append(chain_hash);
  return m;
}

VerifyReport Verify(const std::function<bool(StoredEntry*)>& next_row, const std::vector<Checkpoint>& checkpoints,
                    std::string_view public_key) {
  VerifyReport rep;
  auto fail = [&](int64_t seq, std::string why) {
    rep.ok = false;
    rep.first_bad_seq = seq;
    rep.reason = std::move(why);
    return rep;
  };
  // Every checkpoint's signature must hold before it can vouch for anything.
  for (const Checkpoint& cp : checkpoints) {
    if (!crypto::VerifySignature(public_key, CheckpointMessage(cp.seq, cp.chain_hash), cp.signature)) {
      return fail(cp.seq, "checkpoint signature does not verify");
    }
  }
  size_t next_cp = 0;
  std::string hash = GenesisHash();
  int64_t expected = 1;
  StoredEntry row;
  while (next_row(&row)) {
    if (row.seq != expected) {
      return fail(expected, row.seq > expected ? "entry missing (sequence gap)" : "entries out of order");
    }
    auto decoded = Decode(row.encoded);
    if (!decoded.ok() || decoded->seq != row.seq) return fail(row.seq, "entry is malformed or renumbered");
    hash = ChainHash(hash, LeafHash(row.encoded));
    if (hash != row.chain_hash) return fail(row.seq, "entry does not match its chain hash (edited)");
    while (next_cp < checkpoints.size() && checkpoints[next_cp].seq <= row.seq) {
      if (checkpoints[next_cp].seq == row.seq && checkpoints[next_cp].chain_hash != hash) {
        return fail(row.seq, "entry does not match the signed checkpoint");
      }
      ++next_cp;
    }
    ++rep.entries;
    ++expected;
  }
  if (next_cp < checkpoints.size()) {
    return fail(expected, "log is truncated: a signed checkpoint names entry " +
                              std::to_string(checkpoints.back().seq));
  }
  rep.checkpoints = static_cast<int64_t>(checkpoints.size());
  return rep;
}

Log::Log(Sink& sink, const crypto::SigningKey& signer, Clock& clock) : sink_(sink), signer_(signer), clock_(clock) {
  worker_ = std::thread([this] { Run(); });
}

Log::~Log() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  worker_.join();
}

void Log::AppendThen(Entry e, Done durable, std::any attachment) {
  bool wake;
  {
    std::lock_guard lock(mu_);
    wake = queue_.empty();  // otherwise the writer is awake already or will find the queue non-empty
    queue_.push_back(Pending{std::move(e), std::move(durable), std::move(attachment)});
  }
  if (wake) cv_.notify_one();
}

std::future<Status> Log::AppendAsync(Entry e, std::any attachment) {
  auto promise = std::make_shared<std::promise<Status>>();
  std::future<Status> f = promise->get_future();
  AppendThen(std::move(e), [promise](const Status& st) { promise->set_value(st); }, std::move(attachment));
  return f;
}

Status Log::Append(Entry e, std::any attachment) { return AppendAsync(std::move(e), std::move(attachment)).get(); }

int64_t Log::last_seq() const {
  std::lock_guard lock(mu_);
  return last_seq_;
}

void Log::Run() {
  constexpr size_t kMaxBatch = 4096;
  std::unique_lock lock(mu_);
  while (true) {
    cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
    if (queue_.empty() && stopping_) return;
    std::vector<Pending> batch;
    while (!queue_.empty() && batch.size() < kMaxBatch) {
      batch.push_back(std::move(queue_.front()));
      queue_.pop_front();
    }
    lock.unlock();

    int64_t written = 0;
    Status st = sink_.AppendBatch([&](int64_t last_seq, const std::string& last_hash) {
      Batch b;
      b.rows.reserve(batch.size());
      int64_t seq = last_seq;
      std::string hash = last_hash.empty() ? GenesisHash() : last_hash;
      const int64_t now = clock_.NowMicros();
      for (Pending& p : batch) {
        p.entry.seq = ++seq;
        p.entry.time = now;
        std::string enc = Encode(p.entry);
        hash = ChainHash(hash, LeafHash(enc));
        b.rows.push_back({seq, std::move(enc), hash});
        // Copied, not moved: the sink may build the batch again (a retried transaction).
        if (p.attachment.has_value()) b.attachments.push_back(p.attachment);
      }
      b.checkpoint = {seq, hash, signer_.Sign(CheckpointMessage(seq, hash)), now};
      written = seq;
      return b;
    });

    // Whatever the sink reports — a store may report its failure as a constraint error (SQLite
    // does for an aborting trigger), a lost connection, a full disk — an entry that could not be
    // recorded is a fault of the server, never the caller's conflict or bad input: its request
    // fails as an internal error (500, generic message). The sink's status stays in the message
    // for the operator's log.
    if (!st.ok()) st = Status::Internal("audit: the entry could not be recorded (" + st.ToString() + ")");
    lock.lock();
    if (st.ok()) {
      last_seq_ = written;
      ++batches_;
    }
    lock.unlock();
    // Outside the lock: a callback may queue the next entry of its request.
    for (Pending& p : batch) p.done(st);
    lock.lock();
  }
}

}  // namespace trellis::audit

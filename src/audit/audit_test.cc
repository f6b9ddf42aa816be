#include "audit/audit.h"

#include <gtest/gtest.h>

#include <chrono>
#include <atomic>
#include <mutex>
#include <thread>

#include "crypto/secret.h"

namespace trellis::audit {
namespace {

class MemorySink : public Sink {
 public:
  Status AppendBatch(const BatchBuilder& build) override {
    // A durable commit takes time (an fsync); appends that arrive meanwhile must join the next batch.
    if (commit_delay.count() > 0) std::this_thread::sleep_for(commit_delay);
    std::lock_guard lock(mu);
    Batch b = rows.empty() ? build(0, "") : build(rows.back().seq, rows.back().chain_hash);
    for (const auto& r : b.rows) this->rows.push_back(r);
    checkpoints.push_back(b.checkpoint);
    return Status::Ok();
  }
  VerifyReport VerifyAll(std::string_view pk) {
    size_t i = 0;
    return Verify([&](StoredEntry* out) {
      if (i >= rows.size()) return false;
      *out = rows[i++];
      return true;
    }, checkpoints, pk);
  }
  std::chrono::microseconds commit_delay{0};
  std::mutex mu;
  std::vector<StoredEntry> rows;
  std::vector<Checkpoint> checkpoints;
};

struct AuditLogTest : ::testing::Test {
  crypto::Key32 seed = crypto::Key32::Random();
  crypto::SigningKey signer{seed};
  FakeClock clock;
  MemorySink sink;

  void Fill(int n) {
    Log log(sink, signer, clock);
    for (int i = 0; i < n; ++i) {
      ASSERT_TRUE(log.Append({.actor = "u_1", .action = "case.read", .outcome = "allow",
                              .target = "c_" + std::to_string(i), .survivor = "s_1", .request = "r"})
                      .ok());
    }
  }
};

TEST_F(AuditLogTest, EncodeDecodeRoundTrip) {
  Entry e{.seq = 3, .time = 9, .actor = "u\t1", .action = "case.read", .outcome = "allow", .detail = "a,b"};
  auto d = Decode(Encode(e));
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->actor, "u 1");  // separators cannot be smuggled in
  EXPECT_EQ(d->seq, 3);
  EXPECT_EQ(d->detail, "a,b");
  EXPECT_FALSE(Decode("v2\t1").ok());
}

TEST_F(AuditLogTest, ConcurrentAppendsFormOneVerifiableChainInFewBatches) {
  sink.commit_delay = std::chrono::microseconds(500);
  {
    Log log(sink, signer, clock);
    std::vector<std::thread> threads;
    for (int t = 0; t < 8; ++t) {
      threads.emplace_back([&log, t] {
        for (int i = 0; i < 200; ++i) {
          EXPECT_TRUE(log.Append({.actor = "u_" + std::to_string(t), .action = "case.read", .outcome = "allow"}).ok());
        }
      });
    }
    for (auto& th : threads) th.join();
    EXPECT_EQ(log.last_seq(), 1600);
    // 8 appenders, each waiting for its entry to be durable, against a 0.5 ms commit: without
    // group commit every entry would be its own batch (1600); with it, batches carry several.
    EXPECT_LE(log.batches(), 800u);
    EXPECT_GT(log.batches(), 0u);
  }
  VerifyReport r = sink.VerifyAll(signer.PublicKey());
  EXPECT_TRUE(r.ok) << r.reason;
  EXPECT_EQ(r.entries, 1600);
}

// AppendThen does not wait; its callback reports the commit, after the entry is in the sink, in
// queue order; a failed commit reaches every callback of its batch.
TEST_F(AuditLogTest, AppendThenReportsEachEntryOnceDurable) {
  class FailingSink : public Sink {
   public:
    Status AppendBatch(const BatchBuilder&) override { return Status::Internal("disk full"); }
  };
  std::mutex mu;
  std::vector<int64_t> seen;  // sink size when each callback ran, in callback order
  {
    Log log(sink, signer, clock);
    for (int i = 0; i < 100; ++i) {
      log.AppendThen({.actor = "u_1", .action = "case.read", .outcome = "allow", .target = std::to_string(i)},
                     [&, i](const Status& st) {
                       EXPECT_TRUE(st.ok());
                       std::lock_guard lock(mu);
                       std::lock_guard sink_lock(sink.mu);
                       EXPECT_GT(static_cast<int64_t>(sink.rows.size()), i);  // durable before the callback
                       seen.push_back(i);
                     });
    }
  }  // the destructor drains the queue
  ASSERT_EQ(seen.size(), 100u);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(seen[i], i);
  EXPECT_TRUE(sink.VerifyAll(signer.PublicKey()).ok);

  FailingSink failing;
  std::atomic<int> failed = 0;
  {
    Log log(failing, signer, clock);
    for (int i = 0; i < 10; ++i) {
      log.AppendThen({.actor = "u_1", .action = "case.read", .outcome = "allow"}, [&](const Status& st) {
        if (!st.ok()) ++failed;
      });
    }
  }
  EXPECT_EQ(failed.load(), 10);
}

// Whatever code the sink's failure carries (a store reports an aborted insert as a constraint
// error), an entry that could not be recorded is an internal fault for its appender, never a
// conflict or bad input of the request that made it.
TEST_F(AuditLogTest, AFailedAppendIsInternalWhateverTheSinkSays) {
  class FailingSink : public Sink {
   public:
    explicit FailingSink(Status st) : st_(std::move(st)) {}
    Status AppendBatch(const BatchBuilder&) override { return st_; }

   private:
    Status st_;
  };
  for (const Status& sink_status :
       {Status(Code::kAlreadyExists, "audit: already exists"), Status::Invalid("bad", "field"),
        Status::Conflict("changed"), Status::NotFound(), Status(Code::kUnavailable, "gone"), Status::Internal("disk")}) {
    FailingSink failing(sink_status);
    Log log(failing, signer, clock);
    Status st = log.Append({.actor = "u_1", .action = "case.read", .outcome = "allow"});
    EXPECT_EQ(st.code(), Code::kInternal) << sink_status.ToString();
    EXPECT_TRUE(st.field().empty()) << sink_status.ToString();
    EXPECT_EQ(log.AppendAsync({.actor = "u_1", .action = "case.read", .outcome = "allow"}).get().code(),
              Code::kInternal);
  }
}

// Two logs (two processes) appending to one store keep one chain: the head is read in the sink.
TEST_F(AuditLogTest, TwoLogsOneChain) {
  {
    Log a(sink, signer, clock), b(sink, signer, clock);
    for (int i = 0; i < 50; ++i) {
      ASSERT_TRUE(a.Append({.actor = "a", .action = "x", .outcome = "ok"}).ok());
      ASSERT_TRUE(b.Append({.actor = "b", .action = "x", .outcome = "ok"}).ok());
    }
  }
  VerifyReport r = sink.VerifyAll(signer.PublicKey());
  EXPECT_TRUE(r.ok) << r.reason;
  EXPECT_EQ(r.entries, 100);
}

TEST_F(AuditLogTest, VerifyNamesTheFirstBadEntry) {
  Fill(20);
  ASSERT_TRUE(sink.VerifyAll(signer.PublicKey()).ok);
  const auto good = sink.rows;

  // Edit entry 7's content.
  sink.rows = good;
  sink.rows[6].encoded.replace(sink.rows[6].encoded.find("c_6"), 3, "c_X");
  auto r = sink.VerifyAll(signer.PublicKey());
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.first_bad_seq, 7);

  // Delete entry 5.
  sink.rows = good;
  sink.rows.erase(sink.rows.begin() + 4);
  r = sink.VerifyAll(signer.PublicKey());
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.first_bad_seq, 5);

  // Reorder entries 10 and 11.
  sink.rows = good;
  std::swap(sink.rows[9], sink.rows[10]);
  r = sink.VerifyAll(signer.PublicKey());
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.first_bad_seq, 10);

  // Truncate after 15: the checkpoints name 20.
  sink.rows = good;
  sink.rows.resize(15);
  r = sink.VerifyAll(signer.PublicKey());
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.first_bad_seq, 16);

  // Edit an entry and recompute its chain hash (and all after): the signed checkpoint catches it.
  sink.rows = good;
  sink.rows[11].encoded += "x";
  std::string h = sink.rows[10].chain_hash;
  for (size_t i = 11; i < sink.rows.size(); ++i) {
    h = ChainHash(h, LeafHash(sink.rows[i].encoded));
    sink.rows[i].chain_hash = h;
  }
  r = sink.VerifyAll(signer.PublicKey());
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.first_bad_seq, 12);

  // A forged checkpoint signature.
  sink.rows = good;
  sink.checkpoints[3].signature[0] ^= 1;
  r = sink.VerifyAll(signer.PublicKey());
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.first_bad_seq, sink.checkpoints[3].seq);
}

}  // namespace
}  // namespace trellis::audit

#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <ctime>
#include <set>
#include <thread>
#include <vector>

#include "core/big_endian.h"
#include "core/clock.h"
#include "core/ids.h"
#include "core/rng.h"
#include "core/status.h"

namespace trellis {
namespace {

TEST(Ids, RandomIdsAreWellFormedAndDistinct) {
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    std::string id = NewRandomId(SystemRng(), "s");
    EXPECT_TRUE(IsWellFormedId(id, "s")) << id;
    EXPECT_TRUE(seen.insert(id).second);
  }
  EXPECT_FALSE(IsWellFormedId("s_abc", "s"));
  EXPECT_FALSE(IsWellFormedId("c_aaaaaaaaaaaaaaaaaaaaaaaaaa", "s"));
  EXPECT_FALSE(IsWellFormedId("s_aaaaaaaaaaaaaaaaaaaaaaaaa1", "s"));
}

TEST(Ids, BufferedSystemRngHandsOutEachByteOnce) {
  // Several threads, each with its own buffer: no id twice across them.
  std::vector<std::vector<std::string>> per(4);
  std::vector<std::thread> threads;
  for (auto& out : per) {
    threads.emplace_back([&out] {
      for (int i = 0; i < 2000; ++i) out.push_back(NewRandomId(SystemRng(), "r"));
    });
  }
  for (auto& t : threads) t.join();
  std::set<std::string> seen;
  for (const auto& out : per) {
    for (const auto& id : out) EXPECT_TRUE(seen.insert(id).second) << id;
  }
  // A forked child must not hand out the bytes its parent has buffered.
  uint8_t warm[8];
  SystemRng().Fill(warm, sizeof warm);  // the parent's buffer is now partly used
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    uint8_t mine[32];
    SystemRng().Fill(mine, sizeof mine);
    _exit(write(fds[1], mine, sizeof mine) == sizeof mine ? 0 : 1);
  }
  uint8_t child[32] = {}, parent[32] = {};
  ASSERT_EQ(read(fds[0], child, sizeof child), static_cast<ssize_t>(sizeof child));
  int status = 0;
  waitpid(pid, &status, 0);
  close(fds[0]);
  close(fds[1]);
  SystemRng().Fill(parent, sizeof parent);
  EXPECT_NE(std::string(reinterpret_cast<char*>(child), 32), std::string(reinterpret_cast<char*>(parent), 32));
}

// Every integer of the stored formats (envelopes, key ring, encrypted files, audit checkpoints,
// sealed columns) is written by core/big_endian.h: most significant byte first, at any address.
TEST(BigEndian, MostSignificantByteFirstAtAnyAddress) {
  std::string s = "x";  // what follows is one byte past the start: unaligned
  AppendBigEndian16(&s, 0xa1b2);
  AppendBigEndian32(&s, 0xa1b2c3d4);
  AppendBigEndian64(&s, 0x0102030405060708);
  EXPECT_EQ(s, std::string("x\xa1\xb2\xa1\xb2\xc3\xd4\x01\x02\x03\x04\x05\x06\x07\x08", 15));
  EXPECT_EQ(LoadBigEndian16(s.data() + 1), 0xa1b2);
  EXPECT_EQ(LoadBigEndian32(s.data() + 3), 0xa1b2c3d4u);
  EXPECT_EQ(LoadBigEndian64(s.data() + 7), 0x0102030405060708u);

  char b[1 + 8] = {};
  StoreBigEndian16(b + 1, 0xfffe);
  EXPECT_EQ(std::string(b + 1, 2), "\xff\xfe");
  StoreBigEndian32(b + 1, 0xfffefdfc);
  EXPECT_EQ(std::string(b + 1, 4), "\xff\xfe\xfd\xfc");
  StoreBigEndian64(b + 1, 0xfffefdfcfbfaf9f8);
  EXPECT_EQ(std::string(b + 1, 8), "\xff\xfe\xfd\xfc\xfb\xfa\xf9\xf8");
  EXPECT_EQ(LoadBigEndian64(b + 1), 0xfffefdfcfbfaf9f8u);  // bytes of 0x80 and more read unsigned
}

TEST(Ids, SeededRngIsDeterministic) {
  auto a = NewSeededRng(7), b = NewSeededRng(7);
  EXPECT_EQ(NewRandomId(*a, "c"), NewRandomId(*b, "c"));
}

TEST(Status, ResultCarriesValueOrError) {
  Result<int> ok = 3;
  EXPECT_TRUE(ok.ok());
  EXPECT_EQ(*ok, 3);
  Result<int> bad = Status::Invalid("nope", "field_x");
  EXPECT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), Code::kInvalidArgument);
  EXPECT_EQ(bad.status().field(), "field_x");
}

TEST(Clock, FormatsUtc) {
  EXPECT_EQ(FormatTimestamp(0), "1970-01-01T00:00:00Z");
  EXPECT_EQ(FormatDate(951782400LL * 1000000), "2000-02-29");
  FakeClock c(0);
  c.AdvanceSeconds(86400);
  EXPECT_EQ(FormatDate(c.NowMicros()), "1970-01-02");
  EXPECT_EQ(FormatTimestamp(-1), "1970-01-01T00:00:00Z");  // truncated toward zero
  EXPECT_EQ(FormatDate(-1'000'000), "1969-12-31");
  EXPECT_EQ(FormatTimestamp(253402300799LL * 1000000 + 999999), "9999-12-31T23:59:59Z");
  EXPECT_EQ(FormatTimestamp(253402300800LL * 1000000), "10000-01-01T00:00:00Z");
  EXPECT_EQ(FormatTimestamp(-62198755200LL * 1000000), "-001-01-01T00:00:00Z");  // as %04d
}

TEST(Clock, FormatsLikeGmtimeAndStrftime) {
  // The calendar arithmetic against the C library over 1900..2200, every ~37 hours and a
  // few seconds, so that every month, leap day and time of day is crossed.
  for (int64_t s = -2208988800LL; s < 7258118400LL; s += 133'337) {
    std::time_t t = static_cast<std::time_t>(s);
    std::tm tm{};
    ASSERT_NE(gmtime_r(&t, &tm), nullptr);
    char want[32];
    std::strftime(want, sizeof want, "%Y-%m-%dT%H:%M:%SZ", &tm);
    ASSERT_EQ(FormatTimestamp(s * 1'000'000 + (s >= 0 ? 123 : -123)), want) << s;
  }
}

}  // namespace
}  // namespace trellis

// trellis_testclock: the `trellis` command line on a clock that a test moves (S3: "move the test
// clock past expiry mid-session"). Test-only: CMake builds it beside trellis_tests, it is never
// installed or deployed, and nothing of it is linked into build/trellis — the production binary
// has no flag, environment variable or file that changes its time (cli::Main's clock parameter
// is reachable from a main() only).
//
// Usage: trellis_testclock --test-clock-file=PATH <trellis arguments...>
// The clock is the system clock plus the whole number of seconds written in PATH, read on every
// call, so a test moves a running server's time by rewriting the file. A missing or unreadable
// file means offset 0.
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "cli/cli.h"
#include "core/clock.h"

namespace {

class OffsetFileClock final : public trellis::Clock {
 public:
  explicit OffsetFileClock(std::string path) : path_(std::move(path)) {}
  int64_t NowMicros() const override {
    long long offset_seconds = 0;
    std::ifstream in(path_);
    if (!(in >> offset_seconds)) offset_seconds = 0;
    return trellis::SystemClock().NowMicros() + offset_seconds * 1'000'000;
  }

 private:
  std::string path_;
};

}  // namespace

int main(int argc, char** argv) {
  constexpr const char kFlag[] = "--test-clock-file=";
  std::string path;
  std::vector<char*> args;
  for (int i = 0; i < argc; ++i) {
    if (std::strncmp(argv[i], kFlag, sizeof kFlag - 1) == 0) {
      path = argv[i] + sizeof kFlag - 1;
    } else {
      args.push_back(argv[i]);
    }
  }
  static OffsetFileClock clock(path);
  args.push_back(nullptr);
  return trellis::cli::Main(static_cast<int>(args.size()) - 1, args.data(), path.empty() ? nullptr : &clock);
}

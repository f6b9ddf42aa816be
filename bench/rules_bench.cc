// Relief screening throughput: parsing synthetic requests from JSON into the facts
// representation, and screening them (all seven reliefs + deadlines + derived facts).
//
//   rules_bench [--n N] [--rules DIR] [--serialize]
//
// Single-threaded, so the figures are per core. Requests are generated (deterministic seed)
// in chunks so that a million of them do not need to sit in memory at once; generation time
// is not counted.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "app/screening.h"
#include "rules/request.h"
#include "rules/screen.h"
#include "rules/synthetic.h"

using Clock = std::chrono::steady_clock;

int main(int argc, char** argv) {
  long n = 1'000'000;
  std::string rules_flag;
  bool serialize = false;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--n") && i + 1 < argc) n = std::atol(argv[++i]);
    else if (!std::strcmp(argv[i], "--rules") && i + 1 < argc) rules_flag = argv[++i];
    else if (!std::strcmp(argv[i], "--serialize")) serialize = true;
    else {
      std::fprintf(stderr, "usage: rules_bench [--n N] [--rules DIR] [--serialize]\n");
      return 2;
    }
  }
  std::error_code ec;
  std::string exe = std::filesystem::read_symlink("/proc/self/exe", ec).string();
  std::string dir = trellis::app::ResolveRulesDir(rules_flag, exe);
  auto svc = trellis::app::ScreeningService::Open(dir);
  if (!svc.ok()) {
    std::fprintf(stderr, "rules: %s\n", svc.status().message().c_str());
    return 1;
  }
  auto rules = trellis::rules::LoadRuleSet(dir);
  trellis::rules::SyntheticFacts gen(**rules, 20260302);

  constexpr long kChunk = 10'000;
  std::vector<std::string> texts(kChunk);
  std::vector<trellis::rules::Request> reqs(kChunk);
  trellis::rules::ScreeningResult res;
  double parse_s = 0, screen_s = 0, ser_s = 0;
  long done = 0, bytes = 0, invalid = 0, eligible = 0;
  size_t ser_bytes = 0;
  while (done < n) {
    long m = std::min(kChunk, n - done);
    for (long i = 0; i < m; ++i) {
      texts[i] = gen.NextJson();
      bytes += static_cast<long>(texts[i].size());
    }
    auto t0 = Clock::now();
    for (long i = 0; i < m; ++i)
      if (!(*svc)->Decode(texts[i], &reqs[i]).ok()) ++invalid;
    auto t1 = Clock::now();
    for (long i = 0; i < m; ++i) {
      if (!(*svc)->Evaluate(reqs[i], std::nullopt, &res).ok()) {
        ++invalid;
        continue;
      }
      eligible += res.reliefs[0].outcome == trellis::rules::Outcome::kEligible;
    }
    auto t2 = Clock::now();
    if (serialize) {
      for (long i = 0; i < m; ++i)
        if ((*svc)->Evaluate(reqs[i], std::nullopt, &res).ok())
          ser_bytes += (*svc)->Serialize(res, "en").size();
    }
    auto t3 = Clock::now();
    parse_s += std::chrono::duration<double>(t1 - t0).count();
    screen_s += std::chrono::duration<double>(t2 - t1).count();
    ser_s += std::chrono::duration<double>(t3 - t2).count();
    done += m;
  }
  std::printf("fact sets: %ld (avg %ld bytes of JSON), rejected as invalid: %ld, T eligible: %ld\n",
              done, bytes / std::max(1L, done), invalid, eligible);
  std::printf("rules_version: %s\n", (*svc)->rules_version().c_str());
  std::printf("parse: %.0f fact sets/s per core (%.2f us each)\n", done / parse_s, 1e6 * parse_s / done);
  std::printf("screen: %.0f fact sets/s per core (%.2f us each; 7 reliefs + deadlines + derived)\n",
              done / screen_s, 1e6 * screen_s / done);
  std::printf("ratio screen/parse: %.3f\n", screen_s / parse_s);
  if (serialize)
    std::printf("screen+serialize JSON: %.0f fact sets/s per core (%zu bytes avg)\n", done / ser_s,
                ser_bytes / std::max(1L, done));
  return 0;
}

// The policy decision per field vs a plain field copy (Google Benchmark), and their ratio.
// A cross-agency decision (through a release) is compared with a same-agency one.
#include <benchmark/benchmark.h>

#include <chrono>
#include <cstdio>
#include <functional>
#include <map>
#include <string>

#include "domain/fields.h"
#include "policy/policy.h"

namespace {

using namespace trellis;

constexpr int64_t kNow = 1'800'000'000'000'000;

std::map<std::string, std::string> SampleFields() {
  std::map<std::string, std::string> m;
  for (const auto* f : domain::FieldsOf(domain::RecordKind::kSurvivor)) m[std::string(f->name)] = "value of the field";
  return m;
}

std::vector<policy::Grant> Grants() {
  return {{"g_1", policy::GrantKind::kRelease, "s_1", "a_le", "", policy::CategoryBit(domain::Category::kTraffickingHistory),
           kNow - 1, kNow + 1, 0},
          {"g_2", policy::GrantKind::kRelease, "s_1", "a_le", "", policy::CategoryBit(domain::Category::kIdentity), kNow - 1,
           kNow + 1, kNow - 2}};
}

// Copy every field (the baseline: what a read costs without policy).
void BM_PlainCopy(benchmark::State& state) {
  auto fields = SampleFields();
  for (auto _ : state) {
    std::map<std::string, std::string> out;
    for (const auto& [k, v] : fields) out.emplace(k, v);
    benchmark::DoNotOptimize(out);
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(fields.size()));
}

// Decide, then copy the allowed fields.
void DecideAndCopy(benchmark::State& state, bool cross_agency) {
  auto fields = SampleFields();
  auto grants = Grants();
  policy::Subject subject{"u_1", cross_agency ? "a_le" : "a_ngo", domain::Role::kLeInvestigator};
  policy::Resource resource{domain::RecordKind::kSurvivor, "a_ngo", {"u_1"}, "s_1"};
  auto specs = domain::FieldsOf(domain::RecordKind::kSurvivor);
  for (auto _ : state) {
    policy::Decision d = policy::Decide(subject, policy::Action::kRead, resource, {kNow, grants});
    std::map<std::string, std::string> out;
    size_t i = 0;
    for (const auto* f : specs) {
      if (d.fields[i++]) {
        auto it = fields.find(std::string(f->name));
        if (it != fields.end()) out.emplace(it->first, it->second);
      }
    }
    benchmark::DoNotOptimize(out);
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(fields.size()));
}
void BM_DecideSameAgency(benchmark::State& state) { DecideAndCopy(state, false); }
void BM_DecideThroughRelease(benchmark::State& state) { DecideAndCopy(state, true); }

BENCHMARK(BM_PlainCopy);
BENCHMARK(BM_DecideSameAgency);
BENCHMARK(BM_DecideThroughRelease);

// The ratio, measured with plain chrono so it prints even under --benchmark_filter.
double NanosPerRecord(const std::function<void()>& fn) {
  const int n = 20000;
  auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < n; ++i) fn();
  return std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - t0).count() / n;
}

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  auto fields = SampleFields();
  auto grants = Grants();
  policy::Resource resource{domain::RecordKind::kSurvivor, "a_ngo", {"u_1"}, "s_1"};
  const size_t nfields = domain::FieldsOf(domain::RecordKind::kSurvivor).size();
  double copy = NanosPerRecord([&] {
    std::map<std::string, std::string> out(fields);
    benchmark::DoNotOptimize(out);
  });
  double decide = NanosPerRecord([&] {
    auto d = policy::Decide({"u_1", "a_le", domain::Role::kLeInvestigator}, policy::Action::kRead, resource, {kNow, grants});
    benchmark::DoNotOptimize(d);
  });
  std::printf("policy per field: %.1f ns; plain copy per field: %.1f ns; ratio decision/copy: %.2f\n",
              decide / nfields, copy / nfields, decide / copy);
  return 0;
}

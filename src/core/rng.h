// Randomness behind an interface so tests can be deterministic (as leveldb's Env).
// SystemRng reads the kernel CSPRNG (getrandom); it is thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

namespace trellis {

class Rng {
 public:
  virtual ~Rng() = default;
  virtual void Fill(uint8_t* out, size_t n) = 0;
  uint64_t Next64();
};

// Counts the forks of this process (bumped in the child): a buffer of random bytes drawn under
// another generation must be dropped, so that parent and child never hand out the same bytes
// (SystemRng here; the data-key buffer and the nonce stream in crypto/).
uint64_t ForkGeneration();

// The process-wide cryptographically secure generator.
Rng& SystemRng();

// A deterministic generator (splitmix64) for tests and demo data only; never for keys.
std::unique_ptr<Rng> NewSeededRng(uint64_t seed);

}  // namespace trellis

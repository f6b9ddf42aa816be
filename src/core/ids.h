// Strong ID types. IDs are opaque random strings (a short type prefix and 26 base32
// characters = 128 random bits), never sequential and never derived from names.
#pragma once

#include <compare>
#include <functional>
#include <string>
#include <string_view>

namespace trellis {

class Rng;

template <typename Tag>
class StrongId {
 public:
  StrongId() = default;
  explicit StrongId(std::string v) : v_(std::move(v)) {}
  const std::string& str() const { return v_; }
  bool empty() const { return v_.empty(); }
  auto operator<=>(const StrongId&) const = default;

 private:
  std::string v_;
};

using SurvivorId = StrongId<struct SurvivorIdTag>;
using CaseId = StrongId<struct CaseIdTag>;
using AgencyId = StrongId<struct AgencyIdTag>;
using UserId = StrongId<struct UserIdTag>;
using RequestId = StrongId<struct RequestIdTag>;

// A new random identifier "<prefix>_<26 base32 chars>".
std::string NewRandomId(Rng& rng, std::string_view prefix);

// True when `s` has the shape NewRandomId produces for `prefix` (cheap input validation;
// a well-formed id may still not exist).
bool IsWellFormedId(std::string_view s, std::string_view prefix);

}  // namespace trellis

template <typename Tag>
struct std::hash<trellis::StrongId<Tag>> {
  size_t operator()(const trellis::StrongId<Tag>& id) const noexcept {
    return std::hash<std::string>{}(id.str());
  }
};

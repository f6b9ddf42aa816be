// Values of facts in the three-valued (Kleene) evaluator.
//
// Every fact, derived fact, deadline and family-member field has a slot; a screening is an
// array of Values indexed by slot. A Value is either unknown or a known value of its slot's
// Type. Values are 16-byte PODs: evaluating an expression never allocates.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace trellis::rules {

enum class Type : uint8_t { kBool, kInt, kDate, kEnum, kEnumList, kObjectList };
const char* TypeName(Type t);

enum class Tri : uint8_t { kFalse = 0, kTrue = 1, kUnknown = 2 };

struct Value {
  bool known = false;
  int64_t v = 0;  // bool 0/1, int, Date (days since epoch), enum index, enum-list bitmask

  static Value Unknown() { return {}; }
  static Value Of(int64_t x) { return {true, x}; }
  static Value Bool(bool b) { return {true, b ? 1 : 0}; }
  Tri AsTri() const { return !known ? Tri::kUnknown : (v ? Tri::kTrue : Tri::kFalse); }
};

// Enum lists are bitmasks, so an enum may have at most 64 allowed values.
inline constexpr int kMaxEnumValues = 64;
// Slots are tracked in fixed-size bitsets ("which facts decided this element").
inline constexpr int kMaxSlots = 512;

struct SlotSet {
  std::array<uint64_t, kMaxSlots / 64> w{};
  void Set(int i) { w[i >> 6] |= uint64_t{1} << (i & 63); }
  bool Test(int i) const { return (w[i >> 6] >> (i & 63)) & 1; }
  void Add(const SlotSet& o) {
    for (size_t i = 0; i < w.size(); ++i) w[i] |= o.w[i];
  }
  void Clear() { w = {}; }
};

}  // namespace trellis::rules

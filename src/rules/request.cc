#include "rules/request.h"

#include <nlohmann/json.hpp>

namespace trellis::rules {
namespace {

using nlohmann::json;

Status Bad(const std::string& field, const std::string& msg) {
  return Status::Invalid(field + ": " + msg, field);
}

Status DecodeValue(const SlotDef& def, const json& v, const std::string& field, Value* out) {
  if (v.is_null()) {
    *out = Value::Unknown();
    return Status::Ok();
  }
  switch (def.type) {
    case Type::kBool:
      if (!v.is_boolean()) return Bad(field, "expected true or false");
      *out = Value::Bool(v.get<bool>());
      return Status::Ok();
    case Type::kInt:
      if (!v.is_number_integer()) return Bad(field, "expected a whole number");
      if (v.is_number_unsigned() ? v.get<uint64_t>() > 1'000'000'000u
                                 : (v.get<int64_t>() < -1'000'000'000 || v.get<int64_t>() > 1'000'000'000))
        return Bad(field, "number out of range");
      *out = Value::Of(v.get<int64_t>());
      return Status::Ok();
    case Type::kDate: {
      if (!v.is_string()) return Bad(field, "expected a date YYYY-MM-DD");
      auto d = ParseDate(v.get_ref<const std::string&>());
      if (!d) return Bad(field, "not a valid calendar date (YYYY-MM-DD): '" +
                                    v.get_ref<const std::string&>().substr(0, 40) + "'");
      *out = Value::Of(*d);
      return Status::Ok();
    }
    case Type::kEnum: {
      if (!v.is_string()) return Bad(field, "expected one of the allowed values");
      int i = def.EnumIndex(v.get_ref<const std::string&>());
      if (i < 0)
        return Bad(field, "'" + v.get_ref<const std::string&>().substr(0, 60) +
                              "' is not an allowed value");
      *out = Value::Of(i);
      return Status::Ok();
    }
    case Type::kEnumList: {
      if (!v.is_array()) return Bad(field, "expected a list of allowed values");
      uint64_t mask = 0;
      for (const auto& e : v) {
        int i = e.is_string() ? def.EnumIndex(e.get_ref<const std::string&>()) : -1;
        if (i < 0) return Bad(field, "list holds a value that is not allowed");
        mask |= uint64_t{1} << i;
      }
      *out = Value::Of(static_cast<int64_t>(mask));
      return Status::Ok();
    }
    case Type::kObjectList:
      return Bad(field, "unsupported list");
  }
  return Bad(field, "unsupported type");
}

Status DecodeFamily(const RuleSet& rules, const json& v, Request* out) {
  const std::string field = "facts.family_members";
  if (!v.is_array()) return Bad(field, "expected a list of family members");
  if (v.size() > 64) return Bad(field, "too many family members");
  out->facts[rules.vocab.family_slot()] = Value::Of(static_cast<int64_t>(v.size()));
  out->family.resize(v.size());
  size_t i = 0;
  for (const auto& m : v) {
    std::string mfield = field + "[" + std::to_string(i) + "]";
    if (!m.is_object()) return Bad(mfield, "expected an object");
    auto& vals = out->family[i];
    vals.assign(rules.member_slots.size(), Value::Unknown());
    for (auto it = m.begin(); it != m.end(); ++it) {
      int slot = rules.vocab.Find("member." + it.key());
      size_t k = 0;
      while (k < rules.member_slots.size() && rules.member_slots[k] != slot) ++k;
      if (slot < 0 || k == rules.member_slots.size())
        return Bad(mfield + "." + it.key().substr(0, 60), "unknown family-member field");
      TRELLIS_RETURN_IF_ERROR(
          DecodeValue(rules.vocab.slot(slot), it.value(), mfield + "." + it.key(), &vals[k]));
    }
    ++i;
  }
  return Status::Ok();
}

}  // namespace

Status DecodeRequest(const RuleSet& rules, std::string_view text, Request* out) {
  out->as_of.reset();
  out->facts.assign(rules.vocab.size(), Value::Unknown());
  out->family.clear();
  out->extensions.clear();
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return Status::Invalid("malformed JSON", "json");
  if (!j.is_object()) return Status::Invalid("the request must be a JSON object", "json");
  if (auto it = j.find("as_of"); it != j.end() && !it->is_null()) {
    if (!it->is_string()) return Bad("as_of", "expected a date YYYY-MM-DD");
    auto d = ParseDate(it->get_ref<const std::string&>());
    if (!d) return Bad("as_of", "not a valid calendar date");
    out->as_of = *d;
  }
  auto facts = j.find("facts");
  if (facts == j.end() || facts->is_null()) return Bad("facts", "missing \"facts\" object");
  if (!facts->is_object()) return Bad("facts", "expected an object");
  for (auto it = facts->begin(); it != facts->end(); ++it) {
    const std::string& name = it.key();
    int slot = rules.vocab.Find(name);
    std::string field = "facts." + name.substr(0, 80);
    if (slot < 0) return Bad(field, "unknown fact");
    const SlotDef& def = rules.vocab.slot(slot);
    if (def.kind != SlotKind::kInput)
      return Bad(field, def.kind == SlotKind::kDerived ? "derived fact: computed by the engine, not an input"
                                                       : "not an input fact");
    if (def.type == Type::kObjectList) {
      if (it.value().is_null()) continue;
      TRELLIS_RETURN_IF_ERROR(DecodeFamily(rules, it.value(), out));
      continue;
    }
    TRELLIS_RETURN_IF_ERROR(DecodeValue(def, it.value(), field, &out->facts[slot]));
  }
  if (auto it = j.find("extensions"); it != j.end() && !it->is_null()) {
    if (!it->is_array()) return Bad("extensions", "expected a list");
    size_t i = 0;
    for (const auto& e : *it) {
      std::string field = "extensions[" + std::to_string(i++) + "]";
      if (!e.is_object() || !e.contains("deadline") || !e["deadline"].is_string() ||
          !e.contains("until") || !e["until"].is_string() || !e.contains("reason") ||
          !e["reason"].is_string() || e["reason"].get_ref<const std::string&>().empty())
        return Bad(field, "expected {\"deadline\", \"until\", \"reason\"}");
      auto d = ParseDate(e["until"].get_ref<const std::string&>());
      if (!d) return Bad(field + ".until", "not a valid calendar date");
      out->extensions.push_back({e["deadline"].get<std::string>(), *d, e["reason"].get<std::string>()});
    }
  }
  return Status::Ok();
}

}  // namespace trellis::rules

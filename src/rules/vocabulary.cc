#include "rules/vocabulary.h"

#include <nlohmann/json.hpp>

namespace trellis::rules {

const char* TypeName(Type t) {
  switch (t) {
    case Type::kBool: return "bool";
    case Type::kInt: return "int";
    case Type::kDate: return "date";
    case Type::kEnum: return "enum";
    case Type::kEnumList: return "enum_list";
    case Type::kObjectList: return "object_list";
  }
  return "?";
}

int SlotDef::EnumIndex(std::string_view v) const {
  for (size_t i = 0; i < allowed.size(); ++i)
    if (allowed[i] == v) return static_cast<int>(i);
  return -1;
}

int Vocabulary::Find(std::string_view name) const {
  auto it = index_.find(std::string(name));
  return it == index_.end() ? -1 : it->second;
}

Result<int> Vocabulary::Add(SlotDef def) {
  if (index_.count(def.name)) return Status::Invalid("duplicate fact name '" + def.name + "'");
  if (static_cast<int>(slots_.size()) >= kMaxSlots) return Status::Invalid("too many facts");
  if (def.allowed.size() > static_cast<size_t>(kMaxEnumValues))
    return Status::Invalid("too many allowed values for '" + def.name + "'");
  int i = static_cast<int>(slots_.size());
  index_.emplace(def.name, i);
  slots_.push_back(std::move(def));
  return i;
}

Result<Vocabulary> Vocabulary::FromJson(std::string_view text, const std::string& file) {
  nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object() || !j.contains("facts") || !j["facts"].is_array())
    return Status::Invalid(file + ": not a facts vocabulary (expected an object with \"facts\")");
  Vocabulary v;
  SlotDef as_of{"as_of", Type::kDate, SlotKind::kAsOf, {}};
  v.as_of_ = v.Add(std::move(as_of)).value();
  if (j.contains("relief_types") && j["relief_types"].is_array())
    for (const auto& r : j["relief_types"])
      if (r.is_string()) v.relief_types_.push_back(r.get<std::string>());
  for (const auto& f : j["facts"]) {
    if (!f.is_object() || !f.contains("name") || !f["name"].is_string() || !f.contains("type") ||
        !f["type"].is_string())
      return Status::Invalid(file + ": a fact without a name or type");
    SlotDef d;
    d.name = f["name"].get<std::string>();
    std::string t = f["type"].get<std::string>();
    if (t == "bool") d.type = Type::kBool;
    else if (t == "int") d.type = Type::kInt;
    else if (t == "date") d.type = Type::kDate;
    else if (t == "enum") d.type = Type::kEnum;
    else if (t == "enum_list") d.type = Type::kEnumList;
    else if (t == "object_list") d.type = Type::kObjectList;
    else return Status::Invalid(file + ": fact '" + d.name + "' has unknown type '" + t + "'");
    if (f.contains("allowed_values") && f["allowed_values"].is_array())
      for (const auto& a : f["allowed_values"])
        if (a.is_string()) d.allowed.push_back(a.get<std::string>());
    if ((d.type == Type::kEnum || d.type == Type::kEnumList) && d.allowed.empty())
      return Status::Invalid(file + ": enum fact '" + d.name + "' has no allowed_values");
    d.kind = f.value("derived", false) ? SlotKind::kDerived : SlotKind::kInput;
    auto added = v.Add(std::move(d));
    if (!added.ok()) return Status::Invalid(file + ": " + added.status().message());
    if (v.slots_.back().type == Type::kObjectList && v.slots_.back().name == "family_members")
      v.family_ = added.value();
  }
  return v;
}

}  // namespace trellis::rules

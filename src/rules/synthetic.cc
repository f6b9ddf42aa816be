#include "rules/synthetic.h"

#include <algorithm>

#include "rules/calendar.h"

namespace trellis::rules {

uint64_t SyntheticFacts::Next() {  // splitmix64
  uint64_t z = (state_ += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

Value SyntheticFacts::RandomValue(int slot, Date birth, Date as_of) {
  const SlotDef& d = rules_.vocab.slot(slot);
  switch (d.type) {
    case Type::kBool: return Value::Bool(Next() & 1);
    case Type::kInt: return Value::Of(static_cast<int64_t>(Next() % 400));
    case Type::kDate: {
      if (d.name == "date_of_birth") return Value::Of(birth);
      int64_t span = std::max<int64_t>(1, as_of - birth + 400);  // some dates after as_of
      return Value::Of(birth + static_cast<int64_t>(Next() % span));
    }
    case Type::kEnum: return Value::Of(static_cast<int64_t>(Next() % d.allowed.size()));
    case Type::kEnumList: {
      uint64_t all = d.allowed.size() >= 64 ? ~0ull : (1ull << d.allowed.size()) - 1;
      return Value::Of(static_cast<int64_t>(Next() & Next() & all));
    }
    default: return Value::Unknown();
  }
}

std::string SyntheticFacts::NextJson(double p_known) {
  const Vocabulary& v = rules_.vocab;
  Date as_of = *ParseDate("2026-03-02") - static_cast<Date>(Next() % 1500);
  Date birth = as_of - static_cast<Date>(365 * 5 + Next() % (365 * 50));
  std::vector<Value> vals(v.size());
  const uint64_t threshold = static_cast<uint64_t>(p_known * 1000);
  for (int i = 0; i < v.size(); ++i) {
    const SlotDef& d = v.slot(i);
    if (d.kind != SlotKind::kInput || d.type == Type::kObjectList) continue;
    if (Next() % 1000 >= threshold && d.name != "date_of_birth") continue;
    vals[i] = RandomValue(i, birth, as_of);
  }
  // Keep ordered pairs consistent with the rule-file constraints.
  auto order = [&](const char* lo, const char* hi) {
    int a = v.Find(lo), b = v.Find(hi);
    if (a >= 0 && b >= 0 && vals[a].known && vals[b].known && vals[b].v < vals[a].v)
      std::swap(vals[a], vals[b]);
  };
  order("first_trafficking_act_date", "trafficking_end_date");
  order("cp_grant_date", "cp_expiration_date");
  order("longest_single_absence_days", "aggregate_absence_days");
  if (int m = v.Find("state_juvenile_jurisdiction_max_age"); m >= 0 && vals[m].known)
    vals[m].v = 18 + vals[m].v % 4;

  std::string out;
  out.reserve(2048);
  char date[10];
  FormatDateTo(as_of, date);
  out += "{\"as_of\":\"";
  out.append(date, 10);
  out += "\",\"facts\":{";
  bool first = true;
  for (int i = 0; i < v.size(); ++i) {
    if (!vals[i].known) continue;
    const SlotDef& d = v.slot(i);
    if (!first) out += ',';
    first = false;
    out += '"';
    out += d.name;
    out += "\":";
    switch (d.type) {
      case Type::kBool: out += vals[i].v ? "true" : "false"; break;
      case Type::kInt: out += std::to_string(vals[i].v); break;
      case Type::kDate:
        FormatDateTo(static_cast<Date>(vals[i].v), date);
        out += '"';
        out.append(date, 10);
        out += '"';
        break;
      case Type::kEnum:
        out += '"';
        out += d.allowed[vals[i].v];
        out += '"';
        break;
      case Type::kEnumList: {
        out += '[';
        bool f2 = true;
        for (size_t k = 0; k < d.allowed.size(); ++k)
          if ((static_cast<uint64_t>(vals[i].v) >> k) & 1) {
            if (!f2) out += ',';
            f2 = false;
            out += '"';
            out += d.allowed[k];
            out += '"';
          }
        out += ']';
        break;
      }
      default: out += "null";
    }
  }
  out += "}}";
  return out;
}

}  // namespace trellis::rules

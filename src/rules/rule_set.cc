#include "rules/rule_set.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <sstream>

namespace trellis::rules {
namespace {

const char* kOutcomeNames[kOutcomeCount] = {"eligible", "likely_eligible_missing_evidence",
                                            "not_eligible", "not_applicable", "ambiguous"};

int Line(const YAML::Node& n) { return n.Mark().line >= 0 ? n.Mark().line + 1 : 0; }

// yaml-cpp recurses once per nesting level; refuse absurd nesting before parsing.
// Flow nesting ([ {) and block nesting (indentation, "- - -" compact sequences) are bounded.
bool NestingOk(const std::string& text) {
  int depth = 0, max_depth = 0, indent = 0;
  bool line_start = true;
  for (char c : text) {
    if (c == '[' || c == '{') max_depth = std::max(max_depth, ++depth);
    else if ((c == ']' || c == '}') && depth > 0) --depth;
    if (c == '\n') {
      line_start = true;
      indent = 0;
    } else if (line_start && (c == ' ' || c == '-' || c == '?' || c == '\t')) {
      if (++indent > 200) return false;
    } else {
      line_start = false;
    }
  }
  return max_depth <= 32;
}

class Loader {
 public:
  explicit Loader(RuleSet& rs) : rs_(rs) {}

  Status Load(const std::vector<RuleSource>& files) {
    for (const auto& f : files) {
      if (!NestingOk(f.text)) return Status::Invalid(f.name + ":1: nesting too deep");
      try {
        docs_.push_back({f.name, YAML::Load(f.text)});
      } catch (const YAML::Exception& e) {
        return Status::Invalid(f.name + ":" + std::to_string(e.mark.line + 1) + ": " + e.msg);
      }
      if (!docs_.back().root.IsMap())
        return Status::Invalid(f.name + ":1: a rule file must be a mapping");
    }
    try {
      for (auto& d : docs_) TRELLIS_RETURN_IF_ERROR(DeclareSlots(d));
      for (auto& d : docs_) TRELLIS_RETURN_IF_ERROR(LoadComputations(d));
      TRELLIS_RETURN_IF_ERROR(SortComputations());
      rs_.relief_names = rs_.vocab.relief_types();
      rs_.relief_versions.resize(rs_.relief_names.size());
      for (auto& d : docs_) TRELLIS_RETURN_IF_ERROR(LoadRelief(d));
      for (auto& d : docs_) TRELLIS_RETURN_IF_ERROR(LoadDeadlinesAndConstraints(d));
    } catch (const YAML::Exception& e) {
      return Status::Invalid(cur_file_ + ":" + std::to_string(e.mark.line + 1) + ": " + e.msg);
    }
    for (size_t i = 0; i < rs_.relief_names.size(); ++i)
      if (rs_.relief_versions[i].empty())
        return Status::Invalid("no rule file for relief '" + rs_.relief_names[i] + "'");
    for (int i = 0; i < kOutcomeCount; ++i)
      if (rs_.outcome_text[i].en.empty())
        return Status::Invalid(std::string("no explanation for outcome '") + kOutcomeNames[i] + "'");
    return Status::Ok();
  }

 private:
  struct Doc {
    std::string file;
    YAML::Node root;
  };
  struct PendingComputation {
    int slot;
    ExprId expr;
    std::vector<int> reads;
    std::string file;
    int line;
  };

  Status Err(const YAML::Node& n, const std::string& msg) const {
    return Status::Invalid(cur_file_ + ":" + std::to_string(Line(n)) + ": " + msg);
  }
  Status ErrAt(int line, const std::string& msg) const {
    return Status::Invalid(cur_file_ + ":" + std::to_string(line) + ": " + msg);
  }

  Result<std::string> Str(const YAML::Node& map, const char* key, bool required = true) const {
    YAML::Node n = map[key];
    if (!n) {
      if (required) return Err(map, std::string("missing '") + key + "'");
      return std::string();
    }
    if (!n.IsScalar()) return Err(n, std::string("'") + key + "' must be a string");
    return n.as<std::string>();
  }
  Result<Text> TextOf(const YAML::Node& map, const char* key, bool required = true) const {
    YAML::Node n = map[key];
    if (!n) {
      if (required) return Err(map, std::string("missing '") + key + "' (en and es)");
      return Text{};
    }
    if (!n.IsMap() || !n["en"] || !n["es"] || !n["en"].IsScalar() || !n["es"].IsScalar())
      return Err(n, std::string("'") + key + "' needs both 'en' and 'es' texts");
    Text t{n["en"].as<std::string>(), n["es"].as<std::string>()};
    if (t.en.empty() || t.es.empty()) return Err(n, std::string("'") + key + "' has an empty text");
    return t;
  }
  Result<Date> DateOf(const YAML::Node& map, const char* key, Date dflt) const {
    YAML::Node n = map[key];
    if (!n || n.IsNull()) return dflt;
    if (!n.IsScalar()) return Err(n, std::string("'") + key + "' must be a date");
    auto d = ParseDate(n.as<std::string>());
    if (!d) return Err(n, std::string("'") + key + "' is not a YYYY-MM-DD date");
    return *d;
  }
  Result<Compiled> Compile(const YAML::Node& map, const char* key, Type want) {
    YAML::Node n = map[key];
    if (!n) return Err(map, std::string("missing '") + key + "'");
    if (!n.IsScalar()) return Err(n, std::string("'") + key + "' must be an expression string");
    auto c = CompileExpr(n.as<std::string>(), rs_.vocab, rs_.prog);
    if (!c.ok()) return Err(n, c.status().message());
    if (c->type != want)
      return Err(n, std::string("type error: expression is ") + TypeName(c->type) + ", expected " +
                        TypeName(want));
    return c;
  }
  Result<ExprId> Cond(const YAML::Node& map, const char* key, bool required = true) {
    if (!map[key] && !required) return kNoExpr;
    TRELLIS_ASSIGN_OR_RETURN(Compiled c, Compile(map, key, Type::kBool));
    return c.root;
  }
  Status ExpectSeq(const YAML::Node& n) const {
    if (n && !n.IsSequence()) return Err(n, "expected a list");
    return Status::Ok();
  }
  Status ExpectMap(const YAML::Node& n) const {
    if (!n.IsMap()) return Err(n, "expected a mapping");
    return Status::Ok();
  }

  static Result<Type> ParseType(const std::string& t) {
    if (t == "bool") return Type::kBool;
    if (t == "int") return Type::kInt;
    if (t == "date") return Type::kDate;
    if (t == "enum") return Type::kEnum;
    return Status::Invalid("unknown type '" + t + "'");
  }

  Status DeclareSlots(Doc& d) {
    cur_file_ = d.file;
    const YAML::Node& r = d.root;
    if (r["version"]) {
      TRELLIS_ASSIGN_OR_RETURN(std::string v, Str(r, "version"));
      versions_.push_back(d.file + "=" + v);
    }
    if (r["outcomes"]) {
      TRELLIS_RETURN_IF_ERROR(ExpectMap(r["outcomes"]));
      for (int i = 0; i < kOutcomeCount; ++i) {
        TRELLIS_ASSIGN_OR_RETURN(rs_.outcome_text[i], TextOf(r["outcomes"], kOutcomeNames[i]));
      }
    }
    TRELLIS_RETURN_IF_ERROR(ExpectSeq(r["member_fields"]));
    for (const auto& m : r["member_fields"]) {
      TRELLIS_RETURN_IF_ERROR(ExpectMap(m));
      SlotDef def;
      TRELLIS_ASSIGN_OR_RETURN(def.name, Str(m, "name"));
      TRELLIS_ASSIGN_OR_RETURN(std::string t, Str(m, "type"));
      auto type = ParseType(t);
      if (!type.ok()) return Err(m, type.status().message());
      def.type = *type;
      def.kind = SlotKind::kMember;
      if (m["allowed_values"]) {
        TRELLIS_RETURN_IF_ERROR(ExpectSeq(m["allowed_values"]));
        for (const auto& a : m["allowed_values"]) def.allowed.push_back(a.as<std::string>());
      }
      if (def.type == Type::kEnum && def.allowed.empty()) return Err(m, "enum without allowed_values");
      std::string name = def.name;
      auto added = rs_.vocab.Add(std::move(def));
      if (!added.ok()) return Err(m, added.status().message());
      rs_.member_slots.push_back(*added);
      if (name == "member.relationship") rs_.member_relationship = *added;
      else if (name == "member.age_at_principal_filing") rs_.member_age = *added;
      else if (name == "member.marital_status") rs_.member_marital = *added;
      else if (name == "member.present_danger_of_retaliation") rs_.member_danger = *added;
      else if (name == "member.is_perpetrator") rs_.member_perpetrator = *added;
      else if (name == "member.date_of_birth") rs_.member_dob = *added;
    }
    TRELLIS_RETURN_IF_ERROR(ExpectSeq(r["derived"]));
    for (const auto& m : r["derived"]) {
      TRELLIS_RETURN_IF_ERROR(ExpectMap(m));
      TRELLIS_ASSIGN_OR_RETURN(std::string name, Str(m, "name"));
      int slot = rs_.vocab.Find(name);
      if (slot >= 0) {
        if (rs_.vocab.slot(slot).kind != SlotKind::kDerived)
          return Err(m, "'" + name + "' is not a derived fact in the vocabulary");
        continue;
      }
      if (!m["type"]) return Err(m, "unknown fact '" + name + "' (a helper needs a 'type')");
      TRELLIS_ASSIGN_OR_RETURN(std::string t, Str(m, "type"));
      auto type = ParseType(t);
      if (!type.ok() || *type == Type::kEnum) return Err(m, "helper type must be bool, int or date");
      auto added = rs_.vocab.Add(SlotDef{name, *type, SlotKind::kHelper, {}});
      if (!added.ok()) return Err(m, added.status().message());
    }
    TRELLIS_RETURN_IF_ERROR(ExpectSeq(r["deadlines"]));
    for (const auto& m : r["deadlines"]) {
      TRELLIS_RETURN_IF_ERROR(ExpectMap(m));
      TRELLIS_ASSIGN_OR_RETURN(std::string name, Str(m, "name"));
      auto added = rs_.vocab.Add(SlotDef{name, Type::kDate, SlotKind::kDeadline, {}});
      if (!added.ok()) return Err(m, added.status().message());
    }
    return Status::Ok();
  }

  Status LoadComputations(Doc& d) {
    cur_file_ = d.file;
    for (const char* section : {"derived", "deadlines"}) {
      for (const auto& m : d.root[section]) {
        std::string name = m["name"].as<std::string>();
        int slot = rs_.vocab.Find(name);
        if (defined_[slot]) return Err(m, "'" + name + "' is defined twice");
        defined_[slot] = true;
        const char* key = std::string(section) == "derived" ? "expr" : "date";
        TRELLIS_ASSIGN_OR_RETURN(Compiled c, Compile(m, key, rs_.vocab.slot(slot).type));
        pending_.push_back({slot, c.root, c.slots, d.file, Line(m[key])});
      }
    }
    return Status::Ok();
  }

  Status SortComputations() {
    for (int i = 0; i < rs_.vocab.size(); ++i) {
      SlotKind k = rs_.vocab.slot(i).kind;
      if ((k == SlotKind::kDerived || k == SlotKind::kHelper) && !defined_[i])
        return Status::Invalid("derived fact '" + rs_.vocab.slot(i).name + "' has no definition");
    }
    std::map<int, size_t> by_slot;
    for (size_t i = 0; i < pending_.size(); ++i) by_slot[pending_[i].slot] = i;
    std::vector<int> state(pending_.size(), 0);  // 0 new, 1 on stack, 2 done
    std::vector<size_t> stack;
    rs_.slot_inputs.assign(rs_.vocab.size(), SlotSet{});
    std::function<Status(size_t)> visit = [&](size_t i) -> Status {
      if (state[i] == 2) return Status::Ok();
      if (state[i] == 1) {
        std::string path;
        auto from = std::find(stack.begin(), stack.end(), i);
        for (auto it = from; it != stack.end(); ++it)
          path += rs_.vocab.slot(pending_[*it].slot).name + " -> ";
        path += rs_.vocab.slot(pending_[i].slot).name;
        const auto& p = pending_[i];
        return Status::Invalid(p.file + ":" + std::to_string(p.line) + ": cycle: " + path);
      }
      state[i] = 1;
      stack.push_back(i);
      for (int s : pending_[i].reads) {
        auto it = by_slot.find(s);
        if (it != by_slot.end()) TRELLIS_RETURN_IF_ERROR(visit(it->second));
      }
      stack.pop_back();
      state[i] = 2;
      SlotSet& in = rs_.slot_inputs[pending_[i].slot];
      for (int s : pending_[i].reads) {
        in.Set(s);
        in.Add(rs_.slot_inputs[s]);
      }
      rs_.computations.push_back({pending_[i].slot, pending_[i].expr});
      return Status::Ok();
    };
    for (size_t i = 0; i < pending_.size(); ++i) TRELLIS_RETURN_IF_ERROR(visit(i));
    return Status::Ok();
  }

  Result<std::vector<Condition>> Conditions(const YAML::Node& list, bool with_outcome,
                                            const Relief& rel, bool with_suspends) {
    std::vector<Condition> out;
    TRELLIS_RETURN_IF_ERROR(ExpectSeq(list));
    for (const auto& m : list) {
      TRELLIS_RETURN_IF_ERROR(ExpectMap(m));
      Condition c;
      TRELLIS_ASSIGN_OR_RETURN(c.id, Str(m, "id"));
      TRELLIS_ASSIGN_OR_RETURN(c.when, Cond(m, "when"));
      TRELLIS_ASSIGN_OR_RETURN(c.reason, TextOf(m, "reason"));
      TRELLIS_ASSIGN_OR_RETURN(c.citation, Str(m, "citation", false));
      if (with_outcome) {
        TRELLIS_ASSIGN_OR_RETURN(std::string o, Str(m, "outcome"));
        auto it = std::find(std::begin(kOutcomeNames), std::end(kOutcomeNames), o);
        if (it == std::end(kOutcomeNames)) return Err(m["outcome"], "unknown outcome '" + o + "'");
        c.outcome = static_cast<Outcome>(it - std::begin(kOutcomeNames));
      }
      if (with_suspends && m["suspends"]) {
        TRELLIS_RETURN_IF_ERROR(ExpectSeq(m["suspends"]));
        for (const auto& e : m["suspends"]) {
          std::string id = e.as<std::string>();
          auto it = std::find_if(rel.elements.begin(), rel.elements.end(),
                                 [&](const Element& x) { return x.id == id; });
          if (it == rel.elements.end()) return Err(e, "unknown element '" + id + "'");
          c.suspends.push_back(id);
        }
      }
      out.push_back(std::move(c));
    }
    return out;
  }

  Status LoadRelief(Doc& d) {
    cur_file_ = d.file;
    const YAML::Node& r = d.root;
    if (!r["relief"]) return Status::Ok();
    Relief rel;
    rel.file = d.file;
    TRELLIS_ASSIGN_OR_RETURN(rel.name, Str(r, "relief"));
    auto pos = std::find(rs_.relief_names.begin(), rs_.relief_names.end(), rel.name);
    if (pos == rs_.relief_names.end()) return Err(r["relief"], "unknown relief '" + rel.name + "'");
    TRELLIS_ASSIGN_OR_RETURN(rel.version, Str(r, "version"));
    TRELLIS_ASSIGN_OR_RETURN(rel.effective_from, DateOf(r, "effective_from", kMinDate));
    TRELLIS_ASSIGN_OR_RETURN(rel.effective_to, DateOf(r, "effective_to", kMaxDate));
    TRELLIS_ASSIGN_OR_RETURN(rel.citation, Str(r, "citation"));
    TRELLIS_ASSIGN_OR_RETURN(rel.summary, TextOf(r, "summary"));
    TRELLIS_RETURN_IF_ERROR(ExpectSeq(r["elements"]));
    if (!r["elements"] || r["elements"].size() == 0) return Err(r, "a relief needs 'elements'");
    for (const auto& m : r["elements"]) {
      TRELLIS_RETURN_IF_ERROR(ExpectMap(m));
      Element e;
      e.line = Line(m);
      TRELLIS_ASSIGN_OR_RETURN(e.id, Str(m, "id"));
      TRELLIS_ASSIGN_OR_RETURN(e.title, TextOf(m, "title"));
      TRELLIS_ASSIGN_OR_RETURN(std::string kind, Str(m, "kind"));
      if (kind != "substantive" && kind != "precondition")
        return Err(m["kind"], "kind must be 'substantive' or 'precondition'");
      e.substantive = kind == "substantive";
      TRELLIS_ASSIGN_OR_RETURN(e.expr, Cond(m, "expr"));
      TRELLIS_ASSIGN_OR_RETURN(e.fatal_when, Cond(m, "fatal_when", false));
      TRELLIS_ASSIGN_OR_RETURN(e.citation, Str(m, "citation"));
      TRELLIS_ASSIGN_OR_RETURN(e.explanation, TextOf(m, "explanation"));
      TRELLIS_ASSIGN_OR_RETURN(e.if_unmet, TextOf(m, "if_unmet", false));
      TRELLIS_ASSIGN_OR_RETURN(e.effective_from, DateOf(m, "effective_from", kMinDate));
      TRELLIS_ASSIGN_OR_RETURN(e.effective_to, DateOf(m, "effective_to", kMaxDate));
      if (m["evidence"]) {
        const YAML::Node& ev = m["evidence"];
        TRELLIS_RETURN_IF_ERROR(ExpectMap(ev));
        TRELLIS_ASSIGN_OR_RETURN(e.evidence_required, TextOf(ev, "required"));
        TRELLIS_RETURN_IF_ERROR(ExpectSeq(ev["alternatives"]));
        for (const auto& a : ev["alternatives"]) {
          YAML::Node alt = a;
          if (!alt.IsMap() || !alt["en"] || !alt["es"] || !alt["en"].IsScalar() ||
              !alt["es"].IsScalar())
            return Err(alt, "an alternative needs 'en' and 'es'");
          e.evidence_alternatives.push_back({alt["en"].as<std::string>(), alt["es"].as<std::string>()});
        }
      }
      TRELLIS_RETURN_IF_ERROR(ExpectSeq(m["exemptions"]));
      for (const auto& x : m["exemptions"]) {
        TRELLIS_RETURN_IF_ERROR(ExpectMap(x));
        Exemption ex;
        TRELLIS_ASSIGN_OR_RETURN(ex.id, Str(x, "id"));
        TRELLIS_ASSIGN_OR_RETURN(ex.when, Cond(x, "when"));
        TRELLIS_ASSIGN_OR_RETURN(ex.citation, Str(x, "citation"));
        TRELLIS_ASSIGN_OR_RETURN(ex.text, TextOf(x, "explanation"));
        e.exemptions.push_back(std::move(ex));
      }
      for (const auto& other : rel.elements)
        if (other.id == e.id && other.effective_from <= e.effective_to &&
            e.effective_from <= other.effective_to)
          return Err(m, "element '" + e.id + "' is defined twice for overlapping dates");
      rel.elements.push_back(std::move(e));
    }
    TRELLIS_ASSIGN_OR_RETURN(rel.not_applicable, Conditions(r["not_applicable"], false, rel, false));
    TRELLIS_ASSIGN_OR_RETURN(rel.decided, Conditions(r["decided"], true, rel, false));
    TRELLIS_ASSIGN_OR_RETURN(rel.ambiguous, Conditions(r["ambiguous"], false, rel, true));
    TRELLIS_RETURN_IF_ERROR(ExpectSeq(r["requirements"]));
    for (const auto& m : r["requirements"]) {
      TRELLIS_RETURN_IF_ERROR(ExpectMap(m));
      Requirement q;
      TRELLIS_ASSIGN_OR_RETURN(q.id, Str(m, "id"));
      TRELLIS_ASSIGN_OR_RETURN(q.element, Str(m, "element", false));
      TRELLIS_ASSIGN_OR_RETURN(q.when, Cond(m, "when"));
      TRELLIS_ASSIGN_OR_RETURN(q.satisfied, Cond(m, "satisfied"));
      TRELLIS_ASSIGN_OR_RETURN(q.missing, TextOf(m, "missing"));
      TRELLIS_ASSIGN_OR_RETURN(q.citation, Str(m, "citation"));
      rel.requirements.push_back(std::move(q));
    }
    TRELLIS_RETURN_IF_ERROR(ExpectSeq(r["alerts"]));
    for (const auto& m : r["alerts"]) {
      TRELLIS_RETURN_IF_ERROR(ExpectMap(m));
      Alert a;
      TRELLIS_ASSIGN_OR_RETURN(a.id, Str(m, "id"));
      TRELLIS_ASSIGN_OR_RETURN(a.when, Cond(m, "when"));
      TRELLIS_ASSIGN_OR_RETURN(a.text, TextOf(m, "text"));
      TRELLIS_ASSIGN_OR_RETURN(a.citation, Str(m, "citation"));
      rel.alerts.push_back(std::move(a));
    }
    if (r["derivatives"]) {
      const YAML::Node& dv = r["derivatives"];
      TRELLIS_RETURN_IF_ERROR(ExpectMap(dv));
      if (rs_.member_relationship < 0) return Err(dv, "derivatives need member_fields");
      TRELLIS_ASSIGN_OR_RETURN(rel.derivatives_when, Cond(dv, "when", false));
      TRELLIS_RETURN_IF_ERROR(ExpectSeq(dv["rules"]));
      for (const auto& m : dv["rules"]) {
        TRELLIS_RETURN_IF_ERROR(ExpectMap(m));
        DerivativeRule dr;
        TRELLIS_ASSIGN_OR_RETURN(dr.id, Str(m, "id"));
        TRELLIS_ASSIGN_OR_RETURN(std::string rel_name, Str(m, "relationship"));
        dr.relationship = rs_.vocab.slot(rs_.member_relationship).EnumIndex(rel_name);
        if (dr.relationship < 0) return Err(m["relationship"], "unknown relationship '" + rel_name + "'");
        TRELLIS_ASSIGN_OR_RETURN(dr.when, Cond(m, "when"));
        if (m["age_out"]) {
          TRELLIS_ASSIGN_OR_RETURN(Compiled c, Compile(m, "age_out", Type::kDate));
          dr.age_out = c.root;
        }
        TRELLIS_ASSIGN_OR_RETURN(dr.text, TextOf(m, "explanation"));
        TRELLIS_ASSIGN_OR_RETURN(dr.citation, Str(m, "citation"));
        rel.derivatives.push_back(std::move(dr));
      }
    }
    size_t idx = pos - rs_.relief_names.begin();
    for (const auto& other : rs_.relief_versions[idx])
      if (other.effective_from <= rel.effective_to && rel.effective_from <= other.effective_to)
        return Err(r, "relief '" + rel.name + "' has overlapping versions (" + other.file + ")");
    rs_.relief_versions[idx].push_back(std::move(rel));
    return Status::Ok();
  }

  Status LoadDeadlinesAndConstraints(Doc& d) {
    cur_file_ = d.file;
    for (const auto& m : d.root["deadlines"]) {
      DeadlineDef dl;
      dl.name = m["name"].as<std::string>();
      dl.slot = rs_.vocab.Find(dl.name);
      TRELLIS_ASSIGN_OR_RETURN(std::string kind, Str(m, "kind"));
      if (kind != "statutory" && kind != "practice")
        return Err(m["kind"], "kind must be 'statutory' or 'practice'");
      dl.kind = kind == "statutory" ? DeadlineKind::kStatutory : DeadlineKind::kPractice;
      TRELLIS_ASSIGN_OR_RETURN(dl.relief, Str(m, "relief", false));
      if (!dl.relief.empty()) {
        auto pos = std::find(rs_.relief_names.begin(), rs_.relief_names.end(), dl.relief);
        if (pos == rs_.relief_names.end()) return Err(m["relief"], "unknown relief '" + dl.relief + "'");
        dl.relief_index = static_cast<int>(pos - rs_.relief_names.begin());
      }
      TRELLIS_ASSIGN_OR_RETURN(dl.emit_when, Cond(m, "emit_when", false));
      TRELLIS_ASSIGN_OR_RETURN(dl.citation, Str(m, "citation"));
      TRELLIS_ASSIGN_OR_RETURN(dl.basis, TextOf(m, "basis"));
      rs_.deadlines.push_back(std::move(dl));
    }
    TRELLIS_RETURN_IF_ERROR(ExpectSeq(d.root["constraints"]));
    for (const auto& m : d.root["constraints"]) {
      TRELLIS_RETURN_IF_ERROR(ExpectMap(m));
      Constraint c;
      TRELLIS_ASSIGN_OR_RETURN(std::string fact, Str(m, "fact"));
      c.slot = rs_.vocab.Find(fact);
      if (c.slot < 0) return Err(m["fact"], "unknown fact '" + fact + "'");
      TRELLIS_ASSIGN_OR_RETURN(c.invalid_when, Cond(m, "invalid_when"));
      TRELLIS_ASSIGN_OR_RETURN(c.message, Str(m, "message"));
      rs_.constraints.push_back(std::move(c));
    }
    return Status::Ok();
  }

  RuleSet& rs_;
  std::vector<Doc> docs_;
  std::string cur_file_;
  std::vector<std::string> versions_;
  std::map<int, bool> defined_;
  std::vector<PendingComputation> pending_;

 public:
  std::string Versions() const {
    std::string s;
    for (const auto& v : versions_) s += (s.empty() ? "" : ";") + v;
    return s;
  }
};

uint64_t Fnv1a(uint64_t h, std::string_view s) {
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

}  // namespace

const char* OutcomeName(Outcome o) { return kOutcomeNames[static_cast<int>(o)]; }

const Relief* RuleSet::InForce(size_t relief, Date d) const {
  for (const auto& r : relief_versions[relief])
    if (r.effective_from <= d && d <= r.effective_to) return &r;
  return nullptr;
}

Result<std::shared_ptr<const RuleSet>> LoadRuleSetFromSources(const RuleSource& vocabulary_json,
                                                              const std::vector<RuleSource>& files) {
  auto rs = std::make_shared<RuleSet>();
  TRELLIS_ASSIGN_OR_RETURN(rs->vocab, Vocabulary::FromJson(vocabulary_json.text, vocabulary_json.name));
  std::vector<RuleSource> sorted = files;
  std::sort(sorted.begin(), sorted.end(),
            [](const RuleSource& a, const RuleSource& b) { return a.name < b.name; });
  Loader loader(*rs);
  TRELLIS_RETURN_IF_ERROR(loader.Load(sorted));
  uint64_t h = Fnv1a(1469598103934665603ull, vocabulary_json.text);
  for (const auto& f : sorted) h = Fnv1a(Fnv1a(h, f.name), f.text);
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(h));
  rs->version = loader.Versions() + "+" + hex;
  return std::shared_ptr<const RuleSet>(std::move(rs));
}

Result<std::shared_ptr<const RuleSet>> LoadRuleSet(const std::string& dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return Status::Invalid("rules directory not found: " + dir);
  auto read = [](const fs::path& p, std::string& out) {
    std::ifstream in(p, std::ios::binary);
    if (!in) return false;
    std::ostringstream ss;
    ss << in.rdbuf();
    out = ss.str();
    return true;
  };
  RuleSource vocab{"facts_vocabulary.json", {}};
  if (!read(fs::path(dir) / vocab.name, vocab.text))
    return Status::Invalid("cannot read " + (fs::path(dir) / vocab.name).string());
  std::vector<RuleSource> files;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    if (!entry.is_regular_file() || entry.path().extension() != ".yaml") continue;
    RuleSource s{entry.path().filename().string(), {}};
    if (!read(entry.path(), s.text)) return Status::Invalid("cannot read " + entry.path().string());
    files.push_back(std::move(s));
  }
  if (ec) return Status::Invalid("cannot list " + dir + ": " + ec.message());
  return LoadRuleSetFromSources(vocab, files);
}

}  // namespace trellis::rules

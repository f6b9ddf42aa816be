#include "app/screening.h"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "rules/calendar.h"
#include "rules/request.h"
#include "rules/rule_set.h"
#include "rules/screen.h"

#ifndef TRELLIS_DEFAULT_RULES_DIR
#define TRELLIS_DEFAULT_RULES_DIR "rules"
#endif

namespace trellis::app {
namespace {

using nlohmann::json;
using rules::Lang;
using rules::Outcome;
using rules::Tri;

const char* StatusName(Tri t) {
  return t == Tri::kTrue ? "met" : t == Tri::kFalse ? "unmet" : "unknown";
}

// Small connective phrases; every legal text comes from the rule files.
struct Phrases {
  const char* still_unknown;
  const char* missing;
  const char* not_met;
  const char* no_rules;
};
const Phrases kEn{"Still to find out: ", "Still needed: ", "Not met: ",
                  "No rules are in force for this date."};
const Phrases kEs{"Falta saber: ", "Todavía se necesita: ", "No se cumple: ",
                  "No hay reglas vigentes para esta fecha."};

json FactValue(const rules::SlotDef& def, rules::Value v) {
  switch (def.type) {
    case rules::Type::kBool: return json(v.v != 0);
    case rules::Type::kInt: return json(v.v);
    case rules::Type::kDate: return json(rules::FormatDate(static_cast<rules::Date>(v.v)));
    case rules::Type::kEnum:
      return v.v >= 0 && static_cast<size_t>(v.v) < def.allowed.size() ? json(def.allowed[v.v]) : json();
    default: return json();
  }
}

}  // namespace

ScreeningService::~ScreeningService() = default;

Result<std::unique_ptr<ScreeningService>> ScreeningService::Open(const std::string& rules_dir,
                                                                  const Clock& clock) {
  TRELLIS_ASSIGN_OR_RETURN(auto rs, rules::LoadRuleSet(rules_dir));
  std::unique_ptr<ScreeningService> s(new ScreeningService());
  s->screener_ = std::make_unique<rules::Screener>(std::move(rs));
  s->clock_ = &clock;
  return s;
}

const std::string& ScreeningService::rules_version() const { return screener_->rules().version; }

Status ScreeningService::Decode(std::string_view request_json, rules::Request* out) const {
  return rules::DecodeRequest(screener_->rules(), request_json, out);
}

Status ScreeningService::Evaluate(const rules::Request& req, std::optional<int32_t> as_of,
                                  rules::ScreeningResult* out) {
  return screener_->Screen(req, as_of, rules::DateFromMicros(clock_->NowMicros()), out);
}

Result<std::string> ScreeningService::Screen(std::string_view request_json,
                                             const ScreenOptions& opts) {
  if (opts.lang != "en" && opts.lang != "es")
    return Status::Invalid("--lang must be en or es", "lang");
  std::optional<int32_t> as_of;
  if (opts.as_of) {
    auto d = rules::ParseDate(*opts.as_of);
    if (!d) return Status::Invalid("as_of: not a valid calendar date", "as_of");
    as_of = *d;
  }
  rules::Request req;
  TRELLIS_RETURN_IF_ERROR(Decode(request_json, &req));
  rules::ScreeningResult res;
  TRELLIS_RETURN_IF_ERROR(Evaluate(req, as_of, &res));
  return Serialize(res, opts.lang);
}

std::string ScreeningService::Serialize(const rules::ScreeningResult& res,
                                        const std::string& lang_name) const {
  const rules::RuleSet& rs = screener_->rules();
  const Lang lang = lang_name == "es" ? Lang::kEs : Lang::kEn;
  const Phrases& ph = lang == Lang::kEs ? kEs : kEn;
  auto names = [&](const rules::SlotSet& set) {
    json a = json::array();
    for (int k = 0; k < rs.vocab.size(); ++k) {
      if (!set.Test(k)) continue;
      auto kind = rs.vocab.slot(k).kind;
      if (kind == rules::SlotKind::kInput || kind == rules::SlotKind::kDerived ||
          kind == rules::SlotKind::kDeadline)
        a.push_back(rs.vocab.slot(k).name);
    }
    return a;
  };

  json out;
  out["as_of"] = rules::FormatDate(res.as_of);
  out["rules_version"] = rs.version;
  out["lang"] = lang_name;
  json results = json::object();
  for (const auto& rr : res.reliefs) {
    const std::string& name = rs.relief_names[rr.index];
    json r;
    r["outcome"] = rules::OutcomeName(rr.outcome);
    if (!rr.relief) {
      r["elements"] = json::array();
      r["missing_facts"] = json::array();
      r["evidence"] = json::array();
      r["explanation"] = ph.no_rules;
      results[name] = std::move(r);
      continue;
    }
    const rules::Relief& rel = *rr.relief;
    r["rules"] = {{"file", rel.file}, {"version", rel.version}, {"citation", rel.citation}};
    json elements = json::array();
    json evidence = json::array();
    std::string detail;
    auto append = [&](const std::string& s) {
      if (!s.empty()) detail += (detail.empty() ? "" : " ") + s;
    };
    for (const auto& er : rr.elements) {
      const rules::Element& e = *er.element;
      json j{{"id", e.id},
             {"status", StatusName(er.status)},
             {"citation", er.exemption ? e.citation + "; " + er.exemption->citation : e.citation},
             {"facts", names(er.decided)},
             {"title", e.title.Get(lang)},
             {"kind", e.substantive ? "substantive" : "precondition"},
             {"explanation", e.explanation.Get(lang)}};
      if (er.exemption)
        j["exemption"] = {{"id", er.exemption->id}, {"citation", er.exemption->citation},
                          {"explanation", er.exemption->text.Get(lang)}};
      if (er.status == Tri::kFalse && !e.if_unmet.en.empty()) j["advice"] = e.if_unmet.Get(lang);
      if (er.suspended) j["suspended_by_ambiguity"] = true;
      if (er.defeated) j["defeats"] = true;
      elements.push_back(std::move(j));
      if (!e.evidence_required.en.empty()) {
        json alts = json::array();
        for (const auto& a : e.evidence_alternatives) alts.push_back(a.Get(lang));
        evidence.push_back({{"element", e.id},
                            {"kind", "element"},
                            {"required", e.evidence_required.Get(lang)},
                            {"alternatives", std::move(alts)}});
      }
      if (er.defeated)
        append(std::string(ph.not_met) + e.title.Get(lang) + ". " +
               (e.if_unmet.en.empty() ? e.explanation.Get(lang) : e.if_unmet.Get(lang)));
      if (rr.outcome == Outcome::kLikelyEligibleMissingEvidence) {
        if (er.status == Tri::kUnknown) append(std::string(ph.still_unknown) + e.title.Get(lang) + ".");
        if (er.status == Tri::kFalse)
          append(std::string(ph.missing) + e.title.Get(lang) + ". " +
                 (e.if_unmet.en.empty() ? e.explanation.Get(lang) : e.if_unmet.Get(lang)));
      }
    }
    for (const auto& q : rr.requirements) {
      if (!q.applies) continue;
      evidence.push_back({{"id", q.requirement->id},
                          {"element", q.requirement->element},
                          {"kind", "requirement"},
                          {"status", q.satisfied ? "in_hand" : "missing"},
                          {"description", q.requirement->missing.Get(lang)},
                          {"citation", q.requirement->citation}});
      if (!q.satisfied && rr.outcome == Outcome::kLikelyEligibleMissingEvidence)
        append(std::string(ph.missing) + q.requirement->missing.Get(lang));
    }
    r["elements"] = std::move(elements);
    r["missing_facts"] = names(rr.missing);
    r["evidence"] = std::move(evidence);
    std::string expl = rel.summary.Get(lang) + " ";
    if (rr.because) {
      expl += rr.because->reason.Get(lang);
      r["reason"] = {{"id", rr.because->id}, {"text", rr.because->reason.Get(lang)},
                     {"citation", rr.because->citation}};
    } else {
      expl += rs.outcome_text[static_cast<int>(rr.outcome)].Get(lang);
    }
    if (rr.outcome == Outcome::kAmbiguous) {
      json amb = json::array();
      for (const auto* c : rr.ambiguities) {
        amb.push_back({{"id", c->id}, {"reason", c->reason.Get(lang)}, {"citation", c->citation}});
        append(c->reason.Get(lang));
      }
      r["ambiguity"] = std::move(amb);
    }
    if (!rr.because && !detail.empty()) expl += " " + detail;
    r["explanation"] = std::move(expl);
    json alerts = json::array();
    for (const auto* a : rr.alerts)
      alerts.push_back({{"id", a->id}, {"text", a->text.Get(lang)}, {"citation", a->citation}});
    r["alerts"] = std::move(alerts);
    if (!rel.derivatives.empty()) {
      json ders = json::array();
      for (const auto& d : rr.derivatives) {
        json j{{"member", d.member}, {"qualifies", StatusName(d.qualifies)}};
        if (d.rule) {
          j["rule"] = d.rule->id;
          j["citation"] = d.rule->citation;
          j["explanation"] = d.rule->text.Get(lang);
        }
        if (d.age_out) j["age_out_date"] = rules::FormatDate(*d.age_out);
        ders.push_back(std::move(j));
      }
      r["derivatives"] = std::move(ders);
    }
    results[name] = std::move(r);
  }
  out["results"] = std::move(results);

  std::vector<const rules::DeadlineInstance*> dls;
  for (const auto& d : res.deadlines) dls.push_back(&d);
  std::stable_sort(dls.begin(), dls.end(), [](auto* a, auto* b) { return a->date < b->date; });
  // Statutory deadlines under "deadlines"; the team's practice (soft, extendable) targets
  // under "practice_deadlines", so the legal list holds only what the law sets.
  json deadlines = json::array(), practice = json::array();
  for (const auto* d : dls) {
    json j{{"name", d->def->name},
           {"date", rules::FormatDate(d->date)},
           {"kind", d->def->kind == rules::DeadlineKind::kStatutory ? "statutory" : "practice"},
           {"relief", d->def->relief.empty() ? json() : json(d->def->relief)},
           {"citation", d->def->citation},
           {"basis", d->def->basis.Get(lang)},
           {"passed", d->date < res.as_of}};
    if (d->extended()) {
      j["computed_date"] = rules::FormatDate(d->computed);
      j["extension_reason"] = d->extension_reason;
    }
    (d->def->kind == rules::DeadlineKind::kStatutory ? deadlines : practice).push_back(std::move(j));
  }
  out["deadlines"] = std::move(deadlines);
  out["practice_deadlines"] = std::move(practice);

  json derived = json::object();
  for (int k = 0; k < rs.vocab.size(); ++k) {
    const auto& def = rs.vocab.slot(k);
    if (def.kind == rules::SlotKind::kDerived && res.slots[k].known)
      derived[def.name] = FactValue(def, res.slots[k]);
  }
  out["derived"] = std::move(derived);
  return out.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string ResolveRulesDir(const std::string& flag, const std::string& exe_path) {
  namespace fs = std::filesystem;
  if (!flag.empty()) return flag;
  if (const char* env = std::getenv("TRELLIS_RULES_DIR"); env && *env) return env;
  std::error_code ec;
  if (!exe_path.empty()) {
    fs::path dir = fs::path(exe_path).parent_path();
    for (fs::path cand : {dir / ".." / "rules", dir / "rules"})
      if (fs::exists(cand / "facts_vocabulary.json", ec)) return cand.lexically_normal().string();
  }
  return TRELLIS_DEFAULT_RULES_DIR;
}

}  // namespace trellis::app

#include "rules/screen.h"

namespace trellis::rules {
namespace {

bool IsTrue(Value v) { return v.known && v.v; }

}  // namespace

Status Screener::Screen(const Request& req, std::optional<Date> as_of, Date today,
                        ScreeningResult* out) {
  const RuleSet& rs = *rules_;
  ScreeningResult& res = *out;
  res.as_of = as_of ? *as_of : req.as_of ? *req.as_of : today;
  res.slots.assign(req.facts.begin(), req.facts.end());
  res.slots.resize(rs.vocab.size());
  res.slots[rs.vocab.as_of_slot()] = Value::Of(res.as_of);
  const Value* s = res.slots.data();

  for (const Constraint& c : rs.constraints) {
    if (IsTrue(Eval(rs.prog, c.invalid_when, s))) {
      std::string field = "facts." + rs.vocab.slot(c.slot).name;
      return Status::Invalid(field + ": " + c.message, field);
    }
  }
  // Derived facts, remembering which inputs decided each one (for element "facts").
  decided_.resize(rs.vocab.size());
  for (const Computation& c : rs.computations) {
    decided_[c.slot].Clear();
    res.slots[c.slot] = EvalExplain(rs.prog, c.expr, s, decided_.data(), &decided_[c.slot]);
  }

  res.reliefs.resize(rs.relief_names.size());
  for (size_t i = 0; i < rs.relief_names.size(); ++i) ScreenRelief(i, req, res, res.reliefs[i]);

  res.deadlines.clear();
  for (const DeadlineDef& d : rs.deadlines) {
    Value v = s[d.slot];
    if (!v.known) continue;
    if (d.emit_when != kNoExpr && !IsTrue(Eval(rs.prog, d.emit_when, s))) continue;
    if (d.relief_index >= 0 && res.reliefs[d.relief_index].outcome == Outcome::kNotApplicable)
      continue;
    DeadlineInstance inst{&d, static_cast<Date>(v.v), static_cast<Date>(v.v), {}};
    res.deadlines.push_back(std::move(inst));
  }
  for (const Extension& e : req.extensions) {
    DeadlineInstance* found = nullptr;
    for (auto& d : res.deadlines)
      if (d.def->name == e.deadline) found = &d;
    if (!found) {
      if (rs.vocab.Find(e.deadline) < 0 ||
          rs.vocab.slot(rs.vocab.Find(e.deadline)).kind != SlotKind::kDeadline)
        return Status::Invalid("extensions." + e.deadline + ": unknown deadline",
                               "extensions." + e.deadline);
      continue;  // not due for these facts: nothing to extend
    }
    auto ext = ExtendDeadline(*found, e.until, e.reason);
    if (!ext.ok()) return ext.status();
    *found = std::move(ext).value();
  }
  return Status::Ok();
}

void Screener::ScreenRelief(size_t i, const Request& req, ScreeningResult& res, ReliefResult& out) {
  const RuleSet& rs = *rules_;
  const Value* s = res.slots.data();
  const SlotSet* inputs = decided_.data();
  out.index = i;
  out.relief = rs.InForce(i, res.as_of);
  out.because = nullptr;
  out.ambiguities.clear();
  out.elements.clear();
  out.requirements.clear();
  out.alerts.clear();
  out.derivatives.clear();
  out.missing.Clear();
  if (!out.relief) {
    out.outcome = Outcome::kAmbiguous;
    return;
  }
  const Relief& r = *out.relief;

  // Elements in force, each with the facts that decided it.
  bool any_unknown = false;
  for (const Element& e : r.elements) {
    if (res.as_of < e.effective_from || res.as_of > e.effective_to) continue;
    ElementResult er;
    er.element = &e;
    Value v = EvalExplain(rs.prog, e.expr, s, inputs, &er.decided);
    Tri st = v.AsTri();
    if (st != Tri::kTrue) {
      for (const Exemption& x : e.exemptions) {
        SlotSet xs;
        Tri xt = EvalExplain(rs.prog, x.when, s, inputs, &xs).AsTri();
        if (xt == Tri::kTrue) {
          st = Tri::kTrue;
          er.exemption = &x;
          er.decided = xs;
          break;
        }
        if (xt == Tri::kUnknown) {
          if (st == Tri::kFalse) er.decided.Clear();  // only the unknown parts now matter
          st = Tri::kUnknown;
          er.decided.Add(xs);
        } else if (st == Tri::kFalse) {
          er.decided.Add(xs);
        }
      }
    }
    er.status = st;
    if (st == Tri::kUnknown) any_unknown = true;
    out.elements.push_back(er);
  }
  for (const Condition& c : r.ambiguous)
    if (IsTrue(Eval(rs.prog, c.when, s))) {
      out.ambiguities.push_back(&c);
      for (const std::string& id : c.suspends)
        for (auto& er : out.elements)
          if (er.element->id == id) er.suspended = true;
    }
  for (const Requirement& q : r.requirements) {
    RequirementResult rr{&q, IsTrue(Eval(rs.prog, q.when, s)), false};
    if (rr.applies) {
      SlotSet qs;
      rr.satisfied = IsTrue(EvalExplain(rs.prog, q.satisfied, s, inputs, &qs));
      if (!rr.satisfied) out.missing.Add(qs);
    }
    out.requirements.push_back(rr);
  }
  for (const Alert& a : r.alerts)
    if (IsTrue(Eval(rs.prog, a.when, s))) out.alerts.push_back(&a);
  for (const auto& er : out.elements)
    if (er.status == Tri::kUnknown) out.missing.Add(er.decided);
  // Only absent input facts are "missing".
  for (int k = 0; k < rs.vocab.size(); ++k)
    if (out.missing.Test(k) && (rs.vocab.slot(k).kind != SlotKind::kInput || s[k].known)) {
      out.missing.w[k >> 6] &= ~(uint64_t{1} << (k & 63));
    }

  // Derivative family members (T, U).
  if (!r.derivatives.empty() && !req.family.empty()) {
    std::vector<Value>& slots = res.slots;
    for (size_t m = 0; m < req.family.size(); ++m) {
      for (size_t k = 0; k < rs.member_slots.size(); ++k) slots[rs.member_slots[k]] = req.family[m][k];
      DerivativeResult dr;
      dr.member = static_cast<int>(m);
      Value rel = slots[rs.member_relationship];
      Tri base = r.derivatives_when == kNoExpr ? Tri::kTrue
                                               : Eval(rs.prog, r.derivatives_when, slots.data()).AsTri();
      Tri best = Tri::kFalse;
      for (const DerivativeRule& d : r.derivatives) {
        if (!rel.known || rel.v != d.relationship) continue;
        Tri t = Eval(rs.prog, d.when, slots.data()).AsTri();
        if (t == Tri::kTrue || (t == Tri::kUnknown && best == Tri::kFalse)) {
          best = t;
          dr.rule = &d;
          dr.age_out.reset();
          if (d.age_out != kNoExpr) {
            Value a = Eval(rs.prog, d.age_out, slots.data());
            if (a.known) dr.age_out = static_cast<Date>(a.v);
          }
        }
        if (best == Tri::kTrue) break;
      }
      if (!rel.known) best = Tri::kUnknown;
      // Kleene and of the common condition (e.g. "not a perpetrator") and the rule.
      dr.qualifies = base == Tri::kFalse || best == Tri::kFalse ? Tri::kFalse
                     : base == Tri::kTrue && best == Tri::kTrue ? Tri::kTrue
                                                                : Tri::kUnknown;
      out.derivatives.push_back(dr);
    }
    for (int k : rs.member_slots) slots[k] = Value::Unknown();
  }

  // Outcome.
  for (const Condition& c : r.not_applicable)
    if (IsTrue(Eval(rs.prog, c.when, s))) {
      out.outcome = Outcome::kNotApplicable;
      out.because = &c;
      return;
    }
  for (const Condition& c : r.decided)
    if (IsTrue(Eval(rs.prog, c.when, s))) {
      out.outcome = c.outcome;
      out.because = &c;
      return;
    }
  bool missing = any_unknown;
  out.outcome = Outcome::kLikelyEligibleMissingEvidence;
  for (auto& er : out.elements) {
    if (er.status == Tri::kTrue) continue;
    // A precondition not yet met defeats the relief when its fatal_when is known true (e.g.
    // no court order yet, and no court can rule any more at this age).
    bool fatal = er.element->fatal_when != kNoExpr &&
                 IsTrue(EvalExplain(rs.prog, er.element->fatal_when, s, inputs, &er.decided));
    if (er.status == Tri::kUnknown && !fatal) continue;
    bool defeats = fatal || er.element->substantive;
    if (defeats && !er.suspended) {
      er.defeated = true;
      out.outcome = Outcome::kNotEligible;
    }
    missing = true;
  }
  if (out.outcome == Outcome::kNotEligible) return;
  if (!out.ambiguities.empty()) {
    out.outcome = Outcome::kAmbiguous;
    return;
  }
  for (const auto& rr : out.requirements)
    if (rr.applies && !rr.satisfied) missing = true;
  out.outcome = missing ? Outcome::kLikelyEligibleMissingEvidence : Outcome::kEligible;
}

}  // namespace trellis::rules

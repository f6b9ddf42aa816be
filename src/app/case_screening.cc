// Relief screening with the store: facts kept with the case (sealed, restricted), a summary
// re-computed whenever they change, on-demand screening through policy and audit, and the
// re-screening of every case when the law changes (`trellis rules diff`).
#include <nlohmann/json.hpp>

#include "app/app.h"
#include "app/impl.h"
#include "core/clock.h"
#include "crypto/envelope.h"

namespace trellis::app {

using json = nlohmann::json;
using domain::RecordKind;

namespace {

constexpr char kFacts[] = "trl_ReliefFacts";
constexpr char kSummary[] = "trl_ScreeningSummary";

// The stored facts may be a bare facts object or a request ({"facts", "extensions"}).
std::string RequestOf(const std::string& stored, const std::string& as_of) {
  json j = json::parse(stored, nullptr, false);
  json req = j.is_object() && j.contains("facts") ? j : json{{"facts", j}};
  if (!as_of.empty()) req["as_of"] = as_of;
  return req.dump();
}

// What an attorney compares when the law changes: outcome per relief, statutory deadlines.
json SummaryOf(const std::string& result_json) {
  json r = json::parse(result_json);
  json outcomes = json::object();
  for (auto& [relief, res] : r["results"].items()) outcomes[relief] = res["outcome"];
  json deadlines = json::object();
  for (auto& d : r["deadlines"]) deadlines[d["name"].get<std::string>()] = d["date"];
  return {{"as_of", r["as_of"]}, {"rules_version", r["rules_version"]}, {"outcomes", outcomes}, {"deadlines", deadlines}};
}

Result<std::string> ScreenWith(ScreeningService& svc, const std::string& stored_facts, const std::string& as_of,
                               const std::string& lang) {
  ScreenOptions opts;
  opts.lang = lang;
  if (!as_of.empty()) opts.as_of = as_of;
  auto out = svc.Screen(RequestOf(stored_facts, ""), opts);
  if (!out.ok()) {
    return Status::Invalid("the relief facts are not valid: " + out.status().message() +
                               (out.status().field().empty() ? "" : " (" + out.status().field() + ")"),
                           kFacts);
  }
  return out;
}

}  // namespace

Status App::Impl::ScreenFactsInto(std::map<std::string, std::string>* fields) {
  auto it = fields->find(kFacts);
  if (it == fields->end()) return Status::Ok();
  json j = json::parse(it->second, nullptr, false);
  if (!j.is_object()) return Status::Invalid("must be a JSON object of facts", kFacts);
  std::lock_guard lock(screening_mu);
  if (!screening) {
    TRELLIS_ASSIGN_OR_RETURN(screening, ScreeningService::Open(rules_dir, *clock));
  }
  TRELLIS_ASSIGN_OR_RETURN(std::string result, ScreenWith(*screening, it->second, "", "en"));
  (*fields)[kSummary] = SummaryOf(result).dump();
  return Status::Ok();
}

Result<std::string> App::ScreenCase(const Principal& p, const std::string& case_id, const std::string& as_of,
                                    const std::string& lang, const std::string& request_id) {
  if (lang != "en" && lang != "es") return Status::Invalid("must be en or es", "lang");
  if (!as_of.empty() && !domain::IsValidDate(as_of)) return Status::Invalid("must be a date YYYY-MM-DD", "as_of");
  auto view = Get(p, RecordKind::kCase, case_id, request_id);  // policy + audit of the read
  if (!view.ok()) return view.status();
  auto facts = view->record.fields.find(kFacts);
  if (facts == view->record.fields.end()) {
    const bool withheld =
        std::find(view->redacted.begin(), view->redacted.end(), kFacts) != view->redacted.end();
    TRELLIS_RETURN_IF_ERROR(impl_->AuditEntry(p, "case.screen", withheld ? "deny" : "fail", case_id,
                                              view->record.survivor_id, request_id, withheld ? "redacted" : "no_facts"));
    return withheld ? Status::NotFound() : Status(Code::kFailedPrecondition, "no relief facts recorded for this case");
  }
  Result<std::string> out = Status::Internal("unreached");
  {
    std::lock_guard lock(impl_->screening_mu);
    if (!impl_->screening) {
      TRELLIS_ASSIGN_OR_RETURN(impl_->screening, ScreeningService::Open(impl_->rules_dir, *impl_->clock));
    }
    out = ScreenWith(*impl_->screening, facts->second, as_of, lang);
  }
  TRELLIS_RETURN_IF_ERROR(impl_->AuditEntry(p, "case.screen", out.ok() ? "ok" : "fail", case_id,
                                            view->record.survivor_id, request_id));
  return out;
}

Result<std::vector<App::RulesDiffRow>> App::RulesDiff(const std::string& from_dir, const std::string& to_dir,
                                                      const std::string& as_of) {
  TRELLIS_ASSIGN_OR_RETURN(auto from, ScreeningService::Open(from_dir, *impl_->clock));
  TRELLIS_ASSIGN_OR_RETURN(auto to, ScreeningService::Open(to_dir, *impl_->clock));
  auto agencies = impl_->store->ListAgencies();
  if (!agencies.ok()) return agencies.status();
  std::vector<std::string> ids;
  for (const auto& a : *agencies) ids.push_back(a.id);
  std::vector<RulesDiffRow> rows;
  int64_t screened = 0;
  Status st = impl_->store->ForEachRecord(RecordKind::kCase, ids, [&](const storage::StoredRecord& c) -> Status {
    auto sealed = c.sealed.find(kFacts);
    if (sealed == c.sealed.end()) return Status::Ok();
    auto key = impl_->DataKey(c.survivor_id);
    if (!key.ok()) return Status::Ok();  // erased survivor
    auto facts = crypto::OpenField(*key, c.id, kFacts, sealed->second);
    if (!facts.ok()) return facts.status();
    auto a = ScreenWith(*from, *facts, as_of, "en");
    auto b = ScreenWith(*to, *facts, as_of, "en");
    ++screened;
    if (!a.ok() || !b.ok()) {
      rows.push_back({c.id, c.case_number, "screening", a.ok() ? std::string("ok") : std::string("invalid facts"),
                      b.ok() ? std::string("ok") : std::string("invalid facts")});
      return Status::Ok();
    }
    json sa = SummaryOf(*a), sb = SummaryOf(*b);
    for (auto& [relief, outcome] : sa["outcomes"].items()) {
      json other = sb["outcomes"].value(relief, json());
      if (other != outcome) rows.push_back({c.id, c.case_number, relief + " outcome", outcome.dump(), other.dump()});
    }
    json names = sa["deadlines"];
    names.update(sb["deadlines"]);
    for (auto& [name, _] : names.items()) {
      json x = sa["deadlines"].value(name, json()), y = sb["deadlines"].value(name, json());
      if (x != y) rows.push_back({c.id, c.case_number, "deadline " + name, x.is_null() ? "none" : x.get<std::string>(),
                                  y.is_null() ? "none" : y.get<std::string>()});
    }
    return Status::Ok();
  });
  TRELLIS_RETURN_IF_ERROR(st);
  TRELLIS_RETURN_IF_ERROR(impl_->AuditEntry(CliOperator(), "rules.diff", "ok", "", "", "",
                                            "screened=" + std::to_string(screened) + ",changes=" + std::to_string(rows.size())));
  return rows;
}

}  // namespace trellis::app

#include "api/routes.h"

#include "api/dto.h"

#include <algorithm>
#include <charconv>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string_view>

#include "app/app.h"
#include "app/jobs.h"
#include <spdlog/spdlog.h>
#include "domain/fields.h"

namespace trellis::api {

using json = nlohmann::json;
using domain::RecordKind;

namespace {

constexpr char kSessionCookie[] = "__Host-trellis";

int HttpStatusOf(Code code) {
  switch (code) {
    case Code::kOk: return 200;
    case Code::kInvalidArgument: return 400;
    case Code::kUnauthenticated: return 401;
    case Code::kForbidden: return 403;
    case Code::kNotFound: return 404;
    case Code::kAlreadyExists:
    case Code::kConflict: return 409;
    case Code::kTooLarge: return 413;
    case Code::kRateLimited: return 429;
    case Code::kFailedPrecondition: return 412;
    case Code::kUnavailable: return 503;
    case Code::kDataLoss:
    case Code::kInternal: return 500;
  }
  return 500;
}

HttpResponse JsonResponse(int status, const json& body) {
  HttpResponse r;
  r.status = status;
  r.body = body.dump();
  return r;
}

HttpResponse Error(const Status& st) {
  // Internal details never reach the client; the message of a 5xx is generic.
  const int status = HttpStatusOf(st.code());
  // The operator sees why a request failed (codes and statements, never field values).
  if (status >= 500) spdlog::error("request failed: {}", st.ToString());
  json err = {{"code", CodeName(st.code())},
              {"message", status >= 500 ? std::string("the server could not complete the request") : st.message()}};
  if (!st.field().empty()) err["field"] = st.field();
  return JsonResponse(status, {{"error", err}});
}

// A JSON body written as text (dto.h); an encoding failure is a 500 like any other.
HttpResponse TextResponse(int status, Result<std::string> body) {
  if (!body.ok()) return Error(body.status());
  HttpResponse r;
  r.status = status;
  r.body = std::move(body).value();
  return r;
}

HttpResponse Error(Code code, std::string message, std::string field = {}) {
  return Error(Status(code, std::move(message), std::move(field)));
}

json UserJson(const domain::User& u) {
  return {{"id", u.id}, {"username", u.username}, {"display_name", u.display_name}, {"role", domain::RoleName(u.role)},
          {"agency_id", u.agency_id}};
}

std::string CookieValue(const std::string& header, const std::string& name) {
  size_t pos = 0;
  while (pos < header.size()) {
    size_t end = header.find(';', pos);
    if (end == std::string::npos) end = header.size();
    std::string part = header.substr(pos, end - pos);
    size_t start = part.find_first_not_of(' ');
    if (start != std::string::npos) part = part.substr(start);
    if (part.rfind(name + "=", 0) == 0) return part.substr(name.size() + 1);
    pos = end + 1;
  }
  return {};
}

std::string SessionCookie(const std::string& token, int64_t max_age) {
  return std::string(kSessionCookie) + "=" + token + "; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age=" +
         std::to_string(max_age);
}

std::string MimeOf(const std::string& path) {
  auto ends = [&](const char* ext) {
    const size_t n = std::strlen(ext);
    return path.size() >= n && path.compare(path.size() - n, n, ext) == 0;
  };
  if (ends(".html")) return "text/html; charset=utf-8";
  if (ends(".js")) return "text/javascript; charset=utf-8";
  if (ends(".css")) return "text/css; charset=utf-8";
  if (ends(".json")) return "application/json";
  if (ends(".svg")) return "image/svg+xml";
  if (ends(".png")) return "image/png";
  if (ends(".ico")) return "image/x-icon";
  if (ends(".woff2")) return "font/woff2";
  return "application/octet-stream";
}

struct Route {
  std::string method;
  std::string pattern;  // "/api/v1/cases/{id}"
  bool needs_auth;
  // A GET that may take long (a file of up to tens of MiB decrypted, a document rendered, the
  // audit log scanned), declared with kLongRead: Router::IsLongRead sends it to the worker pool.
  bool long_read;
  std::function<HttpResponse(const HttpRequest&, const app::Principal*, const std::vector<std::string>&)> fn;
};

// Marks a route as a long read where it is added: Add("GET", pattern, auth, kLongRead, handler).
struct LongRead {};
constexpr LongRead kLongRead;

bool Match(const std::string& pattern, const std::string& path, std::vector<std::string>* params) {
  size_t i = 0, j = 0;
  params->clear();
  while (i < pattern.size() && j <= path.size()) {
    if (pattern[i] == '{') {
      size_t close = pattern.find('}', i);
      size_t end = path.find('/', j);
      if (end == std::string::npos) end = path.size();
      if (end == j) return false;
      params->push_back(path.substr(j, end - j));
      i = close + 1;
      j = end;
    } else {
      if (j >= path.size() || pattern[i] != path[j]) return false;
      ++i;
      ++j;
    }
  }
  return i == pattern.size() && j == path.size();
}

}  // namespace

struct Router::Impl {
  app::App& app;
  RouteOptions options;
  std::vector<Route> routes;
  std::unique_ptr<app::Jobs> jobs = std::make_unique<app::Jobs>(app);  // background import/export

  // The routes by the first segment of their path after kApiPrefix, in the order they were
  // added: a request is matched against its segment's few routes, not against every route.
  static constexpr std::string_view kApiPrefix = "/api/v1/";
  std::map<std::string, std::vector<const Route*>, std::less<>> by_segment;

  Impl(app::App& a, RouteOptions o) : app(a), options(std::move(o)) {
    Register();
    TRELLIS_INVARIANT(routes.size() == RouteTable().size(), "RouteTable() lists a route that is not registered");
    for (const Route& route : routes) {
      const std::string_view segment = FirstSegment(route.pattern);
      TRELLIS_INVARIANT(!segment.empty() && segment.front() != '{', "a route outside /api/v1/<name>");
      by_segment[std::string(segment)].push_back(&route);
    }
  }

  // "cases" for "/api/v1/cases/{id}"; empty outside kApiPrefix.
  static std::string_view FirstSegment(std::string_view path) {
    if (!path.starts_with(kApiPrefix)) return {};
    path.remove_prefix(kApiPrefix.size());
    return path.substr(0, path.find('/'));
  }
  const std::vector<const Route*>& RoutesFor(std::string_view path) const {
    static const std::vector<const Route*> kNone;
    auto it = by_segment.find(FirstSegment(path));
    return it == by_segment.end() ? kNone : it->second;
  }

  Result<app::Principal> Authenticate(const HttpRequest& req) {
    if (req.authorization.rfind("Bearer ", 0) == 0) return app.AuthenticateBearer(req.authorization.substr(7));
    std::string cookie = CookieValue(req.cookie, kSessionCookie);
    if (!cookie.empty()) return app.AuthenticateSession(cookie);
    return Status::Unauthenticated();
  }

  HttpResponse Records(RecordKind kind, const std::string& op, const HttpRequest& req, const app::Principal& p,
                       const std::vector<std::string>& params) {
    if (op == "list") {
      app::ListRequest lr;
      lr.kind = kind;
      auto q = [&](const char* k) -> const std::string* {
        auto it = req.query.find(k);
        return it == req.query.end() ? nullptr : &it->second;
      };
      for (const auto& [k, _] : req.query) {
        if (k != "limit" && k != "cursor" && k != "mine" && k != "status" && k != "survivor_id" && k != "updated_since") {
          return Error(Code::kInvalidArgument, "is not a known query parameter", k);
        }
      }
      if (auto* v = q("limit")) {
        int n = 0;
        auto r = std::from_chars(v->data(), v->data() + v->size(), n);
        if (r.ec != std::errc() || r.ptr != v->data() + v->size()) return Error(Code::kInvalidArgument, "must be a number", "limit");
        lr.limit = n;
      }
      if (auto* v = q("cursor")) lr.cursor = *v;
      if (auto* v = q("mine")) lr.mine = *v == "true" || *v == "1";
      if (auto* v = q("status")) lr.status = *v;
      if (auto* v = q("survivor_id")) lr.survivor_id = *v;
      if (auto* v = q("updated_since")) {
        int64_t n = 0;
        auto r = std::from_chars(v->data(), v->data() + v->size(), n);
        if (r.ec != std::errc()) return Error(Code::kInvalidArgument, "must be microseconds since the epoch", "updated_since");
        lr.updated_since = n;
      }
      auto page = app.List(p, lr, req.request_id);
      if (!page.ok()) return Error(page.status());
      return TextResponse(200, RecordPageJsonText(page->items, page->next_cursor));
    }
    if (op == "get") {
      auto v = app.Get(p, kind, params[0], req.request_id);
      return v.ok() ? TextResponse(200, RecordJsonText(*v)) : Error(v.status());
    }
    int64_t version = 0;
    auto in = DecodeRecordBody(kind, req.content_type, req.body, op == "create", &version);
    if (!in.ok()) return Error(in.status());
    if (op == "create") {
      auto v = app.Create(p, kind, *in, req.request_id);
      return v.ok() ? TextResponse(201, RecordJsonText(*v)) : Error(v.status());
    }
    auto v = app.Update(p, kind, params[0], version, *in, req.request_id);
    return v.ok() ? TextResponse(200, RecordJsonText(*v)) : Error(v.status());
  }

  static json GrantJson(const app::GrantView& g) {
    json signers = json::array();
    for (const auto& s : g.signers) signers.push_back({{"relationship", s.relationship}, {"name", s.name}});
    json j = {{"id", g.id},
              {"kind", g.kind},
              {"survivor_id", g.survivor_id},
              {"recipient_agency_id", g.recipient_agency_id},
              {"categories", g.categories},
              {"purpose", g.purpose},
              {"language", g.language},
              {"effective_at", FormatTimestamp(g.effective_at)},
              {"expires_at", FormatTimestamp(g.expires_at)},
              {"created_at", FormatTimestamp(g.created_at)},
              {"created_by", g.created_by},
              {"status", g.status},
              {"signers", signers}};
    if (!g.owner_agency_id.empty()) j["owner_agency_id"] = g.owner_agency_id;
    if (!g.recipient_user_id.empty()) j["recipient_user_id"] = g.recipient_user_id;
    if (g.revoked_at) {
      j["revoked_at"] = FormatTimestamp(g.revoked_at);
      j["revoked_by"] = g.revoked_by;
      j["revoke_reason"] = g.revoke_reason;
    }
    if (g.kind == "compelled") j["survivor_notified"] = g.task_done_at != 0;
    if (!g.reason.empty()) j["reason"] = g.reason;
    if (g.kind == "release") j["evidence_ids"] = g.evidence_ids;
    if (!g.signed_copy_id.empty()) j["signed_copy_id"] = g.signed_copy_id;
    return j;
  }
  static json GrantsJson(const std::vector<app::GrantView>& gs) {
    json items = json::array();
    for (const auto& g : gs) items.push_back(GrantJson(g));
    return {{"items", items}};
  }
  static Status NoQuery(const HttpRequest& req) {
    if (!req.query.empty()) return Status::Invalid("is not a known query parameter", req.query.begin()->first);
    return Status::Ok();
  }
  // A JSON array of strings at `key` (required when `required`).
  static Result<std::vector<std::string>> Strings(const json& body, const char* key) {
    std::vector<std::string> out;
    if (!body.contains(key)) return out;
    if (!body[key].is_array()) return Status::Invalid("must be an array of strings", key);
    for (const auto& e : body[key]) {
      if (!e.is_string()) return Status::Invalid("must be an array of strings", key);
      out.push_back(e.get<std::string>());
    }
    return out;
  }
  static Result<std::string> Str(const json& body, const char* key) {
    if (!body.contains(key)) return std::string();
    if (!body[key].is_string()) return Status::Invalid("must be a string", key);
    return body[key].get<std::string>();
  }

  void RegisterConsent() {
    Add("POST", "/api/v1/releases", true, [this](const HttpRequest& req, const app::Principal* p, auto&) {
      auto body = ParseJsonBody(req.content_type, req.body);
      if (!body.ok()) return Error(body.status());
      if (Status st = OnlyKeys(*body, {"survivor_id", "recipient_agency_id", "categories", "purpose", "language",
                                       "effective_on", "expires_on", "signers", "evidence_ids"});
          !st.ok()) {
        return Error(st);
      }
      app::ReleaseInput in;
      auto get = [&](const char* k, std::string* out) -> Status {
        auto v = Str(*body, k);
        if (!v.ok()) return v.status();
        *out = *v;
        return Status::Ok();
      };
      for (auto [k, out] : {std::pair<const char*, std::string*>{"survivor_id", &in.survivor_id},
                            {"recipient_agency_id", &in.recipient_agency_id}, {"purpose", &in.purpose},
                            {"effective_on", &in.effective_on}, {"expires_on", &in.expires_on}}) {
        if (Status st = get(k, out); !st.ok()) return Error(st);
      }
      std::string lang;
      if (Status st = get("language", &lang); !st.ok()) return Error(st);
      if (!lang.empty()) in.language = lang;
      auto cats = Strings(*body, "categories");
      if (!cats.ok()) return Error(cats.status());
      in.categories = *cats;
      auto evidence = Strings(*body, "evidence_ids");
      if (!evidence.ok()) return Error(evidence.status());
      in.evidence_ids = *evidence;
      if (body->contains("signers")) {
        const json& sj = (*body)["signers"];
        if (!sj.is_array()) return Error(Code::kInvalidArgument, "must be an array", "signers");
        for (const auto& e : sj) {
          if (!e.is_object() || !e.contains("relationship") || !e.contains("name") || !e["relationship"].is_string() ||
              !e["name"].is_string() || e.size() != 2) {
            return Error(Code::kInvalidArgument, "each signer is {relationship, name}", "signers");
          }
          in.signers.push_back({e["relationship"].get<std::string>(), e["name"].get<std::string>()});
        }
      }
      auto g = app.CreateRelease(*p, in, req.request_id);
      return g.ok() ? JsonResponse(201, GrantJson(*g)) : Error(g.status());
    });
    Add("GET", "/api/v1/survivors/{id}/releases", true, [this](const HttpRequest& req, const app::Principal* p, auto& params) {
      if (Status st = NoQuery(req); !st.ok()) return Error(st);
      auto gs = app.ListGrants(*p, params[0], req.request_id);
      return gs.ok() ? JsonResponse(200, GrantsJson(*gs)) : Error(gs.status());
    });
    Add("POST", "/api/v1/releases/{id}/revoke", true, [this](const HttpRequest& req, const app::Principal* p, auto& params) {
      auto body = ParseJsonBody(req.content_type, req.body);
      if (!body.ok()) return Error(body.status());
      if (Status st = OnlyKeys(*body, {"reason"}); !st.ok()) return Error(st);
      auto reason = Str(*body, "reason");
      if (!reason.ok()) return Error(reason.status());
      auto g = app.RevokeGrant(*p, params[0], *reason, req.request_id);
      return g.ok() ? JsonResponse(200, GrantJson(*g)) : Error(g.status());
    });
    Add("GET", "/api/v1/releases/{id}/document", true, kLongRead,
        [this](const HttpRequest& req, const app::Principal* p, auto& params) {
      std::string lang;
      for (const auto& [k, v] : req.query) {
        if (k != "lang") return Error(Code::kInvalidArgument, "is not a known query parameter", k);
        lang = v;
      }
      auto doc = app.ReleaseDocument(*p, params[0], lang, req.request_id);
      if (!doc.ok()) return Error(doc.status());
      HttpResponse r;
      r.content_type = "text/html; charset=utf-8";
      r.body = *doc;
      return r;
    });
    Add("GET", "/api/v1/shared", true, [this](const HttpRequest& req, const app::Principal* p, auto&) {
      if (Status st = NoQuery(req); !st.ok()) return Error(st);
      auto gs = app.ListSharedWithMe(*p, req.request_id);
      return gs.ok() ? JsonResponse(200, GrantsJson(*gs)) : Error(gs.status());
    });
    Add("POST", "/api/v1/break-glass", true, [this](const HttpRequest& req, const app::Principal* p, auto&) {
      auto body = ParseJsonBody(req.content_type, req.body);
      if (!body.ok()) return Error(body.status());
      if (Status st = OnlyKeys(*body, {"survivor_id", "reason"}); !st.ok()) return Error(st);
      auto sid = Str(*body, "survivor_id");
      if (!sid.ok()) return Error(sid.status());
      auto reason = Str(*body, "reason");
      if (!reason.ok()) return Error(reason.status());
      auto g = app.BreakGlass(*p, *sid, *reason, req.request_id);
      return g.ok() ? JsonResponse(201, GrantJson(*g)) : Error(g.status());
    });
    Add("POST", "/api/v1/compelled-disclosures", true, [this](const HttpRequest& req, const app::Principal* p, auto&) {
      auto body = ParseJsonBody(req.content_type, req.body);
      if (!body.ok()) return Error(body.status());
      if (Status st = OnlyKeys(*body, {"survivor_id", "recipient_agency_id", "categories", "basis", "reference", "expires_on"});
          !st.ok()) {
        return Error(st);
      }
      app::CompelledInput in;
      for (auto [k, out] : {std::pair<const char*, std::string*>{"survivor_id", &in.survivor_id},
                            {"recipient_agency_id", &in.recipient_agency_id}, {"basis", &in.basis},
                            {"reference", &in.reference}, {"expires_on", &in.expires_on}}) {
        auto v = Str(*body, k);
        if (!v.ok()) return Error(v.status());
        *out = *v;
      }
      auto cats = Strings(*body, "categories");
      if (!cats.ok()) return Error(cats.status());
      in.categories = *cats;
      auto g = app.RecordCompelledDisclosure(*p, in, req.request_id);
      return g.ok() ? JsonResponse(201, GrantJson(*g)) : Error(g.status());
    });
    Add("GET", "/api/v1/alerts", true, [this](const HttpRequest& req, const app::Principal* p, auto&) {
      if (Status st = NoQuery(req); !st.ok()) return Error(st);
      auto gs = app.ListAlerts(*p, req.request_id);
      return gs.ok() ? JsonResponse(200, GrantsJson(*gs)) : Error(gs.status());
    });
    Add("GET", "/api/v1/tasks", true, [this](const HttpRequest& req, const app::Principal* p, auto&) {
      if (Status st = NoQuery(req); !st.ok()) return Error(st);
      auto gs = app.ListTasks(*p, req.request_id);
      if (!gs.ok()) return Error(gs.status());
      json items = json::array();
      for (const auto& g : *gs) {
        items.push_back({{"id", g.id}, {"type", "notify_survivor"}, {"survivor_id", g.survivor_id},
                         {"disclosure", GrantJson(g)}});
      }
      return JsonResponse(200, {{"items", items}});
    });
    Add("POST", "/api/v1/tasks/{id}/done", true, [this](const HttpRequest& req, const app::Principal* p, auto& params) {
      auto g = app.CompleteTask(*p, params[0], req.request_id);
      return g.ok() ? JsonResponse(200, GrantJson(*g)) : Error(g.status());
    });
    Add("GET", "/api/v1/survivors/{id}/disclosures", true, [this](const HttpRequest& req, const app::Principal* p, auto& params) {
      if (Status st = NoQuery(req); !st.ok()) return Error(st);
      auto ds = app.ListDisclosures(*p, params[0], req.request_id);
      if (!ds.ok()) return Error(ds.status());
      json items = json::array();
      for (const auto& d : *ds) {
        items.push_back({{"seq", d.seq}, {"time", FormatTimestamp(d.at)}, {"record_id", d.record_id},
                         {"actor", d.actor_user_id}, {"agency_id", d.actor_agency_id}, {"action", d.action},
                         {"categories", d.categories.empty() ? json::array() : json(Split(d.categories))},
                         {"basis", d.basis}, {"grants", d.grant_ids.empty() ? json::array() : json(Split(d.grant_ids))}});
      }
      return JsonResponse(200, {{"items", items}});
    });
  }
  // --- background jobs: HTCDS import and export with progress (app/jobs.h) ---
  static json JobJson(const app::JobView& v) {
    json j = {{"id", v.id}, {"kind", v.kind}, {"state", v.state}, {"done", v.done}, {"total", v.total},
              {"created_at", FormatTimestamp(v.created_at)},
              {"finished_at", v.finished_at ? json(FormatTimestamp(v.finished_at)) : json(nullptr)}};
    if (v.kind == "export_htcds") {
      j["identifying"] = v.identifying;
      j["bytes_written"] = v.bytes_written;
      j["file_available"] = v.file_available;
      j["file_expires_at"] = v.file_expires_at ? json(FormatTimestamp(v.file_expires_at)) : json(nullptr);
    }
    if (v.state == "done") {
      j["result"] = v.kind == "import_htcds"
                        ? json{{"rows", v.imported.rows}, {"survivors", v.imported.survivors}, {"cases", v.imported.cases}}
                        : json{{"rows", v.exported_rows}};
    }
    if (v.state == "failed") j["error"] = json::parse(Error(v.error).body)["error"];
    return j;
  }
  void RegisterJobs() {
    Add("POST", "/api/v1/jobs/import-htcds", true, [this](const HttpRequest& req, const app::Principal* p, auto&) {
      if (Status st = NoQuery(req); !st.ok()) return Error(st);
      if (req.content_type.rfind("text/csv", 0) != 0) return Error(Code::kInvalidArgument, "send the file as text/csv", "file");
      auto v = jobs->StartImport(*p, req.body, req.request_id);
      return v.ok() ? JsonResponse(202, JobJson(*v)) : Error(v.status());
    });
    Add("POST", "/api/v1/jobs/export-htcds", true, [this](const HttpRequest& req, const app::Principal* p, auto&) {
      if (Status st = NoQuery(req); !st.ok()) return Error(st);
      auto body = ParseJsonBody(req.content_type, req.body);
      if (!body.ok()) return Error(body.status());
      if (Status st = OnlyKeys(*body, {"identifying"}); !st.ok()) return Error(st);
      bool identifying = false;
      if (body->contains("identifying")) {
        if (!(*body)["identifying"].is_boolean()) return Error(Code::kInvalidArgument, "must be true or false", "identifying");
        identifying = (*body)["identifying"].get<bool>();
      }
      auto v = jobs->StartExport(*p, identifying, req.request_id);
      return v.ok() ? JsonResponse(202, JobJson(*v)) : Error(v.status());
    });
    Add("GET", "/api/v1/jobs/{id}", true, [this](const HttpRequest& req, const app::Principal* p, auto& params) {
      if (Status st = NoQuery(req); !st.ok()) return Error(st);
      auto v = jobs->Get(*p, params[0], req.request_id);
      return v.ok() ? JsonResponse(200, JobJson(*v)) : Error(v.status());
    });
    Add("GET", "/api/v1/jobs/{id}/file", true, kLongRead,
        [this](const HttpRequest& req, const app::Principal* p, auto& params) {
      if (Status st = NoQuery(req); !st.ok()) return Error(st);
      auto bytes = jobs->TakeFile(*p, params[0], req.request_id);
      if (!bytes.ok()) return Error(bytes.status());
      HttpResponse r;
      r.content_type = "text/csv; charset=utf-8";
      r.body = std::move(bytes).value();
      r.headers.emplace_back("Content-Disposition", "attachment; filename=\"htcds-export.csv\"");
      return r;
    });
    Add("POST", "/api/v1/jobs/{id}/cancel", true, [this](const HttpRequest& req, const app::Principal* p, auto& params) {
      if (Status st = NoQuery(req); !st.ok()) return Error(st);
      auto v = jobs->Cancel(*p, params[0], req.request_id);
      return v.ok() ? JsonResponse(200, JobJson(*v)) : Error(v.status());
    });
  }
  // --- evidence items (docs/consent.md, "Evidence items"); files travel as raw bodies ---
  static json EvidenceJson(const app::EvidenceView& v) {
    json j = {{"id", v.id},       {"survivor_id", v.survivor_id}, {"kind", v.kind},
              {"title", v.title}, {"description", v.description}, {"created_at", FormatTimestamp(v.created_at)}};
    j["date"] = v.date.empty() ? json(nullptr) : json(v.date);
    j["case_id"] = v.case_id.empty() ? json(nullptr) : json(v.case_id);
    if (!v.created_by.empty()) j["created_by"] = v.created_by;
    if (!v.grant_id.empty()) j["release_id"] = v.grant_id;
    j["file"] = v.size == 0 ? json(nullptr)
                            : json({{"content_type", v.content_type}, {"size", v.size}, {"sha256", v.sha256}});
    return j;
  }
  void RegisterEvidence() {
    Add("POST", "/api/v1/survivors/{id}/evidence", true, [this](const HttpRequest& req, const app::Principal* p, auto& params) {
      auto body = ParseJsonBody(req.content_type, req.body);
      if (!body.ok()) return Error(body.status());
      if (Status st = OnlyKeys(*body, {"title", "kind", "description", "date", "case_id"}); !st.ok()) return Error(st);
      app::EvidenceInput in;
      in.survivor_id = params[0];
      for (auto [k, out] : {std::pair<const char*, std::string*>{"title", &in.title}, {"kind", &in.kind},
                            {"description", &in.description}, {"date", &in.date}, {"case_id", &in.case_id}}) {
        auto v = Str(*body, k);
        if (!v.ok()) return Error(v.status());
        *out = *v;
      }
      auto v = app.CreateEvidence(*p, in, req.request_id);
      return v.ok() ? JsonResponse(201, EvidenceJson(*v)) : Error(v.status());
    });
    Add("GET", "/api/v1/survivors/{id}/evidence", true, [this](const HttpRequest& req, const app::Principal* p, auto& params) {
      if (Status st = NoQuery(req); !st.ok()) return Error(st);
      auto vs = app.ListEvidence(*p, params[0], req.request_id);
      if (!vs.ok()) return Error(vs.status());
      json items = json::array();
      for (const auto& v : *vs) items.push_back(EvidenceJson(v));
      return JsonResponse(200, {{"items", items}});
    });
    Add("GET", "/api/v1/evidence/{id}", true, [this](const HttpRequest& req, const app::Principal* p, auto& params) {
      if (Status st = NoQuery(req); !st.ok()) return Error(st);
      auto v = app.GetEvidence(*p, params[0], req.request_id);
      return v.ok() ? JsonResponse(200, EvidenceJson(*v)) : Error(v.status());
    });
    Add("PUT", "/api/v1/evidence/{id}/content", true, [this](const HttpRequest& req, const app::Principal* p, auto& params) {
      if (Status st = NoQuery(req); !st.ok()) return Error(st);
      auto v = app.PutEvidenceContent(*p, params[0], req.content_type, req.body, req.request_id);
      return v.ok() ? JsonResponse(200, EvidenceJson(*v)) : Error(v.status());
    });
    Add("GET", "/api/v1/evidence/{id}/content", true, kLongRead,
        [this](const HttpRequest& req, const app::Principal* p, auto& params) {
      if (Status st = NoQuery(req); !st.ok()) return Error(st);
      auto f = app.GetEvidenceContent(*p, params[0], req.request_id);
      if (!f.ok()) return Error(f.status());
      HttpResponse r;
      r.content_type = f->content_type;
      r.body = std::move(f->bytes);
      r.headers.push_back({"Content-Disposition", "attachment; filename=\"" + f->filename + "\""});
      r.headers.push_back({"Content-Security-Policy", "sandbox"});
      return r;
    });
    Add("POST", "/api/v1/releases/{id}/signed-copy", true, [this](const HttpRequest& req, const app::Principal* p, auto& params) {
      if (Status st = NoQuery(req); !st.ok()) return Error(st);
      auto v = app.AttachSignedCopy(*p, params[0], req.content_type, req.body, req.request_id);
      return v.ok() ? JsonResponse(201, EvidenceJson(*v)) : Error(v.status());
    });
  }

  static std::vector<std::string> Split(const std::string& s) {
    std::vector<std::string> out;
    size_t start = 0;
    while (start <= s.size()) {
      size_t end = s.find(',', start);
      if (end == std::string::npos) end = s.size();
      if (end > start) out.push_back(s.substr(start, end - start));
      start = end + 1;
    }
    return out;
  }

  void Add(std::string method, std::string pattern, bool auth, decltype(Route::fn) fn) {
    AddRoute({std::move(method), std::move(pattern), auth, /*long_read=*/false, std::move(fn)});
  }
  void Add(std::string method, std::string pattern, bool auth, LongRead, decltype(Route::fn) fn) {
    TRELLIS_INVARIANT(method == "GET", "only a GET is a long read");
    AddRoute({std::move(method), std::move(pattern), auth, /*long_read=*/true, std::move(fn)});
  }
  void AddRoute(Route route) {
    const auto& table = RouteTable();
    TRELLIS_INVARIANT(std::find(table.begin(), table.end(), route.method + " " + route.pattern) != table.end(),
                      "a route missing from RouteTable()");
    routes.push_back(std::move(route));
  }

  void Register() {
    Add("GET", "/api/v1/health", false, [](auto&, auto*, auto&) { return JsonResponse(200, {{"status", "ok"}}); });
    Add("GET", "/api/v1/openapi.json", false, [](auto&, auto*, auto&) {
      HttpResponse r;
      r.body = OpenApiJson();
      return r;
    });
    Add("POST", "/api/v1/login", false, [this](const HttpRequest& req, auto*, auto&) {
      auto body = ParseJsonBody(req.content_type, req.body);
      if (!body.ok()) return Error(body.status());
      if (Status st = OnlyKeys(*body, {"username", "password", "code", "recovery_code"}); !st.ok()) return Error(st);
      if (!(*body)["username"].is_string() || !(*body)["password"].is_string()) {
        return Error(Code::kInvalidArgument, "username and password are required", "username");
      }
      // The second factor (S8): a TOTP code or a recovery code, when the user has one.
      auto code = Str(*body, "code");
      if (!code.ok()) return Error(code.status());
      auto recovery = Str(*body, "recovery_code");
      if (!recovery.ok()) return Error(recovery.status());
      if (!code->empty() && !recovery->empty()) return Error(Code::kInvalidArgument, "send a code or a recovery code, not both", "code");
      auto res = app.Login((*body)["username"].get<std::string>(), (*body)["password"].get<std::string>(), req.request_id,
                           code->empty() ? *recovery : *code);
      if (!res.ok() && res.status().field() == "second_factor") {
        return JsonResponse(401, {{"error", {{"code", "second_factor_required"}, {"message", res.status().message()},
                                             {"field", "code"}}}});
      }
      if (!res.ok()) return Error(res.status());
      HttpResponse r = JsonResponse(200, {{"user", UserJson(res->principal.user)}, {"csrf_token", res->csrf_token}});
      r.headers.emplace_back("Set-Cookie", SessionCookie(res->session_token, app.session_limits().absolute_seconds));
      return r;
    });
    Add("POST", "/api/v1/logout", true, [this](const HttpRequest& req, const app::Principal* p, auto&) {
      if (Status st = app.Logout(*p, req.request_id); !st.ok()) return Error(st);
      HttpResponse r;
      r.status = 204;
      r.headers.emplace_back("Set-Cookie", SessionCookie("", 0));
      r.headers.emplace_back("Clear-Site-Data", "\"cache\", \"cookies\", \"storage\"");
      return r;
    });
    Add("GET", "/api/v1/me", true, [](const HttpRequest&, const app::Principal* p, auto&) {
      return JsonResponse(200, UserJson(p->user));
    });
    Add("POST", "/api/v1/tokens", true, [this](const HttpRequest& req, const app::Principal* p, auto&) {
      auto body = ParseJsonBody(req.content_type, req.body);
      if (!body.ok()) return Error(body.status());
      if (Status st = OnlyKeys(*body, {"name", "ttl_seconds"}); !st.ok()) return Error(st);
      if (!(*body)["name"].is_string()) return Error(Code::kInvalidArgument, "is required", "name");
      int64_t ttl = 0;
      if (body->contains("ttl_seconds")) {
        if (!(*body)["ttl_seconds"].is_number_integer()) return Error(Code::kInvalidArgument, "must be a number", "ttl_seconds");
        ttl = (*body)["ttl_seconds"].get<int64_t>();
      }
      auto t = app.CreateToken(*p, p->user.username, (*body)["name"].get<std::string>(), ttl);
      return t.ok() ? JsonResponse(201, {{"token", *t}}) : Error(t.status());
    });
    Add("GET", "/api/v1/users", true, [this](const HttpRequest&, const app::Principal* p, auto&) {
      auto users = app.ListUsers(*p);
      if (!users.ok()) return Error(users.status());
      json items = json::array();
      for (const auto& u : *users) items.push_back(UserJson(u));
      return JsonResponse(200, {{"items", items}});
    });
    Add("GET", "/api/v1/fields", true, [](const HttpRequest&, const app::Principal*, auto&) {
      json out = json::array();
      for (const auto& f : domain::AllFields()) {
        json values = json::array();
        for (auto v : f.values) values.push_back(std::string(v));
        out.push_back({{"kind", domain::RecordKindName(f.kind)}, {"name", std::string(f.name)},
                       {"label", std::string(f.label)}, {"sensitivity", domain::SensitivityName(f.sensitivity)},
                       {"category", domain::CategoryName(f.category)}, {"values", values},
                       {"type", static_cast<int>(f.type)}, {"system_only", f.system_only}});
      }
      return JsonResponse(200, {{"items", out}});
    });
    for (RecordKind kind : {RecordKind::kSurvivor, RecordKind::kCase}) {
      const std::string base = kind == RecordKind::kSurvivor ? "/api/v1/survivors" : "/api/v1/cases";
      Add("GET", base, true, [this, kind](auto& req, auto* p, auto& params) { return Records(kind, "list", req, *p, params); });
      Add("POST", base, true, [this, kind](auto& req, auto* p, auto& params) { return Records(kind, "create", req, *p, params); });
      Add("GET", base + "/{id}", true, [this, kind](auto& req, auto* p, auto& params) { return Records(kind, "get", req, *p, params); });
      Add("PATCH", base + "/{id}", true, [this, kind](auto& req, auto* p, auto& params) { return Records(kind, "update", req, *p, params); });
    }
    Add("GET", "/api/v1/cases/{id}/screening", true, [this](const HttpRequest& req, const app::Principal* p, auto& params) {
      std::string as_of, lang = "en";
      for (const auto& [k, v] : req.query) {
        if (k == "as_of") {
          as_of = v;
        } else if (k == "lang") {
          lang = v;
        } else {
          return Error(Code::kInvalidArgument, "is not a known query parameter", k);
        }
      }
      auto out = app.ScreenCase(*p, params[0], as_of, lang, req.request_id);
      if (!out.ok()) return Error(out.status());
      HttpResponse r;
      r.body = *out;
      return r;
    });
    Add("GET", "/api/v1/agencies", true, [this](const HttpRequest&, const app::Principal* p, auto&) {
      auto list = app.ListAgencies(*p);
      if (!list.ok()) return Error(list.status());
      json items = json::array();
      for (const auto& a : *list) items.push_back({{"id", a.id}, {"name", a.name}, {"kind", domain::AgencyKindName(a.kind)}});
      return JsonResponse(200, {{"items", items}});
    });
    Add("GET", "/api/v1/audit", true, kLongRead, [this](const HttpRequest& req, const app::Principal* p, auto&) {
      int64_t before = 0;
      int limit = 50;
      std::string survivor;
      for (const auto& [k, v] : req.query) {
        if (k == "before") {
          auto r = std::from_chars(v.data(), v.data() + v.size(), before);
          if (r.ec != std::errc() || r.ptr != v.data() + v.size()) return Error(Code::kInvalidArgument, "must be a number", "before");
        } else if (k == "limit") {
          auto r = std::from_chars(v.data(), v.data() + v.size(), limit);
          if (r.ec != std::errc() || r.ptr != v.data() + v.size()) return Error(Code::kInvalidArgument, "must be a number", "limit");
        } else if (k == "survivor_id") {
          survivor = v;
        } else {
          return Error(Code::kInvalidArgument, "is not a known query parameter", k);
        }
      }
      auto page = app.ListAudit(*p, before, limit, survivor, req.request_id);
      if (!page.ok()) return Error(page.status());
      json items = json::array();
      for (const auto& e : page->items) {
        items.push_back({{"seq", e.seq}, {"time", FormatTimestamp(e.time)}, {"actor", e.actor}, {"action", e.action},
                         {"outcome", e.outcome}, {"target", e.target}, {"survivor", e.survivor},
                         {"request", e.request}, {"detail", e.detail}});
      }
      json out = {{"items", items}};
      out["next_before"] = page->next_before ? json(page->next_before) : json(nullptr);
      return JsonResponse(200, out);
    });
    Add("DELETE", "/api/v1/survivors/{id}", true, [this](const HttpRequest& req, const app::Principal* p, auto& params) {
      auto running_backups = app.EraseSurvivor(*p, params[0], req.request_id);
      if (!running_backups.ok()) return Error(running_backups.status());
      if (*running_backups > 0) {
        spdlog::warn("survivor erased while a backup is running in the data directory: its temporary copy of the"
                     " store may hold the erased data key until the backup ends (request {})", req.request_id);
      }
      HttpResponse r;
      r.status = 204;
      return r;
    });
    RegisterConsent();
    RegisterSecondFactor();
    RegisterJobs();
    RegisterEvidence();
  }

  // The TOTP second factor (S8): the user's own enrolment, and an administrator's reset.
  void RegisterSecondFactor() {
    Add("GET", "/api/v1/me/second-factor", true, [this](const HttpRequest& req, const app::Principal* p, auto&) {
      if (Status st = NoQuery(req); !st.ok()) return Error(st);
      auto sf = app.SecondFactor(*p);
      if (!sf.ok()) return Error(sf.status());
      return JsonResponse(200, {{"enabled", sf->enabled}, {"pending", sf->pending},
                                {"recovery_codes_left", sf->recovery_codes_left}});
    });
    Add("POST", "/api/v1/me/second-factor/totp", true, [this](const HttpRequest& req, const app::Principal* p, auto&) {
      auto e = app.BeginTotp(*p, req.request_id);
      if (!e.ok()) return Error(e.status());
      return JsonResponse(201, {{"secret", e->secret_base32}, {"otpauth_uri", e->otpauth_uri}});
    });
    Add("POST", "/api/v1/me/second-factor/totp/confirm", true, [this](const HttpRequest& req, const app::Principal* p, auto&) {
      auto body = ParseJsonBody(req.content_type, req.body);
      if (!body.ok()) return Error(body.status());
      if (Status st = OnlyKeys(*body, {"code"}); !st.ok()) return Error(st);
      auto code = Str(*body, "code");
      if (!code.ok()) return Error(code.status());
      auto codes = app.ConfirmTotp(*p, *code, req.request_id);
      if (!codes.ok()) return Error(codes.status());
      return JsonResponse(200, {{"enabled", true}, {"recovery_codes", *codes}});
    });
    Add("POST", "/api/v1/me/second-factor/disable", true, [this](const HttpRequest& req, const app::Principal* p, auto&) {
      auto body = ParseJsonBody(req.content_type, req.body);
      if (!body.ok()) return Error(body.status());
      if (Status st = OnlyKeys(*body, {"password", "code"}); !st.ok()) return Error(st);
      auto password = Str(*body, "password");
      if (!password.ok()) return Error(password.status());
      auto code = Str(*body, "code");
      if (!code.ok()) return Error(code.status());
      if (Status st = app.DisableTotp(*p, *password, *code, req.request_id); !st.ok()) return Error(st);
      HttpResponse r;
      r.status = 204;
      return r;
    });
    Add("POST", "/api/v1/users/{id}/second-factor/reset", true, [this](const HttpRequest& req, const app::Principal* p, auto& params) {
      if (Status st = app.ResetTotp(*p, params[0], req.request_id); !st.ok()) return Error(st);
      HttpResponse r;
      r.status = 204;
      return r;
    });
  }

  HttpResponse Static(const HttpRequest& req) {
    namespace fs = std::filesystem;
    if (options.static_dir.empty()) {
      HttpResponse r;
      r.content_type = "text/html; charset=utf-8";
      r.body = "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Trellis</title></head>"
               "<body><main><h1>Trellis</h1><p>The web interface is not built. The API is at /api/v1/.</p></main></body></html>";
      return r;
    }
    std::string rel = req.path == "/" ? "index.html" : req.path.substr(1);
    if (rel.find("..") != std::string::npos || rel.find('\\') != std::string::npos) return Error(Code::kNotFound, "not found");
    fs::path file = fs::path(options.static_dir) / rel;
    std::error_code ec;
    if (!fs::is_regular_file(file, ec)) file = fs::path(options.static_dir) / "index.html";  // client-side routes
    std::ifstream in(file, std::ios::binary);
    if (!in) return Error(Code::kNotFound, "not found");
    std::stringstream ss;
    ss << in.rdbuf();
    HttpResponse r;
    r.content_type = MimeOf(file.string());
    r.body = ss.str();
    return r;
  }

  HttpResponse Handle(const HttpRequest& req) {
    const bool api = req.path.rfind("/api/", 0) == 0;
    std::vector<std::string> params;
    std::string allow;  // the methods of the routes of this path, for a 405
    // HEAD is a GET whose body the server does not send (Session::Write): the same
    // authentication, decision and audit entry, since its Content-Length tells a record's size.
    // Not on a long read (a file, a document, the audit scan): fetching an export's file uses it
    // up, and a download manager's or a link preview's HEAD must not.
    const auto takes_head = [](const Route& route) { return route.method == "GET" && !route.long_read; };
    const bool head = req.method == "HEAD";
    for (const Route* r : RoutesFor(req.path)) {
      const Route& route = *r;
      if (!Match(route.pattern, req.path, &params)) continue;
      if (head ? !takes_head(route) : route.method != req.method) {
        allow += (allow.empty() ? "" : ", ") + route.method + (takes_head(route) ? ", HEAD" : "");
        continue;
      }
      if (!route.needs_auth) return route.fn(req, nullptr, params);
      // Authentication and the use case read one snapshot of the store (one read transaction).
      app::SharedReads reads(app);
      auto p = Authenticate(req);
      if (!p.ok()) return Error(Code::kUnauthenticated, "log in first");
      // CSRF: a cookie session must echo its token on every state-changing request (S9).
      if (req.method != "GET" && req.method != "HEAD" && !app.CheckCsrf(*p, req.csrf_token)) {
        return Error(Code::kForbidden, "missing or wrong X-CSRF-Token header");
      }
      return route.fn(req, &*p, params);
    }
    if (!allow.empty()) {
      HttpResponse r = Error(Code::kInvalidArgument, "method not allowed on this path");
      r.status = 405;
      r.headers.emplace_back("Allow", allow);  // RFC 9110, 15.5.6
      return r;
    }
    if (api) return Error(Code::kNotFound, "no such API route");
    if (req.method != "GET" && req.method != "HEAD") return Error(Code::kNotFound, "not found");
    return Static(req);
  }
};

Router::Router(app::App& app, RouteOptions options) : impl_(std::make_unique<Impl>(app, std::move(options))) {}
Router::~Router() = default;

HttpResponse Router::Handle(const HttpRequest& req) {
  try {
    return impl_->Handle(req);
  } catch (const std::exception&) {
    return Error(Code::kInternal, "internal error");
  }
}

void Router::HandleDeferred(const HttpRequest& req, std::function<void(HttpResponse)> respond) {
  app::AuditDeferral deferral;
  HttpResponse resp = Handle(req);
  deferral.Finish([resp = std::move(resp), respond = std::move(respond)](const Status& audited) mutable {
    // The response leaves only once the record of what it reveals is durable (S12, S17).
    respond(audited.ok() ? std::move(resp) : Error(audited));
  });
}

const std::vector<std::string>& RouteTable() {
  static const std::vector<std::string> table = {
      "GET /api/v1/health",          "GET /api/v1/openapi.json",      "POST /api/v1/login",
      "POST /api/v1/logout",         "GET /api/v1/me",                "POST /api/v1/tokens",
      "GET /api/v1/users",           "GET /api/v1/fields",            "GET /api/v1/survivors",
      "POST /api/v1/survivors",      "GET /api/v1/survivors/{id}",    "PATCH /api/v1/survivors/{id}",
      "GET /api/v1/cases",           "POST /api/v1/cases",            "GET /api/v1/cases/{id}",
      "PATCH /api/v1/cases/{id}",    "DELETE /api/v1/survivors/{id}", "GET /api/v1/audit",
      "GET /api/v1/agencies",
      "GET /api/v1/cases/{id}/screening",
      "POST /api/v1/releases",       "GET /api/v1/survivors/{id}/releases", "POST /api/v1/releases/{id}/revoke",
      "GET /api/v1/releases/{id}/document", "GET /api/v1/shared", "POST /api/v1/break-glass",
      "POST /api/v1/compelled-disclosures", "GET /api/v1/alerts", "GET /api/v1/tasks", "POST /api/v1/tasks/{id}/done",
      "GET /api/v1/survivors/{id}/disclosures",
      "GET /api/v1/me/second-factor", "POST /api/v1/me/second-factor/totp",
      "POST /api/v1/me/second-factor/totp/confirm", "POST /api/v1/me/second-factor/disable",
      "POST /api/v1/users/{id}/second-factor/reset",
      "POST /api/v1/jobs/import-htcds", "POST /api/v1/jobs/export-htcds", "GET /api/v1/jobs/{id}",
      "GET /api/v1/jobs/{id}/file", "POST /api/v1/jobs/{id}/cancel",
      "POST /api/v1/survivors/{id}/evidence", "GET /api/v1/survivors/{id}/evidence", "GET /api/v1/evidence/{id}",
      "PUT /api/v1/evidence/{id}/content", "GET /api/v1/evidence/{id}/content", "POST /api/v1/releases/{id}/signed-copy",
  };
  return table;
}

bool Router::Authenticated(const std::string& cookie, const std::string& authorization) {
  HttpRequest req;
  req.cookie = cookie;
  req.authorization = authorization;
  return impl_->Authenticate(req).ok();
}

bool Router::IsLongRead(const std::string& method, const std::string& path) const {
  if (method != "GET" && method != "HEAD") return false;
  std::vector<std::string> params;
  for (const Route* route : impl_->RoutesFor(path)) {
    if (route->long_read && Match(route->pattern, path, &params)) return true;
  }
  return false;
}

size_t UploadBodyLimit(const std::string& method, const std::string& path) {
  std::vector<std::string> params;
  if ((method == "PUT" && Match("/api/v1/evidence/{id}/content", path, &params)) ||
      (method == "POST" && Match("/api/v1/releases/{id}/signed-copy", path, &params))) {
    return kUploadBodyBytes;
  }
  return 0;
}

}  // namespace trellis::api

#include "api/dto.h"

#include <charconv>

#include "domain/fields.h"

namespace trellis::api {

using json = nlohmann::json;
using domain::RecordKind;

namespace {
constexpr size_t kMaxJsonDepth = 16;
}  // namespace

// Rejects nesting deeper than kMaxJsonDepth before the parser sees the text.
static bool DepthOk(const std::string& body) {
  size_t depth = 0;
  bool in_string = false, escaped = false;
  for (char c : body) {
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > kMaxJsonDepth) return false;
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return true;
}

Result<json> ParseJsonBody(const std::string& content_type, const std::string& body) {
  if (content_type.rfind("application/json", 0) != 0) {
    return Status::Invalid("the body must be application/json", "content-type");
  }
  if (!DepthOk(body)) return Status::Invalid("the JSON is nested too deeply", "body");
  json j = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return Status::Invalid("the body is not valid JSON (or not UTF-8)", "body");
  if (!j.is_object()) return Status::Invalid("the body must be a JSON object", "body");
  return j;
}

Status OnlyKeys(const json& j, std::initializer_list<const char*> allowed) {
  for (auto it = j.begin(); it != j.end(); ++it) {
    bool ok = false;
    for (const char* a : allowed) ok |= it.key() == a;
    if (!ok) return Status::Invalid("is not a known property", it.key());
  }
  return Status::Ok();
}

// A typed JSON value -> the canonical text of the field table.
static Result<std::string> FieldFromJson(const domain::FieldSpec& spec, const json& v) {
  const std::string name(spec.name);
  switch (spec.type) {
    case domain::FieldType::kCheckbox:
      if (!v.is_boolean()) return Status::Invalid("must be true or false", name);
      return std::string(v.get<bool>() ? "true" : "false");
    case domain::FieldType::kNumber:
      if (!v.is_number_integer() && !v.is_number_unsigned()) return Status::Invalid("must be a whole number", name);
      return std::to_string(v.get<int64_t>());
    case domain::FieldType::kMultiPicklist:
    case domain::FieldType::kCountries: {
      if (!v.is_array()) return Status::Invalid("must be an array of strings", name);
      std::string out;
      for (const auto& e : v) {
        if (!e.is_string()) return Status::Invalid("must be an array of strings", name);
        const std::string s = e.get<std::string>();
        if (s.find(';') != std::string::npos) return Status::Invalid("contains a value that is not allowed", name);
        out += (out.empty() ? "" : ";") + s;
      }
      return out;
    }
    default:
      if (!v.is_string()) return Status::Invalid("must be a string", name);
      return v.get<std::string>();
  }
}

static json FieldToJson(const domain::FieldSpec& spec, const std::string& v) {
  switch (spec.type) {
    case domain::FieldType::kCheckbox: return v == "true";
    case domain::FieldType::kNumber: {
      int64_t n = 0;
      std::from_chars(v.data(), v.data() + v.size(), n);
      return n;
    }
    case domain::FieldType::kMultiPicklist:
    case domain::FieldType::kCountries: {
      json arr = json::array();
      for (auto part : domain::SplitList(v)) arr.push_back(std::string(part));
      return arr;
    }
    default: return v;
  }
}

json RecordJson(const app::RecordView& v) {
  const domain::Record& r = v.record;
  json fields = json::object();
  for (const auto& [name, value] : r.fields) {
    if (const auto* spec = domain::FindField(r.kind, name)) fields.emplace(name, FieldToJson(*spec, value));
  }
  // Built member by member and moved in: an initializer list would copy every subtree.
  json j = json::object();
  j.emplace("id", r.id);
  j.emplace("kind", domain::RecordKindName(r.kind));
  j.emplace("agency_id", r.agency_id);
  j.emplace("version", r.version);
  j.emplace("created_at", FormatTimestamp(r.created_at));
  j.emplace("updated_at", FormatTimestamp(r.updated_at));
  j.emplace("fields", std::move(fields));
  j.emplace("team", r.team);
  j.emplace("redacted", v.redacted);
  if (r.kind == RecordKind::kCase) {
    j.emplace("survivor_id", r.survivor_id);
    j.emplace("case_number", r.case_number);
  }
  return j;
}

Result<app::RecordInput> InputFromJson(RecordKind kind, const json& body, bool create) {
  app::RecordInput in;
  if (create) {
    TRELLIS_RETURN_IF_ERROR(kind == RecordKind::kCase ? OnlyKeys(body, {"fields", "team", "survivor_id"})
                                                      : OnlyKeys(body, {"fields", "team"}));
  } else {
    TRELLIS_RETURN_IF_ERROR(OnlyKeys(body, {"fields", "team", "version"}));
  }
  if (body.contains("fields")) {
    const json& f = body["fields"];
    if (!f.is_object()) return Status::Invalid("must be an object", "fields");
    for (auto it = f.begin(); it != f.end(); ++it) {
      const domain::FieldSpec* spec = domain::FindField(kind, it.key());
      if (!spec) return Status::Invalid(std::string("is not a field of a ") + domain::RecordKindName(kind), it.key());
      if (it->is_null()) {
        if (create) return Status::Invalid("cannot be null in a new record", it.key());
        in.unset.push_back(it.key());
        continue;
      }
      TRELLIS_ASSIGN_OR_RETURN(auto text, FieldFromJson(*spec, *it));
      in.set.emplace(it.key(), std::move(text));
    }
  }
  if (body.contains("team")) {
    const json& t = body["team"];
    if (!t.is_array()) return Status::Invalid("must be an array of user ids", "team");
    std::vector<std::string> team;
    for (const auto& e : t) {
      if (!e.is_string()) return Status::Invalid("must be an array of user ids", "team");
      team.push_back(e.get<std::string>());
    }
    in.team = std::move(team);
  }
  if (kind == RecordKind::kCase && create) {
    if (!body.contains("survivor_id") || !body["survivor_id"].is_string()) {
      return Status::Invalid("is required", "survivor_id");
    }
    in.survivor_id = body["survivor_id"].get<std::string>();
  }
  return in;
}


Result<app::RecordInput> DecodeRecordBody(RecordKind kind, const std::string& content_type, const std::string& body,
                                          bool create, int64_t* version) {
  TRELLIS_ASSIGN_OR_RETURN(json j, ParseJsonBody(content_type, body));
  if (!create) {
    if (!j.contains("version") || !j["version"].is_number_integer()) {
      return Status::Invalid("is required: the version you read", "version");
    }
    if (version) *version = j["version"].get<int64_t>();
  }
  return InputFromJson(kind, j, create);
}

}  // namespace trellis::api

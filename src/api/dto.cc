#include "api/dto.h"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <simdjson.h>

#include <charconv>
#include <cstdint>
#include <cstring>

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

namespace {

// Record responses are written with RapidJSON's streaming writer: no JSON tree, no second pass
// (DESIGN.md: a faster JSON library "where a benchmark shows it matters" — building and dumping
// the nlohmann tree was a sixth of a GET's user-space instructions). Keys in sorted order, as
// nlohmann's std::map writes them, so the bytes match what the API has always answered.
// Invalid UTF-8 cannot reach a response: every string that is not pure ASCII is checked with
// simdjson's validator (RapidJSON's own kWriteValidateEncodingFlag decodes code point by code
// point, which made the writer as slow as the nlohmann tree it replaced).

// What writing `s` as a JSON string needs: escaping (it holds '"', '\\' or a control character,
// below 0x20), and a UTF-8 check (it holds a byte of 0x80 or more: text of pure ASCII is valid
// UTF-8). Eight bytes at a time: a byte is below n (n <= 0x80) exactly when subtracting n from
// it borrows into its top bit while that bit was clear in the byte itself.
struct StringScan {
  bool escape = false;
  bool non_ascii = false;
};
StringScan Scan(std::string_view s) {
  constexpr uint64_t kOnes = 0x0101010101010101ULL, kTops = 0x8080808080808080ULL;
  uint64_t escape = 0, tops = 0;
  auto add = [&](uint64_t x) {
    auto below = [&](uint64_t v, uint64_t n) { return (v - kOnes * n) & ~v; };
    escape |= below(x, 0x20) | below(x ^ (kOnes * '"'), 1) | below(x ^ (kOnes * '\\'), 1);
    tops |= x;
  };
  uint64_t x = kOnes * ' ';  // a string shorter than a word is read padded with spaces
  if (s.size() < 8) {
    if (!s.empty()) std::memcpy(&x, s.data(), s.size());
    add(x);
  } else {
    for (size_t i = 0; i + 8 <= s.size(); i += 8) {
      std::memcpy(&x, s.data() + i, 8);
      add(x);
    }
    std::memcpy(&x, s.data() + s.size() - 8, 8);  // the last word, overlapping the one before
    add(x);
  }
  return {(escape & kTops) != 0, (tops & kTops) != 0};
}

// RapidJSON's writer with one shortcut: a string with nothing to escape is copied in one piece
// between its quotes, instead of character by character through RapidJSON's escape table (over
// a tenth of a GET's instructions). The bytes are the same (dto_test compares the two writers
// for every byte value at every position).
class Writer : public rapidjson::Writer<rapidjson::StringBuffer> {
 public:
  using Base = rapidjson::Writer<rapidjson::StringBuffer>;
  using Base::Base;
  // Named apart from RapidJSON's String(const char*, SizeType), which it must not hide.
  bool Text(std::string_view s, bool escape) {
    if (escape) return Base::String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
    Prefix(rapidjson::kStringType);
    char* out = os_->Push(s.size() + 2);
    out[0] = '"';
    if (!s.empty()) std::memcpy(out + 1, s.data(), s.size());
    out[s.size() + 1] = '"';
    return EndValue(true);
  }
};

// Invalid UTF-8 is refused (the caller answers 500), never written.
bool Str(Writer& w, std::string_view s) {
  const StringScan scan = Scan(s);
  return (!scan.non_ascii || simdjson::validate_utf8(s.data(), s.size())) && w.Text(s, scan.escape);
}
// Keys are string literals or names of the field table (domain/fields), never stored or request
// text: they need no UTF-8 check.
bool Key(Writer& w, std::string_view s) { return w.Text(s, Scan(s).escape); }

bool WriteField(Writer& w, const domain::FieldSpec& spec, const std::string& v) {
  switch (spec.type) {
    case domain::FieldType::kCheckbox: return w.Bool(v == "true");
    case domain::FieldType::kNumber: {
      int64_t n = 0;
      std::from_chars(v.data(), v.data() + v.size(), n);
      return w.Int64(n);
    }
    case domain::FieldType::kMultiPicklist:
    case domain::FieldType::kCountries: {
      bool ok = w.StartArray();
      for (auto part : domain::SplitList(v)) ok = ok && Str(w, part);
      return ok && w.EndArray();
    }
    default: return Str(w, v);
  }
}

bool WriteStrings(Writer& w, const std::vector<std::string>& list) {
  bool ok = w.StartArray();
  for (const auto& s : list) ok = ok && Str(w, s);
  return ok && w.EndArray();
}

bool WriteRecord(Writer& w, const app::RecordView& v) {
  const domain::Record& r = v.record;
  const bool is_case = r.kind == RecordKind::kCase;
  bool ok = w.StartObject();
  ok = ok && Key(w, "agency_id") && Str(w, r.agency_id);
  if (is_case) ok = ok && Key(w, "case_number") && Str(w, r.case_number);
  ok = ok && Key(w, "created_at") && Str(w, FormatTimestamp(r.created_at));
  ok = ok && Key(w, "fields") && w.StartObject();
  for (const auto& [name, value] : r.fields) {  // std::map: sorted by name
    if (const auto* spec = domain::FindField(r.kind, name)) ok = ok && Key(w, name) && WriteField(w, *spec, value);
  }
  ok = ok && w.EndObject();
  ok = ok && Key(w, "id") && Str(w, r.id);
  ok = ok && Key(w, "kind") && Str(w, domain::RecordKindName(r.kind));
  ok = ok && Key(w, "redacted") && WriteStrings(w, v.redacted);
  if (is_case) ok = ok && Key(w, "survivor_id") && Str(w, r.survivor_id);
  ok = ok && Key(w, "team") && WriteStrings(w, r.team);
  ok = ok && Key(w, "updated_at") && Str(w, FormatTimestamp(r.updated_at));
  ok = ok && Key(w, "version") && w.Int64(r.version);
  return ok && w.EndObject();
}

Result<std::string> Finish(bool ok, const rapidjson::StringBuffer& buf) {
  if (!ok) return Status::Internal("a record holds text that is not UTF-8");
  return std::string(buf.GetString(), buf.GetSize());
}

}  // namespace

Result<std::string> RecordJsonText(const app::RecordView& v) {
  rapidjson::StringBuffer buf(nullptr, 1024);  // a record is ~0.5-1 KB: no regrowth on the way
  Writer w(buf);
  return Finish(WriteRecord(w, v), buf);
}

Result<std::string> RecordPageJsonText(const std::vector<app::RecordView>& items, const std::string& next_cursor) {
  rapidjson::StringBuffer buf(nullptr, 1024 * (items.size() + 1));
  Writer w(buf);
  bool ok = w.StartObject() && Key(w, "items") && w.StartArray();
  for (const auto& v : items) ok = ok && WriteRecord(w, v);
  ok = ok && w.EndArray() && Key(w, "next_cursor") && (next_cursor.empty() ? w.Null() : Str(w, next_cursor));
  return Finish(ok && w.EndObject(), buf);
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

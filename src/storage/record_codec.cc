#include "storage/record_codec.h"

#include <nlohmann/json.hpp>

namespace trellis::storage {

std::string EncodePlain(const std::map<std::string, std::string>& m) { return nlohmann::json(m).dump(); }

namespace {

// A JSON string as nlohmann::json::dump() writes it (ensure_ascii off): the two-character
// escapes, \u00xx (lower-case hex) for the other control characters, every other byte as is.
void AppendJsonString(std::string* out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out->push_back('"');
  size_t plain_from = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    out->append(s.data() + plain_from, i - plain_from);
    plain_from = i + 1;
    switch (c) {
      case '"': out->append("\\\""); break;
      case '\\': out->append("\\\\"); break;
      case '\b': out->append("\\b"); break;
      case '\f': out->append("\\f"); break;
      case '\n': out->append("\\n"); break;
      case '\r': out->append("\\r"); break;
      case '\t': out->append("\\t"); break;
      default: {
        const char u[] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 0xf]};
        out->append(u, sizeof u);
      }
    }
  }
  out->append(s.data() + plain_from, s.size() - plain_from);
  out->push_back('"');
}

}  // namespace

void BeginPlain(std::string* out) { out->push_back('{'); }

void AppendPlain(std::string* out, std::string_view name, std::string_view value) {
  if (out->back() != '{') out->push_back(',');
  AppendJsonString(out, name);
  out->push_back(':');
  AppendJsonString(out, value);
}

void EndPlain(std::string* out) { out->push_back('}'); }

bool DecodePlain(std::string_view text, std::map<std::string, std::string>* out) {
  auto j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return false;
  for (auto& [k, v] : j.items()) {
    if (v.is_string()) out->emplace(k, v.get<std::string>());
  }
  return true;
}

void AppendSealed(std::string* out, std::string_view name, std::string_view env) {
  out->push_back(static_cast<char>(name.size() >> 8));
  out->push_back(static_cast<char>(name.size() & 0xff));
  out->append(name);
  for (int i = 3; i >= 0; --i) out->push_back(static_cast<char>((env.size() >> (8 * i)) & 0xff));
  out->append(env);
}

size_t SealedEntrySize(std::string_view name, size_t envelope_size) { return 2 + name.size() + 4 + envelope_size; }

char* AppendSealedSpace(std::string* out, std::string_view name, size_t envelope_size) {
  out->push_back(static_cast<char>(name.size() >> 8));
  out->push_back(static_cast<char>(name.size() & 0xff));
  out->append(name);
  for (int i = 3; i >= 0; --i) out->push_back(static_cast<char>((envelope_size >> (8 * i)) & 0xff));
  out->resize(out->size() + envelope_size);
  return out->data() + out->size() - envelope_size;
}

std::string EncodeSealed(const std::map<std::string, std::string>& m) {
  std::string out;
  for (const auto& [name, env] : m) AppendSealed(&out, name, env);
  return out;
}

bool DecodeSealed(std::string_view b, std::map<std::string, std::string>* out) {
  size_t at = 0;
  while (at < b.size()) {
    if (at + 2 > b.size()) return false;
    size_t nl = (static_cast<uint8_t>(b[at]) << 8) | static_cast<uint8_t>(b[at + 1]);
    at += 2;
    if (at + nl + 4 > b.size()) return false;
    std::string name(b.substr(at, nl));
    at += nl;
    size_t el = 0;
    for (int i = 0; i < 4; ++i) el = (el << 8) | static_cast<uint8_t>(b[at + i]);
    at += 4;
    if (at + el > b.size()) return false;
    out->emplace(std::move(name), std::string(b.substr(at, el)));
    at += el;
  }
  return true;
}

std::string EncodeTeam(const std::vector<std::string>& team) { return nlohmann::json(team).dump(); }

bool DecodeTeam(std::string_view text, std::vector<std::string>* out) {
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (!j.is_array()) return false;
  for (auto& v : j) {
    if (v.is_string()) out->push_back(v.get<std::string>());
  }
  return true;
}

}  // namespace trellis::storage

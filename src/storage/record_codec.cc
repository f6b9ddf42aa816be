#include "storage/record_codec.h"

#include <cstring>

#include <simdjson.h>

#include <nlohmann/json.hpp>

#include "core/big_endian.h"

namespace trellis::storage {

std::string EncodePlain(const std::map<std::string, std::string>& m) { return nlohmann::json(m).dump(); }

namespace {

// Every record read decodes its `plain` and `team` columns: simdjson (DESIGN.md: "where a
// benchmark shows it matters") does it in a tenth of nlohmann's instructions. One parser per
// thread, reused; it copies the text into its own padded buffer.
simdjson::dom::parser& Parser() {
  thread_local simdjson::dom::parser parser;
  return parser;
}

// A JSON string exactly as nlohmann::json::dump() writes it (EncodePlain's bytes): written by
// nlohmann itself, not by hand.
void AppendJsonString(std::string* out, std::string_view s) {
  out->append(nlohmann::json(s).dump());
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
  simdjson::dom::object obj;
  if (Parser().parse(text.data(), text.size()).get(obj) != simdjson::SUCCESS) return false;
  for (auto field : obj) {
    std::string_view v;
    if (field.value.get(v) == simdjson::SUCCESS) out->emplace(std::string(field.key), std::string(v));
  }
  return true;
}

void AppendSealed(std::string* out, std::string_view name, std::string_view env) {
  std::memcpy(AppendSealedSpace(out, name, env.size()), env.data(), env.size());
}

size_t SealedEntrySize(std::string_view name, size_t envelope_size) { return 2 + name.size() + 4 + envelope_size; }

char* AppendSealedSpace(std::string* out, std::string_view name, size_t envelope_size) {
  AppendBigEndian16(out, static_cast<uint16_t>(name.size()));
  out->append(name);
  AppendBigEndian32(out, static_cast<uint32_t>(envelope_size));
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
    const size_t nl = LoadBigEndian16(b.data() + at);
    at += 2;
    if (at + nl + 4 > b.size()) return false;
    std::string name(b.substr(at, nl));
    at += nl;
    const size_t el = LoadBigEndian32(b.data() + at);
    at += 4;
    if (at + el > b.size()) return false;
    out->emplace(std::move(name), std::string(b.substr(at, el)));
    at += el;
  }
  return true;
}

std::string EncodeTeam(const std::vector<std::string>& team) { return nlohmann::json(team).dump(); }

bool DecodeTeam(std::string_view text, std::vector<std::string>* out) {
  simdjson::dom::array arr;
  if (Parser().parse(text.data(), text.size()).get(arr) != simdjson::SUCCESS) return false;
  for (auto e : arr) {
    std::string_view v;
    if (e.get(v) == simdjson::SUCCESS) out->emplace_back(v);
  }
  return true;
}

}  // namespace trellis::storage

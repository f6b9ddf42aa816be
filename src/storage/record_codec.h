// How a record's field maps are laid out in a backend row (shared by every backend):
//  - plain fields: a JSON object of strings;
//  - sealed fields: binary, repeated (u16 name length | name | u32 envelope length | envelope);
//  - team: a JSON array of user ids.
// Decoders are total: malformed input yields an empty (or partial) map, never a crash.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace trellis::storage {

std::string EncodePlain(const std::map<std::string, std::string>& m);
// EncodePlain without a map: AppendPlain each (name, value) in increasing name order (as a
// std::map holds them) between BeginPlain and EndPlain to get exactly EncodePlain's bytes.
// Values must be valid UTF-8 (EncodePlain refuses anything else; the HTCDS import validates
// every value first).
void BeginPlain(std::string* out);
void AppendPlain(std::string* out, std::string_view name, std::string_view value);
void EndPlain(std::string* out);
bool DecodePlain(std::string_view text, std::map<std::string, std::string>* out);
std::string EncodeSealed(const std::map<std::string, std::string>& m);
// Appends one (field, envelope) entry to an EncodeSealed encoding; entries appended in field
// name order give exactly EncodeSealed's output.
void AppendSealed(std::string* out, std::string_view name, std::string_view envelope);
// AppendSealed with room for an envelope of `envelope_size` bytes instead of a copy of one: the
// caller writes the envelope at the returned pointer (valid until `out` changes again).
char* AppendSealedSpace(std::string* out, std::string_view name, size_t envelope_size);
// The bytes AppendSealed adds for a field `name` and an envelope of `envelope_size` bytes.
size_t SealedEntrySize(std::string_view name, size_t envelope_size);
bool DecodeSealed(std::string_view bytes, std::map<std::string, std::string>* out);
std::string EncodeTeam(const std::vector<std::string>& team);
bool DecodeTeam(std::string_view text, std::vector<std::string>* out);

}  // namespace trellis::storage

#include "domain/evidence.h"

#include <algorithm>
#include <cctype>

#include "domain/fields.h"

namespace trellis::domain {

const std::vector<std::string_view>& EvidenceKinds() {
  static const std::vector<std::string_view> k = {
      "identity_document", "photo",          "audio_recording", "video_recording",
      "written_statement", "medical_record", "police_report",   "court_document",
      "signed_release",    "attorney_notes", "other"};
  return k;
}

bool IsWorkProductKind(std::string_view kind) { return kind == "attorney_notes"; }

const std::vector<std::string_view>& EvidenceContentTypes() {
  static const std::vector<std::string_view> t = {"application/pdf", "image/jpeg", "image/png",  "image/heic",
                                                  "audio/mpeg",      "audio/mp4",  "audio/wav",  "video/mp4",
                                                  "video/quicktime", "text/plain"};
  return t;
}

std::string CanonicalContentType(std::string_view type) {
  std::string t(type.substr(0, type.find(';')));
  while (!t.empty() && t.back() == ' ') t.pop_back();
  std::transform(t.begin(), t.end(), t.begin(), [](unsigned char c) { return std::tolower(c); });
  static const std::pair<std::string_view, std::string_view> kAliases[] = {
      {"image/jpg", "image/jpeg"},   {"image/pjpeg", "image/jpeg"}, {"audio/x-wav", "audio/wav"},
      {"audio/wave", "audio/wav"},   {"audio/vnd.wave", "audio/wav"}, {"audio/x-m4a", "audio/mp4"},
      {"audio/mp3", "audio/mpeg"},   {"image/heif", "image/heic"}};
  for (const auto& [from, to] : kAliases) {
    if (t == from) t = to;
  }
  const auto& ok = EvidenceContentTypes();
  return std::find(ok.begin(), ok.end(), t) != ok.end() ? t : std::string();
}

std::string_view ExtensionOf(std::string_view t) {
  static const std::pair<std::string_view, std::string_view> kExt[] = {
      {"application/pdf", "pdf"}, {"image/jpeg", "jpg"}, {"image/png", "png"},       {"image/heic", "heic"},
      {"audio/mpeg", "mp3"},      {"audio/mp4", "m4a"},  {"audio/wav", "wav"},       {"video/mp4", "mp4"},
      {"video/quicktime", "mov"}, {"text/plain", "txt"}};
  for (const auto& [type, ext] : kExt) {
    if (type == t) return ext;
  }
  return "bin";
}

Status ValidateEvidenceFields(const EvidenceFields& f) {
  const auto& kinds = EvidenceKinds();
  if (f.kind.empty()) return Status::Invalid("is required", "kind");
  if (std::find(kinds.begin(), kinds.end(), f.kind) == kinds.end()) return Status::Invalid("is not a known kind", "kind");
  if (f.title.empty() || f.title.size() > kMaxEvidenceTitle || !IsValidUtf8(f.title) ||
      f.title.find_first_of("\r\n") != std::string::npos) {
    return Status::Invalid("give a title on one line (1 to 200 characters)", "title");
  }
  if (f.description.size() > kMaxEvidenceDescription || !IsValidUtf8(f.description)) {
    return Status::Invalid("may have at most 5,000 characters", "description");
  }
  if (!f.date.empty() && !IsValidDate(f.date)) return Status::Invalid("must be a date YYYY-MM-DD", "date");
  return Status::Ok();
}

}  // namespace trellis::domain

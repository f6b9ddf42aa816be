// Evidence items (docs/consent.md, "Evidence items"): documents, photos, recordings and
// statements kept for one survivor, optionally with a file. The value rules that need no
// store: kinds, which kinds are attorney work product, the file size limit and the content
// types accepted. No I/O; app/ checks a file's bytes against its declared type (libmagic).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace trellis::domain {

// The largest file an evidence item may carry (plaintext bytes).
inline constexpr int64_t kMaxEvidenceBytes = 10 * 1024 * 1024;
inline constexpr size_t kMaxEvidenceTitle = 200;
inline constexpr size_t kMaxEvidenceDescription = 5000;

// Kind codes: identity_document, photo, audio_recording, video_recording, written_statement,
// medical_record, police_report, court_document, signed_release, attorney_notes, other.
const std::vector<std::string_view>& EvidenceKinds();
// Attorney work product (attorney_notes): visible to the owning agency's legal team only,
// never named in a release (S4).
bool IsWorkProductKind(std::string_view kind);

// The content types a file may have: PDF, JPEG, PNG, HEIC, MP3, MP4/M4A audio, WAV, MP4 and
// QuickTime video, plain text. Parameters (";charset=...") are ignored; lower-cased.
const std::vector<std::string_view>& EvidenceContentTypes();
// The canonical allow-listed type for a declared or detected type ("audio/x-wav" ->
// "audio/wav", "image/jpg" -> "image/jpeg"), or "" when not allowed.
std::string CanonicalContentType(std::string_view type);
// The file name extension served for a canonical type ("pdf", "jpg", ...).
std::string_view ExtensionOf(std::string_view canonical_type);

// What a user types for an item. Errors name the field and never echo the title or text.
struct EvidenceFields {
  std::string title;        // 1..200 characters, one line
  std::string kind;         // EvidenceKinds()
  std::string description;  // 0..5,000 characters
  std::string date;         // YYYY-MM-DD (when the evidence was made or received) or empty
};
Status ValidateEvidenceFields(const EvidenceFields& f);

}  // namespace trellis::domain

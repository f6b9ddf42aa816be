// What a file's bytes are (libmagic), for the evidence content-type allow-list.
#pragma once

#include <string>
#include <string_view>

#include "core/status.h"

namespace trellis::app {

// The MIME type libmagic detects for `bytes` ("application/pdf"), or "" when it cannot tell.
// Thread-safe (one cookie behind a mutex).
std::string DetectMimeType(std::string_view bytes);

// Checks a declared content type against the allow-list (domain::EvidenceContentTypes) and
// against the bytes: the detected type must be allowed too and of the same family (image,
// audio/video, PDF, text). Returns the canonical detected type to store and serve. Errors
// name the field "content_type" (or "content" for an empty or oversized file, kTooLarge).
Result<std::string> CheckEvidenceFile(std::string_view declared, std::string_view bytes);

}  // namespace trellis::app

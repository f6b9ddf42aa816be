#include "app/file_type.h"

#include <magic.h>

#include <mutex>

#include "domain/evidence.h"

namespace trellis::app {

std::string DetectMimeType(std::string_view bytes) {
  static std::mutex mu;
  static magic_t cookie = [] {
    magic_t m = magic_open(MAGIC_MIME_TYPE | MAGIC_NO_CHECK_COMPRESS | MAGIC_NO_CHECK_ELF | MAGIC_NO_CHECK_TAR);
    if (m && magic_load(m, nullptr) != 0) {
      magic_close(m);
      m = nullptr;
    }
    return m;
  }();
  std::lock_guard lock(mu);
  if (!cookie) return {};
  const char* t = magic_buffer(cookie, bytes.data(), bytes.size());
  return t ? std::string(t) : std::string();
}

namespace {
std::string Family(const std::string& canonical) {
  if (canonical.rfind("audio/", 0) == 0 || canonical.rfind("video/", 0) == 0) return "av";
  return canonical.substr(0, canonical.find('/'));
}
}  // namespace

Result<std::string> CheckEvidenceFile(std::string_view declared, std::string_view bytes) {
  const std::string want = domain::CanonicalContentType(declared);
  if (want.empty()) {
    return Status::Invalid("is not an accepted file type (PDF, JPEG, PNG, HEIC, MP3, M4A, WAV, MP4, MOV, plain text)",
                           "content_type");
  }
  if (bytes.empty()) return Status::Invalid("the file is empty", "content");
  if (static_cast<int64_t>(bytes.size()) > domain::kMaxEvidenceBytes) {
    return Status(Code::kTooLarge, "a file may have at most 10 MiB", "content");
  }
  const std::string got = domain::CanonicalContentType(DetectMimeType(bytes));
  if (got.empty() || Family(got) != Family(want)) {
    return Status::Invalid("the file's contents do not match its type", "content_type");
  }
  return got;
}

}  // namespace trellis::app

#include "core/status.h"

#include <cstdio>
#include <cstdlib>

namespace trellis {

const char* CodeName(Code code) {
  switch (code) {
    case Code::kOk: return "ok";
    case Code::kInvalidArgument: return "invalid_argument";
    case Code::kNotFound: return "not_found";
    case Code::kAlreadyExists: return "already_exists";
    case Code::kUnauthenticated: return "unauthenticated";
    case Code::kForbidden: return "forbidden";
    case Code::kConflict: return "conflict";
    case Code::kFailedPrecondition: return "failed_precondition";
    case Code::kTooLarge: return "too_large";
    case Code::kRateLimited: return "rate_limited";
    case Code::kDataLoss: return "data_loss";
    case Code::kUnavailable: return "unavailable";
    case Code::kInternal: return "internal";
  }
  return "internal";
}

std::string Status::ToString() const {
  if (ok()) return "ok";
  std::string s = CodeName(code_);
  s += ": ";
  s += message_;
  if (!field_.empty()) {
    s += " (field ";
    s += field_;
    s += ")";
  }
  return s;
}

namespace internal {
void InvariantFailed(const char* expr, const char* msg, const char* file, int line) {
  std::fprintf(stderr, "trellis: invariant failed: %s (%s) at %s:%d\n", msg, expr, file, line);
  std::abort();
}
}  // namespace internal

}  // namespace trellis

// Exit codes of the `trellis` command, mapped from domain codes in one place.
#pragma once

#include "core/status.h"

namespace trellis::cli {

inline constexpr int kExitOk = 0;
inline constexpr int kExitError = 1;
inline constexpr int kExitInvalid = 2;
inline constexpr int kExitNotFound = 3;
inline constexpr int kExitDenied = 4;
inline constexpr int kExitConflict = 5;
inline constexpr int kExitIntegrity = 6;
inline constexpr int kExitNotReady = 7;

inline int ExitCodeOf(Code code) {
  switch (code) {
    case Code::kOk: return kExitOk;
    case Code::kInvalidArgument:
    case Code::kTooLarge: return kExitInvalid;
    case Code::kNotFound: return kExitNotFound;
    case Code::kUnauthenticated:
    case Code::kForbidden:
    case Code::kRateLimited: return kExitDenied;
    case Code::kConflict:
    case Code::kAlreadyExists: return kExitConflict;
    case Code::kDataLoss: return kExitIntegrity;
    case Code::kFailedPrecondition:
    case Code::kUnavailable: return kExitNotReady;
    case Code::kInternal: return kExitError;
  }
  return kExitError;
}

}  // namespace trellis::cli

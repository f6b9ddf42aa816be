// ReliefScreening use case: screen one survivor's facts against the rules in force.
//
// The CLI (`trellis screen`), and later the HTTP API and the store, call this; it is the only
// place that turns a request into the JSON result contract (docs/rules.md "Output").
// Contract:
//  - Open() loads and validates the rule files once; errors name the file and line.
//  - Screen() takes the request JSON text ({"as_of", "facts", "extensions"}) and returns the
//    result JSON text (one line). Invalid input returns kInvalidArgument with field() naming
//    the fact; nothing else fails.
//  - A ScreeningService is immutable after Open() except for per-call scratch buffers: use one
//    per thread.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "core/clock.h"
#include "core/status.h"

namespace trellis::rules {
class Screener;
struct Request;
struct ScreeningResult;
}  // namespace trellis::rules

namespace trellis::app {

struct ScreenOptions {
  std::optional<std::string> as_of;  // YYYY-MM-DD; overrides the request's as_of
  std::string lang = "en";           // "en" or "es"
};

class ScreeningService {
 public:
  static Result<std::unique_ptr<ScreeningService>> Open(const std::string& rules_dir,
                                                        const Clock& clock = SystemClock());
  ~ScreeningService();

  Result<std::string> Screen(std::string_view request_json, const ScreenOptions& opts);
  const std::string& rules_version() const;

  // Lower-level steps, for the benchmark: decode only, and screen a decoded request.
  Status Decode(std::string_view request_json, rules::Request* out) const;
  Status Evaluate(const rules::Request& req, std::optional<int32_t> as_of,
                  rules::ScreeningResult* out);
  std::string Serialize(const rules::ScreeningResult& res, const std::string& lang) const;

 private:
  ScreeningService() = default;
  std::unique_ptr<rules::Screener> screener_;
  const Clock* clock_ = nullptr;
};

// The rules directory: `flag` if non-empty, else $TRELLIS_RULES_DIR, else
// <exe dir>/../rules, else <exe dir>/rules, else the source tree's rules/ (compiled in).
std::string ResolveRulesDir(const std::string& flag, const std::string& exe_path);

}  // namespace trellis::app

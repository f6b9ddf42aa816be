#include "rules/deadline.h"

namespace trellis::rules {

Result<DeadlineInstance> ExtendDeadline(const DeadlineInstance& d, Date until, std::string reason) {
  const std::string field = "extensions." + d.def->name;
  if (d.def->kind == DeadlineKind::kStatutory)
    return Status::Invalid(field + ": a statutory deadline cannot be extended", field);
  if (reason.empty()) return Status::Invalid(field + ": an extension needs a reason", field);
  if (until <= d.computed)
    return Status::Invalid(field + ": an extension must be later than the deadline", field);
  DeadlineInstance out = d;
  out.date = until;
  out.extension_reason = std::move(reason);
  return out;
}

}  // namespace trellis::rules

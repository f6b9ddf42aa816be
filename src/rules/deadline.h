// Deadlines as computed for one screening, and the one way a deadline moves: a recorded
// extension of a practice (soft) deadline. A statutory (hard) deadline never moves.
// Pure values: the store can persist Extension records and replay them.
#pragma once

#include <string>

#include "core/status.h"
#include "rules/calendar.h"
#include "rules/rule_set.h"

namespace trellis::rules {

struct DeadlineInstance {
  const DeadlineDef* def = nullptr;
  Date date = 0;            // in force (after any extension)
  Date computed = 0;        // as computed from the facts
  std::string extension_reason;
  bool extended() const { return date != computed; }
};

// Returns the deadline moved to `until` with `reason` recorded. Errors: the deadline is
// statutory; `until` is not later than the computed date; `reason` is empty.
Result<DeadlineInstance> ExtendDeadline(const DeadlineInstance& d, Date until, std::string reason);

}  // namespace trellis::rules

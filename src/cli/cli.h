// The `trellis` command line. Every subcommand is a thin shell over app/ use cases:
// it parses flags, calls the use case and maps the Status to an exit code (exit_codes.h).
#pragma once

namespace trellis {
class Clock;
}

namespace trellis::cli {
// `clock`: the time every opened App runs on; nullptr (what `trellis` passes) is the system
// clock. Only the test executable trellis_testclock (tests/clock/) passes another one: the
// production binary has no flag, variable or file that changes its clock.
int Main(int argc, char** argv, Clock* clock = nullptr);
}  // namespace trellis::cli

// The `trellis` command line. Every subcommand is a thin shell over app/ use cases:
// it parses flags, calls the use case and maps the Status to an exit code (exit_codes.h).
#pragma once

namespace trellis::cli {
int Main(int argc, char** argv);
}  // namespace trellis::cli

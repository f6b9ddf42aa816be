// Each group of subcommands lives in its own file and registers itself here.
#pragma once

namespace CLI {
class App;
}

namespace trellis::cli {
// `trellis screen` and `trellis rules ...` (relief screening; src/cli/screen_cmd.cc).
void AddScreenCommands(CLI::App& app);
}  // namespace trellis::cli

#include "cli/commands.h"

namespace trellis::cli {
void AddScreenCommands(CLI::App& app) {}
}  // namespace trellis::cli

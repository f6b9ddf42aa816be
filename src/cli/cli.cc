#include "cli/cli.h"

#include "cli/commands.h"

#include <CLI/CLI.hpp>
#include <iostream>

namespace trellis::cli {

int Main(int argc, char** argv) {
  CLI::App app{"Trellis: survivor-centered case management"};
  app.require_subcommand(1);
  auto* version = app.add_subcommand("version", "Print the version");
  version->callback([] { std::cout << "trellis 0.1.0\n"; });
  AddScreenCommands(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  return 0;
}

}  // namespace trellis::cli

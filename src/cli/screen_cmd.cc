// `trellis screen`: relief screening from the command line (docs/rules.md "CLI").
// A thin shell over app::ScreeningService: parse flags, read input, map Status to exit codes
// (0 ok, 2 invalid input, 1 anything else).
#include <CLI/CLI.hpp>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>

#include "app/screening.h"
#include "cli/commands.h"

namespace trellis::cli {
namespace {

constexpr int kExitOk = 0, kExitError = 1, kExitInvalid = 2;

int ExitCodeFor(const Status& s) { return s.code() == Code::kInvalidArgument ? kExitInvalid : kExitError; }

std::string ExePath() {
  std::error_code ec;
  auto p = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? std::string() : p.string();
}

struct ScreenFlags {
  std::string as_of, lang = "en", rules_dir, file;
  bool batch = false;
};

int RunScreen(const ScreenFlags& f) {
  if (f.file.empty()) {
    std::cerr << "trellis screen: missing FILE (a request JSON file, or - for stdin)\n";
    return kExitInvalid;
  }
  std::string dir = app::ResolveRulesDir(f.rules_dir, ExePath());
  auto svc = app::ScreeningService::Open(dir);
  if (!svc.ok()) {
    std::cerr << "trellis screen: rules: " << svc.status().message() << "\n";
    return kExitError;
  }
  app::ScreenOptions opts;
  if (!f.as_of.empty()) opts.as_of = f.as_of;
  opts.lang = f.lang;

  std::unique_ptr<std::istream> owned;
  std::istream* in = &std::cin;
  if (f.file != "-") {
    owned = std::make_unique<std::ifstream>(f.file, std::ios::binary);
    if (!*owned) {
      std::cerr << "trellis screen: cannot read " << f.file << "\n";
      return kExitInvalid;
    }
    in = owned.get();
  }
  if (!f.batch) {
    std::ostringstream ss;
    ss << in->rdbuf();
    auto out = (*svc)->Screen(ss.str(), opts);
    if (!out.ok()) {
      std::cerr << "trellis screen: invalid input: " << out.status().message() << "\n";
      return ExitCodeFor(out.status());
    }
    std::cout << *out << "\n";
    return kExitOk;
  }
  std::string line;
  size_t n = 0;
  while (std::getline(*in, line)) {
    ++n;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    auto out = (*svc)->Screen(line, opts);
    if (!out.ok()) {
      std::cout.flush();
      std::cerr << "trellis screen: line " << n << ": invalid input: " << out.status().message()
                << "\n";
      return ExitCodeFor(out.status());
    }
    std::cout << *out << "\n";
  }
  return kExitOk;
}

}  // namespace

void AddScreenCommands(CLI::App& app) {
  auto flags = std::make_shared<ScreenFlags>();
  auto* cmd = app.add_subcommand("screen", "Screen a survivor's facts for immigration relief");
  cmd->add_option("--as-of", flags->as_of, "Screening date YYYY-MM-DD (overrides the file's as_of)");
  cmd->add_option("--lang", flags->lang, "Language of explanations: en or es");
  cmd->add_option("--rules", flags->rules_dir, "Rules directory");
  cmd->add_flag("--batch", flags->batch, "Read JSON lines, write JSON lines");
  cmd->add_option("file", flags->file, "Request JSON file, or - for stdin");
  cmd->callback([flags] {
    int rc = RunScreen(*flags);
    if (rc != 0) throw CLI::RuntimeError(rc);
  });
}

}  // namespace trellis::cli

#include "cli/cli.h"

#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>

#include "api/routes.h"
#include "api/server.h"
#include "app/app.h"
#include "cli/commands.h"
#include "cli/exit_codes.h"
#include <spdlog/spdlog.h>

namespace trellis::cli {
namespace {

// The passphrase never travels on the command line (visible in the process list): it comes
// from TRELLIS_PASSPHRASE or the first line of --passphrase-file.
std::string Passphrase(const std::string& file) {
  if (!file.empty()) {
    std::ifstream in(file);
    std::string line;
    std::getline(in, line);
    return line;
  }
  const char* env = std::getenv("TRELLIS_PASSPHRASE");
  return env ? env : "";
}

int Fail(const Status& st) {
  std::cerr << "trellis: " << st.ToString() << "\n";
  return ExitCodeOf(st.code());
}

// The clock given to Main (nullptr: the system clock), for every App this process opens.
Clock* main_clock = nullptr;

Result<std::unique_ptr<app::App>> OpenApp(const std::string& data, const std::string& store, const std::string& pass_file,
                                          int readers = 4) {
  return app::App::Open({.data_dir = data,
                         .store = store,
                         .passphrase = Passphrase(pass_file),
                         .clock = main_clock,
                         .reader_connections = readers});
}

// The default of --store: $TRELLIS_STORE, else empty (the SQLite file in --data).
std::string DefaultStore() {
  const char* env = std::getenv("TRELLIS_STORE");
  return env ? env : "";
}

void ProgressBar(int64_t done, int64_t total) {
  if (!::isatty(STDERR_FILENO) || total <= 0) return;
  const int width = 40;
  const int filled = static_cast<int>(width * done / total);
  std::fprintf(stderr, "\r[%s%s] %3d%% (%lld/%lld rows)", std::string(filled, '=').c_str(),
               std::string(width - filled, ' ').c_str(), static_cast<int>(100 * done / total),
               static_cast<long long>(done), static_cast<long long>(total));
  if (done >= total) std::fputc('\n', stderr);
}

}  // namespace

int Main(int argc, char** argv, Clock* clock) {
  main_clock = clock;
  CLI::App app{"Trellis: survivor-centered case management and coordination.\n"
               "Exit codes: 0 ok, 1 other error, 2 invalid input, 3 not found, 4 not allowed or not authenticated,\n"
               "5 conflict or already exists, 6 integrity failure, 7 store not ready (e.g. not initialised)."};
  app.require_subcommand(1);
  app.set_help_all_flag("--help-all", "Help for every command");
  int rc = 0;
  std::string data = "data/demo", pass_file, store = DefaultStore();
  auto data_opt = [&](CLI::App* c) {
    c->add_option("--data", data, "Data directory (the key ring; and the SQLite store unless --store)")
        ->capture_default_str();
    c->add_option("--store", store,
                  "Store location: postgresql://... (libpq URI), sqlite:PATH, or empty for trellis.db in --data"
                  " (default: $TRELLIS_STORE)");
    c->add_option("--passphrase-file", pass_file, "File whose first line is the key-ring passphrase (or TRELLIS_PASSPHRASE)");
  };

  app.add_subcommand("version", "Print the version")->callback([] { std::cout << "trellis 0.1.0\n"; });

  // init
  auto* init = app.add_subcommand("init", "Create a new store: key ring (0600 key file, or sealed with a passphrase) and database");
  data_opt(init);
  init->callback([&] {
    Status st = app::App::Init({.data_dir = data, .store = store, .passphrase = Passphrase(pass_file)});
    if (!st.ok()) {
      rc = Fail(st);
      return;
    }
    std::cout << "initialised " << data << "\n";
  });

  // serve
  auto* serve = app.add_subcommand("serve", "Serve the web UI and the HTTP API");
  data_opt(serve);
  std::string listen = "127.0.0.1:8080", web_dir;
  int workers = 32;
  int io_threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  bool print_demo = false, quiet = false;
  serve->add_option("--listen", listen, "HOST:PORT to listen on")->capture_default_str();
  serve->add_option("--web", web_dir, "Directory of the built web UI (default: web/dist if present)");
  serve->add_option("--workers", workers, "Request worker threads")->capture_default_str();
  serve->add_option("--io-threads", io_threads, "Threads that read and write connections (default: one per core)")
      ->check(CLI::Range(1, 256));
  serve->add_flag("--print-demo-logins", print_demo, "Print the demo users' logins");
  serve->add_flag("--quiet", quiet, "No access log");
  serve->callback([&] {
    auto hp = api::ParseListen(listen);
    if (!hp.ok()) {
      rc = Fail(hp.status());
      return;
    }
    auto a = OpenApp(data, store, pass_file, workers);
    if (!a.ok()) {
      rc = Fail(a.status());
      return;
    }
    if (web_dir.empty() && std::ifstream("web/dist/index.html")) web_dir = "web/dist";
    api::Router router(**a, {web_dir});
    api::Server server(router, {.host = hp->first,
                                .port = hp->second,
                                .io_threads = io_threads,
                                .worker_threads = workers,
                                .reads_on_io_threads = (*a)->store_is_embedded(),
                                .access_log = !quiet});
    if (Status st = server.Listen(); !st.ok()) {
      rc = Fail(st);
      return;
    }
    if (print_demo) {
      std::cout << "Demo logins (synthetic data only):\n";
      for (const auto& l : (*a)->DemoLogins()) {
        std::cout << "  " << l.username << " / " << l.password << "  (" << l.role << ", " << l.agency << ")\n";
      }
    }
    std::cout << "trellis: serving http://" << hp->first << ":" << server.port() << "/" << std::endl;
    server.Run();
  });

  // agency
  auto* agency = app.add_subcommand("agency", "Manage agencies");
  agency->require_subcommand(1);
  auto* agency_add = agency->add_subcommand("add", "Add an agency and print its id");
  data_opt(agency_add);
  std::string agency_name, agency_kind = "ngo_service_provider";
  agency_add->add_option("--name", agency_name, "Agency name")->required();
  agency_add->add_option("--kind", agency_kind,
                         "ngo_service_provider, legal_services, law_enforcement_federal, law_enforcement_state, "
                         "law_enforcement_local, prosecutor, health_provider, benefits_agency")
      ->capture_default_str();
  agency_add->callback([&] {
    auto kind = domain::ParseAgencyKind(agency_kind);
    if (!kind.ok()) {
      rc = Fail(kind.status());
      return;
    }
    auto a = OpenApp(data, store, pass_file);
    if (!a.ok()) {
      rc = Fail(a.status());
      return;
    }
    auto ag = (*a)->AddAgency(app::CliOperator(), agency_name, *kind);
    if (!ag.ok()) {
      rc = Fail(ag.status());
      return;
    }
    std::cout << ag->id << "\n";
  });
  auto* agency_list = agency->add_subcommand("list", "List agencies (id, kind, name)");
  data_opt(agency_list);
  agency_list->callback([&] {
    auto a = OpenApp(data, store, pass_file);
    if (!a.ok()) {
      rc = Fail(a.status());
      return;
    }
    auto list = (*a)->ListAgencies(app::CliOperator());
    if (!list.ok()) {
      rc = Fail(list.status());
      return;
    }
    for (const auto& ag : *list) std::cout << ag.id << "\t" << domain::AgencyKindName(ag.kind) << "\t" << ag.name << "\n";
  });

  // user add
  auto* user = app.add_subcommand("user", "Manage users");
  user->require_subcommand(1);
  auto* user_add = user->add_subcommand("add", "Add a user; the password is read from standard input");
  data_opt(user_add);
  std::string u_agency, u_name, u_display, u_role;
  user_add->add_option("--agency", u_agency, "Agency id")->required();
  user_add->add_option("--username", u_name, "Login name")->required();
  user_add->add_option("--role", u_role,
                       "advocate, case_manager, attorney, paralegal, social_worker, supervisor, le_victim_specialist, "
                       "le_investigator, auditor, administrator")
      ->required();
  user_add->add_option("--display-name", u_display, "Name shown to colleagues");
  user_add->callback([&] {
    auto role = domain::ParseRole(u_role);
    if (!role.ok()) {
      rc = Fail(role.status());
      return;
    }
    std::string password;
    std::getline(std::cin, password);
    auto a = OpenApp(data, store, pass_file);
    if (!a.ok()) {
      rc = Fail(a.status());
      return;
    }
    auto u = (*a)->AddUser(app::CliOperator(), u_agency, u_name, u_display, *role, password);
    if (!u.ok()) {
      rc = Fail(u.status());
      return;
    }
    std::cout << u->id << "\n";
  });
  // user totp-status / totp-reset: the TOTP second factor of one user (S8)
  std::string sf_user;
  auto* user_sf_status = user->add_subcommand("totp-status", "Show whether a user's TOTP second factor is on");
  auto* user_sf_reset = user->add_subcommand(
      "totp-reset", "Remove a user's TOTP second factor (lost device); they log in with the password and may enrol again");
  for (auto* c : {user_sf_status, user_sf_reset}) {
    data_opt(c);
    c->add_option("username", sf_user, "Login name")->required();
    c->callback([&, c] {
      auto a = OpenApp(data, store, pass_file);
      if (!a.ok()) {
        rc = Fail(a.status());
        return;
      }
      auto u = (*a)->FindUser(sf_user);
      if (!u.ok()) {
        rc = Fail(Status::Invalid("no such user", "username"));
        return;
      }
      if (c == user_sf_reset) {
        Status st = (*a)->ResetTotp(app::CliOperator(), u->id, "");
        if (!st.ok()) {
          rc = Fail(st);
          return;
        }
        std::cout << "second factor reset for " << u->id << "\n";
        return;
      }
      auto sf = (*a)->SecondFactor((*a)->PrincipalFor(*u));
      if (!sf.ok()) {
        rc = Fail(sf.status());
        return;
      }
      std::cout << (sf->enabled ? "on" : sf->pending ? "pending" : "off");
      if (sf->enabled) std::cout << " (" << sf->recovery_codes_left << " recovery codes left)";
      std::cout << "\n";
    });
  }

  // token create
  auto* token = app.add_subcommand("token", "Manage API bearer tokens");
  token->require_subcommand(1);
  auto* token_create = token->add_subcommand("create", "Create a bearer token for a user (printed once)");
  data_opt(token_create);
  std::string t_user, t_name = "script";
  int64_t t_days = 90;
  token_create->add_option("--user", t_user, "Username")->required();
  token_create->add_option("--name", t_name, "What the token is for")->capture_default_str();
  token_create->add_option("--ttl-days", t_days, "Days until it expires (0 = never)")->capture_default_str();
  token_create->callback([&] {
    auto a = OpenApp(data, store, pass_file);
    if (!a.ok()) {
      rc = Fail(a.status());
      return;
    }
    auto t = (*a)->CreateToken(app::CliOperator(), t_user, t_name, t_days * 86400);
    if (!t.ok()) {
      rc = Fail(t.status());
      return;
    }
    std::cout << *t << "\n";
  });

  // import / export
  auto* imp = app.add_subcommand("import", "Import data");
  imp->require_subcommand(1);
  auto* imp_htcds = imp->add_subcommand("htcds", "Import an HTCDS 2.0 CSV (all rows or none)");
  data_opt(imp_htcds);
  std::string csv_file, imp_agency;
  imp_htcds->add_option("FILE", csv_file, "CSV file with a header of HTCDS field names")->required();
  imp_htcds->add_option("--agency", imp_agency, "Agency id the records belong to")->required();
  imp_htcds->callback([&] {
    auto a = OpenApp(data, store, pass_file);
    if (!a.ok()) {
      rc = Fail(a.status());
      return;
    }
    auto r = (*a)->ImportHtcds(app::CliOperator(), imp_agency, csv_file, ProgressBar);
    if (!r.ok()) {
      rc = Fail(r.status());
      return;
    }
    std::cout << "imported " << r->rows << " rows: " << r->survivors << " survivors, " << r->cases << " cases\n";
  });
  auto* exp = app.add_subcommand("export", "Export data");
  exp->require_subcommand(1);
  auto* exp_htcds = exp->add_subcommand("htcds", "Export what a user may see as HTCDS 2.0 CSV (de-identified unless --identifying)");
  data_opt(exp_htcds);
  std::string exp_user, exp_out;
  bool exp_ident = false;
  exp_htcds->add_option("--user", exp_user, "Export as this user (policy applies)")->required();
  exp_htcds->add_option("--out", exp_out, "Output file (created 0600)")->required();
  exp_htcds->add_flag("--identifying", exp_ident, "Include identifying fields the user may see");
  exp_htcds->callback([&] {
    auto a = OpenApp(data, store, pass_file);
    if (!a.ok()) {
      rc = Fail(a.status());
      return;
    }
    auto u = (*a)->FindUser(exp_user);
    if (!u.ok()) {
      rc = Fail(Status::Invalid("no such user", "user"));
      return;
    }
    auto n = (*a)->ExportHtcds((*a)->PrincipalFor(*u), exp_out, exp_ident, "cli");
    if (!n.ok()) {
      rc = Fail(n.status());
      return;
    }
    if (exp_ident) std::cerr << "trellis: warning: this file holds identifying data in clear; protect it\n";
    std::cout << "exported " << *n << " rows\n";
  });

  // demo
  auto* demo = app.add_subcommand("demo", "Add synthetic demo agencies, users and cases");
  data_opt(demo);
  int64_t demo_cases = 200;
  uint64_t demo_seed = 1;
  bool no_users = false;
  demo->add_option("--cases", demo_cases, "Number of cases")->capture_default_str();
  demo->add_option("--seed", demo_seed, "Random seed")->capture_default_str();
  demo->add_flag("--no-users", no_users, "Do not create demo users");
  demo->callback([&] {
    auto a = OpenApp(data, store, pass_file);
    if (!a.ok()) {
      rc = Fail(a.status());
      return;
    }
    auto logins = (*a)->CreateDemo(demo_cases, demo_seed, !no_users);
    if (!logins.ok()) {
      rc = Fail(logins.status());
      return;
    }
    std::cout << "created " << demo_cases << " demo cases\n";
    for (const auto& l : *logins) std::cout << "  " << l.username << " / " << l.password << "  (" << l.role << ", " << l.agency << ")\n";
  });

  // audit verify
  auto* audit = app.add_subcommand("audit", "The tamper-evident audit log");
  audit->require_subcommand(1);
  auto* verify = audit->add_subcommand("verify", "Verify the hash chain and signed checkpoints; name the first bad entry");
  data_opt(verify);
  verify->callback([&] {
    auto a = OpenApp(data, store, pass_file);
    if (!a.ok()) {
      rc = Fail(a.status());
      return;
    }
    auto r = (*a)->VerifyAudit();
    if (!r.ok()) {
      rc = Fail(r.status());
      return;
    }
    if (r->ok) {
      std::cout << "audit log ok: " << r->entries << " entries, " << r->checkpoints << " signed checkpoints\n";
    } else {
      std::cout << "audit log FAILED at entry " << r->first_bad_seq << ": " << r->reason << "\n";
      rc = kExitIntegrity;
    }
  });

  // keys rotate
  auto* keys = app.add_subcommand("keys", "Key management");
  keys->require_subcommand(1);
  auto* rotate = keys->add_subcommand("rotate", "New master key; re-wrap every data key");
  data_opt(rotate);
  bool keep_old = false;
  rotate->add_flag("--keep-old", keep_old, "Keep old master keys (to restore backups taken before)");
  rotate->callback([&] {
    auto a = OpenApp(data, store, pass_file);
    if (!a.ok()) {
      rc = Fail(a.status());
      return;
    }
    auto n = (*a)->RotateKeys(Passphrase(pass_file), keep_old);
    if (!n.ok()) {
      rc = Fail(n.status());
      return;
    }
    std::cout << "rotated: " << *n << " data keys re-wrapped\n";
  });

  // backup / restore
  auto* backup = app.add_subcommand("backup", "Write an encrypted backup");
  data_opt(backup);
  std::string backup_out;
  bool include_keys = false;
  backup->add_option("--out", backup_out, "Backup file")->required();
  backup->add_flag("--include-keys", include_keys,
                   "Include data keys (a complete backup; erasures after it cannot reach it)");
  backup->callback([&] {
    auto a = OpenApp(data, store, pass_file);
    if (!a.ok()) {
      rc = Fail(a.status());
      return;
    }
    if (Status st = (*a)->Backup(backup_out, include_keys); !st.ok()) {
      rc = Fail(st);
      return;
    }
    std::cout << "backup written to " << backup_out << "\n";
  });
  auto* restore = app.add_subcommand("restore", "Restore an encrypted backup (stop the server first)");
  data_opt(restore);
  std::string restore_from;
  restore->add_option("--from", restore_from, "Backup file")->required();
  restore->callback([&] {
    if (Status st = app::Restore(data, Passphrase(pass_file), restore_from, store); !st.ok()) {
      rc = Fail(st);
      return;
    }
    std::cout << "restored " << data << "\n";
  });

  // migrate-store
  auto* migrate = app.add_subcommand(
      "migrate-store", "Copy a whole store into an empty one on another backend (stop the servers first); "
                       "nothing is decrypted, the key ring stays as it is");
  std::string migrate_from, migrate_to;
  migrate->add_option("--from", migrate_from, "Source store: sqlite:PATH, a SQLite file, or postgresql://...")->required();
  migrate->add_option("--to", migrate_to, "Target store (empty): postgresql://... or sqlite:PATH")->required();
  migrate->callback([&] {
    auto counts = app::MigrateStore(migrate_from, migrate_to);
    if (!counts.ok()) {
      rc = Fail(counts.status());
      return;
    }
    for (const auto& [table, n] : *counts) std::cout << table << ": " << n << " rows\n";
    std::cout << "migrated; check with `trellis audit verify --store <target> --data <dir with the key ring>`\n";
  });

  // erase survivor
  auto* erase = app.add_subcommand("erase", "Erase data for good");
  erase->require_subcommand(1);
  auto* erase_s = erase->add_subcommand("survivor", "Crypto-shred one survivor: destroy the data key, delete the records");
  data_opt(erase_s);
  std::string erase_id;
  erase_s->add_option("ID", erase_id, "Survivor id")->required();
  erase_s->callback([&] {
    auto a = OpenApp(data, store, pass_file);
    if (!a.ok()) {
      rc = Fail(a.status());
      return;
    }
    auto running = (*a)->EraseSurvivor(app::CliOperator(), erase_id, "cli");
    if (!running.ok()) {
      rc = Fail(running.status());
      return;
    }
    std::cout << "erased " << erase_id << "\n";
    if (*running > 0) {
      // Not refused: the erasure of the store is done; the copy goes when the backup ends.
      std::cerr << "note: " << *running << " backup(s) running in " << data
                << "; the temporary copy of the store each holds may still have this survivor's data key until it"
                   " ends (it is removed then, or by the next open if the backup is killed)\n";
    }
  });

  // rules diff
  auto* rules = app.add_subcommand("rules", "Relief rule sets");
  rules->require_subcommand(1);
  auto* diff = rules->add_subcommand("diff", "Re-screen every stored case under two rule sets; list what changes");
  data_opt(diff);
  std::string diff_from, diff_to, diff_as_of;
  diff->add_option("--from", diff_from, "Rules directory in force now")->required();
  diff->add_option("--to", diff_to, "Rules directory to compare with")->required();
  diff->add_option("--as-of", diff_as_of, "Screen as of this date (YYYY-MM-DD; default today)");
  diff->callback([&] {
    auto a = OpenApp(data, store, pass_file);
    if (!a.ok()) {
      rc = Fail(a.status());
      return;
    }
    auto rows = (*a)->RulesDiff(diff_from, diff_to, diff_as_of);
    if (!rows.ok()) {
      rc = Fail(rows.status());
      return;
    }
    std::cout << "case_id\tcase_number\tchange\tfrom\tto\n";
    for (const auto& r : *rows) {
      std::cout << r.case_id << "\t" << r.case_number << "\t" << r.what << "\t" << r.from << "\t" << r.to << "\n";
    }
    std::cerr << rows->size() << " change(s)\n";
  });

  // accounting of disclosures (S13)
  auto* disc = app.add_subcommand("disclosures", "Accounting of disclosures of one survivor: who, when, what, on what basis");
  data_opt(disc);
  std::string disc_survivor;
  disc->add_option("--survivor", disc_survivor, "Survivor id")->required();
  disc->callback([&] {
    auto a = OpenApp(data, store, pass_file);
    if (!a.ok()) {
      rc = Fail(a.status());
      return;
    }
    auto rows = (*a)->ListDisclosures(app::CliOperator(), disc_survivor, "cli");
    if (!rows.ok()) {
      rc = Fail(rows.status());
      return;
    }
    std::cout << "time\tactor\tagency\taction\trecord\tcategories\tbasis\tgrants\n";
    for (const auto& d : *rows) {
      std::cout << FormatTimestamp(d.at) << "\t" << d.actor_user_id << "\t" << d.actor_agency_id << "\t" << d.action
                << "\t" << d.record_id << "\t" << d.categories << "\t" << d.basis << "\t" << d.grant_ids << "\n";
    }
    std::cerr << rows->size() << " disclosure(s)\n";
  });

  AddScreenCommands(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::RuntimeError& e) {  // a command's own exit code
    return e.get_exit_code();
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? 0 : kExitInvalid;
  }
  return rc;
}

}  // namespace trellis::cli

// S7 / S11: the canary test. Every identifying and restricted text field of imported
// survivors and cases holds a unique canary; after serving reads, logging, a backup and an
// (de-identified) export, no file the system wrote contains any canary in plaintext.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "domain/fields.h"
#include "support/harness.h"
#include "support/test_dir.h"

namespace trellis::testing {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

TEST(Canary, NoPlaintextAtRestAnywhere) {
  TestDir dir;
  const std::string data = dir.path() + "/data";
  ASSERT_EQ(RunTrellis({"init", "--data", data}), 0);
  ASSERT_EQ(RunTrellis({"demo", "--data", data, "--cases", "0"}), 0);
  std::string agencies;
  ASSERT_EQ(RunTrellis({"agency", "list", "--data", data}, &agencies), 0);
  std::string ngo;
  std::istringstream lines(agencies);
  for (std::string line; std::getline(lines, line);) {
    if (line.find("ngo_service_provider") != std::string::npos) ngo = line.substr(0, line.find('\t'));
  }
  ASSERT_FALSE(ngo.empty());

  // A header of every sealed free-text field; a unique canary per field and row. (Typed
  // fields with tiny domains — dates, country codes — cannot hold a unique marker.)
  std::vector<std::string> header, canaries;
  for (const auto& f : domain::AllFields()) {
    if (!f.sealed()) continue;
    if (f.type != domain::FieldType::kText && f.type != domain::FieldType::kLongText) continue;
    header.emplace_back(f.name);
  }
  header.push_back("cas_Status");
  std::string csv;
  for (size_t i = 0; i < header.size(); ++i) csv += (i ? "," : "") + header[i];
  csv += "\n";
  for (int row = 0; row < 3; ++row) {
    for (size_t i = 0; i + 1 < header.size(); ++i) {
      std::string c = "CNRY" + std::to_string(row) + "x" + std::to_string(i) + "qZ" + header[i].substr(4, 5);
      canaries.push_back(c);
      csv += c + ",";
    }
    csv += "Active\n";
  }
  const std::string csv_path = dir.path() + "/import.csv";  // the input is the caller's, not written by Trellis
  std::ofstream(csv_path) << csv;
  ASSERT_EQ(RunTrellis({"import", "htcds", csv_path, "--data", data, "--agency", ngo}), 0);
  fs::remove(csv_path);

  // Serve reads (with the access log on, into the data dir), then back up and export.
  const std::string work = dir.path() + "/out";
  fs::create_directories(work);
  {
    ServerProcess server;
    ASSERT_TRUE(server.Start(data, work + "/server.log"));
    Session s = Login(server.port(), "advocate");
    auto list = json::parse(Http(server.port(), "GET", "/api/v1/cases?limit=50", "", s.Headers(false)).body);
    ASSERT_EQ(list["items"].size(), 3u);
    for (const auto& c : list["items"]) {
      auto kase = Http(server.port(), "GET", "/api/v1/cases/" + c["id"].get<std::string>(), "", s.Headers(false));
      ASSERT_EQ(kase.status, 200);
      auto surv = Http(server.port(), "GET", "/api/v1/survivors/" + c["survivor_id"].get<std::string>(), "",
                       s.Headers(false));
      ASSERT_EQ(surv.status, 200);
      EXPECT_NE(surv.body.find("CNRY"), std::string::npos);  // the canaries do open for the team
    }
    ASSERT_EQ(RunTrellis({"backup", "--data", data, "--out", work + "/backup.trb"}), 0);
    ASSERT_EQ(RunTrellis({"export", "htcds", "--data", data, "--user", "advocate", "--out", work + "/export.csv"}), 0);
    // Scan while the server runs (WAL present) and again after it stops.
    for (int pass = 0; pass < 2; ++pass) {
      size_t files = 0;
      for (const auto& entry : fs::recursive_directory_iterator(dir.path())) {
        if (!entry.is_regular_file()) continue;
        ++files;
        const std::string bytes = ReadFile(entry.path().string());
        for (const auto& c : canaries) {
          ASSERT_EQ(bytes.find(c), std::string::npos) << "canary " << c << " in " << entry.path();
        }
      }
      EXPECT_GE(files, 5u);  // db, wal, keyring, log, backup, export
      if (pass == 0) server.Kill(SIGTERM);
    }
  }
  // The export holds the non-identifying columns.
  EXPECT_NE(ReadFile(work + "/export.csv").find("Active"), std::string::npos);
}

}  // namespace
}  // namespace trellis::testing

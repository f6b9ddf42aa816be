// Background HTCDS import and export over HTTP, against the real binary: supervisors only,
// progress and outcome, all-or-nothing with row/column errors, one download, someone else's job
// id answers exactly like a missing one (S1), the bigger body limit only on the upload route,
// and no plaintext left in any file (S7).
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <thread>

#include "support/harness.h"

namespace trellis::testing {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

class JobsApiTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    demo_ = new DemoServer();
    ASSERT_TRUE(demo_->Start(4, 5));
  }
  static void TearDownTestSuite() { delete demo_; }
  int port() const { return demo_->port(); }
  static std::map<std::string, std::string> Csv(const Session& s) {
    auto h = s.Headers(false);
    h["Content-Type"] = "text/csv";
    return h;
  }
  // Polls the job until it has finished.
  json Wait(const Session& s, const std::string& id) {
    for (int i = 0; i < 600; ++i) {
      auto r = Http(port(), "GET", "/api/v1/jobs/" + id, "", s.Headers(false));
      EXPECT_EQ(r.status, 200) << r.body;
      json j = json::parse(r.body);
      const std::string state = j["state"];
      if (state == "done" || state == "failed" || state == "cancelled") return j;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    ADD_FAILURE() << "job did not finish";
    return {};
  }
  int64_t CountSurvivors(const Session& s) {
    int64_t n = 0;
    std::string cursor;
    while (true) {
      auto r = Http(port(), "GET", "/api/v1/survivors?limit=200" + (cursor.empty() ? "" : "&cursor=" + cursor), "",
                    s.Headers(false));
      json j = json::parse(r.body);
      n += j["items"].size();
      if (j["next_cursor"].is_null()) return n;
      cursor = j["next_cursor"];
    }
  }
  static std::map<std::string, std::string> Comparable(std::map<std::string, std::string> h) {
    h.erase("x-request-id");
    h.erase("date");
    return h;
  }
  static DemoServer* demo_;
};
DemoServer* JobsApiTest::demo_ = nullptr;

std::string GoodCsv(int rows, const std::string& name_prefix = "Jobrow") {
  std::string csv = "prs_FirstName,prs_Gender,cas_Status\r\n";
  for (int i = 0; i < rows; ++i) csv += name_prefix + std::to_string(i) + ",Feminine,Active\r\n";
  return csv;
}

TEST_F(JobsApiTest, ImportWithProgressAllOrNothingAndErrors) {
  Session sup = Login(port(), "supervisor");
  const int64_t before = CountSurvivors(sup);
  auto r = Http(port(), "POST", "/api/v1/jobs/import-htcds", GoodCsv(300), Csv(sup));
  ASSERT_EQ(r.status, 202) << r.body;
  json job = json::parse(r.body);
  EXPECT_EQ(job["kind"], "import_htcds");
  json done = Wait(sup, job["id"]);
  ASSERT_EQ(done["state"], "done") << done.dump();
  EXPECT_EQ(done["result"]["survivors"], 300);
  EXPECT_EQ(done["result"]["cases"], 300);
  EXPECT_EQ(done["done"], 300);
  EXPECT_EQ(done["total"], 300);
  EXPECT_EQ(CountSurvivors(sup), before + 300);

  // A bad value on row 4 (the header is row 1): nothing is imported, the error names it.
  std::string bad = GoodCsv(5);
  bad.replace(bad.find("Jobrow2,Feminine"), 16, "Jobrow2,Purplish");
  r = Http(port(), "POST", "/api/v1/jobs/import-htcds", bad, Csv(sup));
  ASSERT_EQ(r.status, 202) << r.body;
  json failed = Wait(sup, json::parse(r.body)["id"]);
  ASSERT_EQ(failed["state"], "failed") << failed.dump();
  const std::string msg = failed["error"]["message"];
  EXPECT_NE(msg.find("row 4"), std::string::npos) << msg;
  EXPECT_NE(msg.find("prs_Gender"), std::string::npos) << msg;
  EXPECT_NE(msg.find("Purplish"), std::string::npos) << msg;
  EXPECT_EQ(failed["error"]["field"], "prs_Gender");
  EXPECT_EQ(CountSurvivors(sup), before + 300);

  // An unknown column fails at the header.
  r = Http(port(), "POST", "/api/v1/jobs/import-htcds", "prs_Nope\r\nx\r\n", Csv(sup));
  ASSERT_EQ(r.status, 202);
  EXPECT_EQ(Wait(sup, json::parse(r.body)["id"])["state"], "failed");
}

TEST_F(JobsApiTest, BadInputIs4xxNever5xx) {
  Session sup = Login(port(), "supervisor");
  Session adv = Login(port(), "advocate");
  Session admin = Login(port(), "admin");
  EXPECT_EQ(Http(port(), "POST", "/api/v1/jobs/import-htcds", GoodCsv(1), Csv(adv)).status, 403);
  EXPECT_EQ(Http(port(), "POST", "/api/v1/jobs/import-htcds", GoodCsv(1), Csv(admin)).status, 403);
  EXPECT_EQ(Http(port(), "POST", "/api/v1/jobs/export-htcds", "{}", adv.Headers()).status, 403);
  EXPECT_EQ(Http(port(), "POST", "/api/v1/jobs/import-htcds", GoodCsv(1), sup.Headers()).status, 400);  // JSON type
  EXPECT_EQ(Http(port(), "POST", "/api/v1/jobs/import-htcds", "", Csv(sup)).status, 400);
  EXPECT_EQ(Http(port(), "POST", "/api/v1/jobs/import-htcds?x=1", GoodCsv(1), Csv(sup)).status, 400);
  EXPECT_EQ(Http(port(), "POST", "/api/v1/jobs/export-htcds", "{\"identifying\":1}", sup.Headers()).status, 400);
  EXPECT_EQ(Http(port(), "POST", "/api/v1/jobs/export-htcds", "{\"other\":true}", sup.Headers()).status, 400);
  EXPECT_EQ(Http(port(), "POST", "/api/v1/jobs/export-htcds", "[", sup.Headers()).status, 400);
  EXPECT_EQ(Http(port(), "GET", "/api/v1/jobs/j_nope", "", sup.Headers(false)).status, 404);
  EXPECT_EQ(Http(port(), "GET", "/api/v1/jobs/j_nope/file", "", sup.Headers(false)).status, 404);
  EXPECT_EQ(Http(port(), "POST", "/api/v1/jobs/j_nope/cancel", "", sup.Headers()).status, 404);
  // Without the CSRF token: refused.
  auto no_csrf = Csv(sup);
  no_csrf.erase("X-CSRF-Token");
  EXPECT_EQ(Http(port(), "POST", "/api/v1/jobs/import-htcds", GoodCsv(1), no_csrf).status, 403);
  // A binary, non-UTF-8 upload fails as a job, not as a server error.
  auto r = Http(port(), "POST", "/api/v1/jobs/import-htcds", std::string("\xff\xfe\0\x01,\"\n", 7), Csv(sup));
  ASSERT_EQ(r.status, 202);
  json j = Wait(sup, json::parse(r.body)["id"]);
  EXPECT_EQ(j["state"], "failed");
  EXPECT_EQ(j["error"]["code"], "invalid_argument") << j.dump();
}

TEST_F(JobsApiTest, BodyLimitRaisedOnlyForTheUpload) {
  Session sup = Login(port(), "supervisor");
  const std::string big = GoodCsv(60000, "Bigrow");  // ~1.5 MiB
  ASSERT_GT(big.size(), 1u << 20);
  auto r = Http(port(), "POST", "/api/v1/jobs/import-htcds", big, Csv(sup));
  ASSERT_EQ(r.status, 202) << r.body;
  EXPECT_EQ(Wait(sup, json::parse(r.body)["id"])["state"], "done");
  EXPECT_EQ(Http(port(), "POST", "/api/v1/survivors", big, sup.Headers()).status, 413);
  // Without credentials (or with a made-up session) the raised limit does not apply: 413 at
  // once, before the body is held in memory.
  std::map<std::string, std::string> anonymous = {{"Content-Type", "text/csv"}};
  EXPECT_EQ(Http(port(), "POST", "/api/v1/jobs/import-htcds", big, anonymous).status, 413);
  anonymous["Cookie"] = "__Host-trellis=made-up";
  EXPECT_EQ(Http(port(), "POST", "/api/v1/jobs/import-htcds", big, anonymous).status, 413);
  // A small anonymous upload still gets the usual 401.
  EXPECT_EQ(Http(port(), "POST", "/api/v1/jobs/import-htcds", "prs_Gender\nFeminine\n", {{"Content-Type", "text/csv"}}).status, 401);
}

TEST_F(JobsApiTest, SomeoneElsesJobLooksMissing) {
  Session sup = Login(port(), "supervisor");
  Session adv = Login(port(), "advocate");
  Session le = Login(port(), "lespecialist");
  auto r = Http(port(), "POST", "/api/v1/jobs/export-htcds", "{}", sup.Headers());
  ASSERT_EQ(r.status, 202) << r.body;
  const std::string id = json::parse(r.body)["id"];
  const std::string missing = "j_aaaaaaaaaaaaaaaaaaaaaaaaaa";
  for (const Session* other : {&adv, &le}) {
    for (const std::string suffix : {"", "/file"}) {
      auto denied = Http(port(), "GET", "/api/v1/jobs/" + id + suffix, "", other->Headers(false));
      auto absent = Http(port(), "GET", "/api/v1/jobs/" + missing + suffix, "", other->Headers(false));
      EXPECT_EQ(denied.status, 404);
      EXPECT_EQ(denied.body, absent.body);
      EXPECT_EQ(Comparable(denied.headers), Comparable(absent.headers));
    }
    auto denied = Http(port(), "POST", "/api/v1/jobs/" + id + "/cancel", "", other->Headers());
    auto absent = Http(port(), "POST", "/api/v1/jobs/" + missing + "/cancel", "", other->Headers());
    EXPECT_EQ(denied.status, 404);
    EXPECT_EQ(denied.body, absent.body);
  }
  // The owner: the export, downloaded once.
  json done = Wait(sup, id);
  ASSERT_EQ(done["state"], "done");
  EXPECT_TRUE(done["file_available"]);
  auto file = Http(port(), "GET", "/api/v1/jobs/" + id + "/file", "", sup.Headers(false));
  ASSERT_EQ(file.status, 200);
  EXPECT_EQ(file.headers["content-type"], "text/csv; charset=utf-8");
  EXPECT_NE(file.headers["content-disposition"].find("attachment"), std::string::npos);
  EXPECT_EQ(file.body.rfind("\"prs_", 0), 0u) << file.body.substr(0, 100);
  EXPECT_EQ(file.body.find("prs_FirstName"), std::string::npos);  // de-identified by default
  EXPECT_EQ(done["bytes_written"].get<size_t>(), file.body.size());
  EXPECT_EQ(Http(port(), "GET", "/api/v1/jobs/" + id + "/file", "", sup.Headers(false)).status, 412);
  EXPECT_FALSE(json::parse(Http(port(), "GET", "/api/v1/jobs/" + id, "", sup.Headers(false)).body)["file_available"]);
  EXPECT_EQ(Http(port(), "POST", "/api/v1/jobs/" + id + "/cancel", "", sup.Headers()).status, 409);
}

// The download consumes the export only once its audit entry is durable: a failed audit answers
// with the JSON error and no data, and the file stays downloadable (until its normal expiry).
TEST_F(JobsApiTest, AFailedDownloadAuditKeepsTheExport) {
  Session sup = Login(port(), "supervisor");
  auto r = Http(port(), "POST", "/api/v1/jobs/export-htcds", "{}", sup.Headers());
  ASSERT_EQ(r.status, 202) << r.body;
  const std::string id = json::parse(r.body)["id"];
  json done = Wait(sup, id);
  ASSERT_EQ(done["state"], "done");
  {
    FailingAuditEntries failing(demo_->data, "job.file");
    ASSERT_TRUE(failing.ok());
    auto failed = Http(port(), "GET", "/api/v1/jobs/" + id + "/file", "", sup.Headers(false));
    // An internal error (whatever the store reports: the injected abort is a constraint failure
    // to SQLite); never the 412 of a file already taken, never the data.
    EXPECT_EQ(failed.status, 500) << failed.body;
    EXPECT_EQ(failed.headers["content-type"].rfind("application/json", 0), 0u) << failed.headers["content-type"];
    EXPECT_EQ(failed.headers.count("content-disposition"), 0u);
    json err = json::parse(failed.body, nullptr, false);
    ASSERT_TRUE(err.is_object() && err["error"].is_object()) << failed.body;
    EXPECT_EQ(err["error"]["code"], "internal") << failed.body;
    EXPECT_EQ(failed.body.find("prs_"), std::string::npos) << failed.body;
    auto job = Http(port(), "GET", "/api/v1/jobs/" + id, "", sup.Headers(false));
    ASSERT_EQ(job.status, 200) << job.body;
    EXPECT_TRUE(json::parse(job.body)["file_available"]);
  }
  auto file = Http(port(), "GET", "/api/v1/jobs/" + id + "/file", "", sup.Headers(false));
  ASSERT_EQ(file.status, 200) << file.body;
  EXPECT_EQ(file.body.rfind("\"prs_", 0), 0u) << file.body.substr(0, 100);
  EXPECT_EQ(done["bytes_written"].get<size_t>(), file.body.size());
  EXPECT_EQ(Http(port(), "GET", "/api/v1/jobs/" + id + "/file", "", sup.Headers(false)).status, 412);
  EXPECT_FALSE(json::parse(Http(port(), "GET", "/api/v1/jobs/" + id, "", sup.Headers(false)).body)["file_available"]);
}

// S7: names uploaded and exported (identifying) over HTTP leave no plaintext in any file.
TEST_F(JobsApiTest, NoPlaintextLeftOnDisk) {
  Session sup = Login(port(), "supervisor");
  auto r = Http(port(), "POST", "/api/v1/jobs/import-htcds", GoodCsv(20, "CNRYjobsQz"), Csv(sup));
  ASSERT_EQ(r.status, 202);
  ASSERT_EQ(Wait(sup, json::parse(r.body)["id"])["state"], "done");
  r = Http(port(), "POST", "/api/v1/jobs/export-htcds", R"({"identifying":true})", sup.Headers());
  ASSERT_EQ(r.status, 202);
  const std::string id = json::parse(r.body)["id"];
  ASSERT_EQ(Wait(sup, id)["state"], "done");
  // The export exists (in memory) but not in any file.
  for (int pass = 0; pass < 2; ++pass) {
    for (const auto& entry : fs::recursive_directory_iterator(demo_->dir.path)) {
      if (!entry.is_regular_file()) continue;
      EXPECT_EQ(ReadFile(entry.path().string()).find("CNRYjobsQz"), std::string::npos) << entry.path();
    }
    if (pass == 0) {
      auto file = Http(port(), "GET", "/api/v1/jobs/" + id + "/file", "", sup.Headers(false));
      ASSERT_EQ(file.status, 200);
      EXPECT_NE(file.body.find("CNRYjobsQz"), std::string::npos);  // identifying: opened for the agency
    }
  }
}

}  // namespace
}  // namespace trellis::testing

// Evidence items over HTTP, against the real binary: same agency, another agency with and
// without a release naming the item, the item's case only for a reader of that case, revocation,
// attorney work product, denied answers equal to missing ones byte for byte (S1), file bytes
// round-tripped, the signed copy of a release, the upload limit (413), and the canary: the
// file's bytes never reach the data directory in clear.
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "core/clock.h"
#include "support/harness.h"

namespace trellis::testing {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

const std::string kCanary = "EVCANARY-7Q2-FILE-BYTES";
const std::string kFile = "%PDF-1.4\n% " + kCanary + "\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n";

class EvidenceApiTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    demo_ = new DemoServer();
    ASSERT_TRUE(demo_->Start(2, 5));
  }
  static void TearDownTestSuite() { delete demo_; }
  int port() const { return demo_->port(); }
  static std::map<std::string, std::string> Comparable(std::map<std::string, std::string> h) {
    h.erase("x-request-id");
    h.erase("date");
    return h;
  }
  static std::map<std::string, std::string> Upload(const Session& s, const std::string& type) {
    auto h = s.Headers(false);
    h["Content-Type"] = type;
    return h;
  }
  std::string NewSurvivor(const Session& s) {
    auto r = Http(port(), "POST", "/api/v1/survivors", R"({"fields":{"prs_FirstName":"Evi"}})", s.Headers());
    EXPECT_EQ(r.status, 201) << r.body;
    return json::parse(r.body)["id"];
  }
  std::string NewItem(const Session& s, const std::string& sid, const std::string& kind, const std::string& title) {
    auto r = Http(port(), "POST", "/api/v1/survivors/" + sid + "/evidence",
                  json({{"title", title}, {"kind", kind}, {"description", "EVDESC-CANARY"}, {"date", "2026-02-01"}}).dump(),
                  s.Headers());
    EXPECT_EQ(r.status, 201) << r.body;
    return r.status == 201 ? json::parse(r.body)["id"].get<std::string>() : "";
  }
  std::string Agency(const Session& s) {
    return json::parse(Http(port(), "GET", "/api/v1/me", "", s.Headers(false)).body)["agency_id"];
  }
  // Denied answers for `path` equal those for a missing item, byte for byte.
  void ExpectLikeMissing(const Session& s, const std::string& path, const std::string& missing_path) {
    auto denied = Http(port(), "GET", path, "", s.Headers(false));
    auto absent = Http(port(), "GET", missing_path, "", s.Headers(false));
    EXPECT_EQ(denied.status, 404) << path << " " << denied.body;
    EXPECT_EQ(denied.body, absent.body) << path;
    EXPECT_EQ(Comparable(denied.headers), Comparable(absent.headers)) << path;
  }
  static DemoServer* demo_;
};
DemoServer* EvidenceApiTest::demo_ = nullptr;

TEST_F(EvidenceApiTest, SameAgencyCrossAgencyRevocationAndWorkProduct) {
  Session adv = Login(port(), "advocate");
  Session att = Login(port(), "attorney");
  Session le = Login(port(), "lespecialist");
  const std::string sid = NewSurvivor(adv);
  const std::string named = NewItem(adv, sid, "written_statement", "EVTITLE-NAMED");
  const std::string other = NewItem(adv, sid, "photo", "EVTITLE-OTHER");
  const std::string missing = "e_aaaaaaaaaaaaaaaaaaaaaaaaaa";

  // Validation: errors name the field; a wrong or unknown file type is refused, nothing stored.
  auto bad = Http(port(), "POST", "/api/v1/survivors/" + sid + "/evidence", R"({"title":"x","kind":"selfie"})", adv.Headers());
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(json::parse(bad.body)["error"]["field"], "kind");
  auto html = Http(port(), "PUT", "/api/v1/evidence/" + named + "/content", "<html><script></script></html>",
                   Upload(adv, "text/html"));
  EXPECT_EQ(html.status, 400) << html.body;
  auto lie = Http(port(), "PUT", "/api/v1/evidence/" + named + "/content", kFile, Upload(adv, "image/jpeg"));
  EXPECT_EQ(lie.status, 400) << lie.body;
  // The file round-trips byte for byte.
  auto up = Http(port(), "PUT", "/api/v1/evidence/" + named + "/content", kFile, Upload(adv, "application/pdf"));
  ASSERT_EQ(up.status, 200) << up.body;
  EXPECT_EQ(json::parse(up.body)["file"]["size"], kFile.size());
  auto again = Http(port(), "PUT", "/api/v1/evidence/" + named + "/content", kFile, Upload(adv, "application/pdf"));
  EXPECT_EQ(again.status, 409);
  auto down = Http(port(), "GET", "/api/v1/evidence/" + named + "/content", "", adv.Headers(false));
  ASSERT_EQ(down.status, 200);
  EXPECT_EQ(down.body, kFile);
  EXPECT_EQ(down.headers["content-type"], "application/pdf");
  EXPECT_NE(down.headers["content-disposition"].find("attachment"), std::string::npos);
  EXPECT_EQ(down.headers["content-disposition"].find("EVTITLE"), std::string::npos);  // nothing identifying

  // Another agency, no release: every evidence path answers like a missing one.
  ExpectLikeMissing(le, "/api/v1/evidence/" + named, "/api/v1/evidence/" + missing);
  ExpectLikeMissing(le, "/api/v1/evidence/" + named + "/content", "/api/v1/evidence/" + missing + "/content");
  ExpectLikeMissing(le, "/api/v1/survivors/" + sid + "/evidence",
                    "/api/v1/survivors/s_aaaaaaaaaaaaaaaaaaaaaaaaaa/evidence");

  // Work product: only the legal team, and never released.
  auto adv_notes = Http(port(), "POST", "/api/v1/survivors/" + sid + "/evidence", R"({"title":"n","kind":"attorney_notes"})",
                        adv.Headers());
  EXPECT_EQ(adv_notes.status, 403);
  auto notes = Http(port(), "POST", "/api/v1/survivors/" + sid + "/evidence",
                    R"({"title":"EVTITLE-NOTES","kind":"attorney_notes"})", att.Headers());
  // The attorney is at another agency in the demo: the survivor is not theirs.
  EXPECT_EQ(notes.status, 404) << notes.body;

  // A release naming one item: the sheriff sees exactly that one.
  json rel = {{"survivor_id", sid},
              {"recipient_agency_id", Agency(le)},
              {"evidence_ids", {named}},
              {"purpose", "investigation"},
              {"expires_on", FormatDate(SystemClock().NowMicros() + int64_t{30} * 86'400'000'000)},
              {"signers", {{{"relationship", "survivor"}, {"name", "Evi"}}}}};
  auto g = Http(port(), "POST", "/api/v1/releases", rel.dump(), adv.Headers());
  ASSERT_EQ(g.status, 201) << g.body;
  const std::string gid = json::parse(g.body)["id"];
  EXPECT_EQ(json::parse(g.body)["evidence_ids"], json::array({named}));
  // The printable release names the item by its title, so the survivor knows what is shared.
  auto doc = Http(port(), "GET", "/api/v1/releases/" + gid + "/document?lang=es", "", adv.Headers(false));
  ASSERT_EQ(doc.status, 200);
  EXPECT_NE(doc.body.find("Esta prueba: <strong>EVTITLE-NAMED</strong>"), std::string::npos) << doc.body;
  EXPECT_EQ(doc.body.find("EVTITLE-OTHER"), std::string::npos);
  auto list = Http(port(), "GET", "/api/v1/survivors/" + sid + "/evidence", "", le.Headers(false));
  ASSERT_EQ(list.status, 200) << list.body;
  EXPECT_NE(list.body.find("EVTITLE-NAMED"), std::string::npos);
  EXPECT_EQ(list.body.find("EVTITLE-OTHER"), std::string::npos);
  EXPECT_EQ(list.body.find(other), std::string::npos);
  EXPECT_EQ(list.body.find("created_by"), std::string::npos);
  auto le_down = Http(port(), "GET", "/api/v1/evidence/" + named + "/content", "", le.Headers(false));
  ASSERT_EQ(le_down.status, 200);
  EXPECT_EQ(le_down.body, kFile);
  ExpectLikeMissing(le, "/api/v1/evidence/" + other, "/api/v1/evidence/" + missing);
  // The survivor record itself shows no field: the release names items only.
  auto surv = Http(port(), "GET", "/api/v1/survivors/" + sid, "", le.Headers(false));
  EXPECT_EQ(surv.body.find("Evi"), std::string::npos);
  // A recipient never writes.
  auto le_put = Http(port(), "PUT", "/api/v1/evidence/" + other + "/content", kFile, Upload(le, "application/pdf"));
  EXPECT_EQ(le_put.status, 404);

  // The accounting of disclosures counts each read of the named item.
  auto acc = Http(port(), "GET", "/api/v1/survivors/" + sid + "/disclosures", "", adv.Headers(false));
  ASSERT_EQ(acc.status, 200);
  int named_rows = 0;
  const json acc_json = json::parse(acc.body);
  for (const auto& d : acc_json["items"]) {
    if (d["record_id"] == named) {
      ++named_rows;
      EXPECT_EQ(d["categories"], json::array({"named_evidence"}));
    }
    EXPECT_NE(d["record_id"], other);
  }
  EXPECT_EQ(named_rows, 2) << acc.body;  // list, download
  EXPECT_EQ(acc.body.find("EVTITLE"), std::string::npos);

  // The signed copy of the release.
  auto copy = Http(port(), "POST", "/api/v1/releases/" + gid + "/signed-copy", kFile, Upload(adv, "application/pdf"));
  ASSERT_EQ(copy.status, 201) << copy.body;
  const std::string copy_id = json::parse(copy.body)["id"];
  EXPECT_EQ(json::parse(copy.body)["kind"], "signed_release");
  auto rels = Http(port(), "GET", "/api/v1/survivors/" + sid + "/releases", "", adv.Headers(false));
  EXPECT_EQ(json::parse(rels.body)["items"][0]["signed_copy_id"], copy_id);
  ExpectLikeMissing(le, "/api/v1/evidence/" + copy_id, "/api/v1/evidence/" + missing);

  // Revoked: gone on the next request, like a missing item.
  auto rv = Http(port(), "POST", "/api/v1/releases/" + gid + "/revoke", R"({"reason":"survivor_request"})", adv.Headers());
  ASSERT_EQ(rv.status, 200);
  ExpectLikeMissing(le, "/api/v1/evidence/" + named, "/api/v1/evidence/" + missing);
  ExpectLikeMissing(le, "/api/v1/evidence/" + named + "/content", "/api/v1/evidence/" + missing + "/content");
  ExpectLikeMissing(le, "/api/v1/survivors/" + sid + "/evidence",
                    "/api/v1/survivors/s_aaaaaaaaaaaaaaaaaaaaaaaaaa/evidence");

  // Canary: neither the file nor the title or description is anywhere in the data directory.
  for (const auto& entry : fs::recursive_directory_iterator(demo_->data)) {
    if (!entry.is_regular_file()) continue;
    const std::string bytes = ReadFile(entry.path().string());
    for (const std::string& c : {kCanary, std::string("EVTITLE-NAMED"), std::string("EVDESC-CANARY")}) {
      EXPECT_EQ(bytes.find(c), std::string::npos) << c << " in " << entry.path();
    }
  }
}

// The case an item belongs to: the survivor's agency sees it; another agency only while it may
// read that case (a release of the items alone opens no record, so the link is null).
TEST_F(EvidenceApiTest, TheCaseOfAnItemOnlyForAReaderOfTheCase) {
  Session adv = Login(port(), "advocate");
  Session le = Login(port(), "lespecialist");
  const std::string sid = NewSurvivor(adv);
  auto c = Http(port(), "POST", "/api/v1/cases", json({{"survivor_id", sid}, {"fields", {{"cas_Status", "Active"}}}}).dump(),
                adv.Headers());
  ASSERT_EQ(c.status, 201) << c.body;
  const std::string cid = json::parse(c.body)["id"];
  auto item = Http(port(), "POST", "/api/v1/survivors/" + sid + "/evidence",
                   json({{"title", "EVTITLE-CASE"}, {"kind", "photo"}, {"case_id", cid}}).dump(), adv.Headers());
  ASSERT_EQ(item.status, 201) << item.body;
  const std::string id = json::parse(item.body)["id"];
  auto case_id_for = [&](const Session& s) {
    auto one = Http(port(), "GET", "/api/v1/evidence/" + id, "", s.Headers(false));
    auto list = Http(port(), "GET", "/api/v1/survivors/" + sid + "/evidence", "", s.Headers(false));
    EXPECT_EQ(one.status, 200) << one.body;
    EXPECT_EQ(list.status, 200) << list.body;
    if (one.status != 200 || list.status != 200) return json("?");
    EXPECT_EQ(json::parse(list.body)["items"][0]["case_id"], json::parse(one.body)["case_id"]);
    if (json::parse(one.body)["case_id"].is_null()) {
      EXPECT_EQ(one.body.find(cid), std::string::npos) << one.body;
      EXPECT_EQ(list.body.find(cid), std::string::npos) << list.body;
    }
    return json::parse(one.body)["case_id"];
  };
  EXPECT_EQ(case_id_for(adv), cid);
  json rel = {{"survivor_id", sid},
              {"recipient_agency_id", Agency(le)},
              {"evidence_ids", {id}},
              {"purpose", "investigation"},
              {"expires_on", FormatDate(SystemClock().NowMicros() + int64_t{30} * 86'400'000'000)},
              {"signers", {{{"relationship", "survivor"}, {"name", "Evi"}}}}};
  ASSERT_EQ(Http(port(), "POST", "/api/v1/releases", rel.dump(), adv.Headers()).status, 201);
  EXPECT_EQ(Http(port(), "GET", "/api/v1/cases/" + cid, "", le.Headers(false)).status, 404);
  EXPECT_EQ(case_id_for(le), json(nullptr));
  // The accounting's rows for the case link (S13), as the survivor's agency sees them.
  auto case_links = [&]() {
    json out = json::array();
    auto acc = Http(port(), "GET", "/api/v1/survivors/" + sid + "/disclosures", "", adv.Headers(false));
    EXPECT_EQ(acc.status, 200) << acc.body;
    if (acc.status != 200) return out;
    const json all = json::parse(acc.body);
    for (const auto& d : all["items"]) {
      if (d["categories"] == json::array({"case_link"})) out.push_back(d);
    }
    return out;
  };
  EXPECT_EQ(case_links().size(), 0u);  // not shown, not disclosed
  // A release of a category opens the survivor's records to the sheriff, the case among them.
  rel.erase("evidence_ids");
  rel["categories"] = {"case_workflow"};
  auto records = Http(port(), "POST", "/api/v1/releases", rel.dump(), adv.Headers());
  ASSERT_EQ(records.status, 201) << records.body;
  const std::string records_id = json::parse(records.body)["id"];
  EXPECT_EQ(Http(port(), "GET", "/api/v1/cases/" + cid, "", le.Headers(false)).status, 200);
  EXPECT_EQ(case_id_for(le), cid);
  EXPECT_EQ(case_id_for(adv), cid);
  // Shown to the sheriff through the item and the list: two disclosures of the case, on the
  // release that opens it, recorded before the answers left the server.
  json links = case_links();
  ASSERT_EQ(links.size(), 2u) << links.dump();
  std::vector<std::string> actions;
  for (const auto& d : links) {
    actions.push_back(d["action"]);
    EXPECT_EQ(d["record_id"], cid);
    EXPECT_EQ(d["agency_id"], Agency(le));
    EXPECT_EQ(d["basis"], "release");
    EXPECT_EQ(d["grants"], json::array({records_id}));
  }
  EXPECT_EQ(actions, (std::vector<std::string>{"read", "list"}));
}

// Attorney work product: the legal clinic's legal team only; never named in a release (S4).
TEST_F(EvidenceApiTest, WorkProductStaysWithTheLegalTeam) {
  Session att = Login(port(), "attorney");
  Session para = Login(port(), "paralegal");
  Session le = Login(port(), "lespecialist");
  const std::string sid = NewSurvivor(att);
  const std::string notes = NewItem(att, sid, "attorney_notes", "EVTITLE-WORKPRODUCT");
  ASSERT_FALSE(notes.empty());
  auto seen = Http(port(), "GET", "/api/v1/evidence/" + notes, "", para.Headers(false));
  EXPECT_EQ(seen.status, 200) << seen.body;
  json rel = {{"survivor_id", sid},
              {"recipient_agency_id", Agency(le)},
              {"evidence_ids", {notes}},
              {"purpose", "investigation"},
              {"expires_on", FormatDate(SystemClock().NowMicros() + int64_t{30} * 86'400'000'000)},
              {"signers", {{{"relationship", "survivor"}, {"name", "Evi"}}}}};
  auto g = Http(port(), "POST", "/api/v1/releases", rel.dump(), att.Headers());
  ASSERT_EQ(g.status, 400) << g.body;
  EXPECT_EQ(json::parse(g.body)["error"]["field"], "evidence_ids");
  EXPECT_EQ(g.body.find("EVTITLE"), std::string::npos);
  // With a release of every category, the notes still stay behind.
  rel.erase("evidence_ids");
  rel["categories"] = {"identity", "trafficking_history", "immigration"};
  ASSERT_EQ(Http(port(), "POST", "/api/v1/releases", rel.dump(), att.Headers()).status, 201);
  ExpectLikeMissing(le, "/api/v1/evidence/" + notes, "/api/v1/evidence/e_aaaaaaaaaaaaaaaaaaaaaaaaaa");
  auto list = Http(port(), "GET", "/api/v1/survivors/" + sid + "/evidence", "", le.Headers(false));
  EXPECT_EQ(list.status, 200);
  EXPECT_EQ(list.body, R"({"items":[]})");
}

TEST_F(EvidenceApiTest, UploadLimit) {
  Session adv = Login(port(), "advocate");
  const std::string sid = NewSurvivor(adv);
  const std::string id = NewItem(adv, sid, "other", "Big");
  // Larger than the ordinary 1 MiB request limit but within 10 MiB: accepted.
  std::string big = "%PDF-1.4\n" + std::string(3 << 20, 'a') + "\n%%EOF\n";
  auto ok = Http(port(), "PUT", "/api/v1/evidence/" + id + "/content", big, Upload(adv, "application/pdf"));
  EXPECT_EQ(ok.status, 200) << ok.body.substr(0, 200);
  auto down = Http(port(), "GET", "/api/v1/evidence/" + id + "/content", "", adv.Headers(false));
  EXPECT_EQ(down.body, big);
  // Over 10 MiB: 413 with the JSON error shape.
  const std::string id2 = NewItem(adv, sid, "other", "Too big");
  std::string huge = "%PDF-1.4\n" + std::string(11 << 20, 'a');
  auto too = Http(port(), "PUT", "/api/v1/evidence/" + id2 + "/content", huge, Upload(adv, "application/pdf"));
  EXPECT_EQ(too.status, 413);
  EXPECT_NE(too.body.find("too_large"), std::string::npos);
  // Other routes keep the 1 MiB limit.
  auto json_big = Http(port(), "POST", "/api/v1/survivors/" + sid + "/evidence", std::string(2 << 20, ' '), adv.Headers());
  EXPECT_EQ(json_big.status, 413);
}

}  // namespace
}  // namespace trellis::testing

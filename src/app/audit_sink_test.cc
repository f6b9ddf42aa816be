// The app's audit sink: an entry's disclosure row commits in the entry's batch, and an
// attachment the sink does not know fails the batch instead of being dropped unwritten.
#include <gtest/gtest.h>

#include <any>
#include <memory>

#include "app/impl.h"
#include "storage/store.h"
#include "support/test_dir.h"

namespace trellis::app {
namespace {

audit::BatchBuilder OneEntryWith(std::any attachment) {
  return [attachment](int64_t last_seq, const std::string&) {
    audit::Batch b;
    b.rows.push_back({last_seq + 1, "entry", std::string(32, 'h')});
    b.checkpoint = {last_seq + 1, std::string(32, 'h'), "signature", 1};
    b.attachments.push_back(attachment);
    return b;
  };
}

TEST(StoreAuditSink, ADisclosureRowCommitsWithItsEntryAndAnyOtherAttachmentFailsTheBatch) {
  const testing::TestDir dir;
  auto store = storage::OpenSqliteStore(dir.path() + "/trellis.db", {.create_if_missing = true});
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  StoreAuditSink sink(**store);

  for (std::any other : {std::any(42), std::any(storage::DisclosureRow{}),
                         std::any(std::shared_ptr<const storage::DisclosureRow>())}) {
    EXPECT_EQ(sink.AppendBatch(OneEntryWith(other)).code(), Code::kInternal);
  }
  EXPECT_EQ((*store)->LastAudit()->seq, 0) << "nothing of a failed batch is written";

  storage::DisclosureRow row{0, "s_1", "c_1", 7, "u_1", "a_2", "case.read", "identity", "release", "g_1", "r_1"};
  ASSERT_TRUE(sink.AppendBatch(OneEntryWith(std::make_shared<const storage::DisclosureRow>(row))).ok());
  EXPECT_EQ((*store)->LastAudit()->seq, 1);
  auto listed = (*store)->ListDisclosures("s_1");
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ((*listed)[0].request_id, "r_1");
}

}  // namespace
}  // namespace trellis::app

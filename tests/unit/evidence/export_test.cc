// Export bundles: one case's records with the chain proof around them, other cases redacted
// to hashes; the bundle verifies on its own and tampering with it is caught.

#include "control/evidence/export.h"

#include <gtest/gtest.h>

#include "control/evidence/ledger.h"
#include "control/evidence/record.h"
#include "control/evidence/verify.h"
#include "tests/unit/evidence/test_util.h"

namespace cordon::evidence {
namespace {

class ExportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    key_ = tmp_.sub("evidence.key");
    testing::writeKey(key_);
    o_.dir = dir_ = tmp_.sub("ledger");
    o_.key_path = key_;
    o_.checkpoint_every = 5;
    o_.checkpoint_seconds = 0;
    o_.packets = true;
    o_.clock = clock_.fn();
  }

  // 20 events; every third one is case B, the rest case A; each with a packet.
  void writeLedger(bool close = true) {
    std::string err;
    auto l = Ledger::open(o_, &err);
    ASSERT_NE(l, nullptr) << err;
    for (int i = 0; i < 20; ++i) {
      const std::string pkt = "frame-" + std::to_string(i);
      ASSERT_TRUE(l->append(testing::eventJson(i, i % 3 == 0 ? "case-B" : "case-A"),
                            {reinterpret_cast<const uint8_t*>(pkt.data()), pkt.size()}, 0, &err))
          << err;
    }
    if (close) {
      ASSERT_TRUE(l->close(&err)) << err;
    } else {
      std::filesystem::copy(dir_, tmp_.sub("open-copy"));
      dir_ = tmp_.sub("open-copy");
    }
  }

  testing::TempDir tmp_;
  testing::FakeClock clock_;
  LedgerOptions o_;
  std::string key_, dir_;
};

TEST_F(ExportTest, BundleVerifiesAndDisclosesOnlyTheCase) {
  writeLedger();
  ExportStats st;
  std::string err;
  const std::string out = tmp_.sub("bundle-B");
  ASSERT_TRUE(exportCase(dir_, "case-B", out, "", &st, &err)) << err;
  EXPECT_EQ(st.matched, 7u);  // events 0,3,...,18
  EXPECT_EQ(st.packets, 7u);
  EXPECT_TRUE(st.sealed);
  EXPECT_GT(st.redacted, 0u);

  const std::string records = testing::readAll(out + "/records.jsonl");
  EXPECT_EQ(records.find("case-A"), std::string::npos);  // other cases are hashes only
  EXPECT_NE(records.find("case-B"), std::string::npos);
  for (const char* f :
       {"bundle.json", "pubkey.pem", "README.txt", "verify_evidence.py", "packets.pcap"}) {
    EXPECT_TRUE(std::filesystem::exists(out + "/" + f)) << f;
  }

  VerifyResult r = verifyLedger(out);
  ASSERT_EQ(r.status, VerifyStatus::kSealed) << r.describe(out);
  EXPECT_TRUE(r.bundle);
  EXPECT_EQ(r.packets, 7u);
  EXPECT_EQ(r.redacted, st.redacted);
  EXPECT_EQ(r.first_seq, st.first_seq);
  EXPECT_EQ(r.last_seq, st.last_seq);

  // Tampering with the case's own record, its packet, or dropping a redacted record.
  auto lines = testing::readLines(out + "/records.jsonl");
  size_t mine = 0;
  while (lines[mine].find("case-B") == std::string::npos) ++mine;
  auto edited = lines;
  edited[mine].replace(edited[mine].find("www"), 3, "WWW");
  testing::writeLines(out + "/records.jsonl", edited);
  r = verifyLedger(out);
  EXPECT_EQ(r.status, VerifyStatus::kBroken);
  ParsedRecord rec;
  ASSERT_TRUE(parseRecordLine(lines[mine], &rec, &err));
  EXPECT_EQ(r.bad_seq, rec.header.seq) << r.describe(out);

  size_t redacted = 0;
  while (lines[redacted].find("body_sha256") == std::string::npos) ++redacted;
  auto dropped = lines;
  dropped.erase(dropped.begin() + static_cast<long>(redacted));
  testing::writeLines(out + "/records.jsonl", dropped);
  EXPECT_EQ(verifyLedger(out).status, VerifyStatus::kBroken);

  testing::writeLines(out + "/records.jsonl", lines);
  std::string pcap = testing::readAll(out + "/packets.pcap");
  pcap[24 + 16] ^= 0x20;
  testing::writeAll(out + "/packets.pcap", pcap);
  r = verifyLedger(out);
  EXPECT_EQ(r.status, VerifyStatus::kBroken);
  EXPECT_NE(r.reason.find("packet bytes do not match"), std::string::npos) << r.reason;
}

TEST_F(ExportTest, BundleWithoutItsClosingCheckpointIsNotSealed) {
  writeLedger();
  std::string err;
  const std::string out = tmp_.sub("bundle-A");
  ASSERT_TRUE(exportCase(dir_, "case-A", out, "", nullptr, &err)) << err;
  auto lines = testing::readLines(out + "/records.jsonl");
  ASSERT_NE(lines.back().find("\"type\":\"checkpoint\""), std::string::npos);
  lines.pop_back();
  testing::writeLines(out + "/records.jsonl", lines);
  EXPECT_EQ(verifyLedger(out).status, VerifyStatus::kUnsealed);
  // A bundle must start at a signed anchor.
  lines.erase(lines.begin());
  testing::writeLines(out + "/records.jsonl", lines);
  EXPECT_EQ(verifyLedger(out).status, VerifyStatus::kBroken);
}

TEST_F(ExportTest, UnsealedTailIsExportedButFlagged) {
  writeLedger(/*close=*/false);
  ExportStats st;
  std::string err;
  ASSERT_TRUE(exportCase(dir_, "case-A", tmp_.sub("b"), "", &st, &err)) << err;
  EXPECT_FALSE(st.sealed);
  EXPECT_EQ(verifyLedger(tmp_.sub("b")).status, VerifyStatus::kUnsealed);
}

TEST_F(ExportTest, Refusals) {
  writeLedger();
  std::string err;
  EXPECT_FALSE(exportCase(dir_, "no-such-case", tmp_.sub("x"), "", nullptr, &err));
  EXPECT_NE(err.find("no event with rule.ref 'no-such-case'"), std::string::npos) << err;
  ASSERT_TRUE(exportCase(dir_, "case-A", tmp_.sub("y"), "", nullptr, &err)) << err;
  EXPECT_FALSE(exportCase(dir_, "case-A", tmp_.sub("y"), "", nullptr, &err));
  EXPECT_NE(err.find("not an empty directory"), std::string::npos) << err;

  const std::string seg = dir_ + "/" + segmentName(1);
  auto lines = testing::readLines(seg);
  std::swap(lines[3], lines[4]);
  testing::writeLines(seg, lines);
  EXPECT_FALSE(exportCase(dir_, "case-A", tmp_.sub("z"), "", nullptr, &err));
  EXPECT_NE(err.find("does not verify"), std::string::npos) << err;
}

}  // namespace
}  // namespace cordon::evidence

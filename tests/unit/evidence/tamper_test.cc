// Every kind of tampering is caught and located: an edited byte, a deleted record, swapped
// records, a record cut mid-line, whole records cut after the last checkpoint, an altered
// or foreign signature, and verification against the wrong key.
//
// The ledger under test (checkpoint every 4 records, 10 events, closed):
//   seq 0 genesis, 1-3 events 0-2, 4 checkpoint, 5-8 events 3-6, 9 checkpoint,
//   10-12 events 7-9, 13 close checkpoint. Line N+1 of ledger-000001.jsonl is seq N.

#include <gtest/gtest.h>

#include "control/evidence/crypto.h"
#include "control/evidence/ledger.h"
#include "control/evidence/record.h"
#include "control/evidence/verify.h"
#include "tests/unit/evidence/test_util.h"

namespace cordon::evidence {
namespace {

using testing::readLines;
using testing::writeLines;

class TamperTest : public ::testing::Test {
 protected:
  void SetUp() override {
    key_ = tmp_.sub("evidence.key");
    testing::writeKey(key_);
    LedgerOptions o;
    o.dir = dir_ = tmp_.sub("ledger");
    o.key_path = key_;
    o.checkpoint_every = 4;
    o.checkpoint_seconds = 0;
    o.clock = clock_.fn();
    std::string err;
    auto l = Ledger::open(o, &err);
    ASSERT_NE(l, nullptr) << err;
    for (int i = 0; i < 10; ++i) {
      ASSERT_TRUE(l->append(testing::eventJson(i), {}, 0, &err)) << err;
      clock_.ns += 1000;
    }
    ASSERT_TRUE(l->close(&err)) << err;
    seg_ = dir_ + "/" + segmentName(1);
    lines_ = readLines(seg_);
    ASSERT_EQ(lines_.size(), 14u);
    ASSERT_NE(lines_[4].find("\"reason\":\"count\""), std::string::npos);
    ASSERT_NE(lines_[13].find("\"reason\":\"close\""), std::string::npos);
    ASSERT_EQ(verifyLedger(dir_).status, VerifyStatus::kSealed);
  }

  VerifyResult verifyWith(const std::vector<std::string>& lines) {
    writeLines(seg_, lines);
    return verifyLedger(dir_);
  }

  void expectBroken(const VerifyResult& r, uint64_t seq, const std::string& reason_has) {
    EXPECT_EQ(r.status, VerifyStatus::kBroken) << r.describe(dir_);
    EXPECT_EQ(r.bad_seq, seq) << r.describe(dir_);
    EXPECT_NE(r.reason.find(reason_has), std::string::npos) << r.describe(dir_);
    EXPECT_NE(r.describe(dir_).find("first bad record is seq " + std::to_string(seq)),
              std::string::npos);
  }

  testing::TempDir tmp_;
  testing::FakeClock clock_;
  std::string key_, dir_, seg_;
  std::vector<std::string> lines_;
};

TEST_F(TamperTest, EditedByteOfAnEvent) {
  auto l = lines_;
  l[6].replace(l[6].find("www4."), 5, "www5.");  // still valid JSON, different host
  const VerifyResult r = verifyWith(l);
  expectBroken(r, 6, "record 6 was altered");
  EXPECT_EQ(r.bad_where, segmentName(1) + ":7");
}

TEST_F(TamperTest, EditedByteOfTheLastEventBeforeTheCloseIsCaughtByTheChain) {
  auto l = lines_;
  l[12].replace(l[12].find("\"src_port\":40009"), 16, "\"src_port\":40008");
  expectBroken(verifyWith(l), 12, "altered");
}

TEST_F(TamperTest, EditThatBreaksJson) {
  auto l = lines_;
  l[2].erase(l[2].size() - 3, 1);
  expectBroken(verifyWith(l), 2, "malformed record");
}

TEST_F(TamperTest, EditedHeaderFieldIsCaught) {
  auto l = lines_;
  // Rewrite the time of record 3: same length, valid, but no longer what record 4 hashed.
  const size_t t = l[3].find("\"time\":\"2026") + 8;
  l[3][t + 3] = l[3][t + 3] == '7' ? '8' : '7';
  expectBroken(verifyWith(l), 3, "altered");
}

TEST_F(TamperTest, DeletedRecord) {
  auto l = lines_;
  l.erase(l.begin() + 5);
  const VerifyResult r = verifyWith(l);
  expectBroken(r, 5, "record 5 is missing");
  EXPECT_EQ(r.bad_where, segmentName(1) + ":6");
}

TEST_F(TamperTest, DeletedRecordAndRenumberedSuccessors) {
  auto l = lines_;
  l.erase(l.begin() + 5);
  for (size_t i = 5; i < l.size(); ++i) {  // the forger renumbers, but cannot fix the hashes
    const std::string from = "{\"seq\":" + std::to_string(i + 1) + ",";
    l[i].replace(0, from.size(), "{\"seq\":" + std::to_string(i) + ",");
  }
  const VerifyResult r = verifyWith(l);
  EXPECT_EQ(r.status, VerifyStatus::kBroken);
  EXPECT_LE(r.bad_seq, 5u) << r.describe(dir_);
}

TEST_F(TamperTest, SwappedRecords) {
  auto l = lines_;
  std::swap(l[6], l[7]);
  const VerifyResult r = verifyWith(l);
  expectBroken(r, 6, "out of order");
}

TEST_F(TamperTest, TruncatedMidRecord) {
  std::string text = testing::readAll(seg_);
  text.resize(text.size() - lines_.back().size() / 2);
  testing::writeAll(seg_, text);
  const VerifyResult r = verifyLedger(dir_);
  expectBroken(r, 13, "cut short");
  EXPECT_TRUE(r.torn_tail);
  EXPECT_EQ(r.bad_where, segmentName(1) + ":14");
}

// FORMAT.md "Truncation": cutting whole records after the last checkpoint cannot be told
// apart from a crash, so it is reported as "not closed cleanly" with the unsigned records
// counted, never as intact.
TEST_F(TamperTest, TruncatedWholeRecordsAfterTheLastCheckpoint) {
  auto l = lines_;
  l.resize(13);  // only the close checkpoint removed
  VerifyResult r = verifyWith(l);
  EXPECT_EQ(r.status, VerifyStatus::kUnsealed) << r.describe(dir_);
  EXPECT_EQ(r.unsealed, 3u);
  EXPECT_EQ(r.last_checkpoint_seq, 9u);
  EXPECT_NE(r.describe(dir_).find("NOT CLOSED CLEANLY"), std::string::npos);

  l.resize(10);  // back to a periodic checkpoint: still not a clean close
  r = verifyWith(l);
  EXPECT_EQ(r.status, VerifyStatus::kUnsealed) << r.describe(dir_);
  EXPECT_EQ(r.unsealed, 0u);
  EXPECT_NE(r.describe(dir_).find("not a close checkpoint"), std::string::npos);

  l.resize(8);  // into the records before checkpoint 9
  r = verifyWith(l);
  EXPECT_EQ(r.status, VerifyStatus::kUnsealed);
  EXPECT_EQ(r.unsealed, 3u);
}

TEST_F(TamperTest, EmptiedLedger) {
  expectBroken(verifyWith({}), 0, "no records");
  std::filesystem::remove(seg_);
  expectBroken(verifyLedger(dir_), 0, "no ledger segments");
}

TEST_F(TamperTest, AlteredSignature) {
  auto l = lines_;
  const size_t s = l[13].find("\"sig\":\"") + 7;
  l[13][s] = l[13][s] == '0' ? '1' : '0';
  expectBroken(verifyWith(l), 13, "signature does not verify");
}

TEST_F(TamperTest, SignatureByTheWrongKey) {
  // A forger with another key re-signs the last checkpoint over the same message.
  const std::string other = tmp_.sub("other.key");
  testing::writeKey(other);
  std::string err;
  PKey k = loadPrivateKey(other, &err);
  ParsedRecord rec;
  ASSERT_TRUE(parseRecordLine(lines_[13], &rec, &err)) << err;
  const std::string ledger = rec.body->get("ledger")->str;
  std::string sig;
  ASSERT_TRUE(signHex(k.get(),
                      checkpointMessage(ledger, 13, rec.header.time, rec.header.prev, "close"),
                      &sig, &err));
  auto l = lines_;
  const size_t s = l[13].find("\"sig\":\"") + 7;
  l[13].replace(s, 128, sig);
  expectBroken(verifyWith(l), 13, "signature does not verify");
}

TEST_F(TamperTest, VerifyingWithTheWrongKey) {
  const std::string other = tmp_.sub("other.key");
  testing::writeKey(other);
  VerifyOptions vo;
  vo.pubkey_path = other;  // a private PEM is accepted: its public half is used
  const VerifyResult r = verifyLedger(dir_, vo);
  EXPECT_EQ(r.status, VerifyStatus::kBroken);
  EXPECT_EQ(r.bad_seq, 0u);
  EXPECT_NE(r.reason.find("not the key being used to verify"), std::string::npos) << r.reason;

  // The same when the forger replaced pubkey.pem and the verifier pins the real key.
  std::filesystem::copy_file(other, dir_ + "/pubkey.pem",
                             std::filesystem::copy_options::overwrite_existing);
  EXPECT_EQ(verifyLedger(dir_).status, VerifyStatus::kBroken);
  vo.pubkey_path = key_;
  EXPECT_EQ(verifyLedger(dir_, vo).status, VerifyStatus::kSealed);
}

TEST_F(TamperTest, MissingOrBadPublicKeyIsAnError) {
  std::filesystem::remove(dir_ + "/pubkey.pem");
  VerifyResult r = verifyLedger(dir_);
  EXPECT_EQ(r.status, VerifyStatus::kError);
  EXPECT_NE(r.error.find("--pubkey"), std::string::npos) << r.error;
  testing::writeAll(dir_ + "/pubkey.pem", "garbage\n");
  r = verifyLedger(dir_);
  EXPECT_EQ(r.status, VerifyStatus::kError);
  EXPECT_NE(r.error.find("not a PEM public key"), std::string::npos) << r.error;
  EXPECT_EQ(verifyLedger(tmp_.sub("nowhere")).status, VerifyStatus::kError);
}

TEST_F(TamperTest, ReformattedRecordIsNotCanonical) {
  auto l = lines_;
  l[2].replace(0, 7, "{\"seq\": ");  // one space: same JSON value, different bytes
  expectBroken(verifyWith(l), 2, "canonical layout");
}

TEST_F(TamperTest, RedactedRecordInsideALedger) {
  auto l = lines_;
  ParsedRecord rec;
  std::string err;
  ASSERT_TRUE(parseRecordLine(l[2], &rec, &err));
  l[2] = formatRedactedLine(rec.header, rec.body_sha256);  // hashes the same
  expectBroken(verifyWith(l), 2, "redacted record inside a ledger");
}

}  // namespace
}  // namespace cordon::evidence

// Ledger writer: chain and checkpoint round trip, reopen-and-continue, crash recovery,
// rotation, time checkpoints, packets, and the key errors an operator can make.

#include "control/evidence/ledger.h"

#include <gtest/gtest.h>
#include <sys/file.h>

#include "control/evidence/record.h"
#include "control/evidence/verify.h"
#include "tests/unit/evidence/test_util.h"

namespace cordon::evidence {
namespace {

using testing::eventJson;
using testing::FakeClock;
using testing::readLines;
using testing::TempDir;

class LedgerTest : public ::testing::Test {
 protected:
  LedgerTest() {
    key_ = tmp_.sub("evidence.key");
    testing::writeKey(key_);
    opts_.dir = tmp_.sub("ledger");
    opts_.key_path = key_;
    opts_.checkpoint_every = 4;
    opts_.checkpoint_seconds = 0;
    opts_.clock = clock_.fn();
  }

  std::unique_ptr<Ledger> open() {
    std::string err;
    auto l = Ledger::open(opts_, &err);
    EXPECT_NE(l, nullptr) << err;
    return l;
  }

  void appendEvents(Ledger* l, int n, int from = 0) {
    for (int i = from; i < from + n; ++i) {
      std::string err;
      ASSERT_TRUE(l->append(eventJson(i), {}, 0, &err)) << err;
      clock_.ns += 1000000;
    }
  }

  VerifyResult verify() const { return verifyLedger(opts_.dir); }

  TempDir tmp_;
  std::string key_;
  FakeClock clock_;
  LedgerOptions opts_;
};

TEST_F(LedgerTest, ChainAndCheckpointsRoundTrip) {
  auto l = open();
  ASSERT_NE(l, nullptr);
  appendEvents(l.get(), 10);
  std::string err;
  ASSERT_TRUE(l->close(&err)) << err;
  const VerifyResult r = verify();
  ASSERT_EQ(r.status, VerifyStatus::kSealed) << r.describe(opts_.dir);
  EXPECT_EQ(r.events, 10u);
  EXPECT_EQ(r.first_seq, 0u);
  EXPECT_EQ(r.last_seq + 1, r.records);
  EXPECT_EQ(r.last_checkpoint_reason, "close");
  EXPECT_GE(r.checkpoints, 3u);  // two by count (every 4 records) and the close
  EXPECT_EQ(r.unsealed, 0u);
  EXPECT_EQ(r.key_fingerprint, l->keyFingerprint());
  EXPECT_EQ(r.ledger_id, l->ledgerId());
  EXPECT_EQ(r.head, l->head());

  // The layout FORMAT.md promises: genesis first, records link by seq.
  const auto lines = readLines(opts_.dir + "/" + segmentName(1));
  ASSERT_EQ(lines.size(), r.records);
  EXPECT_EQ(lines[0].rfind("{\"seq\":0,", 0), 0u);
  EXPECT_NE(lines[0].find("\"type\":\"genesis\""), std::string::npos);
  EXPECT_NE(lines[1].find("\"event\":{\"timestamp\""), std::string::npos);
  EXPECT_NE(lines.back().find("\"reason\":\"close\""), std::string::npos);
  EXPECT_TRUE(std::filesystem::exists(opts_.dir + "/pubkey.pem"));
}

TEST_F(LedgerTest, ReopenContinuesTheChain) {
  {
    auto l = open();
    appendEvents(l.get(), 3);
    std::string err;
    ASSERT_TRUE(l->close(&err)) << err;
  }
  {
    auto l = open();
    ASSERT_NE(l, nullptr);
    appendEvents(l.get(), 3, 3);
    std::string err;
    ASSERT_TRUE(l->close(&err)) << err;
  }
  const VerifyResult r = verify();
  ASSERT_EQ(r.status, VerifyStatus::kSealed) << r.describe(opts_.dir);
  EXPECT_EQ(r.events, 6u);
  EXPECT_EQ(r.unclean_restarts, 0u);
  const std::string text = testing::readAll(opts_.dir + "/" + segmentName(1));
  EXPECT_NE(text.find("\"type\":\"open\",\"prev\""), std::string::npos);
  EXPECT_NE(text.find("\"clean\":true"), std::string::npos);
}

TEST_F(LedgerTest, DestructorClosesCleanly) {
  {
    auto l = open();
    appendEvents(l.get(), 2);
  }
  EXPECT_EQ(verify().status, VerifyStatus::kSealed);
}

// A crash leaves the ledger as it was after the last write: copy it while it is open.
TEST_F(LedgerTest, ReopenAfterCrashRecordsAnUncleanRestart) {
  const std::string crashed = tmp_.sub("crashed");
  {
    auto l = open();
    appendEvents(l.get(), 6);
    std::filesystem::copy(opts_.dir, crashed);
  }
  std::filesystem::remove(crashed + "/.lock");
  VerifyResult r = verifyLedger(crashed);
  EXPECT_EQ(r.status, VerifyStatus::kUnsealed) << r.describe(crashed);
  EXPECT_GT(r.unsealed, 0u);

  opts_.dir = crashed;
  {
    auto l = open();
    ASSERT_NE(l, nullptr);
    appendEvents(l.get(), 2, 6);
  }
  r = verifyLedger(crashed);
  EXPECT_EQ(r.status, VerifyStatus::kSealed) << r.describe(crashed);
  EXPECT_EQ(r.events, 8u);
  EXPECT_EQ(r.unclean_restarts, 1u);
}

TEST_F(LedgerTest, TornLastRecordIsSetAsideOnReopen) {
  const std::string crashed = tmp_.sub("crashed");
  {
    auto l = open();
    appendEvents(l.get(), 5);
    std::filesystem::copy(opts_.dir, crashed);
  }
  std::filesystem::remove(crashed + "/.lock");
  const std::string seg = crashed + "/" + segmentName(1);
  const std::string torn = "{\"seq\":99,\"time\":\"2026-11-23T20:00:0";
  testing::writeAll(seg, testing::readAll(seg) + torn);
  EXPECT_EQ(verifyLedger(crashed).status, VerifyStatus::kBroken);

  opts_.dir = crashed;
  opts_.recover_torn_tail = false;
  std::string err;
  EXPECT_EQ(Ledger::open(opts_, &err), nullptr);
  EXPECT_NE(err.find("cut short"), std::string::npos) << err;

  opts_.recover_torn_tail = true;
  {
    auto l = open();
    ASSERT_NE(l, nullptr);
    appendEvents(l.get(), 1, 5);
  }
  const VerifyResult r = verifyLedger(crashed);
  EXPECT_EQ(r.status, VerifyStatus::kSealed) << r.describe(crashed);
  EXPECT_EQ(r.unclean_restarts, 1u);
  bool found = false;
  for (const auto& e : std::filesystem::directory_iterator(crashed)) {
    if (e.path().filename().string().find(".torn-") != std::string::npos) {
      found = true;
      EXPECT_EQ(testing::readAll(e.path().string()), torn);
    }
  }
  EXPECT_TRUE(found);
  EXPECT_NE(testing::readAll(seg).find("\"recovered\":{\"file\":\"ledger-000001.jsonl.torn-"),
            std::string::npos);
}

TEST_F(LedgerTest, RefusesToAppendToABrokenLedger) {
  {
    auto l = open();
    appendEvents(l.get(), 5);
  }
  const std::string seg = opts_.dir + "/" + segmentName(1);
  auto lines = readLines(seg);
  lines[2].replace(lines[2].find("www1."), 5, "www9.");
  testing::writeLines(seg, lines);
  std::string err;
  EXPECT_EQ(Ledger::open(opts_, &err), nullptr);
  EXPECT_NE(err.find("refusing to append to a broken evidence ledger"), std::string::npos) << err;
  EXPECT_NE(err.find("seq 2"), std::string::npos) << err;
  // Nothing was appended to the evidence.
  EXPECT_EQ(readLines(seg), lines);
}

TEST_F(LedgerTest, MissingKeyFile) {
  opts_.key_path = tmp_.sub("no-such.key");
  std::string err;
  EXPECT_EQ(Ledger::open(opts_, &err), nullptr);
  EXPECT_NE(err.find("no-such.key: cannot read key"), std::string::npos) << err;
}

TEST_F(LedgerTest, BadPem) {
  opts_.key_path = tmp_.sub("bad.key");
  testing::writeAll(opts_.key_path,
                    "-----BEGIN PRIVATE KEY-----\nnot base64!\n-----END PRIVATE "
                    "KEY-----\n");
  std::string err;
  EXPECT_EQ(Ledger::open(opts_, &err), nullptr);
  EXPECT_NE(err.find("not a PEM private key"), std::string::npos) << err;

  testing::writeAll(opts_.key_path, "");
  EXPECT_EQ(Ledger::open(opts_, &err), nullptr);
  EXPECT_NE(err.find("not a PEM private key"), std::string::npos) << err;
}

TEST_F(LedgerTest, NotAnEd25519Key) {
  opts_.key_path = tmp_.sub("rsa.key");
  testing::writeRsaKey(opts_.key_path);
  std::string err;
  EXPECT_EQ(Ledger::open(opts_, &err), nullptr);
  EXPECT_NE(err.find("not an Ed25519 key (it is RSA)"), std::string::npos) << err;
}

TEST_F(LedgerTest, ReopenWithAnotherKeyIsRefused) {
  open().reset();
  opts_.key_path = tmp_.sub("other.key");
  testing::writeKey(opts_.key_path);
  std::string err;
  EXPECT_EQ(Ledger::open(opts_, &err), nullptr);
  EXPECT_NE(err.find("public key does not match"), std::string::npos) << err;
}

TEST_F(LedgerTest, DeletedSegmentsAreNotSilentlyRestarted) {
  open().reset();
  std::filesystem::remove(opts_.dir + "/" + segmentName(1));
  std::string err;
  EXPECT_EQ(Ledger::open(opts_, &err), nullptr);
  EXPECT_NE(err.find("no ledger segments"), std::string::npos) << err;
}

TEST_F(LedgerTest, OneWriterAtATime) {
  auto l = open();
  ASSERT_NE(l, nullptr);
  std::string err;
  EXPECT_EQ(Ledger::open(opts_, &err), nullptr);
  EXPECT_NE(err.find("another process is writing"), std::string::npos) << err;
}

TEST_F(LedgerTest, RejectsEventsThatAreNotOneJsonObject) {
  auto l = open();
  std::string err;
  EXPECT_FALSE(l->append("[1,2]", {}, 0, &err));
  EXPECT_FALSE(l->append("{\"a\":", {}, 0, &err));
  EXPECT_FALSE(l->append("{\"a\":\n1}", {}, 0, &err));
  EXPECT_NE(err.find("one line"), std::string::npos) << err;
  EXPECT_FALSE(l->append("{\"a\":1,\"a\":2}", {}, 0, &err));
  EXPECT_TRUE(l->append("{\"a\":1}", {}, 0, &err)) << err;
  EXPECT_FALSE(l->failed());
  l.reset();
  EXPECT_EQ(verify().status, VerifyStatus::kSealed);
}

TEST_F(LedgerTest, TimeCheckpoints) {
  opts_.checkpoint_every = 0;
  opts_.checkpoint_seconds = 10;
  auto l = open();
  appendEvents(l.get(), 2);
  std::string err;
  ASSERT_TRUE(l->tick(&err));
  EXPECT_EQ(l->pending(), 3u);  // genesis + 2 events
  clock_.ns += 11ull * 1000000000ull;
  ASSERT_TRUE(l->tick(&err)) << err;
  EXPECT_EQ(l->pending(), 0u);
  ASSERT_TRUE(l->tick(&err));  // nothing pending: no empty checkpoints
  EXPECT_EQ(l->pending(), 0u);
  l.reset();
  const VerifyResult r = verify();
  EXPECT_EQ(r.status, VerifyStatus::kSealed);
  EXPECT_EQ(r.checkpoints, 2u);  // time + close
}

TEST_F(LedgerTest, RotationAcrossSegments) {
  opts_.segment_bytes = 2000;
  opts_.packets = true;
  auto l = open();
  for (int i = 0; i < 30; ++i) {
    const std::string pkt = "packet-" + std::to_string(i);
    std::string err;
    ASSERT_TRUE(l->append(eventJson(i), {reinterpret_cast<const uint8_t*>(pkt.data()), pkt.size()},
                          0, &err))
        << err;
  }
  l.reset();
  VerifyResult r = verify();
  ASSERT_EQ(r.status, VerifyStatus::kSealed) << r.describe(opts_.dir);
  EXPECT_GE(r.last_segment, 3u);
  EXPECT_EQ(r.packets, 30u);

  // Reopen continues in the last segment and keeps verifying.
  {
    auto l2 = open();
    ASSERT_NE(l2, nullptr);
    appendEvents(l2.get(), 3, 30);
  }
  r = verify();
  ASSERT_EQ(r.status, VerifyStatus::kSealed) << r.describe(opts_.dir);
  EXPECT_EQ(r.events, 33u);

  // Deleting a middle segment is caught; deleting the last one leaves an unclosed ledger.
  const std::string last = opts_.dir + "/" + segmentName(r.last_segment);
  const std::string saved = testing::readAll(last);
  std::filesystem::remove(last);
  r = verify();
  EXPECT_EQ(r.status, VerifyStatus::kUnsealed) << r.describe(opts_.dir);
  EXPECT_EQ(r.last_checkpoint_reason, "rotate");
  testing::writeAll(last, saved);
  std::filesystem::remove(opts_.dir + "/" + segmentName(2));
  r = verify();
  EXPECT_EQ(r.status, VerifyStatus::kBroken);
  EXPECT_NE(r.reason.find("segment file is missing"), std::string::npos) << r.reason;
}

TEST_F(LedgerTest, PacketsAreHashedAndTamperingIsCaught) {
  opts_.packets = true;
  auto l = open();
  const std::vector<uint8_t> frame(74, 0xab);
  std::string err;
  ASSERT_TRUE(l->append(eventJson(0), frame, 1795464000123456000ull, &err)) << err;
  ASSERT_TRUE(l->append(eventJson(1), {}, 0, &err)) << err;  // no packet for this one
  ASSERT_TRUE(l->append(eventJson(2), frame, 0, &err)) << err;
  l.reset();
  VerifyResult r = verify();
  ASSERT_EQ(r.status, VerifyStatus::kSealed) << r.describe(opts_.dir);
  EXPECT_EQ(r.packets, 2u);

  const std::string pcap = opts_.dir + "/" + packetsName(1);
  std::string bytes = testing::readAll(pcap);
  EXPECT_EQ(bytes.size(), 24u + 2 * (16 + 74));
  bytes[24 + 16 + 90 + 5] ^= 1;  // a byte of the second stored packet (record seq 3)
  testing::writeAll(pcap, bytes);
  r = verify();
  EXPECT_EQ(r.status, VerifyStatus::kBroken);
  EXPECT_EQ(r.bad_seq, 3u);
  EXPECT_NE(r.reason.find("packet bytes do not match"), std::string::npos) << r.reason;
}

}  // namespace
}  // namespace cordon::evidence

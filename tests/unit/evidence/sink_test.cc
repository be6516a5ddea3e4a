// The evidence section of the config, and EvidenceSink: EventRecords from the workers land
// in the ledger as the EVE line the event log writes, with the triggering packet.

#include "control/evidence/sink.h"

#include <gtest/gtest.h>

#include <cstring>

#include "control/config.h"
#include "control/event_log.h"
#include "control/evidence/verify.h"
#include "tests/unit/evidence/test_util.h"

namespace cordon::evidence {
namespace {

class EvidenceConfigTest : public ::testing::Test {
 protected:
  Config load(const std::string& yaml) {
    const std::string p = tmp_.sub("cordon.yaml");
    testing::writeAll(p, yaml);
    return loadConfig(p);
  }
  std::string error(const std::string& yaml) {
    try {
      load(yaml);
    } catch (const ConfigError& e) {
      return e.what();
    }
    return "";
  }
  testing::TempDir tmp_;
};

TEST_F(EvidenceConfigTest, Accepted) {
  const Config c = load(
      "evidence: {dir: ev, key: /etc/cordon/evidence.key, checkpoint_every: 50,\n"
      "           checkpoint_seconds: 5, packets: true, fsync: record}\n");
  EXPECT_TRUE(c.evidence.enabled());
  EXPECT_EQ(c.evidence.dir, tmp_.sub("ev"));  // relative to the config file
  EXPECT_EQ(c.evidence.key, "/etc/cordon/evidence.key");
  EXPECT_EQ(c.evidence.checkpoint_every, 50u);
  EXPECT_EQ(c.evidence.checkpoint_seconds, 5u);
  EXPECT_TRUE(c.evidence.packets);
  EXPECT_EQ(c.evidence.fsync, "record");

  const Config d = load("evidence: {dir: /var/lib/cordon/evidence, key: k.pem}\n");
  EXPECT_EQ(d.evidence.checkpoint_every, 1000u);
  EXPECT_EQ(d.evidence.checkpoint_seconds, 60u);
  EXPECT_FALSE(d.evidence.packets);
  EXPECT_FALSE(load("events: {path: x}\n").evidence.enabled());
}

TEST_F(EvidenceConfigTest, Rejected) {
  EXPECT_NE(error("evidence: {dir: x}\n").find("evidence needs 'key'"), std::string::npos);
  EXPECT_NE(error("evidence: {key: x}\n").find("evidence needs 'dir'"), std::string::npos);
  EXPECT_NE(
      error("evidence: {dir: x, key: y, colour: red}\n").find("unknown key 'evidence.colour'"),
      std::string::npos);
  EXPECT_NE(error("evidence: {dir: x, key: y, packets: maybe}\n").find("true or false"),
            std::string::npos);
  EXPECT_NE(error("evidence: {dir: x, key: y, fsync: always}\n").find("evidence.fsync"),
            std::string::npos);
  EXPECT_NE(error("evidence: {dir: x, key: y, checkpoint_every: -3}\n")
                .find("evidence.checkpoint_every must be an integer"),
            std::string::npos);
  EXPECT_NE(error("evidence: {dir: x, key: y, checkpoint_every: 0, checkpoint_seconds: 0}\n")
                .find("cannot both be 0"),
            std::string::npos);
  EXPECT_NE(error("evidence: [a]\n").find("evidence must be a mapping"), std::string::npos);
  EXPECT_NE(error("evidence: {dir: x, key: y}\n").find(""), std::string::npos);
  EXPECT_EQ(error("evidence: {dir: x, key: y}\n"), "");
}

TEST(EvidenceSink, RecordsTheEveLineAndPacket) {
  testing::TempDir tmp;
  EvidenceConfig cfg;
  cfg.dir = tmp.sub("ledger");
  cfg.key = tmp.sub("k.pem");
  cfg.packets = true;
  std::string err;
  EXPECT_FALSE(checkEvidenceConfig(cfg, &err));
  testing::writeKey(cfg.key);
  ASSERT_TRUE(checkEvidenceConfig(cfg, &err)) << err;
  auto sink = EvidenceSink::open(cfg, &err);
  ASSERT_NE(sink, nullptr) << err;

  EventRecord e;
  e.ts_ns = 1795464000123456000ull;
  e.type = EventType::kBlock;
  e.action = EventAction::kReset;
  e.app = AppProto::kTls;
  e.ip_proto = 6;
  parseIp("198.51.100.7", &e.src);
  parseIp("203.0.113.10", &e.dst);
  e.sport = 51234;
  e.dport = 443;
  std::strcpy(e.host, "www.example.com");
  e.host_len = 15;
  const std::vector<uint8_t> frame(60, 0x42);
  ASSERT_TRUE(sink->record(e, frame)) << sink->lastError();
  sink->poll();
  EXPECT_EQ(sink->recorded(), 1u);
  EXPECT_EQ(sink->failures(), 0u);
  ASSERT_TRUE(sink->close(&err)) << err;

  std::string eve;
  formatEvent(e, &eve);
  const std::string seg = testing::readAll(cfg.dir + "/ledger-000001.jsonl");
  EXPECT_NE(seg.find("\"body\":{\"event\":" + eve + ",\"packet\":{"), std::string::npos) << seg;
  const VerifyResult r = verifyLedger(cfg.dir);
  EXPECT_EQ(r.status, VerifyStatus::kSealed) << r.describe(cfg.dir);
  EXPECT_EQ(r.packets, 1u);
}

}  // namespace
}  // namespace cordon::evidence

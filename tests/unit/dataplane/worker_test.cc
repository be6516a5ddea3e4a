// Worker pipeline tests, table-driven (Katran PacketAttributes style): packets are built
// field by field, run through Worker::processBurst on mbufs from a no-hugepage EAL, and the
// verdict, injected packets and events are checked against the contract in ARCHITECTURE.md.
// A fixed in-test Snapshot decides which names are listed, so these tests do not depend on
// the rule compiler.

#include <gtest/gtest.h>
#include <rte_eal.h>
#include <rte_mbuf.h>

#include <algorithm>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "dataplane/io/eal.h"
#include "dataplane/io/mbuf_time.h"
#include "dataplane/io/ports.h"
#include "dataplane/pipeline/worker.h"
#include "tests/unit/dataplane/frag_builder.h"
#include "tests/unit/inspect/hello_builder.h"
#include "tests/unit/inspect/quic_builder.h"

namespace cordon {
namespace {

// ---- A fixed snapshot: hosts listed exactly, with their rule. -------------------------

class FixedScratch : public rules::MatchScratch {};

const rules::RuleList kTestList{"test", "test.list"};

class FixedSnapshot : public rules::Snapshot {
 public:
  void add(const std::string& host, rules::ListAction action = rules::ListAction::kBlock,
           bool exception = false) {
    auto r = std::make_unique<rules::Rule>();
    names_.push_back(std::make_unique<std::string>(host));
    r->pattern = *names_.back();
    r->source = &kTestList;
    r->id = "test:1";
    r->kind = rules::RuleKind::kExact;
    r->action = action;
    r->exception = exception;
    hosts_[host] = r.get();
    rules_.push_back(std::move(r));
  }
  std::unique_ptr<rules::MatchScratch> newScratch() const override {
    return std::make_unique<FixedScratch>();
  }
  rules::Match matchHost(std::string_view host, rules::MatchScratch*) const override {
    auto it = hosts_.find(std::string(host));
    return {it == hosts_.end() ? nullptr : it->second};
  }
  rules::Match matchUrl(std::string_view host, std::string_view,
                        rules::MatchScratch* s) const override {
    return matchHost(host, s);
  }
  rules::Match matchIp(const IpAddr&) const override { return {}; }
  bool hasIpRules() const override { return false; }
  size_t ruleCount() const override { return rules_.size(); }

 private:
  std::vector<std::unique_ptr<std::string>> names_;
  std::vector<std::unique_ptr<rules::Rule>> rules_;
  std::map<std::string, const rules::Rule*> hosts_;
};

// ---- Packet builder ----------------------------------------------------------------

struct Endpoint {
  uint8_t ip[4];
  uint16_t port;
};
const Endpoint kClient{{10, 0, 0, 1}, 40000};
const Endpoint kServer{{10, 0, 0, 2}, 443};

std::vector<uint8_t> tcpFrame(const Endpoint& from, const Endpoint& to, uint32_t seq, uint32_t ack,
                              uint8_t flags, const std::vector<uint8_t>& payload,
                              bool break_checksum = false) {
  std::vector<uint8_t> f = {0x02, 0, 0, 0, 0, 0x02, 0x02, 0, 0, 0, 0, 0x01, 0x08, 0x00};
  const uint16_t total = static_cast<uint16_t>(40 + payload.size());
  std::vector<uint8_t> ip = {
      0x45, 0, static_cast<uint8_t>(total >> 8), static_cast<uint8_t>(total), 0, 0, 0x40, 0, 64, 6,
      0,    0};
  ip.insert(ip.end(), from.ip, from.ip + 4);
  ip.insert(ip.end(), to.ip, to.ip + 4);
  const uint16_t ipsum = checksumFold(checksumAdd(ip, 0));
  ip[10] = static_cast<uint8_t>(ipsum >> 8);
  ip[11] = static_cast<uint8_t>(ipsum);
  std::vector<uint8_t> tcp = {static_cast<uint8_t>(from.port >> 8),
                              static_cast<uint8_t>(from.port),
                              static_cast<uint8_t>(to.port >> 8),
                              static_cast<uint8_t>(to.port),
                              static_cast<uint8_t>(seq >> 24),
                              static_cast<uint8_t>(seq >> 16),
                              static_cast<uint8_t>(seq >> 8),
                              static_cast<uint8_t>(seq),
                              static_cast<uint8_t>(ack >> 24),
                              static_cast<uint8_t>(ack >> 16),
                              static_cast<uint8_t>(ack >> 8),
                              static_cast<uint8_t>(ack),
                              0x50,
                              flags,
                              0xff,
                              0xff,
                              0,
                              0,
                              0,
                              0};
  tcp.insert(tcp.end(), payload.begin(), payload.end());
  const IpAddr s = IpAddr::v4(from.ip), d = IpAddr::v4(to.ip);
  uint16_t sum = checksumFold(checksumAdd(tcp, pseudoHeaderSum(s, d, 6, tcp.size())));
  if (break_checksum) sum ^= 0x5555;
  tcp[16] = static_cast<uint8_t>(sum >> 8);
  tcp[17] = static_cast<uint8_t>(sum);
  f.insert(f.end(), ip.begin(), ip.end());
  f.insert(f.end(), tcp.begin(), tcp.end());
  return f;
}

void put16(std::vector<uint8_t>* v, size_t n) {
  v->push_back(static_cast<uint8_t>(n >> 8));
  v->push_back(static_cast<uint8_t>(n));
}

// A TLS 1.3-style ClientHello record (RFC 8446 section 4.1.2) with server_name (RFC 6066
// section 3) and `pad` bytes of padding extension (RFC 7685) to reach realistic sizes.
std::vector<uint8_t> clientHello(const std::string& sni, size_t pad = 0) {
  std::vector<uint8_t> ext;
  put16(&ext, 0);  // server_name
  put16(&ext, sni.size() + 5);
  put16(&ext, sni.size() + 3);
  ext.push_back(0);
  put16(&ext, sni.size());
  ext.insert(ext.end(), sni.begin(), sni.end());
  put16(&ext, 43);  // supported_versions: TLS 1.3
  put16(&ext, 3);
  ext.insert(ext.end(), {2, 0x03, 0x04});
  if (pad) {
    put16(&ext, 21);
    put16(&ext, pad);
    ext.insert(ext.end(), pad, 0);
  }
  std::vector<uint8_t> body = {0x03, 0x03};
  body.insert(body.end(), 32, 0xab);  // random
  body.push_back(0);                  // session id
  put16(&body, 2);
  body.insert(body.end(), {0x13, 0x01});
  body.insert(body.end(), {1, 0});  // compression: null
  put16(&body, ext.size());
  body.insert(body.end(), ext.begin(), ext.end());
  std::vector<uint8_t> hs = {1, 0};
  put16(&hs, body.size());
  hs.insert(hs.end(), body.begin(), body.end());
  std::vector<uint8_t> rec = {0x16, 0x03, 0x01};
  put16(&rec, hs.size());
  rec.insert(rec.end(), hs.begin(), hs.end());
  return rec;
}

std::vector<uint8_t> text(const std::string& s) {
  return {s.begin(), s.end()};
}

// ---- Fixture ----------------------------------------------------------------------

class WorkerTest : public testing::Test {
 protected:
  static void SetUpTestSuite() {
    std::string err;
    ASSERT_TRUE(initEal({"--no-huge", "-m", "128", "--no-pci", "--in-memory"}, &err)) << err;
    pool_ = rte_pktmbuf_pool_create("test_pool", 1023, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE * 2,
                                    SOCKET_ID_ANY);
    ASSERT_NE(pool_, nullptr);
  }

  void make(Mode mode = Mode::kInline, ActionsConfig actions = {}, uint32_t flows = 1024) {
    WorkerOptions o;
    o.id = next_id_++;
    o.mode = mode;
    o.actions = actions;
    o.flow_capacity = flows;
    o.reasm_buffers = 8;
    o.frag_contexts = frag_contexts_;
    std::string err;
    worker_ = Worker::create(o, pool_, &err);
    ASSERT_TRUE(worker_) << err;
    scratch_ = snap_.newScratch();
    worker_->setSnapshot(&snap_, scratch_.get());
  }

  void TearDown() override {
    for (auto& o : out_) rte_pktmbuf_free(o.m);
    out_.clear();
    worker_.reset();
  }

  // Sends one frame; returns how many packets came out for it (forwarded + injected).
  size_t send(const std::vector<uint8_t>& frame, uint64_t ts_ns = 1'000'000'000) {
    rte_mbuf* m = rte_pktmbuf_alloc(pool_);
    EXPECT_NE(m, nullptr);
    memcpy(rte_pktmbuf_append(m, static_cast<uint16_t>(frame.size())), frame.data(), frame.size());
    setMbufTimeNs(m, ts_ns);
    TxBatch tx;
    PortMap ports;
    ports.peer[0] = 1;
    ports.peer[1] = 0;
    worker_->processBurst(0, &m, 1, ports, &tx);
    for (uint16_t i = 0; i < tx.n; ++i) out_.push_back(tx.items[i]);
    return tx.n;
  }

  // The i-th output packet, parsed.
  PacketInfo outInfo(size_t i, std::vector<uint8_t>* bytes = nullptr) {
    rte_mbuf* m = out_.at(i).m;
    std::vector<uint8_t> b(rte_pktmbuf_mtod(m, uint8_t*),
                           rte_pktmbuf_mtod(m, uint8_t*) + rte_pktmbuf_data_len(m));
    PacketInfo p;
    Counter why{};
    EXPECT_EQ(parsePacket(b, &p, &why), PacketStatus::kOk);
    EXPECT_TRUE(l4ChecksumOk(b, p));
    if (bytes) *bytes = b;
    return p;
  }

  std::vector<EventRecord> events() {
    std::vector<EventRecord> v;
    while (const EventRecord* e = worker_->events().front()) {
      v.push_back(*e);
      worker_->events().pop();
    }
    return v;
  }

  // Client ISN 1000, server ISN 5000: after the handshake the client sends from 1001.
  void handshake() {
    send(tcpFrame(kClient, kServer, 1000, 0, kTcpSyn, {}));
    send(tcpFrame(kServer, kClient, 5000, 1001, kTcpSyn | kTcpAck, {}));
    send(tcpFrame(kClient, kServer, 1001, 5001, kTcpAck, {}));
  }

  static rte_mempool* pool_;
  static unsigned next_id_;
  uint32_t frag_contexts_ = 16;
  FixedSnapshot snap_;
  std::unique_ptr<rules::MatchScratch> scratch_;
  std::unique_ptr<Worker> worker_;
  std::vector<TxBatch::Item> out_;
};

rte_mempool* WorkerTest::pool_ = nullptr;
unsigned WorkerTest::next_id_ = 0;

TEST_F(WorkerTest, BlockedSniResetsBothEndsWithAcceptableSequenceNumbers) {
  snap_.add("blocked.example");
  make();
  handshake();
  ASSERT_EQ(out_.size(), 3u);
  const auto hello = clientHello("Blocked.Example.");
  ASSERT_EQ(send(tcpFrame(kClient, kServer, 1001, 5001, kTcpPsh | kTcpAck, hello)), 2u);
  // Client-bound first: from the server, seq = what the client expects next (5001).
  PacketInfo a = outInfo(3);
  EXPECT_TRUE(out_[3].injected);
  EXPECT_EQ(out_[3].port, 0);  // back out of the port the client is on
  EXPECT_EQ(ipToString(a.src), "10.0.0.2");
  EXPECT_EQ(a.tcp_flags, kTcpRst | kTcpAck);
  EXPECT_EQ(a.seq, 5001u);
  EXPECT_EQ(a.ack, 1001u + hello.size());
  // Server-bound: from the client, seq = the dropped hello's first byte.
  PacketInfo b = outInfo(4);
  EXPECT_EQ(out_[4].port, 1);
  EXPECT_EQ(ipToString(b.src), "10.0.0.1");
  EXPECT_EQ(b.seq, 1001u);
  EXPECT_EQ(b.ack, 5001u);
  // The flow stays blocked both ways.
  EXPECT_EQ(send(tcpFrame(kServer, kClient, 5001, 1001, kTcpAck, {})), 0u);
  EXPECT_EQ(send(tcpFrame(kClient, kServer, 1001, 5001, kTcpPsh | kTcpAck, hello)), 0u);
  const auto ev = events();
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(std::string(ev[0].host), "blocked.example");
  EXPECT_EQ(ev[0].app, AppProto::kTls);
  EXPECT_EQ(ev[0].action, EventAction::kReset);
  EXPECT_EQ(ev[0].sport, 40000);
  EXPECT_EQ(worker_->counters().get(Counter::blocked_flows), 1u);
  EXPECT_EQ(worker_->counters().get(Counter::dropped), 3u);
}

TEST_F(WorkerTest, AllowedSniPassesUnchanged) {
  snap_.add("blocked.example");
  make();
  handshake();
  const auto frame =
      tcpFrame(kClient, kServer, 1001, 5001, kTcpPsh | kTcpAck, clientHello("notblocked.example"));
  ASSERT_EQ(send(frame), 1u);
  std::vector<uint8_t> got;
  outInfo(3, &got);
  EXPECT_EQ(got, frame);
  EXPECT_FALSE(out_[3].injected);
  EXPECT_TRUE(events().empty());
  EXPECT_EQ(worker_->counters().get(Counter::tls_client_hellos), 1u);
}

// A post-quantum sized hello (~1.8 KB) in two segments, sent in reverse order, with the
// first one retransmitted: the decision falls on the segment that completes the hello.
TEST_F(WorkerTest, SplitReorderedRetransmittedHello) {
  snap_.add("blocked.example");
  make();
  handshake();
  const auto hello = clientHello("blocked.example", 1400);
  ASSERT_GT(hello.size(), 1400u);
  const std::vector<uint8_t> a(hello.begin(), hello.begin() + 1000),
      b(hello.begin() + 1000, hello.end());
  EXPECT_EQ(send(tcpFrame(kClient, kServer, 1001 + 1000, 5001, kTcpAck, b)), 1u);
  EXPECT_EQ(send(tcpFrame(kClient, kServer, 1001 + 1000, 5001, kTcpAck, b)), 1u);
  EXPECT_EQ(send(tcpFrame(kClient, kServer, 1001, 5001, kTcpAck, a)), 2u);  // RST x2
  EXPECT_EQ(outInfo(out_.size() - 1).seq, 1001u);
  EXPECT_EQ(events().size(), 1u);
}

TEST_F(WorkerTest, TinySegments) {
  snap_.add("blocked.example");
  make();
  handshake();
  const auto hello = clientHello("blocked.example", 600);
  size_t outs = 0;
  for (size_t off = 0; off < hello.size(); off += 7) {
    const std::vector<uint8_t> piece(hello.begin() + off,
                                     hello.begin() + std::min(off + 7, hello.size()));
    outs = send(tcpFrame(kClient, kServer, 1001 + off, 5001, kTcpAck, piece));
  }
  EXPECT_EQ(outs, 2u);  // the last sliver triggers the reset
  EXPECT_EQ(events().size(), 1u);
}

TEST_F(WorkerTest, BadChecksumDecoyIsNotInspected) {
  snap_.add("blocked.example");
  make();
  handshake();
  // Decoy: an allowed name at the same sequence number, with a broken checksum.
  EXPECT_EQ(send(tcpFrame(kClient, kServer, 1001, 5001, kTcpAck, clientHello("ok.example"), true)),
            1u);
  EXPECT_EQ(send(tcpFrame(kClient, kServer, 1001, 5001, kTcpAck, clientHello("blocked.example"))),
            2u);
  EXPECT_EQ(worker_->counters().get(Counter::bad_l4_checksum), 1u);
  EXPECT_EQ(events().size(), 1u);
}

TEST_F(WorkerTest, HttpKeepAliveSecondRequestRedirected) {
  snap_.add("blocked.example");
  ActionsConfig a;
  a.http = HttpAction::kRedirect;
  a.http_location = "http://notice.example/blocked";
  make(Mode::kInline, a);
  handshake();
  const auto r1 = text("POST /up HTTP/1.1\r\nHost: ok.example\r\nContent-Length: 4\r\n\r\nabcd");
  EXPECT_EQ(send(tcpFrame(kClient, kServer, 1001, 5001, kTcpAck, r1)), 1u);
  const auto r2 = text("GET /x HTTP/1.1\r\nhOsT:  blocked.example:8080 \r\n\r\n");
  EXPECT_EQ(send(tcpFrame(kClient, kServer, 1001 + r1.size(), 5001, kTcpAck, r2)), 2u);
  std::vector<uint8_t> bytes;
  const PacketInfo redirect = outInfo(out_.size() - 2, &bytes);
  EXPECT_EQ(redirect.tcp_flags, kTcpFin | kTcpPsh | kTcpAck);
  const std::string body(bytes.begin() + redirect.payload_offset, bytes.end());
  EXPECT_EQ(body.rfind("HTTP/1.1 302 Found\r\nLocation: http://notice.example/blocked\r\n", 0), 0u);
  const auto ev = events();
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].type, EventType::kRedirect);
  EXPECT_EQ(std::string(ev[0].path), "/x");
}

TEST_F(WorkerTest, MirrorModeEmitsOnlyInjections) {
  snap_.add("blocked.example");
  make(Mode::kMirror);
  handshake();
  EXPECT_EQ(out_.size(), 0u);
  EXPECT_EQ(send(tcpFrame(kClient, kServer, 1001, 5001, kTcpAck, clientHello("blocked.example"))),
            2u);
  EXPECT_TRUE(out_[0].injected && out_[1].injected);
}

// dataplane.inject_copies: mirror mode sends each injected packet N times, back to back
// and byte-identical; inline mode ignores it.
TEST_F(WorkerTest, MirrorModeEmitsInjectCopies) {
  snap_.add("blocked.example");
  ActionsConfig act;
  act.inject_copies = 3;
  make(Mode::kMirror, act);
  handshake();
  const auto hello = clientHello("blocked.example");
  ASSERT_EQ(send(tcpFrame(kClient, kServer, 1001, 5001, kTcpAck, hello)), 6u);
  std::vector<std::vector<uint8_t>> got(6);
  for (size_t i = 0; i < 6; ++i) {
    outInfo(i, &got[i]);
    EXPECT_TRUE(out_[i].injected);
    EXPECT_EQ(out_[i].port, out_[0].port);
  }
  for (size_t i : {1u, 2u}) EXPECT_EQ(got[i], got[0]);
  for (size_t i : {4u, 5u}) EXPECT_EQ(got[i], got[3]);
  EXPECT_NE(got[0], got[3]);  // one RST toward each end
  EXPECT_EQ(worker_->counters().get(Counter::injected), 6u);
  EXPECT_EQ(events().size(), 1u);

  for (auto& o : out_) rte_pktmbuf_free(o.m);
  out_.clear();
  make(Mode::kInline, act);
  handshake();
  EXPECT_EQ(send(tcpFrame(kClient, kServer, 1001, 5001, kTcpAck, hello)), 2u);
}

TEST_F(WorkerTest, MonitorAndExceptionPass) {
  snap_.add("watched.example", rules::ListAction::kMonitor);
  snap_.add("excepted.example", rules::ListAction::kBlock, true);
  make();
  handshake();
  EXPECT_EQ(send(tcpFrame(kClient, kServer, 1001, 5001, kTcpAck, clientHello("watched.example"))),
            1u);
  const auto ev = events();
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].type, EventType::kMonitor);
  EXPECT_EQ(ev[0].action, EventAction::kPass);
  Endpoint other = kClient;
  other.port = 40001;
  send(tcpFrame(other, kServer, 7000, 0, kTcpSyn, {}));
  EXPECT_EQ(send(tcpFrame(other, kServer, 7001, 5001, kTcpAck, clientHello("excepted.example"))),
            1u);
  EXPECT_TRUE(events().empty());
  EXPECT_EQ(worker_->counters().get(Counter::exceptions), 1u);
}

// A full flow table never blocks traffic: new flows pass uninspected and are counted.
// A full table evicts by sampled LRU (kEvictSampleSlots): a SYN flood far beyond the
// table's size still gives every new flow state, and a flow blocked moments ago stays
// blocked however much the table churns.
TEST_F(WorkerTest, FullFlowTableEvictsButKeepsRecentlyBlockedFlows) {
  snap_.add("blocked.example");
  make(Mode::kInline, {}, 1024);
  handshake();
  const auto hello = clientHello("blocked.example");
  ASSERT_EQ(send(tcpFrame(kClient, kServer, 1001, 5001, kTcpPsh | kTcpAck, hello)), 2u);
  for (uint32_t i = 0; i < 3000; ++i) {
    Endpoint c = kClient;
    c.ip[1] = 1;  // never kClient itself
    c.ip[2] = static_cast<uint8_t>(i >> 8);
    c.ip[3] = static_cast<uint8_t>(i);
    ASSERT_EQ(send(tcpFrame(c, kServer, i * 7, 0, kTcpSyn, {}), 1'000'000'000 + i), 1u);
    for (auto& o : out_) rte_pktmbuf_free(o.m);  // the test pool is smaller than 3000
    out_.clear();
  }
  const Counters& k = worker_->counters();
  EXPECT_EQ(k.get(Counter::flow_table_full), 0u);
  EXPECT_EQ(k.get(Counter::flows_created), 3001u);
  EXPECT_GE(k.get(Counter::flow_evicted), 3001u - 1100u);
  EXPECT_LE(worker_->activeFlows(), 1100u);
  // The blocked connection's later packets, both ways, are still dropped.
  const uint64_t t = 1'000'000'000 + 3000;
  EXPECT_EQ(send(tcpFrame(kServer, kClient, 5001, 1001, kTcpAck, {}), t), 0u);
  EXPECT_EQ(send(tcpFrame(kClient, kServer, 1001, 5001, kTcpPsh | kTcpAck, hello), t), 0u);
}

// Passed flows (no state needed) are evicted before flows still being inspected.
TEST_F(WorkerTest, EvictionPrefersPassedFlows) {
  snap_.add("blocked.example");
  make(Mode::kInline, {}, 1024);
  const uint32_t n = 1100 + 16;  // more than the table holds (rte_hash rounds up a little)
  auto client = [](uint32_t i) {
    Endpoint c = kClient;
    c.ip[2] = static_cast<uint8_t>(i >> 8);
    c.ip[3] = static_cast<uint8_t>(i);
    return c;
  };
  for (uint32_t i = 0; i < n; ++i) {
    const Endpoint c = client(i);
    const uint64_t t = 1'000'000'000 + i;
    send(tcpFrame(c, kServer, 1000, 0, kTcpSyn, {}), t);
    if (i % 4 != 3) {  // three in four connections: an allowed hello passes them (kPassed)
      send(tcpFrame(kServer, c, 5000, 1001, kTcpSyn | kTcpAck, {}), t);
      send(tcpFrame(c, kServer, 1001, 5001, kTcpAck, clientHello("allowed.example")), t);
    }
    for (auto& o : out_) rte_pktmbuf_free(o.m);
    out_.clear();
  }
  ASSERT_GT(worker_->counters().get(Counter::flow_evicted), 0u);
  ASSERT_EQ(worker_->counters().get(Counter::flow_table_full), 0u);
  // Every connection still inspecting kept its entry: its hello finds it (no new flow).
  const uint64_t created = worker_->counters().get(Counter::flows_created);
  for (uint32_t i = 3; i < n; i += 4) {
    EXPECT_EQ(
        send(tcpFrame(client(i), kServer, 1001, 5001, kTcpAck, clientHello("blocked.example")),
             2'000'000'000),
        2u);
    for (auto& o : out_) rte_pktmbuf_free(o.m);
    out_.clear();
  }
  EXPECT_EQ(worker_->counters().get(Counter::flows_created), created);
}

TEST_F(WorkerTest, GarbageNeverBlocks) {
  snap_.add("blocked.example");
  make();
  const auto hello = clientHello("blocked.example");
  std::mt19937 rng(1);
  int legit = 0;
  for (int i = 0; i < 2000; ++i) {
    for (auto& o : out_) rte_pktmbuf_free(o.m);  // keep the small test pool from running dry
    out_.clear();
    Endpoint c = kClient;
    c.port = static_cast<uint16_t>(10000 + i);  // one connection per frame
    auto f = tcpFrame(c, kServer, 1001, 5001, kTcpAck, hello);
    // Flip a few random bytes anywhere (headers included), then maybe truncate.
    for (int k = 0; k < 3; ++k) f[rng() % f.size()] ^= static_cast<uint8_t>(1 + rng() % 255);
    if (rng() % 2) f.resize(1 + rng() % f.size());
    // Still a well-formed segment carrying the intact hello? Then a block is legitimate.
    PacketInfo p;
    Counter why{};
    const bool intact = parsePacket(f, &p, &why) == PacketStatus::kOk && p.l4 == L4::kTcp &&
                        l4ChecksumOk(f, p) && p.payload_len == hello.size() &&
                        std::equal(hello.begin(), hello.end(), f.begin() + p.payload_offset);
    const size_t before = out_.size();
    const size_t n = send(f);
    if (intact) {
      ++legit;
      continue;
    }
    ASSERT_EQ(n, 1u) << "frame " << i << " was not simply forwarded";
    EXPECT_FALSE(out_[before].injected);
  }
  EXPECT_EQ(worker_->counters().get(Counter::blocked_flows), static_cast<uint64_t>(legit));
  for (const auto& e : events()) EXPECT_EQ(std::string(e.host), "blocked.example");
  for (auto& o : out_) rte_pktmbuf_free(o.m);
  out_.clear();
}

// ---- QUIC (ARCHITECTURE.md "Default actions": a matching QUIC Initial drops the flow) ----

std::vector<uint8_t> udpFrame(const Endpoint& from, const Endpoint& to,
                              const std::vector<uint8_t>& payload) {
  std::vector<uint8_t> f = {0x02, 0, 0, 0, 0, 0x02, 0x02, 0, 0, 0, 0, 0x01, 0x08, 0x00};
  const uint16_t total = static_cast<uint16_t>(28 + payload.size());
  std::vector<uint8_t> ip = {
      0x45, 0, static_cast<uint8_t>(total >> 8), static_cast<uint8_t>(total), 0, 0, 0x40, 0, 64, 17,
      0,    0};
  ip.insert(ip.end(), from.ip, from.ip + 4);
  ip.insert(ip.end(), to.ip, to.ip + 4);
  const uint16_t ipsum = checksumFold(checksumAdd(ip, 0));
  ip[10] = static_cast<uint8_t>(ipsum >> 8);
  ip[11] = static_cast<uint8_t>(ipsum);
  const uint16_t ulen = static_cast<uint16_t>(8 + payload.size());
  std::vector<uint8_t> udp = {static_cast<uint8_t>(from.port >> 8),
                              static_cast<uint8_t>(from.port),
                              static_cast<uint8_t>(to.port >> 8),
                              static_cast<uint8_t>(to.port),
                              static_cast<uint8_t>(ulen >> 8),
                              static_cast<uint8_t>(ulen),
                              0,
                              0};
  udp.insert(udp.end(), payload.begin(), payload.end());
  const IpAddr s = IpAddr::v4(from.ip), d = IpAddr::v4(to.ip);
  uint16_t sum = checksumFold(checksumAdd(udp, pseudoHeaderSum(s, d, 17, udp.size())));
  if (sum == 0) sum = 0xffff;
  udp[6] = static_cast<uint8_t>(sum >> 8);
  udp[7] = static_cast<uint8_t>(sum);
  f.insert(f.end(), ip.begin(), ip.end());
  f.insert(f.end(), udp.begin(), udp.end());
  return f;
}

// A post-quantum sized ClientHello for `sni` in two client Initials (QUIC v1).
std::vector<std::vector<uint8_t>> quicInitials(const std::string& sni, uint32_t version = 1) {
  const auto hello = tls::testing::buildLargeKeyShareHello(sni);
  quic::testing::PacketSpec s;
  s.version = version;
  s.pn = 0;
  std::vector<std::vector<uint8_t>> out;
  out.push_back(quic::testing::sealPacket(
      s, quic::testing::padded(quic::testing::cryptoFrame(hello, 0, 1000), 1162)));
  s.pn = 1;
  out.push_back(quic::testing::sealPacket(
      s,
      quic::testing::padded(quic::testing::cryptoFrame(hello, 1000, hello.size() - 1000), 1162)));
  return out;
}

TEST_F(WorkerTest, QuicBlockedSniDropsTheFlowBothWays) {
  snap_.add("blocked.example");
  make();
  const auto pkts = quicInitials("Blocked.Example");
  ASSERT_EQ(send(udpFrame(kClient, kServer, pkts[0])), 1u);  // hello incomplete: forwarded
  ASSERT_EQ(send(udpFrame(kClient, kServer, pkts[1])), 0u);  // completes it: dropped
  EXPECT_EQ(send(udpFrame(kServer, kClient, std::vector<uint8_t>(1200, 0xc3))), 0u);
  EXPECT_EQ(send(udpFrame(kClient, kServer, pkts[1])), 0u);
  const auto ev = events();
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(std::string(ev[0].host), "blocked.example");
  EXPECT_EQ(ev[0].app, AppProto::kQuic);
  EXPECT_EQ(ev[0].action, EventAction::kDrop);
  EXPECT_EQ(ev[0].type, EventType::kBlock);
  EXPECT_EQ(ev[0].ip_proto, 17);
  EXPECT_EQ(ev[0].sport, 40000);
  EXPECT_EQ(ev[0].dport, 443);
  EXPECT_EQ(worker_->counters().get(Counter::quic_initials), 2u);
  EXPECT_EQ(worker_->counters().get(Counter::quic_client_hellos), 1u);
  EXPECT_EQ(worker_->counters().get(Counter::blocked_flows), 1u);
}

TEST_F(WorkerTest, QuicAllowedSniPassesUnchangedOnAnyPort) {
  snap_.add("blocked.example");
  make();
  Endpoint server = kServer;
  server.port = 8443;
  for (const auto& p : quicInitials("allowed.example", quic::kVersion2)) {
    const auto f = udpFrame(kClient, server, p);
    ASSERT_EQ(send(f), 1u);
    std::vector<uint8_t> got;
    outInfo(out_.size() - 1, &got);
    EXPECT_EQ(got, f);
  }
  EXPECT_TRUE(events().empty());
  EXPECT_EQ(worker_->counters().get(Counter::quic_client_hellos), 1u);
  // Passed: later datagrams are not decrypted again.
  ASSERT_EQ(send(udpFrame(kClient, server, quicInitials("blocked.example")[0])), 1u);
  EXPECT_EQ(worker_->counters().get(Counter::quic_initials), 2u);
}

TEST_F(WorkerTest, QuicMonitorAndExceptionPass) {
  snap_.add("watched.example", rules::ListAction::kMonitor);
  make();
  for (const auto& p : quicInitials("watched.example")) {
    ASSERT_EQ(send(udpFrame(kClient, kServer, p)), 1u);
  }
  const auto ev = events();
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].type, EventType::kMonitor);
  EXPECT_EQ(ev[0].app, AppProto::kQuic);
}

// An endless stream of Initials for one connection that never completes a ClientHello:
// bounded by kMaxQuicInitialDatagrams, then passed; nothing is blocked.
TEST_F(WorkerTest, QuicEndlessInitialsAreBounded) {
  snap_.add("blocked.example");
  make();
  quic::testing::PacketSpec s;
  for (uint32_t i = 0; i < 40; ++i) {
    s.pn = i;
    const auto p = quic::testing::sealPacket(s, quic::testing::padded({0x01}, 1162));  // PING
    ASSERT_EQ(send(udpFrame(kClient, kServer, p)), 1u) << i;
    for (auto& o : out_) rte_pktmbuf_free(o.m);
    out_.clear();
  }
  EXPECT_EQ(worker_->counters().get(Counter::quic_too_many_initials), 1u);
  EXPECT_EQ(worker_->counters().get(Counter::quic_initials), kMaxQuicInitialDatagrams);
  EXPECT_EQ(worker_->counters().get(Counter::blocked_flows), 0u);
}

TEST_F(WorkerTest, QuicGarbageNeverBlocks) {
  snap_.add("blocked.example");
  make();
  const auto pkts = quicInitials("blocked.example");
  std::mt19937 rng(3);
  for (int i = 0; i < 300; ++i) {
    for (auto& o : out_) rte_pktmbuf_free(o.m);
    out_.clear();
    Endpoint c = kClient;
    c.port = static_cast<uint16_t>(20000 + i);
    auto p = pkts[i % 2];
    for (int k = 0; k < 2; ++k) p[rng() % p.size()] ^= static_cast<uint8_t>(1 + rng() % 255);
    if (rng() % 3 == 0) p.resize(rng() % p.size());
    ASSERT_EQ(send(udpFrame(c, kServer, p)), 1u) << i;
    EXPECT_FALSE(out_[0].injected);
  }
  EXPECT_EQ(worker_->counters().get(Counter::blocked_flows), 0u);
  EXPECT_TRUE(events().empty());
  for (auto& o : out_) rte_pktmbuf_free(o.m);
  out_.clear();
}

// ---- ECH policy ----

std::vector<uint8_t> echHello(const std::string& outer_sni) {
  const auto msg = tls::testing::buildClientHello(
      {tls::testing::sniExtension(outer_sni),
       {0xfe0d, std::vector<uint8_t>{0, 0, 1, 0, 1, 7, 0, 0x20, 0xaa}}});
  return tls::testing::oneRecord(msg);
}

TEST_F(WorkerTest, EchPassMatchesTheOuterSni) {
  snap_.add("blocked.example");
  make();
  handshake();
  ASSERT_EQ(
      send(tcpFrame(kClient, kServer, 1001, 5001, kTcpPsh | kTcpAck, echHello("public.example"))),
      1u);
  EXPECT_TRUE(events().empty());
  EXPECT_EQ(worker_->counters().get(Counter::tls_ech), 1u);
  ASSERT_EQ(send(tcpFrame(kClient, {{10, 0, 0, 3}, 443}, 1001, 5001, kTcpPsh | kTcpAck,
                          echHello("blocked.example"))),
            2u);
  const auto ev = events();
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_TRUE(ev[0].ech);
  EXPECT_NE(ev[0].rule, nullptr);
}

TEST_F(WorkerTest, EchBlockPolicyBlocksEveryEchHello) {
  ActionsConfig a;
  a.ech = EchPolicy::kBlock;
  snap_.add("allowed-ech.example", rules::ListAction::kBlock, /*exception=*/true);
  make(Mode::kInline, a);
  handshake();
  ASSERT_EQ(
      send(tcpFrame(kClient, kServer, 1001, 5001, kTcpPsh | kTcpAck, echHello("public.example"))),
      2u);  // RST both ways
  auto ev = events();
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_TRUE(ev[0].ech);
  EXPECT_EQ(ev[0].rule, nullptr);
  EXPECT_EQ(std::string(ev[0].host), "public.example");
  EXPECT_EQ(worker_->counters().get(Counter::ech_blocked), 1u);
  // An exception for the outer name lets it through; a hello without ECH is unaffected.
  Endpoint c2 = kClient;
  c2.port = 40001;
  ASSERT_EQ(
      send(tcpFrame(c2, kServer, 1001, 5001, kTcpPsh | kTcpAck, echHello("allowed-ech.example"))),
      1u);
  c2.port = 40002;
  ASSERT_EQ(
      send(tcpFrame(c2, kServer, 1001, 5001, kTcpPsh | kTcpAck, clientHello("public.example"))),
      1u);
  EXPECT_TRUE(events().empty());
}

// ---- IP fragments (dataplane/flow/FRAGMENTS.md) ----

std::vector<uint8_t> dnsQuery(uint16_t id, const std::string& name, size_t pad_to = 0) {
  std::vector<uint8_t> q = {
      static_cast<uint8_t>(id >> 8), static_cast<uint8_t>(id), 1, 0, 0, 1, 0, 0, 0, 0, 0, 0};
  size_t start = 0;
  for (size_t dot = 0; dot <= name.size(); ++dot) {
    if (dot == name.size() || name[dot] == '.') {
      q.push_back(static_cast<uint8_t>(dot - start));
      q.insert(q.end(), name.begin() + start, name.begin() + dot);
      start = dot + 1;
    }
  }
  q.insert(q.end(), {0, 0, 1, 0, 1});
  if (pad_to > q.size()) {
    // RFC 6891 OPT record with an RFC 7830 padding option, as a privacy-padding client sends.
    const size_t opt_len = pad_to - q.size() - 11;
    q[11] = 1;  // ARCOUNT
    q.insert(q.end(), {0, 0, 41, 0x10, 0, 0, 0, 0, 0, static_cast<uint8_t>((opt_len + 4) >> 8),
                       static_cast<uint8_t>(opt_len + 4), 0, 12, static_cast<uint8_t>(opt_len >> 8),
                       static_cast<uint8_t>(opt_len)});
    q.insert(q.end(), opt_len, 0);
  }
  return q;
}

const Endpoint kResolver{{10, 0, 0, 53}, 53};

TEST_F(WorkerTest, FragmentedDnsQueryIsAnsweredFromTheReassembledDatagram) {
  snap_.add("blocked.example");
  make();
  const auto q = dnsQuery(0x4242, "blocked.example", 1400);
  const auto frags = fragtest::fragmentV4(udpFrame(kClient, kResolver, q), 0x77,
                                          {{0, 1000, true}, {1000, 0, false}});
  ASSERT_EQ(send(frags[0]), 1u);  // forwarded as it comes
  EXPECT_FALSE(out_[0].injected);
  ASSERT_EQ(send(frags[1]), 1u);  // completes it: dropped, the answer injected
  EXPECT_TRUE(out_[1].injected);
  EXPECT_EQ(out_[1].port, 0);
  std::vector<uint8_t> b;
  const PacketInfo a = outInfo(1, &b);
  EXPECT_FALSE(a.fragment);
  EXPECT_EQ(a.l4, L4::kUdp);
  EXPECT_EQ(ipToString(a.src), "10.0.0.53");
  EXPECT_EQ(a.sport, 53);
  EXPECT_EQ(a.dport, 40000);
  EXPECT_EQ(b[a.payload_offset], 0x42);
  EXPECT_EQ(b[a.payload_offset + 3] & 0x0f, 3);  // NXDOMAIN
  // A late copy of either piece is dropped: the resolver must not complete the datagram.
  EXPECT_EQ(send(frags[1]), 0u);
  EXPECT_EQ(send(frags[0]), 0u);
  const auto ev = events();
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].app, AppProto::kDns);
  EXPECT_EQ(ev[0].sport, 40000);
  EXPECT_EQ(worker_->counters().get(Counter::frag_reassembled), 1u);
  EXPECT_EQ(worker_->counters().get(Counter::frag_blocked), 1u);
  EXPECT_EQ(worker_->counters().get(Counter::frag_drop_rest), 2u);
}

TEST_F(WorkerTest, FragmentedAllowedDatagramsPassUnchanged) {
  snap_.add("blocked.example");
  make();
  const auto q = dnsQuery(0x4243, "allowed.example", 1400);
  const auto frags = fragtest::fragmentV4(udpFrame(kClient, kResolver, q), 0x78,
                                          {{1000, 0, false}, {0, 1000, true}});
  for (const auto& f : frags) {
    ASSERT_EQ(send(f), 1u);
    std::vector<uint8_t> got;
    rte_mbuf* m = out_.back().m;
    got.assign(rte_pktmbuf_mtod(m, uint8_t*), rte_pktmbuf_mtod(m, uint8_t*) + m->data_len);
    EXPECT_EQ(got, f);
  }
  EXPECT_TRUE(events().empty());
  EXPECT_EQ(worker_->counters().get(Counter::dns_queries), 1u);
  EXPECT_EQ(worker_->counters().get(Counter::frag_reassembled), 1u);
}

TEST_F(WorkerTest, FragmentedIpv6DnsQueryIsAnswered) {
  snap_.add("blocked.example");
  make();
  const uint8_t c6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 7};
  const uint8_t r6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0x53, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x53};
  const auto full = fragtest::udp6Frame(IpAddr::v6(c6), IpAddr::v6(r6), 40000, 53,
                                        dnsQuery(0x4244, "blocked.example", 1400));
  const auto frags = fragtest::fragmentV6(full, 0xabcdef, {{0, 1232, true}, {1232, 0, false}});
  ASSERT_EQ(send(frags[0]), 1u);
  ASSERT_EQ(send(frags[1]), 1u);
  EXPECT_TRUE(out_[1].injected);
  const PacketInfo a = outInfo(1);
  EXPECT_EQ(a.ip_version, 6);
  EXPECT_EQ(a.dport, 40000);
  EXPECT_EQ(events().size(), 1u);
}

TEST_F(WorkerTest, FragmentedQuicInitialBlocksTheFlow) {
  snap_.add("blocked.example");
  make();
  const auto pkts = quicInitials("blocked.example");
  const auto f0 = fragtest::fragmentV4(udpFrame(kClient, kServer, pkts[0]), 0x90,
                                       {{0, 600, true}, {600, 0, false}});
  const auto f1 = fragtest::fragmentV4(udpFrame(kClient, kServer, pkts[1]), 0x91,
                                       {{600, 0, false}, {0, 600, true}});
  ASSERT_EQ(send(f0[0]), 1u);
  ASSERT_EQ(send(f0[1]), 1u);  // hello incomplete: forwarded
  ASSERT_EQ(send(f1[0]), 1u);
  ASSERT_EQ(send(f1[1]), 0u);  // completes the hello: dropped
  EXPECT_EQ(send(udpFrame(kServer, kClient, std::vector<uint8_t>(1200, 0xc3))), 0u);
  EXPECT_EQ(send(udpFrame(kClient, kServer, pkts[1])), 0u);
  const auto ev = events();
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].app, AppProto::kQuic);
  EXPECT_EQ(worker_->counters().get(Counter::frag_reassembled), 2u);
}

TEST_F(WorkerTest, FragmentedFirstTcpSegmentIsReset) {
  snap_.add("blocked.example");
  make();
  handshake();
  const auto hello = clientHello("blocked.example", 600);
  const auto frags =
      fragtest::fragmentV4(tcpFrame(kClient, kServer, 1001, 5001, kTcpPsh | kTcpAck, hello), 0x99,
                           {{0, 256, true}, {256, 256, true}, {512, 0, false}});
  ASSERT_EQ(send(frags[2]), 1u);
  ASSERT_EQ(send(frags[0]), 1u);
  ASSERT_EQ(send(frags[1]), 2u);  // completes it: dropped, RST both ways
  const PacketInfo a = outInfo(out_.size() - 2), b = outInfo(out_.size() - 1);
  EXPECT_EQ(a.tcp_flags, kTcpRst | kTcpAck);
  EXPECT_EQ(a.seq, 5001u);
  EXPECT_EQ(a.ack, 1001u + hello.size());
  EXPECT_EQ(b.seq, 1001u);
  EXPECT_EQ(send(tcpFrame(kServer, kClient, 5001, 1001, kTcpAck, {})), 0u);  // flow blocked
  EXPECT_EQ(events().size(), 1u);
}

// RFC 5722: an IPv6 receiver discards a datagram with overlapping fragments, so cordon drops
// the overlapping piece and the rest. IPv4 leaves overlaps to the receiver: cordon gives up
// and the pieces follow dataplane.fail (forwarded by default).
TEST_F(WorkerTest, OverlappingFragments) {
  snap_.add("blocked.example");
  make();
  const auto q = dnsQuery(0x4245, "blocked.example", 1400);
  const uint8_t c6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 7};
  const uint8_t r6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0x53, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x53};
  const auto full6 = fragtest::udp6Frame(IpAddr::v6(c6), IpAddr::v6(r6), 40000, 53, q);
  const auto a6 = fragtest::fragmentV6(full6, 0x55, {{0, 800, true}, {800, 0, false}});
  const auto b6 = fragtest::fragmentV6(full6, 0x55, {{400, 800, true}});  // overlaps a6[0]
  ASSERT_EQ(send(a6[0]), 1u);
  ASSERT_EQ(send(b6[0]), 0u);
  ASSERT_EQ(send(a6[1]), 0u);
  EXPECT_EQ(worker_->counters().get(Counter::frag_overlap), 1u);
  EXPECT_EQ(worker_->counters().get(Counter::frag_drop_rest), 1u);
  const auto full4 = udpFrame(kClient, kResolver, q);
  const auto a4 = fragtest::fragmentV4(full4, 0x55, {{0, 800, true}, {800, 0, false}});
  const auto b4 = fragtest::fragmentV4(full4, 0x55, {{400, 800, true}});
  ASSERT_EQ(send(a4[0]), 1u);
  ASSERT_EQ(send(b4[0]), 1u);
  ASSERT_EQ(send(a4[1]), 1u);
  EXPECT_EQ(worker_->counters().get(Counter::frag_overlap), 2u);
  EXPECT_EQ(worker_->counters().get(Counter::frag_give_up_rest), 1u);
  EXPECT_EQ(worker_->counters().get(Counter::dns_queries), 0u);
  EXPECT_TRUE(events().empty());
}

TEST_F(WorkerTest, FragmentPoolExhaustionFailsOpenOrClosed) {
  snap_.add("blocked.example");
  for (const FailMode mode : {FailMode::kOpen, FailMode::kClosed}) {
    ActionsConfig act;
    act.fail = mode;
    frag_contexts_ = 2;
    make(Mode::kInline, act);
    const auto q = dnsQuery(0x4246, "blocked.example", 1400);
    const auto full = udpFrame(kClient, kResolver, q);
    for (uint16_t id = 1; id <= 2; ++id) {
      ASSERT_EQ(send(fragtest::fragmentV4(full, id, {{0, 800, true}})[0]), 1u);
    }
    const auto third = fragtest::fragmentV4(full, 3, {{0, 800, true}, {800, 0, false}});
    const size_t expect = mode == FailMode::kOpen ? 1 : 0;
    EXPECT_EQ(send(third[0]), expect);
    EXPECT_EQ(send(third[1]), expect);
    EXPECT_EQ(worker_->counters().get(Counter::frag_no_context), 2u);
    EXPECT_EQ(worker_->counters().get(Counter::fail_closed_frag), 2 - 2 * expect);
    // After the timeout the pool is free again and the datagram is inspected.
    const uint64_t later = 1'000'000'000 + kIpReasmTimeoutNs + 1;
    EXPECT_EQ(send(third[0], later), 1u);
    EXPECT_EQ(send(third[1], later), 1u);  // NXDOMAIN injected, fragment dropped
    EXPECT_TRUE(out_.back().injected);
    EXPECT_EQ(worker_->counters().get(Counter::frag_timeout), 2u);
    events();
    TearDown();
  }
}

// ---- dataplane.fail: closed ----

// Fail-closed when nothing can be evicted: a table full of flows blocked moments ago.
TEST_F(WorkerTest, FullFlowTableFailsClosed) {
  snap_.add("blocked.example");
  ActionsConfig act;
  act.fail = FailMode::kClosed;
  make(Mode::kInline, act, 1024);
  const auto hello = clientHello("blocked.example");
  for (uint32_t i = 0; i < 1200; ++i) {  // mid-stream hellos: each blocks a new flow
    Endpoint c = kClient;
    c.ip[2] = static_cast<uint8_t>(i >> 8);
    c.ip[3] = static_cast<uint8_t>(i);
    send(tcpFrame(c, kServer, 1001, 5001, kTcpAck, hello));
    for (auto& o : out_) rte_pktmbuf_free(o.m);
    out_.clear();
  }
  ASSERT_EQ(worker_->counters().get(Counter::flow_evicted), 0u);
  const uint64_t full_before = worker_->counters().get(Counter::flow_table_full);
  ASSERT_GT(full_before, 0u);
  uint64_t forwarded = 0;
  for (uint32_t i = 0; i < 100; ++i) {
    Endpoint c = kClient;
    c.ip[1] = 1;
    c.ip[3] = static_cast<uint8_t>(i);
    forwarded += send(tcpFrame(c, kServer, i * 7, 0, kTcpSyn, {}));
    for (auto& o : out_) rte_pktmbuf_free(o.m);
    out_.clear();
  }
  const uint64_t full = worker_->counters().get(Counter::flow_table_full);
  EXPECT_EQ(full, full_before + 100);
  EXPECT_EQ(worker_->counters().get(Counter::fail_closed_flow_table), full);
  EXPECT_EQ(forwarded, 0u);
  // Once the blocked flows have been idle past kEvictBlockedAfterNs they can make room.
  EXPECT_EQ(send(tcpFrame({{10, 9, 9, 9}, 40000}, kServer, 1, 0, kTcpSyn, {}),
                 1'000'000'000 + kEvictBlockedAfterNs + 1),
            1u);
  EXPECT_EQ(worker_->counters().get(Counter::flow_evicted), 1u);
}

// ---- Residual blocking (actions.residual) ----

TEST_F(WorkerTest, ResidualBlockingRefusesNewConnectionsForAWhile) {
  snap_.add("blocked.example");
  ActionsConfig act;
  act.residual_s = 60;
  make(Mode::kInline, act);
  handshake();
  ASSERT_EQ(send(tcpFrame(kClient, kServer, 1001, 5001, kTcpPsh | kTcpAck,
                          clientHello("blocked.example"))),
            2u);
  for (auto& o : out_) rte_pktmbuf_free(o.m);
  out_.clear();
  // A new connection from another port to the same server and port: RST toward the client.
  Endpoint c2 = kClient;
  c2.port = 40001;
  ASSERT_EQ(send(tcpFrame(c2, kServer, 777, 0, kTcpSyn, {}), 2'000'000'000), 1u);
  EXPECT_TRUE(out_[0].injected);
  EXPECT_EQ(out_[0].port, 0);
  const PacketInfo r = outInfo(0);
  EXPECT_EQ(r.tcp_flags, kTcpRst | kTcpAck);
  EXPECT_EQ(r.seq, 0u);
  EXPECT_EQ(r.ack, 778u);
  EXPECT_EQ(r.dport, 40001);
  // Another server port, or another client: inspected as usual.
  Endpoint s2 = kServer;
  s2.port = 8443;
  EXPECT_EQ(send(tcpFrame(c2, s2, 900, 0, kTcpSyn, {}), 2'000'000'000), 1u);
  EXPECT_FALSE(out_.back().injected);
  Endpoint other = kClient;
  other.ip[3] = 9;
  EXPECT_EQ(send(tcpFrame(other, kServer, 900, 0, kTcpSyn, {}), 2'000'000'000), 1u);
  EXPECT_FALSE(out_.back().injected);
  // After the residual time the tuple is free again.
  c2.port = 40002;
  EXPECT_EQ(send(tcpFrame(c2, kServer, 999, 0, kTcpSyn, {}), 62'000'000'000), 1u);
  EXPECT_FALSE(out_.back().injected);
  EXPECT_EQ(worker_->counters().get(Counter::residual_dropped), 1u);
  EXPECT_EQ(worker_->counters().get(Counter::residual_added), 1u);
  // Events: only the original block.
  EXPECT_EQ(events().size(), 1u);
}

TEST_F(WorkerTest, ResidualBlockingCoversQuicButNeverDns) {
  snap_.add("blocked.example");
  ActionsConfig act;
  act.residual_s = 60;
  make(Mode::kInline, act);
  const auto pkts = quicInitials("blocked.example");
  ASSERT_EQ(send(udpFrame(kClient, kServer, pkts[0])), 1u);
  ASSERT_EQ(send(udpFrame(kClient, kServer, pkts[1])), 0u);
  // A new QUIC connection (another source port) with an allowed name: refused unseen.
  Endpoint c2 = kClient;
  c2.port = 40001;
  EXPECT_EQ(send(udpFrame(c2, kServer, quicInitials("allowed.example")[0])), 0u);
  EXPECT_EQ(worker_->counters().get(Counter::residual_dropped), 1u);
  // DNS blocks leave no residual entry: the next allowed query to the resolver passes.
  ASSERT_EQ(send(udpFrame(kClient, kResolver, dnsQuery(1, "blocked.example"))), 1u);
  EXPECT_TRUE(out_.back().injected);
  ASSERT_EQ(send(udpFrame(kClient, kResolver, dnsQuery(2, "allowed.example"))), 1u);
  EXPECT_FALSE(out_.back().injected);
  EXPECT_EQ(worker_->counters().get(Counter::residual_added), 1u);
}

}  // namespace
}  // namespace cordon

namespace cordon {
namespace {

TEST(PortsTest, PciAddressesAndVdevSpecs) {
  EXPECT_TRUE(isPciAddress("0000:3b:00.0"));
  EXPECT_TRUE(isPciAddress("3b:00.1"));
  EXPECT_TRUE(isPciAddress("ABCD:ff:1f.7"));
  EXPECT_FALSE(isPciAddress("0000:3b:00.8"));
  EXPECT_FALSE(isPciAddress("0000:3b:0.0"));
  EXPECT_FALSE(isPciAddress("net_pcap0,rx_pcap=a.pcap"));
  EXPECT_FALSE(isPciAddress("0000-3b:00.0"));
  EXPECT_FALSE(isPciAddress(""));
  const auto args = portEalArgs({{"a", "0000:3b:00.0", false}, {"b", "net_null0", false}});
  EXPECT_EQ(args, (std::vector<std::string>{"-a", "0000:3b:00.0", "--vdev", "net_null0"}));
  EXPECT_EQ(portEalArgs({{"a", "net_null0", false}}).back(), "--no-pci");
  EXPECT_TRUE(lcoreEalArgs({"-l", "0-3"}, 3).empty());
  EXPECT_FALSE(lcoreEalArgs({}, 1).empty());
}

}  // namespace
}  // namespace cordon

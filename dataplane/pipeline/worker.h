#pragma once
// The burst pipeline of one worker: parse, flow lookup, inspect, match, act. The same code
// serves live ports and pcap replay. A worker owns all its state (flows, reassembly
// buffers, counters, event ring); nothing in it is written by another core.
//
// Per packet: no exceptions, no locks, no heap allocation. Injected packets come from a
// preallocated mbuf pool.

#include <rte_mbuf.h>
#include <rte_mempool.h>

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "dataplane/act/event.h"
#include "dataplane/act/inject.h"
#include "dataplane/act/policy.h"
#include "dataplane/common/spsc_ring.h"
#include "dataplane/flow/flow_table.h"
#include "dataplane/flow/ip_reassembly.h"
#include "dataplane/flow/reassembly.h"
#include "dataplane/flow/residual.h"
#include "dataplane/inspect/quic/initial.h"
#include "dataplane/parse/counters.h"
#include "dataplane/parse/packet.h"
#include "rules/snapshot.h"

namespace cordon {

inline constexpr uint16_t kBurstSize = 32;
// At most two injected packets per decision (one toward each end), each sent up to
// kMaxInjectCopies times in mirror mode (dataplane.inject_copies).
inline constexpr uint16_t kMaxInjectPerPacket = 2;
inline constexpr uint16_t kTxCapacity = kBurstSize * (1 + kMaxInjectPerPacket * kMaxInjectCopies);
inline constexpr uint16_t kMaxPorts = 16;
// A connection idle this long loses its flow entry (blocked ones too: a client that has
// been quiet for two minutes has given up).
inline constexpr uint64_t kFlowIdleTimeoutNs = 120'000'000'000ull;
// Flow slots the ager visits per burst: the whole table is swept every
// capacity / kAgeBudgetPerBurst bursts.
inline constexpr uint32_t kAgeBudgetPerBurst = 64;
// Slots sampled per eviction when a new flow meets a full table (approximate LRU, as
// Redis's maxmemory-samples): enough to find an old passed flow with high probability,
// few enough to stay O(1) per new flow.
inline constexpr uint32_t kEvictSampleSlots = 8;
// A blocked flow idle for less than this is never evicted: its later packets (retransmitted
// hellos, the server's answer) must keep being dropped.
inline constexpr uint64_t kEvictBlockedAfterNs = 5'000'000'000ull;
// Client datagrams a QUIC flow may take to deliver its whole ClientHello. Browsers need one
// or two (post-quantum key shares), a few more with retransmissions or a Retry; past this
// the flow passes uninspected (fail-open, counted) so a stream of Initials for one
// connection cannot hold state or burn crypto forever.
inline constexpr uint8_t kMaxQuicInitialDatagrams = 8;

struct PortMap {
  uint16_t peer[kMaxPorts] = {};  // inline mode: where packets received on each port go
  int32_t inject = -1;            // mirror mode: the port injected packets leave by
};

struct TxBatch {
  struct Item {
    rte_mbuf* m;
    uint16_t port;
    bool injected;
  };
  Item items[kTxCapacity];
  uint16_t n = 0;
};

struct WorkerOptions {
  unsigned id = 0;
  Mode mode = Mode::kInline;
  ActionsConfig actions;
  uint32_t flow_capacity = 65536;
  uint32_t reasm_buffers = 1024;
  uint32_t frag_contexts = kDefaultIpReasmContexts;  // IP reassembly contexts (FRAGMENTS.md)
  uint32_t residual_entries = kResidualEntries;      // used when actions.residual_s > 0
  uint32_t event_ring = 4096;
  bool inspect = true;  // false: forward without parsing (benchmark baseline)
  int socket_id = 0;
};

class Worker {
 public:
  // Control-time construction; `pool` supplies mbufs for injected packets.
  static std::unique_ptr<Worker> create(const WorkerOptions& opt, rte_mempool* pool,
                                        std::string* err);

  // Sets the rule snapshot and this worker's scratch for it (control-time; the snapshot and
  // scratch must outlive their use).
  void setSnapshot(const rules::Snapshot* snap, rules::MatchScratch* scratch) {
    snap_ = snap;
    scratch_ = scratch;
  }

  // Processes a burst received on rx_port. Forwarded and injected mbufs are appended to
  // *tx in decision order; dropped ones are freed. Every input mbuf is consumed.
  void processBurst(uint16_t rx_port, rte_mbuf** pkts, uint16_t n, const PortMap& ports,
                    TxBatch* tx);

  const Counters& counters() const { return counters_; }
  SpscRing<EventRecord>& events() { return events_; }
  uint32_t activeFlows() const { return flows_->size(); }

 private:
  enum class Verdict : uint8_t { kForward, kDrop };
  enum class StreamOutcome : uint8_t { kNeedMore, kDone, kBlock };

  // What a packet's handling needs to know about it.
  struct Ctx {
    rte_mbuf* m;
    std::span<const uint8_t> frame;
    PacketInfo p;
    uint64_t now_ns;
    uint16_t rx_port;
    const PortMap* ports;
    TxBatch* tx;
    bool reassembled = false;  // frame is a datagram rebuilt from fragments (scratch)
  };
  // The decision found while inspecting a stream or datagram.
  struct Decision {
    AppProto app = AppProto::kTls;
    rules::Match match;
    std::span<const uint8_t> dns_msg;  // DNS: the query, for the answer
    size_t dns_question_end = 0;
    uint16_t dns_qtype = 0;
    bool ech = false;
    uint16_t host_len = 0;
    uint16_t path_len = 0;
    char host[rules::kMaxHostLen + 1];
    char path[rules::kMaxUrlPathLen + 1];
  };

  Worker(const WorkerOptions& opt, rte_mempool* pool);

  Verdict handle(Ctx& c);
  // An IP fragment: forwarded as it comes; the one that completes a datagram is judged with it.
  Verdict handleFragment(Ctx& c);
  // A packet that cannot be inspected because a resource is spent: forwarded (fail open) or
  // dropped and counted under `closed_reason` (dataplane.fail: closed).
  Verdict uninspectable(Counter closed_reason);
  // Residual blocking: remembers a blocked connection's tuple / refuses a new connection to it.
  void addResidual(const Ctx& c, const Decision& d);
  bool residualRefuses(Ctx& c);
  Verdict handleIpRule(Ctx& c, const rules::Match& m, bool dst_matched);
  Verdict handleUdp(Ctx& c);
  Verdict handleQuic(Ctx& c);
  Verdict inspectQuic(Ctx& c, Flow* f, std::span<const uint8_t> datagram);
  // True when a hello with encrypted_client_hello must be blocked by the ech policy (and no
  // exception rule let its outer SNI through).
  bool echBlocks(const Decision& d) const;
  Verdict handleTcp(Ctx& c);
  Verdict inspectSegment(Ctx& c, Flow* f);
  // Gives f a reassembly buffer. False when none is free, with *v what the packet gets:
  // fail open passes the flow uninspected, fail closed drops only this packet.
  bool acquireReasm(Ctx& c, Flow* f, Verdict* v);
  StreamOutcome inspectStream(Ctx& c, Flow* f, std::span<const uint8_t> data, Decision* d);
  // Looks up a host (and path) and records monitor/exception outcomes; true to enforce.
  bool judge(Ctx& c, Decision* d, std::string_view raw_host, std::string_view raw_path,
             bool is_http);
  // judge() for a name that does not normalise: by its longest parent that does.
  bool judgeParent(Ctx& c, Decision* d, std::string_view raw_host);
  Verdict applyTcpBlock(Ctx& c, Flow* f, const Decision& d);
  Verdict applyDnsUdpBlock(Ctx& c, const Decision& d);
  Verdict applyQuicBlock(Ctx& c, Flow* f, const Decision& d);

  // Creates the entry for k; when the table is full, evicts the least recently used of a
  // sample of passed, inspecting or long-idle blocked flows first. nullptr when nothing
  // eligible was found (counted as flow_table_full).
  Flow* newFlow(const FlowKey& k, hash_sig_t sig, bool client_is_lo, uint64_t now_ns);
  bool evictOne(uint64_t now_ns);
  void releaseReasm(Flow* f);
  void passFlow(Flow* f);
  void eraseFlow(Flow* f);

  // Appends an injected packet built by `build(span) -> length` toward one end.
  template <typename Build>
  void inject(Ctx& c, Toward toward, Build build);
  void injectRst(Ctx& c, Toward toward);
  void emit(Ctx& c, EventType type, EventAction action, const Decision& d, bool client_is_src);

  WorkerOptions opt_;
  rte_mempool* pool_;
  const rules::Snapshot* snap_ = nullptr;
  rules::MatchScratch* scratch_ = nullptr;
  std::unique_ptr<FlowTable> flows_;
  ReasmPool reasm_;
  std::vector<uint8_t> tls_scratch_;
  // QUIC: per-worker OpenSSL contexts, a datagram's worth of plaintext, and per-flow Initial
  // keys indexed like the reassembly buffer the flow holds while its hello is incomplete.
  struct QuicConn {
    quic::ConnKeys keys;
    quic::Flavor flavor = quic::Flavor::kIetf;
    uint8_t datagrams = 0;
  };
  std::unique_ptr<quic::InitialCrypto> quic_crypto_;
  std::vector<uint8_t> quic_plain_;
  std::vector<QuicConn> quic_conns_;
  IpReassembly frags_;
  std::vector<uint8_t> frag_frame_;          // a reassembled datagram as one frame
  std::unique_ptr<ResidualTable> residual_;  // null when residual blocking is off
  Decision decision_;                        // reused per packet (large: keeps it off the stack)
  Counters counters_;
  SpscRing<EventRecord> events_;
  uint64_t clock_ns_ = 0;  // newest packet time seen (drives aging)
};

}  // namespace cordon

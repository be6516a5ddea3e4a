// bench_worker: CPU cycles per packet through Worker::processBurst, by traffic class
// (issue #4 item 7).
//
//   build/bin/bench_worker [--rules N] [--bursts B]
//
// In-process EAL without hugepages, one inline Worker with a compiled snapshot of N (default
// 10000) block rules. Each class is fed as full bursts of kBurstSize frames; frames are copied
// into mbufs and outputs freed outside the timed region, so only processBurst is measured
// (rte_rdtsc around each call). Classes:
//   bulk       data segments of established TCP flows an allowed hello passed
//   candidate  new TLS connections: SYN, SYN-ACK, ACK, allowed ClientHello (4 packets each)
//   blocked    segments of flows already blocked (dropped both ways)
//   dns_allow  DNS queries over UDP for names not listed
//   dns_block  DNS queries for listed names (answered NXDOMAIN)
// Reported: median (and p99) over bursts of cycles per packet, and the ratio to bulk.
// Not a test: run it by hand or from scripts/bench.sh.

#include <rte_cycles.h>
#include <rte_mbuf.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "dataplane/io/eal.h"
#include "dataplane/io/mbuf_time.h"
#include "dataplane/parse/packet.h"
#include "dataplane/pipeline/worker.h"
#include "rules/snapshot.h"
#include "tests/unit/inspect/hello_builder.h"

namespace {

using cordon::kBurstSize;
using Bytes = std::vector<uint8_t>;
namespace tt = cordon::tls::testing;

constexpr uint8_t kSyn = 0x02, kRst = 0x04, kPsh = 0x08, kAck = 0x10;
constexpr uint64_t kStartNs = 1'000'000'000;

struct Ep {
  uint32_t ip;
  uint16_t port;
};

void put32(Bytes* b, uint32_t v) {
  for (int s = 24; s >= 0; s -= 8) b->push_back(static_cast<uint8_t>(v >> s));
}
void put16(Bytes* b, uint32_t v) {
  b->push_back(static_cast<uint8_t>(v >> 8));
  b->push_back(static_cast<uint8_t>(v));
}

// Ethernet/IPv4 + the L4 header and payload in `l4` (checksum field at l4_sum), checksums set.
Bytes ipFrame(const Ep& from, const Ep& to, uint8_t proto, Bytes l4, size_t l4_sum) {
  Bytes f = {0x02, 0, 0, 0, 0, 0x02, 0x02, 0, 0, 0, 0, 0x01, 0x08, 0x00};
  Bytes ip = {0x45, 0};
  put16(&ip, 20 + l4.size());
  ip.insert(ip.end(), {0, 0, 0x40, 0, 64, proto, 0, 0});
  put32(&ip, from.ip);
  put32(&ip, to.ip);
  const uint16_t ipsum = cordon::checksumFold(cordon::checksumAdd(ip, 0));
  ip[10] = static_cast<uint8_t>(ipsum >> 8);
  ip[11] = static_cast<uint8_t>(ipsum);
  uint8_t s[4], d[4];
  for (int i = 0; i < 4; ++i) {
    s[i] = static_cast<uint8_t>(from.ip >> (24 - 8 * i));
    d[i] = static_cast<uint8_t>(to.ip >> (24 - 8 * i));
  }
  uint16_t sum = cordon::checksumFold(
      cordon::checksumAdd(l4, cordon::pseudoHeaderSum(cordon::IpAddr::v4(s), cordon::IpAddr::v4(d),
                                                      proto, static_cast<uint32_t>(l4.size()))));
  if (proto == 17 && sum == 0) sum = 0xffff;
  l4[l4_sum] = static_cast<uint8_t>(sum >> 8);
  l4[l4_sum + 1] = static_cast<uint8_t>(sum);
  f.insert(f.end(), ip.begin(), ip.end());
  f.insert(f.end(), l4.begin(), l4.end());
  return f;
}

Bytes tcp(const Ep& from, const Ep& to, uint32_t seq, uint32_t ack, uint8_t flags,
          const Bytes& payload = {}) {
  Bytes t;
  put16(&t, from.port);
  put16(&t, to.port);
  put32(&t, seq);
  put32(&t, ack);
  t.insert(t.end(), {0x50, flags, 0xff, 0xff, 0, 0, 0, 0});
  t.insert(t.end(), payload.begin(), payload.end());
  return ipFrame(from, to, 6, std::move(t), 16);
}

Bytes dnsUdp(const Ep& from, const Ep& to, uint16_t id, const std::string& name) {
  Bytes u;
  put16(&u, from.port);
  put16(&u, to.port);
  Bytes q = {static_cast<uint8_t>(id >> 8), static_cast<uint8_t>(id), 1, 0, 0, 1, 0, 0, 0, 0, 0, 0};
  size_t start = 0;
  for (size_t dot = 0; dot <= name.size(); ++dot) {
    if (dot == name.size() || name[dot] == '.') {
      q.push_back(static_cast<uint8_t>(dot - start));
      q.insert(q.end(), name.begin() + static_cast<long>(start),
               name.begin() + static_cast<long>(dot));
      start = dot + 1;
    }
  }
  q.insert(q.end(), {0, 0, 1, 0, 1});
  put16(&u, 8 + q.size());
  put16(&u, 0);
  u.insert(u.end(), q.begin(), q.end());
  return ipFrame(from, to, 17, std::move(u), 6);
}

Bytes hello(const std::string& host) {
  return tt::oneRecord(
      tt::buildClientHello({tt::sniExtension(host), tt::keyShareExtension({{0x001d, 32}})}));
}

class Bench {
 public:
  Bench(cordon::Worker* w, rte_mempool* pool) : w_(w), pool_(pool) {
    ports_.peer[0] = 1;
    ports_.peer[1] = 0;
  }

  // Runs one burst of frames (not timed: copying in, freeing out); returns its cycles.
  uint64_t burst(const std::vector<Bytes>& frames) {
    rte_mbuf* m[kBurstSize];
    const uint16_t n = static_cast<uint16_t>(std::min<size_t>(frames.size(), kBurstSize));
    for (uint16_t i = 0; i < n; ++i) {
      m[i] = rte_pktmbuf_alloc(pool_);
      if (!m[i]) {
        std::fprintf(stderr, "bench_worker: mbuf pool empty\n");
        std::exit(1);
      }
      std::memcpy(rte_pktmbuf_append(m[i], static_cast<uint16_t>(frames[i].size())),
                  frames[i].data(), frames[i].size());
      cordon::setMbufTimeNs(m[i], now_);
    }
    tx_.n = 0;
    const uint64_t t0 = rte_rdtsc_precise();
    w_->processBurst(0, m, n, ports_, &tx_);
    const uint64_t t1 = rte_rdtsc_precise();
    for (uint16_t i = 0; i < tx_.n; ++i) rte_pktmbuf_free(tx_.items[i].m);
    now_ += 1000;  // 1 us per burst
    return t1 - t0;
  }

 private:
  cordon::Worker* w_;
  rte_mempool* pool_;
  cordon::PortMap ports_;
  cordon::TxBatch tx_;
  uint64_t now_ = kStartNs;
};

struct Result {
  const char* name;
  double median, p99;
};

Result measure(const char* name, Bench* b, unsigned bursts,
               const std::function<std::vector<Bytes>(unsigned)>& make) {
  std::vector<double> per_pkt;
  per_pkt.reserve(bursts);
  for (unsigned i = 0; i < bursts; ++i) {
    const std::vector<Bytes> frames = make(i);
    const uint64_t c = b->burst(frames);
    if (i >= bursts / 10) per_pkt.push_back(static_cast<double>(c) / frames.size());  // warm-up
  }
  std::sort(per_pkt.begin(), per_pkt.end());
  return {name, per_pkt[per_pkt.size() / 2],
          per_pkt[std::min(per_pkt.size() - 1, per_pkt.size() * 99 / 100)]};
}

}  // namespace

int main(int argc, char** argv) {
  unsigned n_rules = 10000, bursts = 4000;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--rules")) n_rules = static_cast<unsigned>(std::atoi(argv[i + 1]));
    if (!std::strcmp(argv[i], "--bursts")) bursts = static_cast<unsigned>(std::atoi(argv[i + 1]));
  }
  if (n_rules == 0 || bursts < 20) {
    std::fprintf(stderr, "usage: bench_worker [--rules N>0] [--bursts B>=20]\n");
    return 2;
  }
  std::string err;
  if (!cordon::initEal({"--no-huge", "-m", "512", "--no-pci", "--in-memory", "--log-level=error"},
                       &err)) {
    std::fprintf(stderr, "bench_worker: EAL: %s\n", err.c_str());
    return 1;
  }
  rte_mempool* pool =
      rte_pktmbuf_pool_create("bench_pool", 8191, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
  if (!pool) {
    std::fprintf(stderr, "bench_worker: cannot create the mbuf pool\n");
    return 1;
  }

  // N listed names, block.<i>.example plus their subdomains via the list's suffix semantics.
  char tmpl[] = "/tmp/bench_worker_XXXXXX";
  const int fd = mkstemp(tmpl);
  if (fd < 0) return 1;
  close(fd);
  {
    std::ofstream out(tmpl);
    for (unsigned i = 0; i < n_rules; ++i) out << "block" << i << ".example\n";
  }
  std::vector<std::string> errors;
  auto snap =
      cordon::rules::compileSnapshot({{"bench", tmpl, cordon::rules::ListAction::kBlock}}, &errors);
  unlink(tmpl);
  if (!snap) {
    std::fprintf(stderr, "bench_worker: compile failed: %s\n",
                 errors.empty() ? "?" : errors[0].c_str());
    return 1;
  }
  auto scratch = snap->newScratch();

  cordon::WorkerOptions opt;
  opt.flow_capacity = 1u << 18;
  opt.reasm_buffers = 1024;
  auto worker = cordon::Worker::create(opt, pool, &err);
  if (!worker) {
    std::fprintf(stderr, "bench_worker: %s\n", err.c_str());
    return 1;
  }
  worker->setSnapshot(snap.get(), scratch.get());
  Bench b(worker.get(), pool);

  const Ep server{0xCB00710A, 443};   // 203.0.113.10
  const Ep resolver{0xC0000235, 53};  // 192.0.2.53
  auto client = [](uint32_t i) { return Ep{0x0A000000u | (i & 0xffffff), 40000}; };
  const Bytes allowed_hello = hello("www.allowed-site.example");
  const Bytes blocked_hello = hello("block4242.example");
  const Bytes data(1400, 0x5a);

  // Setup: kBurstSize established passed flows (bulk) and kBurstSize blocked flows.
  for (uint32_t i = 0; i < kBurstSize; ++i) {
    const Ep c = client(i), cb = client(1000 + i);
    b.burst({tcp(c, server, 1000, 0, kSyn), tcp(server, c, 5000, 1001, kSyn | kAck),
             tcp(c, server, 1001, 5001, kAck),
             tcp(c, server, 1001, 5001, kPsh | kAck, allowed_hello), tcp(cb, server, 1000, 0, kSyn),
             tcp(server, cb, 5000, 1001, kSyn | kAck), tcp(cb, server, 1001, 5001, kAck),
             tcp(cb, server, 1001, 5001, kPsh | kAck, blocked_hello)});
  }
  const uint64_t blocked_before = worker->counters().get(cordon::Counter::blocked_flows);

  std::vector<Result> res;
  {
    std::vector<Bytes> bulk;
    for (uint32_t i = 0; i < kBurstSize; ++i) {
      const Ep c = client(i);
      bulk.push_back(i % 2 ? tcp(server, c, 5001,
                                 1001 + static_cast<uint32_t>(allowed_hello.size()), kAck, data)
                           : tcp(c, server, 1001 + static_cast<uint32_t>(allowed_hello.size()),
                                 5001, kAck, data));
    }
    res.push_back(measure("bulk", &b, bursts, [&](unsigned) { return bulk; }));
  }
  {
    uint32_t next = 1u << 16;  // fresh client addresses: every connection is new
    res.push_back(measure("candidate", &b, bursts, [&](unsigned) {
      std::vector<Bytes> v;
      for (unsigned k = 0; k < kBurstSize / 4; ++k) {
        const Ep c = client(next++);
        v.push_back(tcp(c, server, 1000, 0, kSyn));
        v.push_back(tcp(server, c, 5000, 1001, kSyn | kAck));
        v.push_back(tcp(c, server, 1001, 5001, kAck));
        v.push_back(tcp(c, server, 1001, 5001, kPsh | kAck, allowed_hello));
      }
      return v;
    }));
  }
  {
    std::vector<Bytes> blocked;
    for (uint32_t i = 0; i < kBurstSize; ++i) {
      const Ep c = client(1000 + i);
      blocked.push_back(i % 2 ? tcp(server, c, 5001, 1001, kAck, data)
                              : tcp(c, server, 1001, 5001, kPsh | kAck, blocked_hello));
    }
    res.push_back(measure("blocked", &b, bursts, [&](unsigned) { return blocked; }));
  }
  auto dns = [&](bool block) {
    return [&, block](unsigned burst) {
      std::vector<Bytes> v;
      for (uint32_t k = 0; k < kBurstSize; ++k) {
        const uint32_t i = burst * kBurstSize + k;
        const std::string name = block ? "block" + std::to_string(i % n_rules) + ".example"
                                       : "www.site" + std::to_string(i % 50000) + ".example.net";
        v.push_back(dnsUdp(Ep{client(i).ip, static_cast<uint16_t>(1024 + i % 60000)}, resolver,
                           static_cast<uint16_t>(i), name));
      }
      return v;
    };
  };
  res.push_back(measure("dns_allow", &b, bursts, dns(false)));
  res.push_back(measure("dns_block", &b, bursts, dns(true)));

  const cordon::Counters& k = worker->counters();
  if (k.get(cordon::Counter::blocked_flows) == blocked_before ||
      k.get(cordon::Counter::flow_table_full) != 0 || blocked_before != kBurstSize) {
    std::fprintf(stderr, "bench_worker: unexpected counters (blocked %lu, table full %lu)\n",
                 static_cast<unsigned long>(k.get(cordon::Counter::blocked_flows)),
                 static_cast<unsigned long>(k.get(cordon::Counter::flow_table_full)));
    return 1;
  }
  const double hz = static_cast<double>(rte_get_tsc_hz());
  std::printf("bench_worker: %u rules, %u bursts of %u packets per class, TSC %.2f GHz\n", n_rules,
              bursts, kBurstSize, hz / 1e9);
  std::printf("%-10s %14s %12s %10s %14s\n", "class", "cycles/pkt", "p99", "x bulk",
              "ns/pkt (med)");
  for (const Result& r : res) {
    std::printf("%-10s %14.0f %12.0f %10.2f %14.1f\n", r.name, r.median, r.p99,
                r.median / res[0].median, r.median * 1e9 / hz);
  }
  return 0;
}

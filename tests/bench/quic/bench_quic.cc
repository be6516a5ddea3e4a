// bench_quic: cost of inspecting a new QUIC connection, against a TLS-over-TCP baseline.
//
//   build/bin/bench_quic [--conns N] [--rounds R]
//
// Per new connection (issue #6 goal: <= 3 us): derive the client Initial keys from the
// connection's DCID (HKDF-SHA256: extract + 4 expand-labels), remove header protection,
// decrypt the 1200-byte Initial (AES-128-GCM), walk its frames, reassemble the CRYPTO data in
// a ReasmBuffer and parse the ClientHello - exactly what Worker::inspectQuic does, minus the
// flow table and rule lookup. Every connection has its own random DCID, so nothing is cached
// between connections; OpenSSL contexts are reused as in a worker.
// Baseline in the same run: parsing the same ClientHello from a TLS record (TCP path).
// Reported: median and p99 over rounds of ns per connection, and the QUIC/TLS ratio. Also
// the parts (key derivation alone, decryption alone) and a two-Initial post-quantum hello.
// Not a test: run it by hand.

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "dataplane/flow/reassembly.h"
#include "dataplane/inspect/quic/initial.h"
#include "dataplane/inspect/tls/client_hello.h"
#include "tests/unit/inspect/hello_builder.h"
#include "tests/unit/inspect/quic_builder.h"

namespace {

using Clock = std::chrono::steady_clock;
using cordon::ParseStatus;
namespace quic = cordon::quic;
namespace tls = cordon::tls;
using Bytes = std::vector<uint8_t>;

class Sink : public quic::CryptoSink {
 public:
  explicit Sink(cordon::ReasmBuffer* b) : b_(b) {}
  void onCrypto(uint64_t offset, std::span<const uint8_t> data) override {
    (void)b_->insert(static_cast<int64_t>(offset), data);
  }

 private:
  cordon::ReasmBuffer* b_;
};

struct Stats {
  double median, p99;
};

Stats summarise(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return {v[v.size() / 2], v[std::min(v.size() - 1, v.size() * 99 / 100)]};
}

// Chrome-like hello (~600 bytes without a PQ share): SNI, ALPN-sized filler, X25519 share.
Bytes chromeHello(const std::string& sni) {
  return tls::testing::buildClientHello({tls::testing::sniExtension(sni),
                                         tls::testing::keyShareExtension({{0x001d, 32}}),
                                         {0x0010, Bytes(14, 'h')},
                                         {0x002b, {0x02, 0x03, 0x04}},
                                         {0x0015, Bytes(300, 0)}});
}

}  // namespace

int main(int argc, char** argv) {
  size_t conns = 2000;
  int rounds = 25;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--conns")) conns = std::strtoul(argv[i + 1], nullptr, 10);
    if (!std::strcmp(argv[i], "--rounds")) rounds = std::atoi(argv[i + 1]);
  }
  std::mt19937_64 rng(42);
  const Bytes hello = chromeHello("www.example-video-site.com");
  const Bytes pq_hello = tls::testing::buildLargeKeyShareHello("www.example-video-site.com");
  const Bytes record = tls::testing::oneRecord(hello);
  std::vector<Bytes> one, two_a, two_b;
  std::vector<Bytes> dcids;
  for (size_t i = 0; i < conns; ++i) {
    quic::testing::PacketSpec s;
    s.dcid.resize(8);
    for (auto& b : s.dcid) b = static_cast<uint8_t>(rng());
    s.pn = 0;
    dcids.push_back(s.dcid);
    one.push_back(quic::testing::sealPacket(
        s, quic::testing::padded(quic::testing::cryptoFrame(hello, 0, hello.size()), 1162)));
    two_a.push_back(quic::testing::sealPacket(
        s, quic::testing::padded(quic::testing::cryptoFrame(pq_hello, 0, 1100), 1162)));
    s.pn = 1;
    two_b.push_back(quic::testing::sealPacket(
        s, quic::testing::padded(quic::testing::cryptoFrame(pq_hello, 1100, pq_hello.size() - 1100),
                                 1162)));
  }

  quic::InitialCrypto crypto;
  if (!crypto.ok()) {
    std::fprintf(stderr, "OpenSSL lacks HMAC-SHA256/AES-128-GCM\n");
    return 1;
  }
  std::vector<uint8_t> plain(65536);
  auto buf = std::make_unique<cordon::ReasmBuffer>();
  std::vector<uint8_t> tls_scratch(tls::kMaxClientHelloBytes);
  quic::VersionInfo v1;
  quic::lookupVersion(quic::kVersion1, &v1);
  size_t sink_check = 0;

  auto quicConn = [&](const std::vector<const Bytes*>& datagrams) {
    quic::ConnKeys keys;  // a new connection: no keys yet
    buf->reset(0);
    Sink sink(buf.get());
    quic::DatagramInfo info;
    for (const Bytes* d : datagrams) {
      if (quic::readClientDatagram(crypto, *d, &keys, plain, &sink, &info) != ParseStatus::kOk) {
        std::abort();
      }
    }
    tls::ClientHelloInfo h;
    if (tls::parseClientHelloMessage(buf->prefix(), &h) != ParseStatus::kOk || !h.has_sni) {
      std::abort();
    }
    sink_check += h.sni_len;
  };

  std::vector<double> t_quic, t_quic2, t_tls, t_derive, t_open;
  for (int r = 0; r < rounds; ++r) {
    auto t0 = Clock::now();
    for (size_t i = 0; i < conns; ++i) quicConn({&one[i]});
    auto t1 = Clock::now();
    for (size_t i = 0; i < conns; ++i) quicConn({&two_a[i], &two_b[i]});
    auto t2 = Clock::now();
    for (size_t i = 0; i < conns; ++i) {
      tls::ClientHelloInfo h;
      if (tls::parseClientHelloRecords(record, tls_scratch, &h) != ParseStatus::kOk) std::abort();
      sink_check += h.sni_len;
    }
    auto t3 = Clock::now();
    quic::InitialKeys k;
    for (size_t i = 0; i < conns; ++i) {
      if (!crypto.deriveClientKeys(v1, dcids[i], &k)) std::abort();
      sink_check += k.key[0];
    }
    auto t4 = Clock::now();
    quic::LongHeader lh;
    (void)quic::parseLongHeader(one[0], &lh);
    size_t n = 0;
    (void)crypto.deriveClientKeys(v1, dcids[0], &k);
    for (size_t i = 0; i < conns; ++i) {
      if (crypto.open(k, one[0], lh.pn_offset, plain, &n) != ParseStatus::kOk) std::abort();
    }
    auto t5 = Clock::now();
    auto per = [&](auto a, auto b) {
      return std::chrono::duration<double, std::nano>(b - a).count() / static_cast<double>(conns);
    };
    t_quic.push_back(per(t0, t1));
    t_quic2.push_back(per(t1, t2));
    t_tls.push_back(per(t2, t3));
    t_derive.push_back(per(t3, t4));
    t_open.push_back(per(t4, t5));
  }
  const Stats q = summarise(t_quic), q2 = summarise(t_quic2), t = summarise(t_tls),
              d = summarise(t_derive), o = summarise(t_open);
  std::printf("bench_quic: %zu connections x %d rounds, ns per connection (median / p99)\n", conns,
              rounds);
  std::printf("  %-44s %8.0f / %8.0f\n", "QUIC v1, 1 Initial (keys+HP+GCM+frames+CH)", q.median,
              q.p99);
  std::printf("  %-44s %8.0f / %8.0f\n", "QUIC v1, 2 Initials (PQ ClientHello)", q2.median, q2.p99);
  std::printf("  %-44s %8.0f / %8.0f\n", "  of which key derivation (HKDF)", d.median, d.p99);
  std::printf("  %-44s %8.0f / %8.0f\n", "  of which HP + AES-128-GCM open, 1200 B", o.median,
              o.p99);
  std::printf("  %-44s %8.0f / %8.0f\n", "baseline: TLS ClientHello parse (TCP record)", t.median,
              t.p99);
  std::printf("ratio QUIC/TLS: %.1fx; goal <= 3000 ns per new QUIC connection: %s\n",
              q.median / t.median, q.median <= 3000 ? "met" : "NOT MET");
  return sink_check == 0 ? 1 : 0;
}

// libFuzzer target for QUIC client Initials (dataplane/inspect/quic/initial.h). The input is
// read four ways: as a whole UDP datagram (long headers, coalescing, gQUIC public headers,
// decryption that must fail cleanly), as the plaintext frames of an Initial, as a gQUIC CHLO,
// and - when its first byte is odd - sealed as the payload of a real v1 Initial (RFC 9001
// appendix A connection ID) so the frame walker runs behind decryption too: opening that
// packet must agree with parsing the same bytes as frames directly.

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "dataplane/inspect/quic/initial.h"
#include "tests/unit/inspect/quic_builder.h"

namespace {

using cordon::ParseStatus;
namespace quic = cordon::quic;

struct CountingSink : quic::CryptoSink {
  uint64_t bytes = 0;
  void onCrypto(uint64_t offset, std::span<const uint8_t> data) override {
    // Offsets are bounded by RFC 9000 section 19.6 (2^62 - 1 with the length).
    if (offset + data.size() > (uint64_t{1} << 62)) __builtin_trap();
    bytes += data.size();
  }
};

quic::InitialCrypto& crypto() {
  static quic::InitialCrypto c;
  return c;
}

std::vector<uint8_t>& scratch() {
  static std::vector<uint8_t> s(65536);
  return s;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::span<const uint8_t> in(data, size);
  (void)quic::looksLikeClientInitial(in);
  quic::LongHeader h;
  if (quic::parseLongHeader(in, &h) == ParseStatus::kOk) {
    if (h.packet_len > size || h.pn_offset > h.packet_len || h.dcid.size() > 255) {
      __builtin_trap();
    }
  }

  CountingSink sink;
  quic::ConnKeys keys;
  quic::DatagramInfo info;
  const ParseStatus st = quic::readClientDatagram(crypto(), in, &keys, scratch(), &sink, &info);
  if (st == ParseStatus::kOk && info.decrypted == 0) __builtin_trap();
  if (info.decrypted > info.initials) __builtin_trap();

  CountingSink direct;
  int frames = 0;
  const ParseStatus fs = quic::parseInitialFrames(in, &direct, &frames);

  quic::ChloInfo chlo;
  if (quic::parseChlo(in, &chlo) == ParseStatus::kOk && chlo.has_sni &&
      (chlo.sni_len == 0 || chlo.sni_len >= sizeof chlo.sni || chlo.sni[chlo.sni_len] != 0)) {
    __builtin_trap();
  }

  // Behind real decryption: same frames, same verdict, same CRYPTO bytes.
  if (size > 0 && (data[0] & 1) && size < 1100) {
    quic::testing::PacketSpec spec;
    std::vector<uint8_t> payload(in.begin(), in.end());
    if (payload.size() < 20) payload.resize(20, 0);  // room for the header protection sample
    CountingSink direct_padded;
    int n = 0;
    const ParseStatus want = quic::parseInitialFrames(payload, &direct_padded, &n);
    const auto pkt = quic::testing::padDatagram(quic::testing::sealPacket(spec, payload));
    CountingSink sealed;
    quic::ConnKeys k;
    const ParseStatus got = quic::readClientDatagram(crypto(), pkt, &k, scratch(), &sealed, &info);
    if (got != want || (got == ParseStatus::kOk && sealed.bytes != direct_padded.bytes)) {
      __builtin_trap();
    }
  }
  (void)fs;
  return 0;
}

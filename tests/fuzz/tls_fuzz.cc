// libFuzzer target for the TLS ClientHello parser (dataplane/inspect/tls/client_hello.h): the
// input is the start of a client's TCP stream (TLS records), and also one handshake message
// as QUIC CRYPTO frames carry it.

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

#include "dataplane/inspect/tls/client_hello.h"

namespace {

using cordon::ParseStatus;
using cordon::tls::ClientHelloInfo;

// One scratch for the whole run, as a worker keeps one.
std::array<uint8_t, cordon::tls::kMaxClientHelloBytes> g_scratch;

// The input re-framed as TLS records of a size derived from the input, at most 97 bytes each.
std::array<uint8_t, cordon::tls::kMaxClientHelloBytes * 6> g_records;

void checkInfo(const ClientHelloInfo& h) {
  if (h.sni_len > cordon::tls::kMaxSniLen || h.sni[h.sni_len] != '\0') __builtin_trap();
  if (h.has_sni != (h.sni_len > 0)) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::span<const uint8_t> in(data, size);
  (void)cordon::tls::looksLikeClientHello(in);

  ClientHelloInfo h;
  const ParseStatus msg_st = cordon::tls::parseClientHelloMessage(in, &h);
  if (msg_st == ParseStatus::kOk) checkInfo(h);

  // Differential check: a complete handshake message split over records of any size must
  // parse to the same result through the record layer.
  if ((msg_st == ParseStatus::kOk || msg_st == ParseStatus::kMalformed) && size >= 4) {
    const size_t msg_len = 4 + (size_t{data[1]} << 16 | size_t{data[2]} << 8 | data[3]);
    const size_t frag = size % 97 + 1;
    size_t out = 0;
    for (size_t pos = 0; pos < msg_len; pos += frag) {
      const size_t n = std::min(frag, msg_len - pos);
      g_records[out++] = 0x16;
      g_records[out++] = 0x03;
      g_records[out++] = 0x03;
      g_records[out++] = static_cast<uint8_t>(n >> 8);
      g_records[out++] = static_cast<uint8_t>(n);
      std::copy_n(in.begin() + static_cast<std::ptrdiff_t>(pos), n, g_records.begin() + out);
      out += n;
    }
    ClientHelloInfo via_records;
    const std::span<const uint8_t> stream(g_records.data(), out);
    if (cordon::tls::parseClientHelloRecords(stream, g_scratch, &via_records) != msg_st ||
        via_records.has_sni != h.has_sni || via_records.has_ech != h.has_ech ||
        via_records.sni_len != h.sni_len ||
        !std::equal(h.sni, h.sni + h.sni_len, via_records.sni) ||
        (msg_st == ParseStatus::kOk && via_records.records_len != out)) {
      __builtin_trap();
    }
  }

  const ParseStatus st = cordon::tls::parseClientHelloRecords(in, g_scratch, &h);
  if (st == ParseStatus::kOk) {
    checkInfo(h);
    if (h.records_len == 0 || h.records_len > size) __builtin_trap();
    // The record that completed the hello ends at records_len: one byte less is incomplete.
    ClientHelloInfo shorter;
    if (cordon::tls::parseClientHelloRecords(in.first(h.records_len - 1), g_scratch, &shorter) !=
        ParseStatus::kNeedMore) {
      __builtin_trap();
    }
  }
  return 0;
}

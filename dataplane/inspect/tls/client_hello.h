#pragma once
// TLS ClientHello parsing (RFC 8446 section 4.1.2, RFC 5246 section 7.4.1.2) for the
// server_name extension (RFC 6066 section 3).

#include <cstddef>
#include <cstdint>
#include <span>

#include "dataplane/common/parse_status.h"

namespace cordon::tls {

// Cap on the ClientHello handshake message cordon reassembles. Real ones are 0.5-2 KB
// (post-quantum key shares make Chrome's ~1.8 KB); 16 KiB leaves room for large PSK
// tickets while bounding per-flow memory. Larger hellos are not inspected (fail open).
inline constexpr size_t kMaxClientHelloBytes = 16384;
inline constexpr size_t kMaxSniLen = 255;

struct ClientHelloInfo {
  uint16_t legacy_version = 0;
  bool has_sni = false;
  bool has_ech = false;           // encrypted_client_hello extension (0xfe0d) present
  char sni[kMaxSniLen + 1] = {};  // host_name as sent (not normalised), NUL-terminated
  size_t sni_len = 0;
  size_t records_len = 0;  // bytes of TLS records consumed to get the whole ClientHello
};

// Cheap content test on the first bytes of a TCP stream: a TLS handshake record
// (0x16, version 0x0300..0x0304) whose first handshake byte, if present, is client_hello.
bool looksLikeClientHello(std::span<const uint8_t> stream);

// Parses a ClientHello from the start of a TCP stream of TLS records. The handshake message
// may be split over several records; they are joined into `scratch` (at least
// kMaxClientHelloBytes). kNeedMore while the stream prefix is valid but incomplete,
// kUnsupported for a hello larger than the cap or a non-ClientHello first message.
ParseStatus parseClientHelloRecords(std::span<const uint8_t> stream, std::span<uint8_t> scratch,
                                    ClientHelloInfo* out);

// Parses one ClientHello handshake message (type, 3-byte length, body), as carried in TLS
// records or QUIC CRYPTO frames. kNeedMore when shorter than its length says.
ParseStatus parseClientHelloMessage(std::span<const uint8_t> msg, ClientHelloInfo* out);

}  // namespace cordon::tls

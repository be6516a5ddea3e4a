#pragma once
// Test-only builders for synthetic TLS ClientHellos (RFC 8446 section 4.1.2) and for
// splitting a handshake message into TLS records (RFC 8446 section 5.1). Allocation is fine
// here: this is test code, not the fast path.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace cordon::tls::testing {

using Bytes = std::vector<uint8_t>;

inline void putU8(Bytes* b, size_t v) {
  b->push_back(static_cast<uint8_t>(v));
}
inline void putU16(Bytes* b, size_t v) {
  putU8(b, v >> 8);
  putU8(b, v);
}
inline void putU24(Bytes* b, size_t v) {
  putU8(b, v >> 16);
  putU16(b, v & 0xffff);
}
inline void putBytes(Bytes* b, const Bytes& v) {
  b->insert(b->end(), v.begin(), v.end());
}
inline void putPrefixed16(Bytes* b, const Bytes& v) {
  putU16(b, v.size());
  putBytes(b, v);
}
inline Bytes filled(size_t n, uint8_t v) {
  return Bytes(n, v);
}

struct Extension {
  uint16_t type;
  Bytes data;
};

// server_name extension_data (RFC 6066 section 3) with the given (name_type, name) entries.
inline Bytes serverNameData(const std::vector<std::pair<uint8_t, std::string>>& entries) {
  Bytes list;
  for (const auto& [type, name] : entries) {
    putU8(&list, type);
    putPrefixed16(&list, Bytes(name.begin(), name.end()));
  }
  Bytes data;
  putPrefixed16(&data, list);
  return data;
}

inline Extension sniExtension(const std::string& host) {
  return {0x0000, serverNameData({{0, host}})};
}

// key_share extension_data (RFC 8446 section 4.2.8): KeyShareEntry client_shares<0..2^16-1>.
inline Extension keyShareExtension(const std::vector<std::pair<uint16_t, size_t>>& shares) {
  Bytes list;
  for (const auto& [group, len] : shares) {
    putU16(&list, group);
    putPrefixed16(&list, filled(len, 0x5a));
  }
  Bytes data;
  putPrefixed16(&data, list);
  return {0x0033, data};
}

// A ClientHello handshake message (msg_type, length, body) with the given extensions, in order.
// With `no_extensions` the extensions block is omitted entirely (TLS 1.0-1.2 style).
inline Bytes buildClientHello(const std::vector<Extension>& exts, bool no_extensions = false,
                              uint16_t legacy_version = 0x0303) {
  Bytes body;
  putU16(&body, legacy_version);
  putBytes(&body, filled(32, 0x11));  // random
  putU8(&body, 32);                   // legacy_session_id
  putBytes(&body, filled(32, 0x22));
  putU16(&body, 6);  // cipher_suites: TLS_AES_128_GCM_SHA256, _256_GCM_SHA384, CHACHA20
  putU16(&body, 0x1301);
  putU16(&body, 0x1302);
  putU16(&body, 0x1303);
  putU8(&body, 1);  // legacy_compression_methods: null
  putU8(&body, 0);
  if (!no_extensions) {
    Bytes block;
    for (const Extension& e : exts) {
      putU16(&block, e.type);
      putPrefixed16(&block, e.data);
    }
    putPrefixed16(&body, block);
  }
  Bytes msg;
  putU8(&msg, 1);
  putU24(&msg, body.size());
  putBytes(&msg, body);
  return msg;
}

// A Chrome-like hello (synthesised, not captured: curl/OpenSSL 3.0 here has no ML-KEM) with a
// 1216-byte X25519MLKEM768 key_share entry (group 0x11ec: 1184-byte ML-KEM-768 encapsulation
// key + 32-byte X25519 share), an X25519 share, and a GREASE ECH extension as Chrome sends,
// about 1.8 KB in all.
inline Bytes buildLargeKeyShareHello(const std::string& host) {
  Bytes versions;
  putU8(&versions, 4);
  putU16(&versions, 0x0304);
  putU16(&versions, 0x0303);
  Bytes groups;
  putU16(&groups, 6);
  putU16(&groups, 0x11ec);
  putU16(&groups, 0x001d);
  putU16(&groups, 0x0017);
  Bytes sigalgs;
  putU16(&sigalgs, 8);
  for (const uint16_t s : {0x0403, 0x0804, 0x0401, 0x0503}) putU16(&sigalgs, s);
  Bytes alpn;
  putU16(&alpn, 12);
  putU8(&alpn, 2);
  putBytes(&alpn, {'h', '2'});
  putU8(&alpn, 8);
  putBytes(&alpn, {'h', 't', 't', 'p', '/', '1', '.', '1'});
  return buildClientHello({
      {0x2a2a, {}},  // GREASE (RFC 8701)
      sniExtension(host),
      {0x0017, {}},            // extended_master_secret
      {0xff01, {0x00}},        // renegotiation_info
      {0x000a, groups},        // supported_groups
      {0x000b, {0x01, 0x00}},  // ec_point_formats
      {0x0023, {}},            // session_ticket
      {0x0010, alpn},          // ALPN
      {0x000d, sigalgs},       // signature_algorithms
      keyShareExtension({{0x8a8a, 1}, {0x11ec, 1216}, {0x001d, 32}}),
      {0x002d, {0x01, 0x01}},       // psk_key_exchange_modes
      {0x002b, versions},           // supported_versions
      {0xfe0d, filled(250, 0x33)},  // encrypted_client_hello (GREASE ECH payload)
      {0x4a4a, {0x00}},             // GREASE
  });
}

// Wraps a handshake message into TLS records whose fragments have the given sizes (the last
// size repeats until the message is used up). Record version 0x0301 as clients send first.
inline Bytes splitIntoRecords(const Bytes& msg, const std::vector<size_t>& sizes,
                              uint16_t record_version = 0x0301) {
  Bytes out;
  size_t pos = 0;
  size_t i = 0;
  while (pos < msg.size()) {
    const size_t want = sizes.empty() ? msg.size() : sizes[std::min(i, sizes.size() - 1)];
    const size_t n = std::min(want, msg.size() - pos);
    putU8(&out, 0x16);
    putU16(&out, record_version);
    putU16(&out, n);
    out.insert(out.end(), msg.begin() + static_cast<std::ptrdiff_t>(pos),
               msg.begin() + static_cast<std::ptrdiff_t>(pos + n));
    pos += n;
    ++i;
  }
  return out;
}

inline Bytes oneRecord(const Bytes& msg) {
  return splitIntoRecords(msg, {});
}

}  // namespace cordon::tls::testing

#pragma once
// Test-only builder for protected QUIC client Initial packets (RFC 9000 section 17.2.2,
// RFC 9001 sections 5.3-5.4): the inverse of dataplane/inspect/quic, written independently
// against the RFC with OpenSSL directly so the two can check each other. Allocation and
// exceptions are fine here: this is test code.

#include <openssl/evp.h>

#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

#include "dataplane/inspect/quic/initial.h"
#include "tests/unit/inspect/hello_builder.h"

namespace cordon::quic::testing {

using Bytes = std::vector<uint8_t>;

inline Bytes fromHex(const std::string& hex) {
  Bytes out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(static_cast<uint8_t>(std::stoi(hex.substr(i, 2), nullptr, 16)));
  }
  return out;
}

// RFC 9000 section 16: the shortest encoding unless `width` (1, 2, 4, 8) forces one.
inline void putVarint(Bytes* b, uint64_t v, int width = 0) {
  if (width == 0) width = v < 64 ? 1 : v < 16384 ? 2 : v < (1u << 30) ? 4 : 8;
  const uint8_t prefix = width == 1 ? 0x00 : width == 2 ? 0x40 : width == 4 ? 0x80 : 0xc0;
  for (int i = width - 1; i >= 0; --i) {
    uint8_t byte = static_cast<uint8_t>(v >> (8 * i));
    if (i == width - 1) byte |= prefix;
    b->push_back(byte);
  }
}

// A CRYPTO frame (RFC 9000 section 19.6) carrying msg[offset, offset+len).
inline Bytes cryptoFrame(const Bytes& msg, size_t offset, size_t len) {
  Bytes f;
  putVarint(&f, 0x06);
  putVarint(&f, offset);
  putVarint(&f, len);
  f.insert(f.end(), msg.begin() + static_cast<std::ptrdiff_t>(offset),
           msg.begin() + static_cast<std::ptrdiff_t>(offset + len));
  return f;
}

struct PacketSpec {
  uint32_t version = kVersion1;
  Bytes dcid = fromHex("8394c8f03e515708");  // RFC 9001 appendix A
  Bytes scid;
  Bytes token;
  uint32_t pn = 2;
  size_t pn_len = 4;
  Bytes keys_dcid;        // keys from this DCID instead of `dcid` (empty: dcid)
  bool zero_rtt = false;  // a 0-RTT packet type instead of Initial (garbage keys are fine)
};

// Seals `payload` (frames, padded by the caller) into one long-header packet.
inline Bytes sealPacket(const PacketSpec& s, const Bytes& payload) {
  VersionInfo vi;
  if (!lookupVersion(s.version, &vi)) throw std::runtime_error("unknown version");
  InitialCrypto crypto;
  InitialKeys k;
  if (!crypto.deriveClientKeys(vi, s.keys_dcid.empty() ? s.dcid : s.keys_dcid, &k)) {
    throw std::runtime_error("derive");
  }
  const uint8_t type = s.zero_rtt ? (vi.v2 ? 2 : 1) : (vi.v2 ? 1 : 0);
  Bytes h;
  h.push_back(static_cast<uint8_t>(0xc0 | type << 4 | (s.pn_len - 1)));
  for (int i = 3; i >= 0; --i) h.push_back(static_cast<uint8_t>(s.version >> (8 * i)));
  h.push_back(static_cast<uint8_t>(s.dcid.size()));
  h.insert(h.end(), s.dcid.begin(), s.dcid.end());
  h.push_back(static_cast<uint8_t>(s.scid.size()));
  h.insert(h.end(), s.scid.begin(), s.scid.end());
  if (!s.zero_rtt) {
    putVarint(&h, s.token.size());
    h.insert(h.end(), s.token.begin(), s.token.end());
  }
  putVarint(&h, s.pn_len + payload.size() + 16, 2);
  const size_t pn_offset = h.size();
  for (size_t i = 0; i < s.pn_len; ++i) {
    h.push_back(static_cast<uint8_t>(s.pn >> (8 * (s.pn_len - 1 - i))));
  }
  uint8_t nonce[12];
  std::memcpy(nonce, k.iv, 12);
  for (int i = 0; i < 8; ++i) nonce[11 - i] ^= static_cast<uint8_t>(uint64_t{s.pn} >> (8 * i));
  Bytes out = h;
  out.resize(h.size() + payload.size() + 16);
  EVP_CIPHER_CTX* c = EVP_CIPHER_CTX_new();
  int n = 0;
  EVP_EncryptInit_ex(c, EVP_aes_128_gcm(), nullptr, k.key, nonce);
  EVP_EncryptUpdate(c, nullptr, &n, h.data(), static_cast<int>(h.size()));
  EVP_EncryptUpdate(c, out.data() + h.size(), &n, payload.data(), static_cast<int>(payload.size()));
  EVP_EncryptFinal_ex(c, out.data() + h.size() + n, &n);
  EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, 16, out.data() + h.size() + payload.size());
  // Header protection (RFC 9001 section 5.4): mask from AES-ECB(hp, sample).
  uint8_t mask[16];
  EVP_EncryptInit_ex(c, EVP_aes_128_ecb(), nullptr, k.hp, nullptr);
  EVP_CIPHER_CTX_set_padding(c, 0);
  EVP_EncryptUpdate(c, mask, &n, out.data() + pn_offset + 4, 16);
  EVP_CIPHER_CTX_free(c);
  out[0] ^= mask[0] & 0x0f;
  for (size_t i = 0; i < s.pn_len; ++i) out[pn_offset + i] ^= mask[1 + i];
  return out;
}

// Frames padded with PADDING to `payload_len` bytes.
inline Bytes padded(Bytes frames, size_t payload_len) {
  if (frames.size() < payload_len) frames.resize(payload_len, 0);
  return frames;
}

// Pads a datagram to 1200 bytes with zeros after its packets (RFC 9000 section 14.1 allows
// padding after the last packet; a leading 0 byte is not a long header).
inline Bytes padDatagram(Bytes d, size_t n = 1200) {
  if (d.size() < n) d.resize(n, 0);
  return d;
}

}  // namespace cordon::quic::testing

// QUIC client Initial packets. See initial.h.

// Key derivation uses OpenSSL's low-level SHA256_* calls (SHA-NI/AVX2 block functions),
// deprecated in OpenSSL 3.0 but present through 3.x: through EVP_MAC the 5 HMACs of an
// Initial key schedule cost ~2.2 us of dispatch (measured, tests/bench/quic), most of the
// 3 us budget per connection; on raw SHA256_CTX states with precomputed pads they cost
// ~0.3 us. AES stays on EVP with contexts reused per worker.
#define OPENSSL_SUPPRESS_DEPRECATED

#include "dataplane/inspect/quic/initial.h"

#include <openssl/evp.h>
#include <openssl/sha.h>

#include <algorithm>
#include <cstring>

#include "dataplane/common/byte_reader.h"

namespace cordon::quic {
namespace {

constexpr size_t kSaltLen = 20;
constexpr size_t kSecretLen = 32;  // SHA-256 output (RFC 9001 section 5.2)

// RFC 9001 section 5.2.
constexpr uint8_t kSaltV1[kSaltLen] = {0x38, 0x76, 0x2c, 0xf7, 0xf5, 0x59, 0x34, 0xb3, 0x4d, 0x17,
                                       0x9a, 0xe6, 0xa4, 0xc8, 0x0c, 0xad, 0xcc, 0xbb, 0x7f, 0x0a};
// RFC 9369 section 3.3.1.
constexpr uint8_t kSaltV2[kSaltLen] = {0x0d, 0xed, 0xe3, 0xde, 0xf7, 0x00, 0xa6, 0xdb, 0x81, 0x93,
                                       0x81, 0xbe, 0x6e, 0x26, 0x9d, 0xcb, 0xf9, 0xbd, 0x2e, 0xd9};
// draft-ietf-quic-tls-29 section 5.2 (drafts 29 to 32).
constexpr uint8_t kSaltDraft29[kSaltLen] = {0xaf, 0xbf, 0xec, 0x28, 0x99, 0x93, 0xd2,
                                            0x4c, 0x9e, 0x97, 0x86, 0xf1, 0x9c, 0x61,
                                            0x11, 0xe0, 0x43, 0x90, 0xa8, 0x99};
// draft-ietf-quic-tls-23 section 5.2 (drafts 23 to 28, Facebook mvfst 27 and experimental).
constexpr uint8_t kSaltDraft23[kSaltLen] = {0xc3, 0xee, 0xf7, 0x12, 0xc7, 0x2e, 0xbb,
                                            0x5a, 0x11, 0xa7, 0xd2, 0x43, 0x2b, 0xb4,
                                            0x63, 0x65, 0xbe, 0xf9, 0xf5, 0x02};
// draft-ietf-quic-tls-22 section 5.2 (draft 22, Facebook mvfst 22).
constexpr uint8_t kSaltDraft22[kSaltLen] = {0x7f, 0xbc, 0xdb, 0x0e, 0x7c, 0x66, 0xbb,
                                            0xe9, 0x19, 0x3a, 0x96, 0xcd, 0x21, 0x51,
                                            0x9e, 0xbd, 0x7a, 0x02, 0x64, 0x4a};
// Chromium's quic_crypto_utils.cc initial salts for Google QUIC versions 50/51.
constexpr uint8_t kSaltQ050[kSaltLen] = {0x50, 0x45, 0x74, 0xef, 0xd0, 0x66, 0xfe,
                                         0x2f, 0x9d, 0x94, 0x5c, 0xfc, 0xdb, 0xd3,
                                         0xa7, 0xf0, 0xd3, 0xb5, 0x6b, 0x45};
constexpr uint8_t kSaltT050[kSaltLen] = {0x7f, 0xf5, 0x79, 0xe5, 0xac, 0xd0, 0x72,
                                         0x91, 0x55, 0x80, 0x30, 0x4c, 0x43, 0xa2,
                                         0x36, 0x7c, 0x60, 0x48, 0x83, 0x10};
constexpr uint8_t kSaltT051[kSaltLen] = {0x7a, 0x4e, 0xde, 0xf4, 0xe7, 0xcc, 0xee,
                                         0x5f, 0xa4, 0x50, 0x6c, 0x19, 0x12, 0x4f,
                                         0xc8, 0xcc, 0xda, 0x6e, 0x03, 0x3d};

constexpr uint32_t kDraftPrefix = 0xff000000;  // draft-ietf-quic-transport-NN is 0xff0000NN
constexpr uint32_t kMvfst22 = 0xfaceb001;
constexpr uint32_t kMvfst27 = 0xfaceb002;
constexpr uint32_t kMvfstExp = 0xfaceb00e;
constexpr uint32_t kQ033 = 0x51303333;  // "Q033"
constexpr uint32_t kQ039 = 0x51303339;
constexpr uint32_t kQ046 = 0x51303436;
constexpr uint32_t kQ050 = 0x51303530;
constexpr uint32_t kT050 = 0x54303530;
constexpr uint32_t kT051 = 0x54303531;

// RFC 9000 section 17.2 first byte: Header Form (0x80), Fixed Bit (0x40), Long Packet Type
// (0x30), then 4 type-specific bits, of which the low two give the Packet Number Length.
constexpr uint8_t kHeaderForm = 0x80;
constexpr uint8_t kFixedBit = 0x40;
constexpr uint8_t kLongTypeShift = 4;
constexpr uint8_t kLongTypeMask = 0x03;
constexpr uint8_t kPnLenMask = 0x03;
// RFC 9001 section 5.4.1: 4 bits of a long header's first byte are protected.
constexpr uint8_t kLongHpMask = 0x0f;
constexpr uint8_t kTypeInitialV1 = 0;  // RFC 9000 section 17.2, Table 5
constexpr uint8_t kTypeRetryV1 = 3;
constexpr uint8_t kTypeInitialV2 = 1;  // RFC 9369 section 3.2
constexpr uint8_t kTypeRetryV2 = 0;

// RFC 9000 section 19 frame types allowed in an Initial (section 12.4, Table 3).
constexpr uint64_t kFramePadding = 0x00;
constexpr uint64_t kFramePing = 0x01;
constexpr uint64_t kFrameAck = 0x02;
constexpr uint64_t kFrameAckEcn = 0x03;
constexpr uint64_t kFrameCrypto = 0x06;
constexpr uint64_t kFrameConnectionClose = 0x1c;
// Google QUIC v50/T05x CRYPTO frame (Chromium quic_framer.cc IETF-style crypto frame).
constexpr uint8_t kGquicFrameCrypto = 0x08;
// Google QUIC (Q039..Q046) frame type byte: 1FDOOOSS is a STREAM frame (Chromium
// quic_framer.cc kQuicFrameTypeStreamMask); stream 1 carries the crypto handshake.
constexpr uint8_t kGquicStreamBit = 0x80;
constexpr uint8_t kGquicStreamHasLength = 0x20;
constexpr uint64_t kGquicCryptoStream = 1;
// Google QUIC public header flags (Q039/Q043): version present, 8-byte connection ID,
// packet number length in bits 4-5 (1, 2, 4 or 6 bytes).
constexpr uint8_t kGquicFlagVersion = 0x01;
constexpr uint8_t kGquicFlagReset = 0x02;
constexpr uint8_t kGquicFlagCid8 = 0x08;
constexpr size_t kGquicCidLen = 8;
// Unencrypted Google QUIC packets carry a 12-byte FNV-1a message hash before the frames.
constexpr size_t kGquicHashLen = 12;
// Google QUIC Q046 long header: one byte of connection ID lengths, 0x50 = 8-byte DCID.
constexpr uint8_t kQ046CidLens = 0x50;

// Google QUIC versions whose first CHLO travels in the clear: "Q024" .. "Q046" (ASCII
// digits; Chromium removed everything before Q024).
bool gquicVersion(uint32_t v) {
  if ((v & 0xffff0000) != 0x51300000) return false;  // "Q0"
  const uint32_t tens = (v >> 8) & 0xff, ones = v & 0xff;
  if (tens < '0' || tens > '9' || ones < '0' || ones > '9') return false;
  const uint32_t n = (tens - '0') * 10 + (ones - '0');
  return n >= 24 && n <= 46;
}

// "CHLO" at the start of crypto stream data: a new handshake message. A client re-sends a
// full CHLO after the server's REJ at a later stream offset; CHLOs are self-delimiting, so
// cordon reads it as a message of its own (offset 0).
bool startsChlo(std::span<const uint8_t> data) {
  return data.size() >= 4 && data[0] == 'C' && data[1] == 'H' && data[2] == 'L' && data[3] == 'O';
}

// All salts, in the order of InitialCrypto::salt_keys_.
constexpr const uint8_t* kSalts[] = {kSaltV1,      kSaltV2,   kSaltDraft29, kSaltDraft23,
                                     kSaltDraft22, kSaltQ050, kSaltT050,    kSaltT051};
constexpr size_t kSaltCount = sizeof kSalts / sizeof kSalts[0];

// RFC 9000 section 16 variable-length integer, as ByteReader::readVarInt62.
bool readVarint(ByteReader* r, uint64_t* v) {
  return r->readVarInt62(v);
}

// Skips a run of 0x00 bytes (PADDING frames; RFC 9000 section 19.1, and gQUIC's).
void skipZeros(ByteReader* r) {
  const std::span<const uint8_t> rest = r->rest();
  const auto end = std::find_if(rest.begin(), rest.end(), [](uint8_t b) { return b != 0; });
  (void)r->skip(static_cast<size_t>(end - rest.begin()));
}

}  // namespace

bool lookupVersion(uint32_t version, VersionInfo* out) {
  VersionInfo v;
  v.version = version;
  if (version == kVersion1) {
    v.salt = kSaltV1;
  } else if (version == kVersion2) {
    v.salt = kSaltV2;
    v.v2 = true;
  } else if ((version & 0xffffff00) == kDraftPrefix) {
    const uint32_t draft = version & 0xff;
    if (draft == 22) {
      v.salt = kSaltDraft22;
    } else if (draft >= 23 && draft <= 28) {
      v.salt = kSaltDraft23;
    } else if (draft >= 29 && draft <= 32) {
      v.salt = kSaltDraft29;
    } else if (draft >= 33 && draft <= 34) {
      v.salt = kSaltV1;  // draft-33 adopted the final salt
    } else {
      return false;
    }
  } else if (version == kMvfst22) {
    v.salt = kSaltDraft22;
  } else if (version == kMvfst27 || version == kMvfstExp) {
    v.salt = kSaltDraft23;
  } else if (version == kQ050) {
    v.salt = kSaltQ050;
    v.flavor = Flavor::kGquicChlo;
  } else if (version == kT050) {
    v.salt = kSaltT050;
    v.flavor = Flavor::kGquicTls;
  } else if (version == kT051) {
    v.salt = kSaltT051;
    v.flavor = Flavor::kGquicTls;
  } else if (gquicVersion(version)) {
    v.flavor = Flavor::kGquicPlain;
  } else {
    return false;
  }
  *out = v;
  return true;
}

ParseStatus parseLongHeader(std::span<const uint8_t> packet, LongHeader* out) {
  ByteReader r(packet);
  uint8_t first = 0;
  uint32_t version = 0;
  if (!r.readU8(&first)) return ParseStatus::kMalformed;
  if (!(first & kHeaderForm)) return ParseStatus::kUnsupported;  // short header
  if (!r.readU32(&version)) return ParseStatus::kMalformed;
  VersionInfo vi;
  if (version == 0 || !lookupVersion(version, &vi)) return ParseStatus::kUnsupported;
  out->first = first;
  out->version = version;
  const uint8_t type = (first >> kLongTypeShift) & kLongTypeMask;
  if (version == kQ046) {
    // Q046: DCID/SCID lengths in one byte, no token, no Length: the packet is the datagram.
    uint8_t lens = 0;
    if (!r.readU8(&lens)) return ParseStatus::kMalformed;
    if (lens != kQ046CidLens) return ParseStatus::kUnsupported;  // not a client packet
    if (!r.readBytes(kGquicCidLen, &out->dcid)) return ParseStatus::kMalformed;
    out->scid = {};
    out->token = {};
    out->initial = type == kTypeInitialV1;
    out->pn_offset = r.offset();
    out->packet_len = packet.size();
    return ParseStatus::kOk;
  }
  // RFC 9000 section 17.2: the fixed bit is 1 in every version cordon opens.
  if (!(first & kFixedBit)) return ParseStatus::kMalformed;
  if ((vi.v2 ? type == kTypeRetryV2 : type == kTypeRetryV1)) return ParseStatus::kUnsupported;
  out->initial = vi.v2 ? type == kTypeInitialV2 : type == kTypeInitialV1;
  ByteReader dcid, scid;
  if (!r.readPrefixed8(&dcid) || !r.readPrefixed8(&scid)) return ParseStatus::kMalformed;
  if (dcid.size() > kMaxCidLen || scid.size() > kMaxCidLen) return ParseStatus::kMalformed;
  out->dcid = dcid.data();
  out->scid = scid.data();
  out->token = {};
  if (out->initial) {
    // RFC 9000 section 17.2.2: Token Length (i), Token.
    uint64_t token_len = 0;
    if (!readVarint(&r, &token_len) || token_len > r.remaining() ||
        !r.readBytes(static_cast<size_t>(token_len), &out->token)) {
      return ParseStatus::kMalformed;
    }
  }
  uint64_t length = 0;  // Packet Number + Packet Payload
  if (!readVarint(&r, &length) || length > r.remaining()) return ParseStatus::kMalformed;
  out->pn_offset = r.offset();
  out->packet_len = r.offset() + static_cast<size_t>(length);
  return ParseStatus::kOk;
}

bool looksLikeClientInitial(std::span<const uint8_t> datagram) {
  if (datagram.size() < kMinInitialDatagram) return false;
  ByteReader r(datagram);
  uint8_t first = 0;
  uint32_t version = 0;
  if (!r.readU8(&first) || !r.readU32(&version)) return false;
  VersionInfo vi;
  if (first & kHeaderForm) {
    if (!lookupVersion(version, &vi)) return false;
    if (vi.flavor == Flavor::kGquicPlain) return version == kQ046;
    const uint8_t type = (first >> kLongTypeShift) & kLongTypeMask;
    return (first & kFixedBit) && type == (vi.v2 ? kTypeInitialV2 : kTypeInitialV1);
  }
  // Google QUIC public header (Q039/Q043): version flag and 8-byte connection ID.
  if ((first & (kGquicFlagVersion | kGquicFlagCid8 | kGquicFlagReset)) !=
      (kGquicFlagVersion | kGquicFlagCid8)) {
    return false;
  }
  ByteReader g(datagram);
  return g.skip(1 + kGquicCidLen) && g.readU32(&version) && gquicVersion(version) &&
         version != kQ046;
}

// ---- crypto ----

// RFC 2104 HMAC over SHA-256 with the key's inner and outer pad blocks already hashed.
struct InitialCrypto::Hmac {
  SHA256_CTX inner;
  SHA256_CTX outer;

  // Keys of at most one block (salts, 32-byte secrets): no pre-hashing needed.
  void setKey(std::span<const uint8_t> key) {
    constexpr size_t kBlock = 64;
    uint8_t ipad[kBlock], opad[kBlock];
    for (size_t i = 0; i < kBlock; ++i) {
      const uint8_t k = i < key.size() ? key[i] : 0;
      ipad[i] = k ^ 0x36;
      opad[i] = k ^ 0x5c;
    }
    SHA256_Init(&inner);
    SHA256_Update(&inner, ipad, kBlock);
    SHA256_Init(&outer);
    SHA256_Update(&outer, opad, kBlock);
  }
  void mac(std::span<const uint8_t> msg, uint8_t out[kSecretLen]) const {
    SHA256_CTX c = inner;
    uint8_t ih[kSecretLen];
    SHA256_Update(&c, msg.data(), msg.size());
    SHA256_Final(ih, &c);
    c = outer;
    SHA256_Update(&c, ih, kSecretLen);
    SHA256_Final(out, &c);
  }
};

namespace {

// RFC 8446 section 7.1 HKDF-Expand-Label(secret, label, "", len) for len <= 32: one HMAC
// block, T(1) = HMAC(secret, HkdfLabel || 0x01) (RFC 5869 section 2.3).
template <typename Hmac>
void expandLabel(const Hmac& secret, const char* label, size_t len, uint8_t* out) {
  constexpr char kPrefix[] = "tls13 ";
  constexpr size_t kPrefixLen = sizeof kPrefix - 1;
  const size_t label_len = std::strlen(label);
  uint8_t info[2 + 1 + 255 + 1 + 1];
  size_t n = 0;
  info[n++] = static_cast<uint8_t>(len >> 8);
  info[n++] = static_cast<uint8_t>(len);
  info[n++] = static_cast<uint8_t>(kPrefixLen + label_len);
  std::memcpy(info + n, kPrefix, kPrefixLen);
  n += kPrefixLen;
  std::memcpy(info + n, label, label_len);
  n += label_len;
  info[n++] = 0;  // empty context
  info[n++] = 1;  // HKDF-Expand block counter
  uint8_t t[kSecretLen];
  secret.mac({info, n}, t);
  std::memcpy(out, t, len);
}

}  // namespace

InitialCrypto::InitialCrypto() : salt_keys_(new Hmac[kSaltCount]) {
  for (size_t i = 0; i < kSaltCount; ++i) salt_keys_[i].setKey({kSalts[i], kSaltLen});
  gcm_ = EVP_CIPHER_fetch(nullptr, "AES-128-GCM", nullptr);
  ecb_ = EVP_CIPHER_fetch(nullptr, "AES-128-ECB", nullptr);
  if (!gcm_ || !ecb_) return;
  gcm_ctx_ = EVP_CIPHER_CTX_new();
  ecb_ctx_ = EVP_CIPHER_CTX_new();
  if (!gcm_ctx_ || !ecb_ctx_) return;
  // Bind the algorithms once; per packet only keys and nonces change.
  if (EVP_DecryptInit_ex(gcm_ctx_, gcm_, nullptr, nullptr, nullptr) != 1) return;
  if (EVP_EncryptInit_ex(ecb_ctx_, ecb_, nullptr, nullptr, nullptr) != 1) return;
  if (EVP_CIPHER_CTX_set_padding(ecb_ctx_, 0) != 1) return;
  ok_ = true;
}

InitialCrypto::~InitialCrypto() {
  EVP_CIPHER_CTX_free(ecb_ctx_);
  EVP_CIPHER_CTX_free(gcm_ctx_);
  EVP_CIPHER_free(ecb_);
  EVP_CIPHER_free(gcm_);
}

bool InitialCrypto::deriveClientKeys(const VersionInfo& v, std::span<const uint8_t> dcid,
                                     InitialKeys* out) {
  if (!v.salt) return false;
  const Hmac* salt = nullptr;
  for (size_t i = 0; i < kSaltCount; ++i) {
    if (kSalts[i] == v.salt) salt = &salt_keys_[i];
  }
  if (!salt) return false;
  // HKDF-Extract(salt, IKM) = HMAC(salt, IKM) (RFC 5869 section 2.2).
  uint8_t secret[kSecretLen];
  salt->mac(dcid, secret);
  Hmac h;
  h.setKey(secret);
  expandLabel(h, "client in", kSecretLen, secret);
  h.setKey(secret);
  // RFC 9369 section 3.3.2: v2 uses "quicv2 key", "quicv2 iv", "quicv2 hp".
  expandLabel(h, v.v2 ? "quicv2 key" : "quic key", kKeyLen, out->key);
  expandLabel(h, v.v2 ? "quicv2 iv" : "quic iv", kIvLen, out->iv);
  expandLabel(h, v.v2 ? "quicv2 hp" : "quic hp", kKeyLen, out->hp);
  return true;
}

ParseStatus InitialCrypto::open(const InitialKeys& k, std::span<const uint8_t> packet,
                                size_t pn_offset, std::span<uint8_t> out, size_t* plain_len) {
  *plain_len = 0;
  // RFC 9001 section 5.4.2: the sample starts 4 bytes after the Packet Number field.
  if (pn_offset + kHpSampleOffset + kHpSampleLen > packet.size()) return ParseStatus::kMalformed;
  uint8_t mask[kHpSampleLen];
  int n = 0;
  if (EVP_EncryptInit_ex(ecb_ctx_, nullptr, nullptr, k.hp, nullptr) != 1 ||
      EVP_EncryptUpdate(ecb_ctx_, mask, &n, packet.data() + pn_offset + kHpSampleOffset,
                        static_cast<int>(kHpSampleLen)) != 1 ||
      n != static_cast<int>(kHpSampleLen)) {
    return ParseStatus::kMalformed;
  }
  // RFC 9001 section 5.4.1: unmask the first byte, then the Packet Number.
  const uint8_t first = packet[0] ^ (mask[0] & kLongHpMask);
  const size_t pn_len = (first & kPnLenMask) + 1u;
  if (pn_offset + pn_len + kAeadTagLen > packet.size()) return ParseStatus::kMalformed;
  uint8_t pn_bytes[4];
  uint64_t pn = 0;
  for (size_t i = 0; i < pn_len; ++i) {
    pn_bytes[i] = packet[pn_offset + i] ^ mask[1 + i];
    pn = pn << 8 | pn_bytes[i];
  }
  // RFC 9000 section 17.1 / appendix A.3: the first packets' numbers are small, so the
  // truncated number is the full one. RFC 9001 section 5.3: nonce = iv XOR pn (left-padded).
  uint8_t nonce[kIvLen];
  std::memcpy(nonce, k.iv, kIvLen);
  for (size_t i = 0; i < 8; ++i) nonce[kIvLen - 1 - i] ^= static_cast<uint8_t>(pn >> (8 * i));
  const size_t header_len = pn_offset + pn_len;
  const size_t ct_len = packet.size() - header_len - kAeadTagLen;
  if (out.size() < ct_len) return ParseStatus::kUnsupported;
  // The AAD is the unprotected header (RFC 9001 section 5.3): fed in three pieces so the
  // packet itself stays untouched.
  int len = 0;
  if (EVP_DecryptInit_ex(gcm_ctx_, nullptr, nullptr, k.key, nonce) != 1 ||
      EVP_DecryptUpdate(gcm_ctx_, nullptr, &len, &first, 1) != 1 ||
      EVP_DecryptUpdate(gcm_ctx_, nullptr, &len, packet.data() + 1,
                        static_cast<int>(pn_offset - 1)) != 1 ||
      EVP_DecryptUpdate(gcm_ctx_, nullptr, &len, pn_bytes, static_cast<int>(pn_len)) != 1) {
    return ParseStatus::kMalformed;
  }
  if (ct_len > 0 && EVP_DecryptUpdate(gcm_ctx_, out.data(), &len, packet.data() + header_len,
                                      static_cast<int>(ct_len)) != 1) {
    return ParseStatus::kMalformed;
  }
  uint8_t tag[kAeadTagLen];
  std::memcpy(tag, packet.data() + header_len + ct_len, kAeadTagLen);
  int fin = 0;
  if (EVP_CIPHER_CTX_ctrl(gcm_ctx_, EVP_CTRL_GCM_SET_TAG, static_cast<int>(kAeadTagLen), tag) !=
          1 ||
      EVP_DecryptFinal_ex(gcm_ctx_, out.data() + ct_len, &fin) != 1) {
    return ParseStatus::kMalformed;  // authentication failed
  }
  *plain_len = ct_len;
  return ParseStatus::kOk;
}

// ---- frames ----

ParseStatus parseInitialFrames(std::span<const uint8_t> plain, CryptoSink* sink,
                               int* crypto_frames) {
  ByteReader r(plain);
  while (!r.empty()) {
    uint64_t type = 0;
    if (!readVarint(&r, &type)) return ParseStatus::kMalformed;
    switch (type) {
      case kFramePadding:  // RFC 9000 section 19.1: clients pad with ~1000 of them
        skipZeros(&r);
        break;
      case kFramePing:  // section 19.2
        break;
      case kFrameAck:  // section 19.3: Largest, Delay, Range Count, First Range, ranges
      case kFrameAckEcn: {
        uint64_t largest = 0, delay = 0, count = 0, first = 0;
        if (!readVarint(&r, &largest) || !readVarint(&r, &delay) || !readVarint(&r, &count) ||
            !readVarint(&r, &first)) {
          return ParseStatus::kMalformed;
        }
        // Each range is at least two bytes; a count beyond that is a lie.
        if (count > r.remaining() / 2) return ParseStatus::kMalformed;
        for (uint64_t i = 0; i < count; ++i) {
          uint64_t gap = 0, len = 0;
          if (!readVarint(&r, &gap) || !readVarint(&r, &len)) return ParseStatus::kMalformed;
        }
        if (type == kFrameAckEcn) {
          uint64_t e = 0;
          if (!readVarint(&r, &e) || !readVarint(&r, &e) || !readVarint(&r, &e)) {
            return ParseStatus::kMalformed;
          }
        }
        break;
      }
      case kFrameCrypto: {  // section 19.6: Offset, Length, Crypto Data
        uint64_t offset = 0, len = 0;
        std::span<const uint8_t> data;
        if (!readVarint(&r, &offset) || !readVarint(&r, &len) || len > r.remaining() ||
            !r.readBytes(static_cast<size_t>(len), &data)) {
          return ParseStatus::kMalformed;
        }
        // Section 19.6: offset + length must not exceed 2^62 - 1.
        if (offset > (uint64_t{1} << 62) - 1 - len) return ParseStatus::kMalformed;
        ++*crypto_frames;
        if (!data.empty()) sink->onCrypto(offset, data);
        break;
      }
      case kFrameConnectionClose: {  // section 19.19: Error Code, Frame Type, Reason Phrase
        uint64_t code = 0, frame = 0, reason_len = 0;
        if (!readVarint(&r, &code) || !readVarint(&r, &frame) || !readVarint(&r, &reason_len) ||
            reason_len > r.remaining() || !r.skip(static_cast<size_t>(reason_len))) {
          return ParseStatus::kMalformed;
        }
        break;
      }
      default:
        return ParseStatus::kMalformed;  // section 17.2.2: not allowed in an Initial
    }
  }
  return ParseStatus::kOk;
}

namespace {

// Google QUIC v50/T05x frames in a decrypted Initial: PADDING (0x00, the rest of the packet),
// CRYPTO (0x08: IETF varint offset and length). Other frames end the walk.
ParseStatus parseGquicCryptoFrames(std::span<const uint8_t> plain, CryptoSink* sink,
                                   int* crypto_frames) {
  ByteReader r(plain);
  uint8_t type = 0;
  while (r.readU8(&type)) {
    if (type == 0) {
      skipZeros(&r);
      continue;
    }
    if (type != kGquicFrameCrypto) break;
    uint64_t offset = 0, len = 0;
    std::span<const uint8_t> data;
    if (!readVarint(&r, &offset) || !readVarint(&r, &len) || len > r.remaining() ||
        !r.readBytes(static_cast<size_t>(len), &data) || offset > (uint64_t{1} << 62) - 1 - len) {
      return ParseStatus::kMalformed;
    }
    ++*crypto_frames;
    if (!data.empty()) sink->onCrypto(startsChlo(data) ? 0 : offset, data);
  }
  return *crypto_frames > 0 ? ParseStatus::kOk : ParseStatus::kMalformed;
}

// Google QUIC Q024..Q046 frames after the message hash: PADDING (0x00, rest of packet), then
// STREAM frames 1FDOOOSS (stream id 1..4 bytes, offset 0 or 2..8 bytes, optional u16 data
// length; big-endian since Q039). Stream 1 is the crypto handshake. ACK and other frames
// end the walk (a first CHLO packet starts with its STREAM frame).
ParseStatus parseGquicStreamFrames(std::span<const uint8_t> frames, uint32_t version,
                                   CryptoSink* sink, int* crypto_frames) {
  const bool little_endian = version < kQ039;  // Chromium: big-endian framing from Q039
  ByteReader r(frames);
  uint8_t type = 0;
  while (r.readU8(&type)) {
    if (type == 0) {
      skipZeros(&r);
      continue;
    }
    if (!(type & kGquicStreamBit)) break;
    const size_t sid_len = (type & 0x03) + 1u;
    const size_t off_code = (type >> 2) & 0x07;
    const size_t off_len = off_code == 0 ? 0 : off_code + 1;
    uint64_t sid = 0, offset = 0;
    uint8_t b = 0;
    for (size_t i = 0; i < sid_len; ++i) {
      if (!r.readU8(&b)) return ParseStatus::kMalformed;
      sid = little_endian ? sid | uint64_t{b} << (8 * i) : sid << 8 | b;
    }
    for (size_t i = 0; i < off_len; ++i) {
      if (!r.readU8(&b)) return ParseStatus::kMalformed;
      offset = little_endian ? offset | uint64_t{b} << (8 * i) : offset << 8 | b;
    }
    size_t len = r.remaining();
    if (type & kGquicStreamHasLength) {
      uint16_t l = 0;
      if (!r.readU16(&l)) return ParseStatus::kMalformed;
      if (little_endian) l = static_cast<uint16_t>(l >> 8 | l << 8);
      if (l > r.remaining()) return ParseStatus::kMalformed;
      len = l;
    }
    std::span<const uint8_t> data;
    if (!r.readBytes(len, &data)) return ParseStatus::kMalformed;
    if (sid == kGquicCryptoStream) {
      ++*crypto_frames;
      if (!data.empty()) sink->onCrypto(startsChlo(data) ? 0 : offset, data);
    }
  }
  return *crypto_frames > 0 ? ParseStatus::kOk : ParseStatus::kMalformed;
}

// Q024..Q043 public header (Chromium quic_framer.cc): flags, 8-byte connection ID, version,
// packet number (1, 2, 4 or 6 bytes), then the 12-byte hash of an unencrypted packet, then
// (up to Q033) a private flags byte.
ParseStatus readGquicLegacy(std::span<const uint8_t> datagram, CryptoSink* sink,
                            DatagramInfo* info) {
  ByteReader r(datagram);
  uint8_t flags = 0;
  uint32_t version = 0;
  if (!r.readU8(&flags) || !r.skip(kGquicCidLen) || !r.readU32(&version)) {
    return ParseStatus::kMalformed;
  }
  // 0x04 is not checked: clients keep setting 0x0c (the pre-Q033 "8-byte connection ID"
  // encoding) in later versions, where 0x04 alone would mean a server's nonce.
  constexpr size_t kPnLens[] = {1, 2, 4, 6};
  const size_t pn_len = kPnLens[(flags >> 4) & 0x03];
  if (!r.skip(pn_len) || !r.skip(kGquicHashLen)) return ParseStatus::kMalformed;
  if (version <= kQ033 && !r.skip(1)) return ParseStatus::kMalformed;  // private flags
  info->version = version;
  info->flavor = Flavor::kGquicPlain;
  info->initials = 1;
  const ParseStatus st = parseGquicStreamFrames(r.rest(), version, sink, &info->crypto_frames);
  if (st == ParseStatus::kOk) info->decrypted = 1;
  return st;
}

}  // namespace

ParseStatus readClientDatagram(InitialCrypto& crypto, std::span<const uint8_t> datagram,
                               ConnKeys* keys, std::span<uint8_t> scratch, CryptoSink* sink,
                               DatagramInfo* info) {
  *info = DatagramInfo{};
  if (datagram.empty()) return ParseStatus::kUnsupported;
  if (!(datagram[0] & kHeaderForm)) {
    // Not an IETF long header: a Google QUIC Q039/Q043 public header, or nothing to open.
    ByteReader g(datagram);
    uint32_t version = 0;
    if ((datagram[0] & (kGquicFlagVersion | kGquicFlagCid8 | kGquicFlagReset)) !=
            (kGquicFlagVersion | kGquicFlagCid8) ||
        !g.skip(1 + kGquicCidLen) || !g.readU32(&version) || !gquicVersion(version) ||
        version == kQ046) {
      return ParseStatus::kUnsupported;
    }
    return readGquicLegacy(datagram, sink, info);
  }
  ParseStatus result = ParseStatus::kUnsupported;
  size_t pos = 0;
  for (int n = 0; n < kMaxCoalescedPackets && pos < datagram.size(); ++n) {
    const std::span<const uint8_t> rest = datagram.subspan(pos);
    LongHeader h;
    const ParseStatus hs = parseLongHeader(rest, &h);
    if (hs == ParseStatus::kUnsupported) break;  // short header, padding, Retry, unknown
    if (hs != ParseStatus::kOk) return n == 0 ? hs : result;
    if (n == 0) {
      info->version = h.version;
    } else if (h.version != info->version) {
      break;  // RFC 9000 section 12.2: coalesced packets share a version
    }
    pos += h.packet_len;
    if (!h.initial) continue;  // 0-RTT (or Handshake) coalesced after the Initial
    VersionInfo vi;
    (void)lookupVersion(h.version, &vi);
    info->flavor = vi.flavor;
    ++info->initials;
    const std::span<const uint8_t> packet = rest.first(h.packet_len);
    if (vi.flavor == Flavor::kGquicPlain) {
      // Q046: packet number, then the message hash, then frames in the clear.
      const size_t pn_len = (h.first & kPnLenMask) + 1u;
      if (h.pn_offset + pn_len + kGquicHashLen > packet.size()) return ParseStatus::kMalformed;
      const ParseStatus st =
          parseGquicStreamFrames(packet.subspan(h.pn_offset + pn_len + kGquicHashLen), h.version,
                                 sink, &info->crypto_frames);
      if (st != ParseStatus::kOk) return st;
      ++info->decrypted;
      result = ParseStatus::kOk;
      continue;
    }
    size_t plain_len = 0;
    ParseStatus os = ParseStatus::kMalformed;
    if (keys->valid && keys->version == h.version) {
      os = crypto.open(keys->keys, packet, h.pn_offset, scratch, &plain_len);
    }
    if (os == ParseStatus::kMalformed) {
      // First Initial of the connection, or the first after a Retry (RFC 9001 section 5.2:
      // keys then come from the Retry's Source Connection ID, which this DCID carries).
      ConnKeys fresh;
      fresh.version = h.version;
      if (!crypto.deriveClientKeys(vi, h.dcid, &fresh.keys)) return ParseStatus::kMalformed;
      os = crypto.open(fresh.keys, packet, h.pn_offset, scratch, &plain_len);
      if (os == ParseStatus::kOk) {
        fresh.valid = true;
        *keys = fresh;
        info->rekeyed = true;
      }
    }
    if (os != ParseStatus::kOk) return os;
    ++info->decrypted;
    const std::span<const uint8_t> plain = scratch.first(plain_len);
    const ParseStatus fs = vi.flavor == Flavor::kIetf
                               ? parseInitialFrames(plain, sink, &info->crypto_frames)
                               : parseGquicCryptoFrames(plain, sink, &info->crypto_frames);
    if (fs != ParseStatus::kOk) return fs;
    result = ParseStatus::kOk;
  }
  return result;
}

// ---- Google QUIC CHLO ----

ParseStatus parseChlo(std::span<const uint8_t> msg, ChloInfo* out) {
  *out = ChloInfo{};
  // Tags and offsets are little-endian (Chromium crypto_framer.cc).
  constexpr uint8_t kChlo[4] = {'C', 'H', 'L', 'O'};
  constexpr uint8_t kSni[4] = {'S', 'N', 'I', 0};
  // Chromium kMaxEntries: a handshake message has at most 128 tag/value pairs.
  constexpr uint32_t kMaxEntries = 128;
  constexpr size_t kHeaderLen = 8;  // tag, u16 entries, u16 padding
  constexpr size_t kEntryLen = 8;   // u32 tag, u32 end offset
  ByteReader r(msg);
  std::span<const uint8_t> tag;
  uint8_t lo = 0, hi = 0;
  if (!r.readBytes(4, &tag)) return ParseStatus::kNeedMore;
  if (!std::equal(tag.begin(), tag.end(), kChlo)) return ParseStatus::kUnsupported;
  if (!r.readU8(&lo) || !r.readU8(&hi) || !r.skip(2)) return ParseStatus::kNeedMore;
  const uint32_t entries = uint32_t{hi} << 8 | lo;
  if (entries > kMaxEntries) return ParseStatus::kMalformed;
  const size_t values_at = kHeaderLen + kEntryLen * entries;
  uint32_t prev_end = 0;
  for (uint32_t i = 0; i < entries; ++i) {
    std::span<const uint8_t> e;
    if (!r.readBytes(kEntryLen, &e)) return ParseStatus::kNeedMore;
    const uint32_t end =
        uint32_t{e[4]} | uint32_t{e[5]} << 8 | uint32_t{e[6]} << 16 | uint32_t{e[7]} << 24;
    if (end < prev_end) return ParseStatus::kMalformed;
    if (values_at + end > msg.size()) return ParseStatus::kNeedMore;
    if (std::equal(e.begin(), e.begin() + 4, kSni) && !out->has_sni) {
      const size_t len = end - prev_end;
      if (len == 0 || len >= sizeof out->sni) return ParseStatus::kMalformed;
      const std::span<const uint8_t> v = msg.subspan(values_at + prev_end, len);
      if (std::find(v.begin(), v.end(), uint8_t{0}) != v.end()) return ParseStatus::kMalformed;
      std::copy(v.begin(), v.end(), out->sni);
      out->sni[len] = '\0';
      out->sni_len = len;
      out->has_sni = true;
    }
    prev_end = end;
  }
  return ParseStatus::kOk;
}

}  // namespace cordon::quic

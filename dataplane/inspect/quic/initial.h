#pragma once
// QUIC client Initial packets: long header parsing (RFC 9000 section 17.2), Initial keys
// from the client's Destination Connection ID (RFC 9001 section 5.2, RFC 9369 section 3.3),
// header protection removal (RFC 9001 section 5.4), AEAD_AES_128_GCM payload decryption
// (RFC 9001 section 5.3) and the frames an Initial may carry (RFC 9000 sections 12.4, 19).
//
// The CRYPTO stream bytes found are handed to a CryptoSink with their stream offset; the
// caller reassembles them (bounded, per flow) and parses the ClientHello with the TCP TLS
// parser (dataplane/inspect/tls). Google QUIC versions that carry the handshake the same
// way (T050/T051: TLS; Q050: a CHLO message; Q039..Q046: a CHLO in the clear) are read too,
// so clients that still speak them are not an easy way around enforcement.
//
// Packet bytes are never modified: unmasked header bytes are fed to the AEAD piecewise and
// plaintext goes to a caller-provided scratch. Nothing here allocates after construction.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

#include "dataplane/common/parse_status.h"

typedef struct evp_cipher_st EVP_CIPHER;
typedef struct evp_cipher_ctx_st EVP_CIPHER_CTX;

namespace cordon::quic {

// RFC 9000 section 17.2: "In QUIC version 1, this value MUST NOT exceed 20 bytes".
inline constexpr size_t kMaxCidLen = 20;
// RFC 9000 section 14.1: a client pads every datagram carrying an Initial to 1200 bytes.
// Smaller datagrams are not client Initials, which keeps crypto off random small UDP.
inline constexpr size_t kMinInitialDatagram = 1200;
// RFC 9000 section 12.2: several packets may be coalesced into one datagram. A client's
// first flight coalesces at most Initial + 0-RTT; more than this is not a real client.
inline constexpr int kMaxCoalescedPackets = 8;
// RFC 9001 section 5.8 / AEAD_AES_128_GCM (RFC 5116 section 5.1): tag and key sizes.
inline constexpr size_t kAeadTagLen = 16;
inline constexpr size_t kKeyLen = 16;
inline constexpr size_t kIvLen = 12;
// RFC 9001 section 5.4.2: the header protection sample is 16 bytes, taken 4 bytes after
// the start of the Packet Number field.
inline constexpr size_t kHpSampleLen = 16;
inline constexpr size_t kHpSampleOffset = 4;

inline constexpr uint32_t kVersion1 = 0x00000001;        // RFC 9000
inline constexpr uint32_t kVersion2 = 0x6b3343cf;        // RFC 9369 section 3.1
inline constexpr uint32_t kVersionDraft29 = 0xff00001d;  // draft-ietf-quic-transport-29

// How a version carries the client's first handshake message.
enum class Flavor : uint8_t {
  kIetf,        // RFC 9000 frames, TLS ClientHello in CRYPTO frames (v1, v2, drafts, mvfst)
  kGquicTls,    // Google T050/T051: IETF header and protection, TLS in gQUIC CRYPTO (0x08)
  kGquicChlo,   // Google Q050: IETF header and protection, CHLO in gQUIC CRYPTO (0x08)
  kGquicPlain,  // Google Q039..Q046: no encryption, CHLO in a STREAM frame on stream 1
};

struct VersionInfo {
  uint32_t version = 0;
  Flavor flavor = Flavor::kIetf;
  const uint8_t* salt = nullptr;  // 20-byte HKDF-Extract salt (encrypted flavors)
  bool v2 = false;                // RFC 9369 labels and packet type codes
};

// Which versions cordon opens; false for anything else (including version negotiation,
// version 0, RFC 9000 section 17.2.1).
bool lookupVersion(uint32_t version, VersionInfo* out);

// Keys protecting the client's Initial packets.
struct InitialKeys {
  uint8_t key[kKeyLen];
  uint8_t iv[kIvLen];
  uint8_t hp[kKeyLen];
};

// Per-flow state across the client's Initial datagrams: keys derived once from the first
// Initial's Destination Connection ID and reused for later Initials, whatever their DCID
// (RFC 9001 section 5.2: keys do not change when the client switches DCID).
struct ConnKeys {
  bool valid = false;
  uint32_t version = 0;
  InitialKeys keys;
};

// A long header, parsed up to the (still protected) Packet Number field.
struct LongHeader {
  uint8_t first = 0;  // first byte as sent (protected bits included)
  uint32_t version = 0;
  bool initial = false;  // the Initial packet type of this version
  std::span<const uint8_t> dcid;
  std::span<const uint8_t> scid;
  std::span<const uint8_t> token;
  size_t pn_offset = 0;   // offset of the Packet Number field in the packet
  size_t packet_len = 0;  // bytes of this packet in the datagram (header + Length)
};

// RFC 9000 section 17.2. kUnsupported for a short header, version negotiation, a Retry or
// an unknown version (whose layout past the connection IDs is unknown); kMalformed when the
// lengths do not fit the datagram.
ParseStatus parseLongHeader(std::span<const uint8_t> packet, LongHeader* out);

// Cheap content test for a client's first datagram: long header, a version cordon opens,
// the Initial packet type, at least kMinInitialDatagram bytes.
bool looksLikeClientInitial(std::span<const uint8_t> datagram);

// Receives the handshake bytes of the client's crypto stream at their stream offset.
class CryptoSink {
 public:
  virtual ~CryptoSink() = default;
  virtual void onCrypto(uint64_t offset, std::span<const uint8_t> data) = 0;
};

// Per-worker OpenSSL state: fetched algorithms and contexts reused for every packet.
class InitialCrypto {
 public:
  InitialCrypto();
  ~InitialCrypto();
  InitialCrypto(const InitialCrypto&) = delete;
  InitialCrypto& operator=(const InitialCrypto&) = delete;

  // False when OpenSSL could not provide AES-128-GCM/ECB.
  bool ok() const { return ok_; }

  // RFC 9001 section 5.2 (RFC 9369 section 3.3.1-2 for v2): initial_secret =
  // HKDF-Extract(salt, dcid); client_initial_secret = HKDF-Expand-Label(.., "client in");
  // key, iv, hp from it. False on an OpenSSL failure.
  bool deriveClientKeys(const VersionInfo& v, std::span<const uint8_t> dcid, InitialKeys* out);

  // Removes header protection and decrypts one Initial packet (`packet` is exactly
  // packet_len bytes). Plaintext goes to `out` (at least packet_len bytes); *plain_len is
  // its length. kMalformed when too short for a sample and tag or when the tag does not
  // verify (wrong keys, corrupt packet); kUnsupported when `out` is too small.
  ParseStatus open(const InitialKeys& k, std::span<const uint8_t> packet, size_t pn_offset,
                   std::span<uint8_t> out, size_t* plain_len);

 private:
  struct Hmac;  // HMAC-SHA256 state (initial.cc)

  bool ok_ = false;
  // HMAC states keyed with each version's salt, computed once: HKDF-Extract per connection
  // then costs two SHA-256 blocks.
  std::unique_ptr<Hmac[]> salt_keys_;
  EVP_CIPHER* gcm_ = nullptr;
  EVP_CIPHER* ecb_ = nullptr;
  EVP_CIPHER_CTX* gcm_ctx_ = nullptr;
  EVP_CIPHER_CTX* ecb_ctx_ = nullptr;
};

// What one client datagram held.
struct DatagramInfo {
  uint32_t version = 0;
  Flavor flavor = Flavor::kIetf;
  int initials = 0;   // client Initial packets seen
  int decrypted = 0;  // of which opened (or, for kGquicPlain, read)
  int crypto_frames = 0;
  bool rekeyed = false;  // keys were (re)derived from this datagram's DCID
};

// Reads every coalesced long-header packet of a client datagram (RFC 9000 section 12.2),
// opens the Initial ones and hands their CRYPTO data to `sink`. Uses keys->keys when valid;
// when they do not open a packet (or are not set), derives keys from that packet's DCID
// (the first Initial, or the one after a Retry) and stores them in *keys. `scratch` holds
// plaintext (a datagram's worth). Returns kOk when at least one Initial was opened and its
// frames were well formed; kUnsupported when the datagram is not a client Initial of a
// version cordon opens; kMalformed for bad lengths, frames, or packets that do not decrypt.
ParseStatus readClientDatagram(InitialCrypto& crypto, std::span<const uint8_t> datagram,
                               ConnKeys* keys, std::span<uint8_t> scratch, CryptoSink* sink,
                               DatagramInfo* info);

// RFC 9000 section 19: the frames of a decrypted Initial payload (PADDING, PING, ACK,
// CRYPTO, CONNECTION_CLOSE; anything else is a protocol violation, section 17.2.2).
ParseStatus parseInitialFrames(std::span<const uint8_t> plain, CryptoSink* sink,
                               int* crypto_frames);

// A Google QUIC CHLO handshake message (QUIC Crypto, "tag/value map": tag "CHLO", u16 entry
// count, u16 padding, then entries of u32 tag and u32 end offset, little-endian, then the
// values). The SNI tag is the server name, as TLS server_name. kNeedMore while shorter than
// the entries say; kMalformed for decreasing offsets or a too-long name.
struct ChloInfo {
  bool has_sni = false;
  char sni[256] = {};
  size_t sni_len = 0;
};
ParseStatus parseChlo(std::span<const uint8_t> msg, ChloInfo* out);

}  // namespace cordon::quic

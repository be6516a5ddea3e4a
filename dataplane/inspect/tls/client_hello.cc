// TLS ClientHello parsing (RFC 8446 sections 4.1.2 and 5.1, RFC 6066 section 3). See
// client_hello.h.

#include "dataplane/inspect/tls/client_hello.h"

#include <algorithm>

#include "dataplane/common/byte_reader.h"

namespace cordon::tls {
namespace {

// RFC 8446 section 5.1: TLSPlaintext header is type(1) legacy_record_version(2) length(2).
constexpr size_t kRecordHeaderLen = 5;
constexpr uint8_t kContentHandshake = 22;
// RFC 8446 section 5.1: a plaintext fragment "MUST NOT exceed 2^14 bytes".
constexpr size_t kMaxRecordFragment = 16384;
// RFC 8446 section 4: msg_type(1) length(3).
constexpr size_t kHandshakeHeaderLen = 4;
constexpr uint8_t kHandshakeClientHello = 1;
// Record and hello versions cordon accepts: SSL 3.0 (0x0300) to TLS 1.3 (0x0304). SSLv2
// compatible hellos (RFC 5246 appendix E.2) are not parsed.
constexpr uint8_t kVersionMajor = 3;
constexpr uint8_t kMaxVersionMinor = 4;

constexpr size_t kRandomLen = 32;
constexpr size_t kMaxSessionIdLen = 32;  // RFC 8446 section 4.1.2: opaque legacy_session_id<0..32>

constexpr uint16_t kExtServerName = 0;                 // RFC 6066 section 3
constexpr uint16_t kExtEncryptedClientHello = 0xfe0d;  // draft-ietf-tls-esni section 5
constexpr uint8_t kNameTypeHostName = 0;               // RFC 6066 section 3

// RFC 8701 section 2: GREASE values are 0x?A?A with both bytes equal.
constexpr bool isGrease(uint16_t v) {
  return (v & 0x0f0f) == 0x0a0a && (v >> 8) == (v & 0xff);
}

// RFC 6066 section 3 server_name extension_data: ServerNameList server_name_list<1..2^16-1>,
// each ServerName { NameType name_type; select (name_type) { case host_name: HostName; } }.
// The first host_name wins; entries of unknown type are skipped assuming the opaque<1..2^16-1>
// layout every defined NameType uses.
ParseStatus parseServerName(ByteReader ext, ClientHelloInfo* out) {
  ByteReader list;
  if (!ext.readPrefixed16(&list) || !ext.empty() || list.empty()) return ParseStatus::kMalformed;
  while (!list.empty()) {
    uint8_t type = 0;
    ByteReader name;
    if (!list.readU8(&type) || !list.readPrefixed16(&name)) return ParseStatus::kMalformed;
    if (type != kNameTypeHostName || out->has_sni) continue;
    // HostName is opaque<1..2^16-1>; a DNS host name is at most 253 characters, so anything
    // past kMaxSniLen cannot be a real server name (OpenSSL rejects it too).
    if (name.empty() || name.size() > kMaxSniLen) return ParseStatus::kMalformed;
    const std::span<const uint8_t> bytes = name.rest();
    // A NUL would make the name different for C-string consumers (OpenSSL rejects it).
    if (std::find(bytes.begin(), bytes.end(), uint8_t{0}) != bytes.end()) {
      return ParseStatus::kMalformed;
    }
    std::copy(bytes.begin(), bytes.end(), out->sni);
    out->sni_len = bytes.size();
    out->sni[out->sni_len] = '\0';
    out->has_sni = true;
  }
  return ParseStatus::kOk;
}

// The ClientHello body after msg_type and length (RFC 8446 section 4.1.2).
ParseStatus parseBody(ByteReader body, ClientHelloInfo* out) {
  ByteReader session_id, suites, compression;
  if (!body.readU16(&out->legacy_version) || !body.skip(kRandomLen) ||
      !body.readPrefixed8(&session_id) || !body.readPrefixed16(&suites) ||
      !body.readPrefixed8(&compression)) {
    return ParseStatus::kMalformed;
  }
  if (out->legacy_version >> 8 != kVersionMajor) return ParseStatus::kUnsupported;
  if (session_id.size() > kMaxSessionIdLen || suites.size() < 2 || suites.size() % 2 != 0 ||
      compression.empty()) {
    return ParseStatus::kMalformed;
  }
  // RFC 5246 section 7.4.1.2: a hello may end here, without extensions (no SNI).
  if (body.empty()) return ParseStatus::kOk;
  ByteReader exts;
  if (!body.readPrefixed16(&exts) || !body.empty()) return ParseStatus::kMalformed;
  bool seen_sni = false;
  while (!exts.empty()) {
    uint16_t type = 0;
    ByteReader data;
    if (!exts.readU16(&type) || !exts.readPrefixed16(&data)) return ParseStatus::kMalformed;
    if (isGrease(type)) continue;
    if (type == kExtServerName) {
      // RFC 8446 section 4.2: no more than one extension of the same type.
      if (seen_sni) return ParseStatus::kMalformed;
      seen_sni = true;
      const ParseStatus st = parseServerName(data, out);
      if (st != ParseStatus::kOk) return st;
    } else if (type == kExtEncryptedClientHello) {
      if (out->has_ech) return ParseStatus::kMalformed;
      out->has_ech = true;
    }
  }
  return ParseStatus::kOk;
}

// Checks the bytes of a record header that are present. `first` is the stream's first record,
// where a non-handshake type means "not TLS we inspect" rather than a broken stream.
ParseStatus checkRecordHeaderPrefix(ByteReader hdr, bool first) {
  uint8_t type = 0, major = 0, minor = 0;
  if (hdr.readU8(&type) && type != kContentHandshake) {
    return first ? ParseStatus::kUnsupported : ParseStatus::kMalformed;
  }
  if (hdr.readU8(&major) && major != kVersionMajor) {
    return first ? ParseStatus::kUnsupported : ParseStatus::kMalformed;
  }
  if (hdr.readU8(&minor) && minor > kMaxVersionMinor) {
    return first ? ParseStatus::kUnsupported : ParseStatus::kMalformed;
  }
  return ParseStatus::kOk;
}

void resetInfo(ClientHelloInfo* out) {
  out->legacy_version = 0;
  out->has_sni = false;
  out->has_ech = false;
  out->sni[0] = '\0';
  out->sni_len = 0;
  out->records_len = 0;
}

}  // namespace

bool looksLikeClientHello(std::span<const uint8_t> stream) {
  if (stream.empty()) return false;
  ByteReader r(stream);
  if (checkRecordHeaderPrefix(r, true) != ParseStatus::kOk) return false;
  uint16_t len = 0;
  if (r.skip(3) && r.readU16(&len) && (len == 0 || len > kMaxRecordFragment)) return false;
  uint8_t msg_type = 0;
  if (r.readU8(&msg_type) && msg_type != kHandshakeClientHello) return false;
  return true;
}

ParseStatus parseClientHelloMessage(std::span<const uint8_t> msg, ClientHelloInfo* out) {
  resetInfo(out);
  ByteReader r(msg);
  uint8_t type = 0;
  uint32_t len = 0;
  if (!r.readU8(&type)) return ParseStatus::kNeedMore;
  if (type != kHandshakeClientHello) return ParseStatus::kUnsupported;
  if (!r.readU24(&len)) return ParseStatus::kNeedMore;
  if (len > kMaxClientHelloBytes - kHandshakeHeaderLen) return ParseStatus::kUnsupported;
  ByteReader body;
  if (!r.readSub(len, &body)) return ParseStatus::kNeedMore;
  const ParseStatus st = parseBody(body, out);
  if (st != ParseStatus::kOk) resetInfo(out);
  return st;
}

ParseStatus parseClientHelloRecords(std::span<const uint8_t> stream, std::span<uint8_t> scratch,
                                    ClientHelloInfo* out) {
  resetInfo(out);
  ByteReader r(stream);
  size_t joined = 0;  // handshake bytes copied into scratch so far
  size_t need = 0;    // whole message size once its header is known, else 0
  bool first = true;
  for (;;) {
    if (r.remaining() < kRecordHeaderLen) {
      const ParseStatus st = checkRecordHeaderPrefix(ByteReader(r.rest()), first);
      return st == ParseStatus::kOk ? ParseStatus::kNeedMore : st;
    }
    const ParseStatus hdr_st = checkRecordHeaderPrefix(ByteReader(r.rest()), first);
    if (hdr_st != ParseStatus::kOk) return hdr_st;
    uint16_t frag_len = 0;
    if (!r.skip(3) || !r.readU16(&frag_len)) return ParseStatus::kMalformed;
    // RFC 8446 section 5.1: no zero-length handshake fragments, none over 2^14.
    if (frag_len == 0 || frag_len > kMaxRecordFragment) return ParseStatus::kMalformed;
    if (r.remaining() < frag_len) {
      // The stream ends inside this record. If it is the first one, its handshake header may
      // already say the message is not a hello or too big; otherwise wait for the rest.
      if (first) {
        ClientHelloInfo probe;
        if (parseClientHelloMessage(r.rest(), &probe) == ParseStatus::kUnsupported) {
          return ParseStatus::kUnsupported;
        }
      }
      return ParseStatus::kNeedMore;
    }
    std::span<const uint8_t> frag;
    if (!r.readBytes(frag_len, &frag)) return ParseStatus::kMalformed;
    if (first) {
      first = false;
      // Common case: the whole hello sits in the first record; parse it in place.
      ByteReader m(frag);
      uint8_t type = 0;
      uint32_t len = 0;
      if (m.readU8(&type) && m.readU24(&len) && m.remaining() >= len) {
        const ParseStatus st = parseClientHelloMessage(frag, out);
        if (st == ParseStatus::kOk) out->records_len = r.offset();
        return st;
      }
    }
    // Join this fragment into scratch, up to the end of the message once its size is known.
    const size_t limit = need == 0 ? scratch.size() : need;
    const size_t take = std::min(frag.size(), limit - joined);
    std::copy_n(frag.begin(), take, scratch.begin() + static_cast<std::ptrdiff_t>(joined));
    joined += take;
    if (need == 0) {
      ByteReader h(scratch.first(joined));
      uint8_t type = 0;
      uint32_t len = 0;
      if (h.readU8(&type) && type != kHandshakeClientHello) return ParseStatus::kUnsupported;
      if (h.readU24(&len)) {
        // Too big for the cap or for the caller's scratch: not inspected (fail open).
        if (kHandshakeHeaderLen + len > kMaxClientHelloBytes ||
            kHandshakeHeaderLen + len > scratch.size()) {
          return ParseStatus::kUnsupported;
        }
        need = kHandshakeHeaderLen + len;
        joined = std::min(joined, need);
      } else if (take < frag.size()) {
        return ParseStatus::kUnsupported;  // scratch smaller than a handshake header
      }
    }
    if (need != 0 && joined >= need) {
      const ParseStatus st = parseClientHelloMessage(scratch.first(need), out);
      if (st == ParseStatus::kOk) out->records_len = r.offset();
      return st;
    }
  }
}

}  // namespace cordon::tls

// DNS query parsing (RFC 1035 section 4.1). See dns_query.h.

#include "dataplane/inspect/dns/dns_query.h"

#include "dataplane/common/byte_reader.h"

namespace cordon::dns {
namespace {

// RFC 1035 section 4.1.1: the header is six 16-bit words.
constexpr size_t kHeaderLen = 12;
// RFC 1035 section 2.3.4: labels are 63 octets or less, names 255 octets or less on the wire
// (length octets and the root's zero octet included).
constexpr size_t kMaxLabelLen = 63;
constexpr size_t kMaxNameWire = 255;
// Compression pointers followed per name (RFC 1035 section 4.1.4). Every pointer must also
// point strictly before the run of labels it ends, so loops are impossible anyway; the cap
// bounds the work a hostile message can cause (Suricata uses the same guard).
constexpr int kMaxPointerHops = 32;

constexpr uint16_t kFlagQr = 0x8000;      // RFC 1035 section 4.1.1: 1 = response
constexpr uint16_t kOpcodeMask = 0x7800;  // 4-bit OPCODE
constexpr uint8_t kPointerBits = 0xc0;    // top two bits 11: compression pointer
constexpr uint8_t kLabelTypeMask = 0xc0;  // 01 and 10 are extended label types
constexpr uint16_t kPointerOffsetMask = 0x3fff;

// Bytes that may appear literally in a presentation-form label after lower-casing. Anything
// else (notably '.', '\\', spaces, controls, non-ASCII) is escaped as \DDD so that it can
// never line up with a rule's label boundary.
constexpr bool isPlainLabelChar(uint8_t c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '*';
}

// Appends one label byte in presentation form. The caller guarantees room: see kMaxNameText.
void appendLabelByte(uint8_t c, DnsQuery* out) {
  if (c >= 'A' && c <= 'Z') c = static_cast<uint8_t>(c - 'A' + 'a');
  if (isPlainLabelChar(c)) {
    out->name[out->name_len++] = static_cast<char>(c);
    return;
  }
  out->name[out->name_len++] = '\\';
  out->name[out->name_len++] = static_cast<char>('0' + c / 100);
  out->name[out->name_len++] = static_cast<char>('0' + c / 10 % 10);
  out->name[out->name_len++] = static_cast<char>('0' + c % 10);
}

// Reads a possibly compressed domain name starting at r->offset() (RFC 1035 sections 3.1 and
// 4.1.4). On success the reader is left just past the name's bytes at its original position
// (after the first pointer, if any).
ParseStatus readName(ByteReader* r, DnsQuery* out) {
  // Text bound: each wire octet but the root's becomes at most 4 characters (a length octet
  // becomes one '.', a label byte at most "\\DDD"), and the name is checked against
  // kMaxNameWire before any of its text is written.
  static_assert(kMaxNameText >= 4 * (kMaxNameWire - 1));
  ByteReader cur = *r;
  size_t resume = 0;  // where the caller continues: just past the first pointer
  bool jumped = false;
  size_t run_start = cur.offset();  // start of the current run of labels
  size_t wire = 1;                  // octets of the expanded name, counting the root octet
  int hops = 0;
  for (;;) {
    uint8_t len = 0;
    if (!cur.readU8(&len)) return ParseStatus::kMalformed;
    if ((len & kPointerBits) == kPointerBits) {
      uint8_t lo = 0;
      if (!cur.readU8(&lo)) return ParseStatus::kMalformed;
      const size_t target = ((uint16_t{len} << 8) | lo) & kPointerOffsetMask;
      // RFC 1035 section 4.1.4 points at a "prior occurrence": only strictly backwards, and
      // before the current run, so each hop moves to an earlier run and loops cannot form.
      if (target >= run_start || ++hops > kMaxPointerHops) return ParseStatus::kMalformed;
      if (!jumped) {
        resume = cur.offset();
        jumped = true;
      }
      if (!cur.seek(target)) return ParseStatus::kMalformed;
      run_start = target;
      continue;
    }
    if ((len & kLabelTypeMask) != 0) return ParseStatus::kMalformed;  // RFC 6891 section 5
    if (len == 0) break;
    static_assert(kMaxLabelLen == 0x3f);  // a 6-bit length cannot exceed it
    wire += 1 + len;
    if (wire > kMaxNameWire) return ParseStatus::kMalformed;
    std::span<const uint8_t> label;
    if (!cur.readBytes(len, &label)) return ParseStatus::kMalformed;
    if (out->name_len > 0) out->name[out->name_len++] = '.';
    for (const uint8_t c : label) appendLabelByte(c, out);
  }
  if (jumped) {
    if (!r->seek(resume)) return ParseStatus::kMalformed;
  } else {
    *r = cur;
  }
  out->name[out->name_len] = '\0';
  return ParseStatus::kOk;
}

}  // namespace

ParseStatus parseDnsQuery(std::span<const uint8_t> msg, DnsQuery* out) {
  out->name_len = 0;
  out->name[0] = '\0';
  out->question_end = 0;
  ByteReader r(msg);
  uint16_t ancount = 0, nscount = 0, arcount = 0;
  if (!r.readU16(&out->id) || !r.readU16(&out->flags) || !r.readU16(&out->qdcount) ||
      !r.readU16(&ancount) || !r.readU16(&nscount) || !r.readU16(&arcount)) {
    return ParseStatus::kMalformed;
  }
  static_assert(kHeaderLen == 6 * sizeof(uint16_t));
  if (out->flags & kFlagQr) return ParseStatus::kUnsupported;  // a response
  // Only OPCODE 0 (QUERY) carries a name lookup; NOTIFY/UPDATE/... are not inspected.
  if (out->flags & kOpcodeMask) return ParseStatus::kUnsupported;
  if (out->qdcount == 0) return ParseStatus::kUnsupported;
  if (readName(&r, out) != ParseStatus::kOk || !r.readU16(&out->qtype) ||
      !r.readU16(&out->qclass)) {
    out->name_len = 0;
    out->name[0] = '\0';
    return ParseStatus::kMalformed;
  }
  out->question_end = r.offset();
  return ParseStatus::kOk;
}

ParseStatus dnsTcpFrame(std::span<const uint8_t> stream, size_t* msg_len) {
  ByteReader r(stream);
  uint16_t len = 0;
  if (!r.readU16(&len)) return ParseStatus::kNeedMore;
  if (len == 0) return ParseStatus::kMalformed;
  if (r.remaining() < len) return ParseStatus::kNeedMore;
  *msg_len = len;
  return ParseStatus::kOk;
}

}  // namespace cordon::dns

#pragma once
// DNS query parsing (RFC 1035 section 4.1): header and the first question of a query.

#include <cstddef>
#include <cstdint>
#include <span>

#include "dataplane/common/parse_status.h"

namespace cordon::dns {

// RFC 1035 section 2.3.4: 255 octets on the wire; presentation form is shorter, but a label
// byte that must be escaped as \DDD takes 4 characters, so leave room.
inline constexpr size_t kMaxNameText = 1024;

struct DnsQuery {
  uint16_t id = 0;
  uint16_t flags = 0;  // header flags word (QR, opcode, AA, TC, RD, RA, Z, AD, CD, RCODE)
  uint16_t qdcount = 0;
  uint16_t qtype = 0;
  uint16_t qclass = 0;
  // Query name in presentation form, ASCII lower-cased, no trailing dot ("" for the root).
  // Label bytes outside [a-z0-9-_*] are written as \DDD so that they never match a rule.
  char name[kMaxNameText + 1] = {};
  size_t name_len = 0;
  size_t question_end = 0;  // offset just past QTYPE/QCLASS of the first question
};

// Parses a DNS message that must be a query (QR=0, QDCOUNT>=1). Returns kUnsupported for a
// response or a message without a question, kMalformed for a broken name or header,
// kNeedMore never (a UDP datagram or TCP frame is complete).
ParseStatus parseDnsQuery(std::span<const uint8_t> msg, DnsQuery* out);

// DNS over TCP framing (RFC 1035 section 4.2.2): a 2-byte length before each message.
// kOk with *msg_len when the whole first message is present, kNeedMore otherwise,
// kMalformed for a zero length.
ParseStatus dnsTcpFrame(std::span<const uint8_t> stream, size_t* msg_len);

}  // namespace cordon::dns

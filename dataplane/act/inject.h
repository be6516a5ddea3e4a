#pragma once
// Builders for the packets cordon injects: TCP RST, HTTP redirect/notice, DNS answers.
// They write into a caller buffer (an mbuf's data room) and never allocate, so they are
// unit-testable without DPDK.
//
// Direction: kToClient packets travel from the server to the client (source and
// destination swapped relative to the client's trigger packet, Ethernet MACs swapped);
// kToServer packets look like they come from the client (addresses as in the trigger).
// VLAN tags, MPLS labels and PPPoE session of the trigger are kept in both directions; an
// IP-in-IP trigger's reply is encapsulated the same way, with the outer (tunnel endpoint)
// addresses swapped toward the client as well and the outer lengths and checksum recomputed.

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "dataplane/parse/packet.h"
#include "rules/ip_addr.h"

namespace cordon {

enum class Toward : uint8_t { kClient, kServer };

inline constexpr uint8_t kInjectTtl = 64;

// A TCP segment (data offset 5, window 0) derived from a client→server trigger.
// Returns the frame length, or 0 when `out` is too small.
size_t buildTcp(std::span<const uint8_t> trigger, const PacketInfo& p, Toward toward, uint32_t seq,
                uint32_t ack, uint8_t flags, std::span<const uint8_t> payload,
                std::span<uint8_t> out);

// A UDP datagram from the server back to the client of a client→server trigger.
size_t buildUdpToClient(std::span<const uint8_t> trigger, const PacketInfo& p,
                        std::span<const uint8_t> payload, std::span<uint8_t> out);

struct DnsAnswerSpec {
  uint8_t rcode = 3;  // 3 NXDOMAIN, 5 REFUSED, 0 NOERROR
  IpAddr answer;      // family 0: no answer record
  uint32_t ttl = 60;
};

// DNS response (RFC 1035 section 4.1.1) to `query`, whose first question ends at
// `question_end`: id and question echoed, QR and RA set, opcode, RD and CD copied.
// Returns the message length or 0.
size_t buildDnsAnswer(std::span<const uint8_t> query, size_t question_end, uint16_t qtype,
                      const DnsAnswerSpec& spec, std::span<uint8_t> out);

// "HTTP/1.1 302 Found" with Location, Connection: close, no body.
size_t buildHttpRedirect(std::string_view location, std::span<uint8_t> out);
// "HTTP/1.1 403 Forbidden" with a short text/html notice naming the blocked host.
size_t buildHttpNotice(std::string_view host, std::span<uint8_t> out);

}  // namespace cordon

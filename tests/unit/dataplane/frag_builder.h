#pragma once
// Test helpers: split an unfragmented Ethernet/IPv4 or Ethernet/IPv6 frame into IP fragments
// the way a sender does (RFC 791 section 3.2; RFC 8200 section 4.5: the Fragment header
// directly after the IPv6 header), and build plain IPv6/UDP frames.

#include <cstdint>
#include <vector>

#include "dataplane/parse/packet.h"
#include "rules/ip_addr.h"

namespace cordon::fragtest {

struct Piece {
  uint32_t offset;  // bytes into the IP payload (multiple of 8)
  uint32_t len;     // bytes (0: up to the end)
  bool more;        // More Fragments; by default set unless the piece reaches the end
};

// Appends payload[offset, offset + len) to *f; bytes past the payload's end (a piece that
// claims more than the datagram holds, for overlap tests) are zeros.
inline void appendPiece(const std::vector<uint8_t>& payload, size_t offset, size_t len,
                        std::vector<uint8_t>* f) {
  for (size_t i = offset; i < offset + len; ++i) f->push_back(i < payload.size() ? payload[i] : 0);
}

// Fragments an Ethernet + IPv4 (IHL 5) frame; `pieces` in the order they should be returned.
inline std::vector<std::vector<uint8_t>> fragmentV4(const std::vector<uint8_t>& frame, uint16_t id,
                                                    const std::vector<Piece>& pieces) {
  const size_t ip = 14, hl = 20;
  const std::vector<uint8_t> payload(frame.begin() + ip + hl, frame.end());
  std::vector<std::vector<uint8_t>> out;
  for (const Piece& pc : pieces) {
    const uint32_t len = pc.len ? pc.len : static_cast<uint32_t>(payload.size() - pc.offset);
    std::vector<uint8_t> f(frame.begin(), frame.begin() + ip + hl);
    const uint16_t total = static_cast<uint16_t>(hl + len);
    f[ip + 2] = static_cast<uint8_t>(total >> 8);
    f[ip + 3] = static_cast<uint8_t>(total);
    f[ip + 4] = static_cast<uint8_t>(id >> 8);
    f[ip + 5] = static_cast<uint8_t>(id);
    const uint16_t ff = static_cast<uint16_t>((pc.more ? 0x2000 : 0) | (pc.offset / 8));
    f[ip + 6] = static_cast<uint8_t>(ff >> 8);
    f[ip + 7] = static_cast<uint8_t>(ff);
    f[ip + 10] = f[ip + 11] = 0;
    const uint16_t sum = checksumFold(checksumAdd(std::span<const uint8_t>(f).subspan(ip, hl), 0));
    f[ip + 10] = static_cast<uint8_t>(sum >> 8);
    f[ip + 11] = static_cast<uint8_t>(sum);
    appendPiece(payload, pc.offset, len, &f);
    out.push_back(f);
  }
  return out;
}

// Fragments an Ethernet + IPv6 frame without extension headers.
inline std::vector<std::vector<uint8_t>> fragmentV6(const std::vector<uint8_t>& frame, uint32_t id,
                                                    const std::vector<Piece>& pieces) {
  const size_t ip = 14;
  const uint8_t nh = frame[ip + 6];
  const std::vector<uint8_t> payload(frame.begin() + ip + 40, frame.end());
  std::vector<std::vector<uint8_t>> out;
  for (const Piece& pc : pieces) {
    const uint32_t len = pc.len ? pc.len : static_cast<uint32_t>(payload.size() - pc.offset);
    std::vector<uint8_t> f(frame.begin(), frame.begin() + ip + 40);
    const uint16_t plen = static_cast<uint16_t>(8 + len);
    f[ip + 4] = static_cast<uint8_t>(plen >> 8);
    f[ip + 5] = static_cast<uint8_t>(plen);
    f[ip + 6] = 44;
    const uint16_t of = static_cast<uint16_t>(pc.offset | (pc.more ? 1 : 0));
    f.insert(f.end(), {nh, 0, static_cast<uint8_t>(of >> 8), static_cast<uint8_t>(of),
                       static_cast<uint8_t>(id >> 24), static_cast<uint8_t>(id >> 16),
                       static_cast<uint8_t>(id >> 8), static_cast<uint8_t>(id)});
    appendPiece(payload, pc.offset, len, &f);
    out.push_back(f);
  }
  return out;
}

// Ethernet + IPv6 + UDP with a correct checksum (RFC 8200 section 8.1).
inline std::vector<uint8_t> udp6Frame(const IpAddr& src, const IpAddr& dst, uint16_t sport,
                                      uint16_t dport, const std::vector<uint8_t>& payload) {
  std::vector<uint8_t> f = {0x02, 0, 0, 0, 0, 0x02, 0x02, 0, 0, 0, 0, 0x01, 0x86, 0xdd};
  const uint16_t ulen = static_cast<uint16_t>(8 + payload.size());
  f.insert(f.end(),
           {0x60, 0, 0, 0, static_cast<uint8_t>(ulen >> 8), static_cast<uint8_t>(ulen), 17, 64});
  f.insert(f.end(), src.bytes, src.bytes + 16);
  f.insert(f.end(), dst.bytes, dst.bytes + 16);
  std::vector<uint8_t> udp = {static_cast<uint8_t>(sport >> 8),
                              static_cast<uint8_t>(sport),
                              static_cast<uint8_t>(dport >> 8),
                              static_cast<uint8_t>(dport),
                              static_cast<uint8_t>(ulen >> 8),
                              static_cast<uint8_t>(ulen),
                              0,
                              0};
  udp.insert(udp.end(), payload.begin(), payload.end());
  uint16_t sum = checksumFold(checksumAdd(udp, pseudoHeaderSum(src, dst, 17, udp.size())));
  if (sum == 0) sum = 0xffff;
  udp[6] = static_cast<uint8_t>(sum >> 8);
  udp[7] = static_cast<uint8_t>(sum);
  f.insert(f.end(), udp.begin(), udp.end());
  return f;
}

}  // namespace cordon::fragtest

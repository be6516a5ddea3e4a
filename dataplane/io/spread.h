#pragma once
// Software flow spreading for devices without receive-side scaling: worker 0 receives from
// such a port and hands each packet to the worker that owns its flow.
//
// The hash covers the IP address pair only, combined order-independently, so both directions
// of a connection (and every fragment of a datagram, which carries no ports) reach the same
// worker. An ISP edge carries many client addresses, so the pair spreads well.

#include <cstdint>
#include <span>

#include "dataplane/parse/packet.h"

namespace cordon {

// Worker index in [0, workers) for a frame; non-IP and malformed frames go to worker 0.
inline unsigned spreadWorker(std::span<const uint8_t> frame, unsigned workers) {
  if (workers <= 1) return 0;
  PacketInfo p;
  Counter why{};
  if (parsePacket(frame, &p, &why) != PacketStatus::kOk) return 0;
  // Symmetric: XOR folds the two addresses so (a, b) and (b, a) hash alike.
  uint32_t h = 0;
  for (size_t i = 0; i < 16; i += 4) {
    const uint32_t a = static_cast<uint32_t>(p.src.bytes[i]) << 24 | p.src.bytes[i + 1] << 16 |
                       p.src.bytes[i + 2] << 8 | p.src.bytes[i + 3];
    const uint32_t b = static_cast<uint32_t>(p.dst.bytes[i]) << 24 | p.dst.bytes[i + 1] << 16 |
                       p.dst.bytes[i + 2] << 8 | p.dst.bytes[i + 3];
    h ^= a ^ b;
  }
  // Finaliser of MurmurHash3: spreads the folded bits over the whole word.
  h ^= h >> 16;
  h *= 0x85ebca6bu;
  h ^= h >> 13;
  h *= 0xc2b2ae35u;
  h ^= h >> 16;
  return h % workers;
}

}  // namespace cordon

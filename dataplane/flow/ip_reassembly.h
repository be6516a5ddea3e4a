#pragma once
// Bounded reassembly of IP fragments (RFC 791 section 3.2, RFC 8200 section 4.5) so that a
// DNS query or QUIC Initial in a fragmented UDP datagram, or a ClientHello / HTTP request in
// a fragmented first TCP segment, can be inspected. Fragments themselves are forwarded as they
// arrive; the worker judges the reassembled datagram when its last piece comes in and then
// forwards or drops that piece. Semantics, limits and what cannot be done: FRAGMENTS.md.
//
// Contexts come from a fixed per-worker pool sized at start-up, each with a data area of
// kMaxIpDatagramBytes; nothing is allocated per packet. No DPDK dependency (unit-testable).

#include <cstdint>
#include <span>
#include <vector>

#include "dataplane/parse/packet.h"

namespace cordon {

// Largest datagram reassembled (IP payload, excluding the IP header): a DNS query with EDNS
// (RFC 6891 recommends 1232-4096 byte buffers), a QUIC Initial datagram (RFC 9000 section
// 14.1: at least 1200, in practice up to a jumbo 9000) and a first TCP segment carrying a
// ClientHello up to tls::kMaxClientHelloBytes (16 KiB) all fit. Larger ones are not inspected.
inline constexpr uint32_t kMaxIpDatagramBytes = 16384 + 512;
// Fragments held per datagram: 16 KiB at the IPv6 minimum MTU (1280, RFC 8200 section 5) is
// 13 fragments; 64 allows paths down to ~256-byte MTUs. More are the tiny-fragment evasion of
// RFC 1858 section 3 (or a resource attack), not a real path.
inline constexpr int kMaxFragmentsPerDatagram = 64;
// How long the pieces of one datagram may take to arrive. Fragments of a datagram leave the
// sender back to back; a datagram not complete after this is abandoned (counted). Receivers
// wait longer (RFC 8200 section 4.5: 60 s; Linux ipfrag_time: 30 s): see FRAGMENTS.md.
inline constexpr uint64_t kIpReasmTimeoutNs = 2'000'000'000ull;
// Bytes before the fragment data kept from the offset-0 fragment (L2 with VLAN/MPLS/PPPoE,
// the IPv4 header with options, or the IPv6 header and its unfragmentable extension headers).
inline constexpr uint32_t kMaxFragHeaderBytes = 256;
// Reassembly contexts per worker unless configured: 256 x ~17 KiB = ~4.3 MiB.
inline constexpr uint32_t kDefaultIpReasmContexts = 256;

// Identifies the fragments of one datagram: RFC 791 section 3.2 (source, destination,
// protocol, identification); RFC 8200 section 4.5 (source, destination, identification; the
// Next Header of a non-first fragment may differ and is not part of the key).
struct FragKey {
  uint8_t src[16];
  uint8_t dst[16];
  uint32_t id;
  uint8_t proto;
  uint8_t family;
  uint8_t pad[2];
};
static_assert(sizeof(FragKey) == 40);

FragKey makeFragKey(const PacketInfo& p);

class IpReassembly {
 public:
  enum class Add : uint8_t {
    kHeld,           // stored; the datagram is not complete yet
    kComplete,       // this fragment completed the datagram: buildFrame() gives it
    kDuplicate,      // an exact copy of a fragment already held (RFC 8200 section 4.5): ignored
    kOverlap,        // IPv6: overlaps a held fragment with other bytes or bounds (or contradicts
                     // the datagram's end): the datagram is discarded (RFC 5722 section 4) and
                     // this fragment and the rest of it dropped
    kOverlapGiveUp,  // IPv4, the same: reassembly is abandoned (the receiver's choice of bytes
                     // is unknowable); this fragment and the rest follow dataplane.fail
    kDropRest,       // a fragment of a datagram discarded or blocked earlier
    kGiveUpRest,     // a fragment of a datagram given up earlier (too large, too many pieces)
    kNoContext,      // every context is in use (and none has timed out)
    kTooLarge,       // reaches past kMaxIpDatagramBytes, or headers beyond kMaxFragHeaderBytes
    kTooMany,        // more than kMaxFragmentsPerDatagram pieces
    kMalformed,      // empty, or a non-last piece whose length is not a multiple of 8 octets
                     // (RFC 8200 section 4.5; RFC 791 section 3.2): not stored
  };

  explicit IpReassembly(uint32_t contexts);

  // Adds a fragment (p.fragment set; p.l4_offset/l4_len its data) taken from `frame`. On
  // kComplete, *ctx is the context to pass to buildFrame() and then release()/markDropped().
  Add add(std::span<const uint8_t> frame, const PacketInfo& p, uint64_t now_ns, int32_t* ctx);

  // The reassembled datagram as one unfragmented frame: the offset-0 fragment's L2 and IP
  // headers (IPv4: MF and offset cleared, total length and checksum recomputed; IPv6: the
  // Fragment header removed, Next Header and payload length patched; PPPoE length patched)
  // followed by the data. Returns the length, 0 when `out` is too small.
  size_t buildFrame(int32_t ctx, std::span<uint8_t> out) const;

  // The datagram was judged and passed: the context is freed.
  void release(int32_t ctx);
  // The datagram was blocked: later copies of its fragments are dropped until it times out.
  void markDropped(int32_t ctx);

  // Frees contexts started more than kIpReasmTimeoutNs before now_ns; returns how many of
  // them were incomplete datagrams (not tombstones of judged or discarded ones).
  uint32_t expire(uint64_t now_ns);

  uint32_t inUse() const { return static_cast<uint32_t>(ctx_.size() - free_.size()); }

 private:
  enum class State : uint8_t { kFree, kCollect, kDrop, kGiveUp };
  struct Piece {
    uint32_t begin;
    uint32_t end;
  };
  struct Context {
    FragKey key;
    uint64_t started_ns = 0;
    int32_t hnext = -1;  // hash chain
    int32_t prev = -1;   // age list (oldest first)
    int32_t next = -1;
    State state = State::kFree;
    bool have_last = false;
    uint8_t version = 0;
    uint8_t proto = 0;  // protocol of the offset-0 fragment
    uint16_t pieces = 0;
    uint16_t hdr_len = 0;  // 0 until the offset-0 fragment arrived
    uint16_t ip_offset = 0;
    uint16_t pppoe_len_offset = 0;
    uint16_t frag_nh_offset = 0;
    uint32_t total = 0;     // datagram length, known once the last piece arrived
    uint32_t received = 0;  // bytes held (pieces never overlap)
    Piece piece[kMaxFragmentsPerDatagram];
    uint8_t hdr[kMaxFragHeaderBytes];
  };

  Add overlap(Context* c);
  uint32_t bucketOf(const FragKey& k) const;
  int32_t find(const FragKey& k) const;
  int32_t acquire(const FragKey& k, uint64_t now_ns);
  void free(int32_t idx);
  uint8_t* data(int32_t idx) { return &data_[static_cast<size_t>(idx) * kMaxIpDatagramBytes]; }
  const uint8_t* data(int32_t idx) const {
    return &data_[static_cast<size_t>(idx) * kMaxIpDatagramBytes];
  }

  std::vector<Context> ctx_;
  std::vector<uint8_t> data_;
  std::vector<int32_t> buckets_;
  std::vector<int32_t> free_;
  int32_t head_ = -1;  // oldest context
  int32_t tail_ = -1;
};

}  // namespace cordon

#include "dataplane/flow/ip_reassembly.h"

#include <cstring>

#include "dataplane/common/byte_reader.h"
#include "dataplane/common/byte_writer.h"

namespace cordon {

FragKey makeFragKey(const PacketInfo& p) {
  FragKey k;
  std::memset(&k, 0, sizeof k);
  std::memcpy(k.src, p.src.bytes, 16);
  std::memcpy(k.dst, p.dst.bytes, 16);
  k.id = p.frag_id;
  k.proto = p.ip_version == 4 ? p.ip_proto : 0;
  k.family = p.ip_version;
  return k;
}

IpReassembly::IpReassembly(uint32_t contexts)
    : ctx_(contexts), data_(size_t{contexts} * kMaxIpDatagramBytes) {
  uint32_t buckets = 1;
  while (buckets < contexts * 2) buckets <<= 1;
  buckets_.assign(buckets, -1);
  free_.reserve(contexts);
  for (uint32_t i = contexts; i > 0; --i) free_.push_back(static_cast<int32_t>(i - 1));
}

uint32_t IpReassembly::bucketOf(const FragKey& k) const {
  // FNV-1a over the key: fragments are rare, this only has to spread, not resist anything the
  // bucket chains cannot absorb (they are bounded by the pool).
  uint32_t h = 2166136261u;
  const auto* b = reinterpret_cast<const uint8_t*>(&k);
  for (size_t i = 0; i < sizeof k; ++i) h = (h ^ b[i]) * 16777619u;
  return h & static_cast<uint32_t>(buckets_.size() - 1);
}

int32_t IpReassembly::find(const FragKey& k) const {
  for (int32_t i = buckets_[bucketOf(k)]; i >= 0; i = ctx_[static_cast<size_t>(i)].hnext) {
    if (std::memcmp(&ctx_[static_cast<size_t>(i)].key, &k, sizeof k) == 0) return i;
  }
  return -1;
}

int32_t IpReassembly::acquire(const FragKey& k, uint64_t now_ns) {
  if (free_.empty()) return -1;
  const int32_t idx = free_.back();
  free_.pop_back();
  Context& c = ctx_[static_cast<size_t>(idx)];
  c.key = k;
  c.started_ns = now_ns;
  c.state = State::kCollect;
  c.have_last = false;
  c.pieces = 0;
  c.hdr_len = 0;
  c.total = 0;
  c.received = 0;
  const uint32_t b = bucketOf(k);
  c.hnext = buckets_[b];
  buckets_[b] = idx;
  c.prev = tail_;
  c.next = -1;
  if (tail_ >= 0) ctx_[static_cast<size_t>(tail_)].next = idx;
  tail_ = idx;
  if (head_ < 0) head_ = idx;
  return idx;
}

void IpReassembly::free(int32_t idx) {
  Context& c = ctx_[static_cast<size_t>(idx)];
  if (c.state == State::kFree) return;
  for (int32_t* at = &buckets_[bucketOf(c.key)]; *at >= 0;
       at = &ctx_[static_cast<size_t>(*at)].hnext) {
    if (*at == idx) {
      *at = c.hnext;
      break;
    }
  }
  if (c.prev >= 0) ctx_[static_cast<size_t>(c.prev)].next = c.next;
  if (c.next >= 0) ctx_[static_cast<size_t>(c.next)].prev = c.prev;
  if (head_ == idx) head_ = c.next;
  if (tail_ == idx) tail_ = c.prev;
  c.state = State::kFree;
  free_.push_back(idx);
}

uint32_t IpReassembly::expire(uint64_t now_ns) {
  uint32_t incomplete = 0;
  // Every context lives kIpReasmTimeoutNs from its creation, so the age list is also the
  // expiry order.
  while (head_ >= 0) {
    const Context& c = ctx_[static_cast<size_t>(head_)];
    if (now_ns <= c.started_ns || now_ns - c.started_ns <= kIpReasmTimeoutNs) break;
    if (c.state == State::kCollect) ++incomplete;
    free(head_);
  }
  return incomplete;
}

IpReassembly::Add IpReassembly::overlap(Context* c) {
  // RFC 5722 section 4 makes IPv6 receivers discard the whole datagram, so dropping the rest
  // costs nothing. IPv4 (RFC 791) leaves overlaps to the receiver, and IPv4 identifications
  // are reused quickly at high rates (RFC 4963 section 2), so two datagrams may collide
  // legitimately: give up instead, under dataplane.fail.
  if (c->key.family == 6) {
    c->state = State::kDrop;
    return Add::kOverlap;
  }
  c->state = State::kGiveUp;
  return Add::kOverlapGiveUp;
}

IpReassembly::Add IpReassembly::add(std::span<const uint8_t> frame, const PacketInfo& p,
                                    uint64_t now_ns, int32_t* ctx) {
  const uint32_t begin = p.frag_offset;
  const uint32_t len = p.l4_len;
  const uint32_t end = begin + len;
  if (len == 0 || (p.frag_more && len % 8 != 0)) return Add::kMalformed;
  const FragKey k = makeFragKey(p);
  int32_t idx = find(k);
  if (idx < 0) {
    idx = acquire(k, now_ns);
    if (idx < 0) return Add::kNoContext;
  }
  Context& c = ctx_[static_cast<size_t>(idx)];
  if (c.state == State::kDrop) return Add::kDropRest;
  if (c.state == State::kGiveUp) return Add::kGiveUpRest;
  const uint32_t hdr_len = p.ip_version == 6 ? p.frag_hdr_offset : p.l4_offset;
  if (end > kMaxIpDatagramBytes || (begin == 0 && hdr_len > kMaxFragHeaderBytes)) {
    c.state = State::kGiveUp;
    return Add::kTooLarge;
  }
  // Where the datagram ends: fixed by the last piece; a piece past it, or a second last piece
  // with another end, makes the datagram ambiguous.
  if (!p.frag_more && c.have_last && c.total != end) {
    return overlap(&c);
  }
  if (c.have_last && end > c.total) {
    return overlap(&c);
  }
  const uint8_t* d = data(idx);
  const std::span<const uint8_t> bytes = frame.subspan(p.l4_offset, len);
  for (uint16_t i = 0; i < c.pieces; ++i) {
    const Piece& q = c.piece[i];
    if (q.end <= begin || end <= q.begin) continue;
    if (q.begin == begin && q.end == end && std::memcmp(d + begin, bytes.data(), len) == 0) {
      return Add::kDuplicate;
    }
    return overlap(&c);
  }
  if (!p.frag_more) {
    for (uint16_t i = 0; i < c.pieces; ++i) {
      if (c.piece[i].end > end) {
        return overlap(&c);
      }
    }
  }
  if (c.pieces == kMaxFragmentsPerDatagram) {
    c.state = State::kGiveUp;
    return Add::kTooMany;
  }
  std::memcpy(data(idx) + begin, bytes.data(), len);
  c.piece[c.pieces++] = {begin, end};
  c.received += len;
  if (!p.frag_more) {
    c.have_last = true;
    c.total = end;
  }
  if (begin == 0) {
    std::memcpy(c.hdr, frame.data(), hdr_len);
    c.hdr_len = static_cast<uint16_t>(hdr_len);
    c.version = p.ip_version;
    c.proto = p.ip_proto;
    c.ip_offset = p.ip_offset;
    c.pppoe_len_offset = p.pppoe_len_offset;
    c.frag_nh_offset = p.frag_nh_offset;
  }
  if (c.have_last && c.hdr_len > 0 && c.received == c.total) {
    *ctx = idx;
    return Add::kComplete;
  }
  return Add::kHeld;
}

size_t IpReassembly::buildFrame(int32_t idx, std::span<uint8_t> out) const {
  const Context& c = ctx_[static_cast<size_t>(idx)];
  const size_t len = size_t{c.hdr_len} + c.total;
  if (c.hdr_len == 0 || len > out.size() || len > 65535) return 0;
  ByteWriter w(out);
  w.bytes({c.hdr, c.hdr_len});
  w.bytes({data(idx), c.total});
  if (!w.ok()) return 0;
  const size_t ip_end = len;  // everything after the IP header start is the IP packet
  if (c.version == 4) {
    const size_t ihl = c.hdr_len - c.ip_offset;
    (void)w.patchU16(c.ip_offset + 2, static_cast<uint16_t>(ihl + c.total));
    const uint16_t flags = static_cast<uint16_t>(out[c.ip_offset + 6] << 8) & 0x4000;  // keep DF
    (void)w.patchU16(c.ip_offset + 6, flags);
    (void)w.patchU16(c.ip_offset + 10, 0);
    (void)w.patchU16(c.ip_offset + 10, checksumFold(checksumAdd(out.subspan(c.ip_offset, ihl), 0)));
  } else {
    out[c.frag_nh_offset] = c.proto;  // the Fragment header is gone: name what follows it
    (void)w.patchU16(c.ip_offset + 4, static_cast<uint16_t>(ip_end - c.ip_offset - 40));
  }
  if (c.pppoe_len_offset) {
    // RFC 2516 section 4: LENGTH covers everything after it (PPP protocol field + IP packet).
    (void)w.patchU16(c.pppoe_len_offset, static_cast<uint16_t>(ip_end - c.pppoe_len_offset - 2));
  }
  return len;
}

void IpReassembly::release(int32_t idx) {
  free(idx);
}

void IpReassembly::markDropped(int32_t idx) {
  ctx_[static_cast<size_t>(idx)].state = State::kDrop;
}

}  // namespace cordon

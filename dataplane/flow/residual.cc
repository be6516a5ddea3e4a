#include "dataplane/flow/residual.h"

#include <cstring>

namespace cordon {

ResidualKey makeResidualKey(const IpAddr& client, const IpAddr& server, uint16_t server_port,
                            uint8_t proto) {
  ResidualKey k;
  std::memset(&k, 0, sizeof k);
  std::memcpy(k.client, client.bytes, 16);
  std::memcpy(k.server, server.bytes, 16);
  k.port = server_port;
  k.proto = proto;
  k.family = client.family;
  return k;
}

ResidualTable::ResidualTable(uint32_t capacity) : e_(capacity) {
  uint32_t buckets = 1;
  while (buckets < capacity * 2) buckets <<= 1;
  buckets_.assign(buckets, -1);
  free_.reserve(capacity);
  for (uint32_t i = capacity; i > 0; --i) free_.push_back(static_cast<int32_t>(i - 1));
}

uint32_t ResidualTable::bucketOf(const ResidualKey& k) const {
  uint32_t h = 2166136261u;  // FNV-1a
  const auto* b = reinterpret_cast<const uint8_t*>(&k);
  for (size_t i = 0; i < sizeof k; ++i) h = (h ^ b[i]) * 16777619u;
  return h & static_cast<uint32_t>(buckets_.size() - 1);
}

int32_t ResidualTable::find(const ResidualKey& k) const {
  for (int32_t i = buckets_[bucketOf(k)]; i >= 0; i = e_[static_cast<size_t>(i)].hnext) {
    if (std::memcmp(&e_[static_cast<size_t>(i)].key, &k, sizeof k) == 0) return i;
  }
  return -1;
}

void ResidualTable::unlinkAge(int32_t idx) {
  Entry& e = e_[static_cast<size_t>(idx)];
  if (e.prev >= 0) e_[static_cast<size_t>(e.prev)].next = e.next;
  if (e.next >= 0) e_[static_cast<size_t>(e.next)].prev = e.prev;
  if (head_ == idx) head_ = e.next;
  if (tail_ == idx) tail_ = e.prev;
  e.prev = e.next = -1;
}

void ResidualTable::linkTail(int32_t idx) {
  Entry& e = e_[static_cast<size_t>(idx)];
  e.prev = tail_;
  e.next = -1;
  if (tail_ >= 0) e_[static_cast<size_t>(tail_)].next = idx;
  tail_ = idx;
  if (head_ < 0) head_ = idx;
}

void ResidualTable::remove(int32_t idx) {
  Entry& e = e_[static_cast<size_t>(idx)];
  for (int32_t* at = &buckets_[bucketOf(e.key)]; *at >= 0;
       at = &e_[static_cast<size_t>(*at)].hnext) {
    if (*at == idx) {
      *at = e.hnext;
      break;
    }
  }
  unlinkAge(idx);
  e.used = false;
  free_.push_back(idx);
  --count_;
}

bool ResidualTable::add(const ResidualKey& k, uint64_t until_ns) {
  int32_t idx = find(k);
  if (idx >= 0) {
    e_[static_cast<size_t>(idx)].until_ns = until_ns;
    unlinkAge(idx);
    linkTail(idx);
    return false;
  }
  bool evicted = false;
  if (free_.empty()) {
    if (head_ < 0) return false;  // capacity 0
    remove(head_);
    evicted = true;
  }
  idx = free_.back();
  free_.pop_back();
  Entry& e = e_[static_cast<size_t>(idx)];
  e.key = k;
  e.until_ns = until_ns;
  e.used = true;
  const uint32_t b = bucketOf(k);
  e.hnext = buckets_[b];
  buckets_[b] = idx;
  linkTail(idx);
  ++count_;
  return evicted;
}

bool ResidualTable::blocked(const ResidualKey& k, uint64_t now_ns) {
  const int32_t idx = find(k);
  if (idx < 0) return false;
  if (now_ns < e_[static_cast<size_t>(idx)].until_ns) return true;
  remove(idx);
  return false;
}

}  // namespace cordon

#include "dataplane/flow/flow_table.h"

#include <rte_errno.h>
#include <rte_hash_crc.h>

#include <cstring>

namespace cordon {

FlowKey makeFlowKey(const PacketInfo& p, bool* src_is_lo) {
  FlowKey k;
  std::memset(&k, 0, sizeof k);
  const int c = std::memcmp(p.src.bytes, p.dst.bytes, 16);
  const bool src_lo = c < 0 || (c == 0 && p.sport <= p.dport);
  const IpAddr& lo = src_lo ? p.src : p.dst;
  const IpAddr& hi = src_lo ? p.dst : p.src;
  std::memcpy(k.addr_lo, lo.bytes, 16);
  std::memcpy(k.addr_hi, hi.bytes, 16);
  k.port_lo = src_lo ? p.sport : p.dport;
  k.port_hi = src_lo ? p.dport : p.sport;
  k.proto = p.ip_proto;
  k.family = p.ip_version;
  *src_is_lo = src_lo;
  return k;
}

std::unique_ptr<FlowTable> FlowTable::create(const std::string& name, uint32_t capacity,
                                             int socket_id, std::string* err) {
  std::unique_ptr<FlowTable> t(new FlowTable());
  rte_hash_parameters params{};
  params.name = name.c_str();
  params.entries = capacity;
  params.key_len = sizeof(FlowKey);
  params.hash_func = rte_hash_crc;
  params.hash_func_init_val = 0;
  params.socket_id = socket_id;
  // Single writer (the owning worker), no concurrent readers: no RW-concurrency flags.
  // Extendable buckets: an insert fails only when every key slot is taken, never because
  // the key's two cuckoo buckets are full, so a slot freed by eviction is always usable.
  params.extra_flag = RTE_HASH_EXTRA_FLAGS_EXT_TABLE;
  t->h_ = rte_hash_create(&params);
  if (!t->h_) {
    *err = "cannot create flow table '" + name + "': " + rte_strerror(rte_errno);
    return nullptr;
  }
  // rte_hash may hold slightly more keys than `entries`; size the arrays for its positions.
  const int32_t max = rte_hash_max_key_id(t->h_);
  t->flows_.resize(static_cast<size_t>(max > 0 ? max + 1 : capacity));
  t->used_.resize(t->flows_.size());
  return t;
}

FlowTable::~FlowTable() {
  if (h_) rte_hash_free(h_);
}

Flow* FlowTable::find(const FlowKey& k, hash_sig_t sig) {
  const int32_t pos = rte_hash_lookup_with_hash(h_, &k, sig);
  return pos >= 0 ? &flows_[static_cast<size_t>(pos)] : nullptr;
}

Flow* FlowTable::insert(const FlowKey& k, hash_sig_t sig) {
  const int32_t pos = rte_hash_add_key_with_hash(h_, &k, sig);
  if (pos < 0 || static_cast<size_t>(pos) >= flows_.size()) return nullptr;
  Flow& f = flows_[static_cast<size_t>(pos)];
  f = Flow{};
  f.key = k;
  used_[static_cast<size_t>(pos)] = 1;
  ++count_;
  return &f;
}

void FlowTable::erase(Flow* f) {
  const int32_t pos = rte_hash_del_key(h_, &f->key);
  if (pos >= 0) {
    used_[static_cast<size_t>(pos)] = 0;
    --count_;
  }
}

}  // namespace cordon

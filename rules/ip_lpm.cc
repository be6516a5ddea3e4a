#include "rules/ip_lpm.h"

#include <algorithm>
#include <cstring>
#include <stdexcept>

namespace cordon::rules {
namespace {

inline uint64_t mix(uint64_t h) {
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdull;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ull;
  h ^= h >> 33;
  return h;
}

}  // namespace

uint64_t IpLpm::hashKey(const uint8_t* addr, unsigned len) {
  uint64_t a;
  uint64_t b;
  std::memcpy(&a, addr, 8);
  std::memcpy(&b, addr + 8, 8);
  return mix(a ^ mix(b ^ (uint64_t{len} << 56)));
}

void IpLpm::maskTo(const uint8_t* in, unsigned len, uint8_t* out) {
  for (unsigned i = 0; i < 16; ++i) {
    const unsigned bits = i * 8;
    if (len >= bits + 8) {
      out[i] = in[i];
    } else if (len <= bits) {
      out[i] = 0;
    } else {
      out[i] = static_cast<uint8_t>(in[i] & (0xff00u >> (len - bits)));
    }
  }
}

void IpLpm::grow(Family* f) {
  const size_t n = f->slots.empty() ? 16 : f->slots.size() * 2;
  std::vector<Entry> old(n);
  for (Entry& e : old) e.used = 0;
  old.swap(f->slots);
  f->mask = n - 1;
  for (const Entry& e : old) {
    if (!e.used) continue;
    size_t i = hashKey(e.addr, e.len) & f->mask;
    while (f->slots[i].used) i = (i + 1) & f->mask;
    f->slots[i] = e;
  }
}

const IpLpm::Entry* IpLpm::findEntry(const Family& f, const uint8_t* masked, unsigned len) {
  size_t i = hashKey(masked, len) & f.mask;
  for (;;) {
    const Entry& e = f.slots[i];
    if (!e.used) return nullptr;
    if (e.len == len && std::memcmp(e.addr, masked, 16) == 0) return &e;
    i = (i + 1) & f.mask;
  }
}

uint32_t* IpLpm::ruleRef(const IpAddr& net, unsigned len, bool exception) {
  if ((net.family != 4 && net.family != 6) || len > net.length() * 8) {
    throw std::invalid_argument("bad prefix");
  }
  Family& f = net.family == 4 ? v4_ : v6_;
  if ((f.count + 1) * 2 > f.slots.size()) grow(&f);
  uint8_t masked[16];
  maskTo(net.bytes, len, masked);
  size_t i = hashKey(masked, len) & f.mask;
  while (f.slots[i].used &&
         !(f.slots[i].len == len && std::memcmp(f.slots[i].addr, masked, 16) == 0)) {
    i = (i + 1) & f.mask;
  }
  Entry& e = f.slots[i];
  if (!e.used) {
    std::memcpy(e.addr, masked, 16);
    e.len = static_cast<uint8_t>(len);
    e.used = 1;
    e.block = kNoRule;
    e.exception = kNoRule;
    ++f.count;
    if (std::find(f.lengths, f.lengths + f.num_lengths, len) == f.lengths + f.num_lengths) {
      f.lengths[f.num_lengths++] = static_cast<uint8_t>(len);
      std::sort(f.lengths, f.lengths + f.num_lengths, std::greater<>());
    }
  }
  if (exception) {
    f.length_has_exception[len] = true;
    if (f.shortest_exception < 0 || static_cast<int>(len) < f.shortest_exception) {
      f.shortest_exception = static_cast<int>(len);
    }
  }
  return exception ? &e.exception : &e.block;
}

uint32_t IpLpm::lookupIn(const Family& f, const uint8_t* addr) {
  if (f.count == 0) return kNoRule;
  uint32_t block = kNoRule;
  uint8_t masked[16];
  for (size_t k = 0; k < f.num_lengths; ++k) {
    const unsigned len = f.lengths[k];
    if (block != kNoRule) {
      if (static_cast<int>(len) < f.shortest_exception) break;
      if (!f.length_has_exception[len]) continue;
    }
    maskTo(addr, len, masked);
    const Entry* e = findEntry(f, masked, len);
    if (e == nullptr) continue;
    if (e->exception != kNoRule) return e->exception;
    if (block == kNoRule) {
      block = e->block;
      if (f.shortest_exception < 0) break;
    }
  }
  return block;
}

uint32_t IpLpm::lookup(const IpAddr& a) const {
  if (a.family == 4) return lookupIn(v4_, a.bytes);
  if (a.family != 6) return kNoRule;
  const uint32_t r = lookupIn(v6_, a.bytes);
  static constexpr uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  if (r == kNoRule && v4_.count != 0 && std::memcmp(a.bytes, kMapped, 12) == 0) {
    uint8_t v4[16] = {};
    std::memcpy(v4, a.bytes + 12, 4);
    return lookupIn(v4_, v4);
  }
  return r;
}

std::vector<uint32_t> IpLpm::lookupAll(const IpAddr& a) const {
  std::vector<uint32_t> out;
  const auto collect = [&out](const Family& f, const uint8_t* addr) {
    uint8_t masked[16];
    for (size_t k = 0; k < f.num_lengths; ++k) {
      maskTo(addr, f.lengths[k], masked);
      const Entry* e = f.count ? findEntry(f, masked, f.lengths[k]) : nullptr;
      if (e == nullptr) continue;
      if (e->exception != kNoRule) out.push_back(e->exception);
      if (e->block != kNoRule) out.push_back(e->block);
    }
  };
  if (a.family == 4) collect(v4_, a.bytes);
  if (a.family == 6) {
    collect(v6_, a.bytes);
    static constexpr uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (std::memcmp(a.bytes, kMapped, 12) == 0) {
      uint8_t v4[16] = {};
      std::memcpy(v4, a.bytes + 12, 4);
      collect(v4_, v4);
    }
  }
  return out;
}

void IpLpm::write(ByteWriter* w) const {
  for (const Family* f : {&v4_, &v6_}) {
    w->putVec(f->slots);
    w->put<uint64_t>(f->count);
    w->put(f->lengths);
    w->put<uint64_t>(f->num_lengths);
    w->put(f->length_has_exception);
    w->put<int64_t>(f->shortest_exception);
  }
}

bool IpLpm::read(ByteReader* r, uint32_t rule_count) {
  for (Family* f : {&v4_, &v6_}) {
    uint64_t count = 0;
    uint64_t num_lengths = 0;
    int64_t shortest = 0;
    if (!r->getVec(&f->slots) || !r->get(&count) || !r->get(&f->lengths) || !r->get(&num_lengths) ||
        !r->get(&f->length_has_exception) || !r->get(&shortest)) {
      return false;
    }
    const size_t n = f->slots.size();
    const unsigned max_len = f == &v4_ ? 32 : 128;
    if ((n & (n - 1)) != 0 || count > n / 2 || (n == 0 && count != 0) || num_lengths > 129 ||
        shortest < -1 || shortest > max_len) {
      return false;
    }
    for (size_t k = 0; k < num_lengths; ++k) {
      if (f->lengths[k] > max_len) return false;
    }
    size_t used = 0;
    for (const Entry& e : f->slots) {
      if (!e.used) continue;
      ++used;
      if (e.len > max_len || (e.block != kNoRule && e.block >= rule_count) ||
          (e.exception != kNoRule && e.exception >= rule_count)) {
        return false;
      }
    }
    if (used != count) return false;
    f->mask = n == 0 ? 0 : n - 1;
    f->count = count;
    f->num_lengths = num_lengths;
    f->shortest_exception = static_cast<int>(shortest);
  }
  return true;
}

}  // namespace cordon::rules

#include "rules/domain_table.h"

#include <cstring>
#include <stdexcept>

namespace cordon::rules {
namespace {

constexpr uint64_t kSeed = 0x243f6a8885a308d3ull;  // digits of pi, any odd constant does
constexpr uint64_t kMulLabel = 0x9e3779b97f4a7c15ull;
constexpr uint64_t kMulChunk = 0xa0761d6478bd642full;
constexpr uint64_t kMulSuffix = 0xe7037ed1a0b428dbull;
constexpr size_t kInitialSlots = 64;

// 64x64 -> 128 bit multiply, folded: the mixing step of wyhash.
inline uint64_t fold(uint64_t a, uint64_t b) {
  const __uint128_t r = static_cast<__uint128_t>(a) * b;
  return static_cast<uint64_t>(r) ^ static_cast<uint64_t>(r >> 64);
}

inline uint64_t load64(const char* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}

inline uint64_t load32(const char* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

// 1-8 bytes as one word, never reading outside [p, p+n). Injective for a given n.
inline uint64_t loadTail(const char* p, size_t n) {
  if (n == 0) return 0;  // an empty label (only in names that were not normalised)
  if (n >= 4) return load32(p) | (load32(p + n - 4) << 32);
  const auto b = [p](size_t i) { return static_cast<uint64_t>(static_cast<unsigned char>(p[i])); };
  return b(0) | (b(n / 2) << 8) | (b(n - 1) << 16);
}

inline uint64_t hashLabel(const char* p, size_t n) {
  uint64_t h = n * kMulLabel;
  while (n > 8) {
    h = fold(h ^ load64(p), kMulChunk);
    p += 8;
    n -= 8;
  }
  return fold(h ^ loadTail(p, n), kMulChunk);
}

// Hash of the suffix one label longer than the one `state` stands for.
inline uint64_t extend(uint64_t state, const char* label, size_t n) {
  return fold(state ^ hashLabel(label, n), kMulSuffix);
}

}  // namespace

DomainTable::DomainTable()
    : ctrl_(kInitialSlots, 0), slots_(kInitialSlots), mask_(kInitialSlots - 1) {}

uint64_t DomainTable::hashName(std::string_view name) {
  uint64_t h = kSeed;
  size_t end = name.size();
  for (size_t i = name.size(); i > 0; --i) {
    if (name[i - 1] == '.') {
      h = extend(h, name.data() + i, end - i);
      end = i - 1;
    }
  }
  return extend(h, name.data(), end);
}

void DomainTable::reserve(size_t names) {
  size_t want = kInitialSlots;
  while (want < names * 2) want <<= 1;
  if (want <= slots_.size()) return;
  std::vector<Slot, HugePageAllocator<Slot>> old(want);
  old.swap(slots_);
  ctrl_.assign(want, 0);
  mask_ = want - 1;
  for (const Slot& s : old) {
    if (s.flags == 0) continue;
    size_t i = s.tag & mask_;
    while (ctrl_[i] != 0) i = (i + 1) & mask_;
    slots_[i] = s;
    ctrl_[i] = ctrlOf(s.tag);
  }
}

void DomainTable::grow() {
  reserve(slots_.size());
}

inline size_t DomainTable::probe(uint32_t tag, std::string_view name) const {
  const uint8_t c = ctrlOf(tag);
  size_t i = tag & mask_;
  for (;;) {
    const uint8_t have = ctrl_[i];
    if (have == 0) return i;
    if (have == c) {
      const Slot& s = slots_[i];
      if (s.tag == tag && s.name_len == name.size() &&
          std::memcmp(arena_.data() + s.name_off, name.data(), name.size()) == 0) {
        return i;
      }
    }
    i = (i + 1) & mask_;
  }
}

uint32_t* DomainTable::ruleRef(std::string_view name, Flavour flavour, uint32_t* name_off) {
  if (name.empty() || name.size() > kMaxHostLen) throw std::invalid_argument("bad name length");
  if ((size_ + 1) * 2 > slots_.size()) grow();
  const auto tag = static_cast<uint32_t>(hashName(name));
  const size_t i = probe(tag, name);
  Slot& s = slots_[i];
  const uint8_t bit = static_cast<uint8_t>(1u << flavour);
  if (name_off != nullptr)
    *name_off = ctrl_[i] == 0 ? static_cast<uint32_t>(arena_.size()) : s.name_off;
  if (ctrl_[i] == 0) {
    if (arena_.size() + name.size() > UINT32_MAX) throw std::length_error("name arena full");
    s.tag = tag;
    s.name_off = static_cast<uint32_t>(arena_.size());
    s.name_len = static_cast<uint8_t>(name.size());
    arena_.insert(arena_.end(), name.begin(), name.end());
    ++size_;
    s.flags = bit;
    s.value = kNoRule;
    ctrl_[i] = ctrlOf(tag);
    return &s.value;
  }
  if ((s.flags & (s.flags - 1)) == 0) {
    if (s.flags == bit) return &s.value;
    // A second flavour: move the name's rules out of line.
    const int old = __builtin_ctz(s.flags);
    const auto idx = static_cast<uint32_t>(multi_.size() / kFlavourCount);
    multi_.resize(multi_.size() + kFlavourCount, kNoRule);
    multi_[idx * kFlavourCount + old] = s.value;
    s.value = idx;
  }
  s.flags |= bit;
  return &multi_[s.value * kFlavourCount + flavour];
}

const DomainTable::Slot* DomainTable::find(std::string_view name) const {
  if (name.empty() || name.size() > kMaxHostLen || size_ == 0) return nullptr;
  const auto tag = static_cast<uint32_t>(hashName(name));
  const size_t i = probe(tag, name);
  return ctrl_[i] != 0 ? &slots_[i] : nullptr;
}

size_t DomainTable::findSuffixes(std::string_view host, SuffixHit* hits) const {
  const size_t n = host.size();
  if (n == 0 || n > kMaxHostLen || size_ == 0) return 0;
  // Pass 1: the hash of every label-boundary suffix, shortest first, with its control byte
  // prefetched so that the probes of pass 2 overlap their cache misses.
  uint32_t tags[kMaxLabels];
  uint16_t lens[kMaxLabels];
  size_t count = 0;
  uint64_t h = kSeed;
  size_t end = n;
  for (size_t pos = n; pos-- > 0 && count < kMaxLabels;) {
    if (pos == 0 || host[pos - 1] == '.') {  // a label starts at pos
      h = extend(h, host.data() + pos, end - pos);
      end = pos == 0 ? 0 : pos - 1;
      const auto tag = static_cast<uint32_t>(h);
      tags[count] = tag;
      lens[count] = static_cast<uint16_t>(n - pos);
      __builtin_prefetch(&ctrl_[tag & mask_]);
      ++count;
    }
  }
  // Pass 2: probe.
  size_t found = 0;
  for (size_t k = 0; k < count; ++k) {
    const size_t i = probe(tags[k], host.substr(n - lens[k]));
    if (ctrl_[i] != 0) hits[found++] = SuffixHit{&slots_[i], lens[k]};
  }
  return found;
}

namespace {
// A slot as written to a snapshot file (no tag: it is recomputed from the name).
struct StoredSlot {
  uint32_t name_off;
  uint32_t value;
  uint8_t name_len;
  uint8_t flags;
  uint16_t pad;
};
}  // namespace

void DomainTable::write(ByteWriter* w) const {
  std::vector<StoredSlot> stored;
  stored.reserve(size_);
  for (size_t i = 0; i < slots_.size(); ++i) {
    if (ctrl_[i] == 0) continue;
    const Slot& s = slots_[i];
    stored.push_back(StoredSlot{s.name_off, s.value, s.name_len, s.flags, 0});
  }
  w->putVec(stored);
  w->putVec(arena_);
  w->putVec(multi_);
}

bool DomainTable::read(ByteReader* r, uint32_t rule_count) {
  std::vector<StoredSlot> stored;
  if (!r->getVec(&stored) || !r->getVec(&arena_) || !r->getVec(&multi_)) return false;
  if (multi_.size() % kFlavourCount != 0) return false;
  for (uint32_t v : multi_) {
    if (v != kNoRule && v >= rule_count) return false;
  }
  slots_.assign(kInitialSlots, Slot());
  ctrl_.assign(kInitialSlots, 0);
  mask_ = kInitialSlots - 1;
  size_ = 0;
  reserve(stored.size());
  const size_t multi_names = multi_.size() / kFlavourCount;
  for (const StoredSlot& st : stored) {
    if (st.flags == 0 || st.flags >= (1u << kFlavourCount) || st.name_len == 0 ||
        st.name_len > kMaxHostLen || st.name_off > arena_.size() ||
        arena_.size() - st.name_off < st.name_len) {
      return false;
    }
    const bool multi = (st.flags & (st.flags - 1)) != 0;
    if (multi ? st.value >= multi_names : (st.value != kNoRule && st.value >= rule_count)) {
      return false;
    }
    const std::string_view name(arena_.data() + st.name_off, st.name_len);
    const auto tag = static_cast<uint32_t>(hashName(name));
    const size_t i = probe(tag, name);
    if (ctrl_[i] != 0) return false;  // the same name twice
    slots_[i] = Slot{tag, st.name_off, st.value, st.name_len, st.flags, 0};
    ctrl_[i] = ctrlOf(tag);
    ++size_;
  }
  return true;
}

}  // namespace cordon::rules

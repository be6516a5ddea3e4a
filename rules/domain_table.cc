#include "rules/domain_table.h"

#include <algorithm>
#include <cstring>
#include <stdexcept>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

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

// A name as the hash reads it: 8-byte windows that never leave name[0, n). Names under
// 8 bytes are copied into a zero-padded word first, so every window is a plain load and
// every label is read without a branch on its position or length. (Copying every name into
// a padded buffer instead cost more than the whole walk: GCC emits `rep movsq` for it.)
class NameWindows {
 public:
  NameWindows(const char* p, size_t n) : p_(p), n_(n) {
    if (n < 8) {
      for (size_t i = 0; i < n; ++i) small_[i] = p[i];
      p_ = small_;
    }
  }
  size_t size() const { return n_; }

  // Bytes [off, off + len) as the low bytes of a word, len <= 8, off + len <= n. With
  // len > 0, off - at <= 7; an empty range at off == n (a trailing dot's empty label) may
  // give 8, hence the & 7 (the mask makes the result 0 either way).
  uint64_t bytes(size_t off, size_t len) const {
    const size_t at = std::min(off, last());
    return (load64(p_ + at) >> (8 * ((off - at) & 7))) & kLowBytes[len];
  }
  // The last min(len, 8) bytes before `end`, as the low bytes of a word.
  uint64_t tail(size_t end, size_t len) const {
    const size_t k = std::min<size_t>(len, 8);
    return bytes(end - k, k);
  }
  // Bit 8i+7 set for every dot among bytes [8w, 8w + 8) (exact: no borrow between bytes).
  uint64_t dots(size_t w) const {
    constexpr uint64_t kDots = 0x2e2e2e2e2e2e2e2eull;
    constexpr uint64_t kLow7 = 0x7f7f7f7f7f7f7f7full;
    const uint64_t x = bytes(8 * w, std::min<size_t>(8, n_ - 8 * w)) ^ kDots;
    return ~(((x & kLow7) + kLow7) | x | kLow7);
  }
  uint64_t word(size_t off) const { return load64(p_ + off); }  // off + 8 <= n

 private:
  static constexpr uint64_t kLowBytes[9] = {0,
                                            0xffull,
                                            0xffffull,
                                            0xffffffull,
                                            0xffffffffull,
                                            0xffffffffffull,
                                            0xffffffffffffull,
                                            0xffffffffffffffull,
                                            ~uint64_t{0}};
  size_t last() const { return std::max<size_t>(n_, 8) - 8; }  // the last window's start

  const char* p_;
  size_t n_;
  char small_[8] = {};
};

// Hash of the suffix one label longer than the one `state` stands for; the label is
// bytes [off, off + len). Labels of up to 16 bytes (nearly all) cost one multiply: the
// last 8 bytes go into one operand and the bytes before them into the other.
inline uint64_t extend(uint64_t state, const NameWindows& name, size_t off, size_t len) {
  uint64_t h = state ^ (len * kMulLabel);
  while (len > 16) {
    h = fold(h ^ name.word(off), kMulChunk);
    off += 8;
    len -= 8;
  }
  const size_t head = len > 8 ? len - 8 : 0;
  return fold(h ^ name.tail(off + len, len), kMulSuffix ^ name.bytes(off, head));
}

// Calls emit(hash, suffix_len) for every label-boundary suffix of the name, shortest first
// (com, example.com, www.example.com), at most kMaxLabels times. The dots are found 8 bytes
// at a time, then visited from the right with clz.
template <typename Emit>
inline void forEachSuffix(const NameWindows& name, Emit&& emit) {
  const size_t n = name.size();
  constexpr size_t kWords = (kMaxHostLen + 7) / 8;
  uint64_t dots[kWords];
  const size_t words = (n + 7) / 8;
  for (size_t w = 0; w < words; ++w) dots[w] = name.dots(w);
  uint64_t h = kSeed;
  size_t end = n;
  size_t count = 0;
  for (size_t w = words; w-- > 0;) {
    uint64_t m = dots[w];
    while (m != 0) {
      const size_t bit = 63 - static_cast<size_t>(__builtin_clzll(m));
      m ^= uint64_t{1} << bit;
      const size_t dot = 8 * w + bit / 8;
      h = extend(h, name, dot + 1, end - dot - 1);
      emit(h, n - dot - 1);
      if (++count == DomainTable::kMaxLabels) return;
      end = dot;
    }
  }
  emit(extend(h, name, 0, end), n);
}

}  // namespace

DomainTable::DomainTable()
    : ctrl_(kInitialSlots, 0), slots_(kInitialSlots), groups_(kInitialSlots / kGroup) {}

uint64_t DomainTable::hashName(std::string_view name) {
  if (name.size() > kMaxHostLen) name = name.substr(0, kMaxHostLen);  // callers check
  uint64_t hash = 0;
  forEachSuffix(NameWindows(name.data(), name.size()), [&hash](uint64_t h, size_t) { hash = h; });
  return hash;
}

void DomainTable::reserve(size_t names) {
  const size_t groups = std::max(kInitialSlots / kGroup,
                                 (names * kLoadDen + kLoadNum * kGroup - 1) / (kLoadNum * kGroup));
  if (groups * kGroup <= slots_.size()) return;
  if (groups > kMaxGroups) throw std::length_error("too many names");
  std::vector<Slot, HugePageAllocator<Slot>> old(groups * kGroup);
  old.swap(slots_);
  ctrl_.assign(groups * kGroup, 0);
  groups_ = groups;
  for (const Slot& s : old) {
    if (s.flags == 0) continue;
    const size_t i = freeSlot(s.tag);
    slots_[i] = s;
    ctrl_[i] = ctrlOf(s.tag);
  }
}

void DomainTable::grow() {
  reserve(size_ * 2);
}

// The control bytes of one group: bit i of *match set when byte i equals c, of *empty when
// byte i is 0.
inline void groupMasks(const uint8_t* group, uint8_t c, uint32_t* match, uint32_t* empty) {
#if defined(__SSE2__)
  const __m128i g = _mm_loadu_si128(reinterpret_cast<const __m128i*>(group));
  *match = static_cast<uint32_t>(
      _mm_movemask_epi8(_mm_cmpeq_epi8(g, _mm_set1_epi8(static_cast<char>(c)))));
  *empty = static_cast<uint32_t>(_mm_movemask_epi8(_mm_cmpeq_epi8(g, _mm_setzero_si128())));
#else
  *match = *empty = 0;
  for (unsigned i = 0; i < DomainTable::kGroup; ++i) {
    *match |= static_cast<uint32_t>(group[i] == c) << i;
    *empty |= static_cast<uint32_t>(group[i] == 0) << i;
  }
#endif
}

// The free slot of a group a new name takes: its preferred one (prefOf) when free, else the
// next free one after it, so most names sit where findSuffixes() prefetches them.
inline size_t pickFree(uint32_t empty, unsigned pref) {
  const uint32_t rotated = ((empty >> pref) | (empty << (DomainTable::kGroup - pref))) & 0xffffu;
  return (static_cast<size_t>(__builtin_ctz(rotated)) + pref) % DomainTable::kGroup;
}

inline size_t DomainTable::probe(uint32_t tag, std::string_view name) const {
  const uint8_t c = ctrlOf(tag);
  size_t g = homeGroup(tag);
  for (;;) {
    uint32_t match;
    uint32_t empty;
    groupMasks(&ctrl_[g], c, &match, &empty);
    for (; match != 0; match &= match - 1) {
      const size_t i = g + static_cast<size_t>(__builtin_ctz(match));
      const Slot& s = slots_[i];
      if (s.tag == tag && s.name_len == name.size() &&
          std::memcmp(name.size() <= 16 ? s.inl : arena_.data() + s.name_off, name.data(),
                      name.size()) == 0) {
        return i;
      }
    }
    // Names are never removed, so a group with a free slot ends the probe sequence.
    if (empty != 0) return g + pickFree(empty, prefOf(tag));
    g += kGroup;
    if (g == slots_.size()) g = 0;
  }
}

inline size_t DomainTable::freeSlot(uint32_t tag) const {
  size_t g = homeGroup(tag);
  for (;;) {
    uint32_t match;
    uint32_t empty;
    groupMasks(&ctrl_[g], 0, &match, &empty);
    if (empty != 0) return g + pickFree(empty, prefOf(tag));
    g += kGroup;
    if (g == slots_.size()) g = 0;
  }
}

uint32_t* DomainTable::ruleRef(std::string_view name, Flavour flavour, uint32_t* name_off) {
  if (name.empty() || name.size() > kMaxHostLen) throw std::invalid_argument("bad name length");
  filter_.clear();  // stale from here on; seal() rebuilds it
  if ((size_ + 1) * kLoadDen > slots_.size() * kLoadNum) grow();
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
    if (name.size() <= 16) std::memcpy(s.inl, name.data(), name.size());
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
  if (!mayContain(tag)) return nullptr;
  const size_t i = probe(tag, name);
  return ctrl_[i] != 0 ? &slots_[i] : nullptr;
}

void DomainTable::seal() {
  const size_t words = std::max<size_t>(1, (size_ * kFilterBitsPerName + 63) / 64);
  filter_.assign(words, 0);
  for (size_t i = 0; i < slots_.size(); ++i) {
    if (ctrl_[i] == 0) continue;
    const uint64_t x = filterKey(slots_[i].tag);
    filter_[filterWord(x)] |= filterBits(x);
  }
}

size_t DomainTable::findSuffixes(std::string_view host, SuffixHit* hits) const {
  const size_t n = host.size();
  if (n == 0 || n > kMaxHostLen || size_ == 0) return 0;
  // Pass 1: the hash of every label-boundary suffix, shortest first, with its control byte
  // prefetched so that the probes of pass 2 overlap their cache misses.
  uint32_t tags[kMaxLabels];
  uint16_t lens[kMaxLabels];
  size_t count = 0;
  forEachSuffix(NameWindows(host.data(), n), [&](uint64_t h, size_t len) {
    const auto tag = static_cast<uint32_t>(h);
    if (!mayContain(tag)) return;
    tags[count] = tag;
    lens[count] = static_cast<uint16_t>(len);
    const size_t g = homeGroup(tag);
    __builtin_prefetch(&ctrl_[g]);
    __builtin_prefetch(&slots_[g + prefOf(tag)]);
    ++count;
  });
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
  groups_ = kInitialSlots / kGroup;
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
    slots_[i] = Slot{tag, st.name_off, st.value, st.name_len, st.flags, 0, {}};
    if (name.size() <= 16) std::memcpy(slots_[i].inl, name.data(), name.size());
    ctrl_[i] = ctrlOf(tag);
    ++size_;
  }
  return true;
}

}  // namespace cordon::rules

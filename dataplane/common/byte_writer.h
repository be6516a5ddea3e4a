#pragma once
// ByteWriter: bounds-checked big-endian writer for the packets cordon builds (RSTs,
// redirects, DNS answers). Sticky failure like ByteReader: after an overflow every later
// write fails and ok() is false, so a builder may write a whole packet and check once.

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string_view>

namespace cordon {

class ByteWriter {
 public:
  explicit ByteWriter(std::span<uint8_t> out) : out_(out) {}

  bool u8(uint8_t v) {
    if (!room(1)) return false;
    out_[pos_++] = v;
    return true;
  }
  bool u16(uint16_t v) { return u8(static_cast<uint8_t>(v >> 8)) && u8(static_cast<uint8_t>(v)); }
  bool u32(uint32_t v) {
    return u16(static_cast<uint16_t>(v >> 16)) && u16(static_cast<uint16_t>(v));
  }
  bool bytes(std::span<const uint8_t> b) {
    if (!room(b.size())) return false;
    if (!b.empty()) std::memcpy(out_.data() + pos_, b.data(), b.size());
    pos_ += b.size();
    return true;
  }
  bool text(std::string_view s) {
    return bytes({reinterpret_cast<const uint8_t*>(s.data()), s.size()});
  }
  // Overwrites a 16-bit field already written (lengths and checksums filled in last).
  bool patchU16(size_t at, uint16_t v) {
    if (failed_ || at + 2 > pos_) return false;
    out_[at] = static_cast<uint8_t>(v >> 8);
    out_[at + 1] = static_cast<uint8_t>(v);
    return true;
  }

  size_t size() const { return pos_; }
  bool ok() const { return !failed_; }
  std::span<const uint8_t> written() const { return out_.first(pos_); }
  std::span<uint8_t> writtenMutable() { return out_.first(pos_); }

 private:
  bool room(size_t n) {
    if (failed_ || n > out_.size() - pos_) {
      failed_ = true;
      return false;
    }
    return true;
  }

  std::span<uint8_t> out_;
  size_t pos_ = 0;
  bool failed_ = false;
};

}  // namespace cordon

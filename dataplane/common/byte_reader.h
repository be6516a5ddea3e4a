#pragma once
// ByteReader: the one bounds-checked reader for packet bytes in cordon.
//
// Every parser reads packet bytes through this type; no parser does pointer arithmetic on
// packet memory itself. Reads are big-endian (network order). Failure is sticky: once a
// read runs past the end, every later read fails too, so a parser may chain reads and check
// once. Nothing here allocates or throws.

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

namespace cordon {

class ByteReader {
 public:
  ByteReader() = default;
  explicit ByteReader(std::span<const uint8_t> data) : data_(data) {}
  ByteReader(const uint8_t* data, size_t len) : data_(data, len) {}

  // Each read returns false (and leaves *out untouched) when fewer bytes remain than it
  // needs, or when an earlier read already failed.
  [[nodiscard]] bool readU8(uint8_t* out) {
    if (!canRead(1)) return false;
    *out = data_[pos_++];
    return true;
  }
  [[nodiscard]] bool readU16(uint16_t* out) {
    if (!canRead(2)) return false;
    *out = static_cast<uint16_t>(data_[pos_] << 8 | data_[pos_ + 1]);
    pos_ += 2;
    return true;
  }
  [[nodiscard]] bool readU24(uint32_t* out) {
    if (!canRead(3)) return false;
    *out = uint32_t{data_[pos_]} << 16 | uint32_t{data_[pos_ + 1]} << 8 | data_[pos_ + 2];
    pos_ += 3;
    return true;
  }
  [[nodiscard]] bool readU32(uint32_t* out) {
    if (!canRead(4)) return false;
    *out = uint32_t{data_[pos_]} << 24 | uint32_t{data_[pos_ + 1]} << 16 |
           uint32_t{data_[pos_ + 2]} << 8 | data_[pos_ + 3];
    pos_ += 4;
    return true;
  }
  // QUIC variable-length integer (RFC 9000 section 16): two high bits give the length.
  [[nodiscard]] bool readVarInt62(uint64_t* out) {
    if (!canRead(1)) return false;
    const size_t len = size_t{1} << (data_[pos_] >> 6);
    if (!canRead(len)) return false;
    uint64_t v = data_[pos_] & 0x3f;
    for (size_t i = 1; i < len; ++i) v = v << 8 | data_[pos_ + i];
    pos_ += len;
    *out = v;
    return true;
  }
  // A view of the next n bytes, consumed.
  [[nodiscard]] bool readBytes(size_t n, std::span<const uint8_t>* out) {
    if (!canRead(n)) return false;
    *out = data_.subspan(pos_, n);
    pos_ += n;
    return true;
  }
  [[nodiscard]] bool skip(size_t n) {
    if (!canRead(n)) return false;
    pos_ += n;
    return true;
  }
  // A sub-reader over a field whose length precedes it in 1, 2 or 3 bytes (TLS vectors).
  [[nodiscard]] bool readPrefixed8(ByteReader* out) {
    uint8_t n = 0;
    return readU8(&n) && readSub(n, out);
  }
  [[nodiscard]] bool readPrefixed16(ByteReader* out) {
    uint16_t n = 0;
    return readU16(&n) && readSub(n, out);
  }
  [[nodiscard]] bool readPrefixed24(ByteReader* out) {
    uint32_t n = 0;
    return readU24(&n) && readSub(n, out);
  }
  [[nodiscard]] bool readSub(size_t n, ByteReader* out) {
    std::span<const uint8_t> s;
    if (!readBytes(n, &s)) return false;
    *out = ByteReader(s);
    return true;
  }

  [[nodiscard]] bool peekU8(uint8_t* out) const {
    if (failed_ || remaining() < 1) return false;
    *out = data_[pos_];
    return true;
  }
  [[nodiscard]] bool peekU16(uint16_t* out) const {
    if (failed_ || remaining() < 2) return false;
    *out = static_cast<uint16_t>(data_[pos_] << 8 | data_[pos_ + 1]);
    return true;
  }
  // Moves to an absolute offset within the reader's span (DNS compression pointers).
  [[nodiscard]] bool seek(size_t offset) {
    if (failed_ || offset > data_.size()) {
      failed_ = true;
      return false;
    }
    pos_ = offset;
    return true;
  }

  size_t offset() const { return pos_; }
  size_t size() const { return data_.size(); }
  size_t remaining() const { return data_.size() - pos_; }
  bool empty() const { return remaining() == 0; }
  bool failed() const { return failed_; }
  std::span<const uint8_t> data() const { return data_; }
  std::span<const uint8_t> rest() const { return data_.subspan(pos_); }

 private:
  bool canRead(size_t n) {
    if (failed_ || n > remaining()) {
      failed_ = true;
      return false;
    }
    return true;
  }

  std::span<const uint8_t> data_;
  size_t pos_ = 0;
  bool failed_ = false;
};

}  // namespace cordon

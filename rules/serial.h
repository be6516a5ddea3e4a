#pragma once
// Byte writer/reader for the snapshot file (rules/snapshot_file.cc). Little-endian host
// layout: a snapshot file is read on the machine type that wrote it (Hyperscan databases
// are platform-specific anyway). The reader is bounds-checked with sticky failure, like
// the packet readers of the dataplane: after the first short read every read fails.

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace cordon::rules {

class ByteWriter {
 public:
  template <typename T>
  void put(const T& v) {
    static_assert(std::is_trivially_copyable_v<T>);
    out_.append(reinterpret_cast<const char*>(&v), sizeof v);
  }
  void putBytes(std::string_view b) {
    put<uint64_t>(b.size());
    out_.append(b);
  }
  template <typename T, typename A>
  void putVec(const std::vector<T, A>& v) {
    static_assert(std::is_trivially_copyable_v<T>);
    put<uint64_t>(v.size());
    out_.append(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(T));
  }
  std::string& data() { return out_; }

 private:
  std::string out_;
};

class ByteReader {
 public:
  explicit ByteReader(std::string_view in) : in_(in) {}

  template <typename T>
  [[nodiscard]] bool get(T* v) {
    static_assert(std::is_trivially_copyable_v<T>);
    if (!ok_ || in_.size() - pos_ < sizeof(T)) return fail();
    std::memcpy(v, in_.data() + pos_, sizeof(T));
    pos_ += sizeof(T);
    return true;
  }
  [[nodiscard]] bool getBytes(std::string* s) {
    uint64_t n = 0;
    if (!get(&n) || in_.size() - pos_ < n) return fail();
    s->assign(in_.data() + pos_, n);
    pos_ += n;
    return true;
  }
  template <typename T, typename A>
  [[nodiscard]] bool getVec(std::vector<T, A>* v) {
    static_assert(std::is_trivially_copyable_v<T>);
    uint64_t n = 0;
    if (!get(&n) || n > (in_.size() - pos_) / sizeof(T)) return fail();
    v->resize(n);
    if (n) std::memcpy(v->data(), in_.data() + pos_, n * sizeof(T));
    pos_ += n * sizeof(T);
    return true;
  }
  bool ok() const { return ok_; }
  bool atEnd() const { return ok_ && pos_ == in_.size(); }

 private:
  bool fail() {
    ok_ = false;
    return false;
  }
  std::string_view in_;
  size_t pos_ = 0;
  bool ok_ = true;
};

}  // namespace cordon::rules

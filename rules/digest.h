#pragma once
// SHA-256 (OpenSSL EVP) for content keys and the snapshot file checksum.

#include <openssl/evp.h>

#include <array>
#include <stdexcept>
#include <string>
#include <string_view>

namespace cordon::rules {

class Sha256 {
 public:
  Sha256() : ctx_(EVP_MD_CTX_new()) {
    if (ctx_ == nullptr || EVP_DigestInit_ex(ctx_, EVP_sha256(), nullptr) != 1) {
      EVP_MD_CTX_free(ctx_);
      throw std::runtime_error("SHA-256 unavailable");
    }
  }
  ~Sha256() { EVP_MD_CTX_free(ctx_); }
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;

  void update(const void* p, size_t n) { EVP_DigestUpdate(ctx_, p, n); }
  void update(std::string_view s) { update(s.data(), s.size()); }
  // The 32-byte digest.
  std::string final() {
    std::array<unsigned char, EVP_MAX_MD_SIZE> d{};
    unsigned n = 0;
    EVP_DigestFinal_ex(ctx_, d.data(), &n);
    return std::string(reinterpret_cast<const char*>(d.data()), n);
  }

  static std::string of(std::string_view s) {
    Sha256 h;
    h.update(s);
    return h.final();
  }

 private:
  EVP_MD_CTX* ctx_;
};

}  // namespace cordon::rules

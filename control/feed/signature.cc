#include "control/feed/signature.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace cordon::feed {
namespace {

std::string hex(const unsigned char* p, size_t n) {
  static const char kDigits[] = "0123456789abcdef";
  std::string s;
  s.reserve(n * 2);
  for (size_t i = 0; i < n; ++i) {
    s.push_back(kDigits[p[i] >> 4]);
    s.push_back(kDigits[p[i] & 15]);
  }
  return s;
}

constexpr char kB64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int b64Value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

}  // namespace

std::unique_ptr<PublicKey> PublicKey::load(const std::string& pem_path, std::string* err) {
  FILE* f = std::fopen(pem_path.c_str(), "r");
  if (!f) {
    *err = pem_path + ": " + std::strerror(errno);
    return nullptr;
  }
  EVP_PKEY* key = PEM_read_PUBKEY(f, nullptr, nullptr, nullptr);
  std::fclose(f);
  if (!key) {
    *err = pem_path + ": not a PEM public key (expected `openssl pkey -pubout` output)";
    return nullptr;
  }
  if (EVP_PKEY_id(key) != EVP_PKEY_ED25519) {
    EVP_PKEY_free(key);
    *err = pem_path + ": not an Ed25519 public key";
    return nullptr;
  }
  unsigned char raw[32];
  size_t raw_len = sizeof raw;
  if (EVP_PKEY_get_raw_public_key(key, raw, &raw_len) != 1) {
    EVP_PKEY_free(key);
    *err = pem_path + ": cannot read the Ed25519 public key";
    return nullptr;
  }
  return std::unique_ptr<PublicKey>(
      new PublicKey(key, sha256Hex({reinterpret_cast<const char*>(raw), raw_len})));
}

PublicKey::~PublicKey() {
  EVP_PKEY_free(key_);
}

bool PublicKey::verify(std::string_view data, std::string_view sig) const {
  if (sig.size() != kEd25519SignatureBytes) return false;
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  if (!ctx) return false;
  // Ed25519 takes no digest (NULL md) and must be verified one-shot (EVP_DigestVerify).
  bool ok = EVP_DigestVerifyInit(ctx, nullptr, nullptr, nullptr, key_) == 1 &&
            EVP_DigestVerify(ctx, reinterpret_cast<const unsigned char*>(sig.data()), sig.size(),
                             reinterpret_cast<const unsigned char*>(data.data()), data.size()) == 1;
  EVP_MD_CTX_free(ctx);
  return ok;
}

bool base64Decode(std::string_view text, std::string* out) {
  out->clear();
  uint32_t acc = 0;
  int bits = 0;
  size_t pad = 0;
  for (char c : text) {
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n') continue;
    if (c == '=') {
      ++pad;
      continue;
    }
    const int v = b64Value(c);
    if (v < 0 || pad) return false;  // a foreign byte, or data after padding
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out->push_back(static_cast<char>((acc >> bits) & 0xff));
    }
  }
  return pad <= 2 && bits < 6;
}

std::string base64Encode(std::string_view bytes) {
  std::string s;
  size_t i = 0;
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  for (; i + 3 <= bytes.size(); i += 3) {
    const uint32_t v = (p[i] << 16) | (p[i + 1] << 8) | p[i + 2];
    for (int k = 18; k >= 0; k -= 6) s.push_back(kB64[(v >> k) & 63]);
  }
  const size_t rest = bytes.size() - i;
  if (rest) {
    uint32_t v = p[i] << 16;
    if (rest == 2) v |= p[i + 1] << 8;
    s.push_back(kB64[(v >> 18) & 63]);
    s.push_back(kB64[(v >> 12) & 63]);
    s.push_back(rest == 2 ? kB64[(v >> 6) & 63] : '=');
    s.push_back('=');
  }
  return s;
}

bool decodeSignature(std::string_view file_bytes, std::string* sig, std::string* err) {
  if (file_bytes.size() == kEd25519SignatureBytes) {
    *sig = std::string(file_bytes);
    return true;
  }
  if (file_bytes.size() <= kMaxSignatureFileBytes && base64Decode(file_bytes, sig) &&
      sig->size() == kEd25519SignatureBytes) {
    return true;
  }
  *err = "not an Ed25519 signature (expected 64 raw bytes or their base64; got " +
         std::to_string(file_bytes.size()) + " bytes)";
  return false;
}

std::string sha256Hex(std::string_view data) {
  unsigned char md[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), md);
  return hex(md, sizeof md);
}

MappedFile::~MappedFile() {
  if (data_) munmap(data_, size_);
}

bool MappedFile::open(const std::string& path, std::string* err) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    *err = path + ": " + std::strerror(errno);
    return false;
  }
  struct stat st;
  if (fstat(fd, &st) != 0) {
    *err = path + ": " + std::strerror(errno);
    ::close(fd);
    return false;
  }
  size_ = static_cast<size_t>(st.st_size);
  if (size_) {
    void* p = mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, fd, 0);
    if (p == MAP_FAILED) {
      *err = path + ": cannot map: " + std::strerror(errno);
      size_ = 0;
      ::close(fd);
      return false;
    }
    data_ = p;
  }
  ::close(fd);
  return true;
}

}  // namespace cordon::feed

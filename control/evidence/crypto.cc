#include "control/evidence/crypto.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <vector>

namespace cordon::evidence {
namespace {

struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};
struct MdCtxFree {
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};

std::string opensslError() {
  const unsigned long e = ERR_get_error();
  ERR_clear_error();
  if (e == 0) return "unknown OpenSSL error";
  char buf[256];
  ERR_error_string_n(e, buf, sizeof buf);
  return buf;
}

// Reads a small file (a key). False with *err on failure.
bool readSmallFile(const std::string& path, std::string* out, std::string* err) {
  FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) {
    *err = path + ": cannot read key: " + std::strerror(errno);
    return false;
  }
  char buf[4096];
  size_t n;
  // A PEM key is a few hundred bytes; 64 KiB means this is not a key file.
  constexpr size_t kMaxKeyFile = 64 * 1024;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) {
    out->append(buf, n);
    if (out->size() > kMaxKeyFile) {
      std::fclose(f);
      *err = path + ": not a PEM key (file larger than 64 KiB)";
      return false;
    }
  }
  std::fclose(f);
  return true;
}

bool checkEd25519(EVP_PKEY* k, const std::string& path, std::string* err) {
  if (EVP_PKEY_id(k) == EVP_PKEY_ED25519) return true;
  const char* name = EVP_PKEY_get0_type_name(k);
  *err = path + ": not an Ed25519 key (it is " + (name ? name : "an unknown type") +
         "); create one with 'openssl genpkey -algorithm ed25519 -out FILE'";
  return false;
}

int hexVal(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

}  // namespace

std::string toHex(std::span<const uint8_t> bytes) {
  static const char kHex[] = "0123456789abcdef";
  std::string s;
  s.reserve(bytes.size() * 2);
  for (const uint8_t b : bytes) {
    s.push_back(kHex[b >> 4]);
    s.push_back(kHex[b & 15]);
  }
  return s;
}

bool isLowerHex(std::string_view s, size_t len) {
  if (s.size() != len) return false;
  for (const char c : s) {
    if (hexVal(c) < 0) return false;
  }
  return true;
}

std::string sha256Hex(std::span<const uint8_t> data) {
  uint8_t md[EVP_MAX_MD_SIZE];
  unsigned len = 0;
  EVP_Digest(data.data(), data.size(), md, &len, EVP_sha256(), nullptr);
  return toHex({md, len});
}

std::string sha256Hex(std::string_view data) {
  return sha256Hex(
      std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(data.data()), data.size()));
}

Sha256::Sha256() : ctx_(EVP_MD_CTX_new()) {
  EVP_DigestInit_ex(ctx_, EVP_sha256(), nullptr);
}
Sha256::~Sha256() {
  EVP_MD_CTX_free(ctx_);
}
void Sha256::update(const void* data, size_t len) {
  EVP_DigestUpdate(ctx_, data, len);
}
std::string Sha256::finalHex() {
  uint8_t md[EVP_MAX_MD_SIZE];
  unsigned len = 0;
  EVP_DigestFinal_ex(ctx_, md, &len);
  return toHex({md, len});
}

PKey loadPrivateKey(const std::string& path, std::string* err) {
  std::string pem;
  if (!readSmallFile(path, &pem, err)) return nullptr;
  std::unique_ptr<BIO, BioFree> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  PKey k(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
  if (!k) {
    ERR_clear_error();
    *err = path + ": not a PEM private key (expected '-----BEGIN PRIVATE KEY-----' as " +
           "'openssl genpkey -algorithm ed25519' writes it)";
    return nullptr;
  }
  if (!checkEd25519(k.get(), path, err)) return nullptr;
  return k;
}

PKey loadPublicKey(const std::string& path, std::string* err) {
  std::string pem;
  if (!readSmallFile(path, &pem, err)) return nullptr;
  std::unique_ptr<BIO, BioFree> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  PKey k(PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr));
  if (!k) {
    ERR_clear_error();
    bio.reset(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
    k.reset(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
  }
  if (!k) {
    ERR_clear_error();
    *err = path + ": not a PEM public key (expected '-----BEGIN PUBLIC KEY-----')";
    return nullptr;
  }
  if (!checkEd25519(k.get(), path, err)) return nullptr;
  return k;
}

std::string publicKeyPem(EVP_PKEY* key) {
  std::unique_ptr<BIO, BioFree> bio(BIO_new(BIO_s_mem()));
  if (!PEM_write_bio_PUBKEY(bio.get(), key)) return "";
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(n));
}

std::string keyFingerprint(EVP_PKEY* key) {
  unsigned char* der = nullptr;
  const int n = i2d_PUBKEY(key, &der);
  if (n <= 0) return "";
  std::string fp = sha256Hex(std::span<const uint8_t>(der, static_cast<size_t>(n)));
  OPENSSL_free(der);
  return fp;
}

bool signHex(EVP_PKEY* key, std::string_view msg, std::string* sig_hex, std::string* err) {
  std::unique_ptr<EVP_MD_CTX, MdCtxFree> ctx(EVP_MD_CTX_new());
  size_t len = 0;
  // Ed25519 is a one-shot scheme: no digest, EVP_DigestSign over the whole message.
  if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, nullptr, nullptr, key) != 1 ||
      EVP_DigestSign(ctx.get(), nullptr, &len, reinterpret_cast<const uint8_t*>(msg.data()),
                     msg.size()) != 1) {
    *err = "cannot sign checkpoint: " + opensslError();
    return false;
  }
  std::vector<uint8_t> sig(len);
  if (EVP_DigestSign(ctx.get(), sig.data(), &len, reinterpret_cast<const uint8_t*>(msg.data()),
                     msg.size()) != 1) {
    *err = "cannot sign checkpoint: " + opensslError();
    return false;
  }
  *sig_hex = toHex({sig.data(), len});
  return true;
}

bool verifyHex(EVP_PKEY* key, std::string_view msg, std::string_view sig_hex) {
  if (sig_hex.size() % 2 != 0 || sig_hex.size() > 1024) return false;
  std::vector<uint8_t> sig(sig_hex.size() / 2);
  for (size_t i = 0; i < sig.size(); ++i) {
    const int hi = hexVal(sig_hex[2 * i]);
    const int lo = hexVal(sig_hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return false;
    sig[i] = static_cast<uint8_t>(hi << 4 | lo);
  }
  std::unique_ptr<EVP_MD_CTX, MdCtxFree> ctx(EVP_MD_CTX_new());
  const bool ok = ctx && EVP_DigestVerifyInit(ctx.get(), nullptr, nullptr, nullptr, key) == 1 &&
                  EVP_DigestVerify(ctx.get(), sig.data(), sig.size(),
                                   reinterpret_cast<const uint8_t*>(msg.data()), msg.size()) == 1;
  ERR_clear_error();
  return ok;
}

}  // namespace cordon::evidence

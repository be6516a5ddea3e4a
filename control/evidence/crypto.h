#pragma once
// The ledger's cryptography, through OpenSSL's EVP API: SHA-256, and Ed25519 keys in PEM
// (as `openssl genpkey -algorithm ed25519` writes them) for signing and verifying
// checkpoints. Every function reports failure through its return value and *err.

#include <openssl/evp.h>

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

namespace cordon::evidence {

constexpr size_t kSha256Len = 32;
constexpr size_t kSha256HexLen = 64;

struct PKeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
using PKey = std::unique_ptr<EVP_PKEY, PKeyFree>;

// Lowercase hex of `bytes`.
std::string toHex(std::span<const uint8_t> bytes);
// True when `s` is exactly `len` lowercase hex digits.
bool isLowerHex(std::string_view s, size_t len);

// SHA-256 of `data` as 64 lowercase hex digits.
std::string sha256Hex(std::span<const uint8_t> data);
std::string sha256Hex(std::string_view data);

// Incremental SHA-256 (for files).
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;
  void update(const void* data, size_t len);
  std::string finalHex();

 private:
  EVP_MD_CTX* ctx_;
};

// Loads an Ed25519 private key from a PEM file. nullptr with *err naming the file and the
// reason (cannot read, not PEM, not a private key, not Ed25519).
PKey loadPrivateKey(const std::string& path, std::string* err);
// Loads an Ed25519 public key from a PEM file holding a public key (or a private key, whose
// public half is used).
PKey loadPublicKey(const std::string& path, std::string* err);
// The key's public half as a PEM "PUBLIC KEY" block.
std::string publicKeyPem(EVP_PKEY* key);
// The pin of a key: SHA-256 (hex) of its DER SubjectPublicKeyInfo, i.e. of
// `openssl pkey -pubout -outform DER`.
std::string keyFingerprint(EVP_PKEY* key);

// Ed25519 signature of `msg` as 128 hex digits. False with *err on an OpenSSL failure.
bool signHex(EVP_PKEY* key, std::string_view msg, std::string* sig_hex, std::string* err);
// True when `sig_hex` is a valid Ed25519 signature of `msg` by `key`.
bool verifyHex(EVP_PKEY* key, std::string_view msg, std::string_view sig_hex);

}  // namespace cordon::evidence

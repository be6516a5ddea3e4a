#pragma once
// Detached Ed25519 signatures over feed bytes, checked with OpenSSL before a feed is used
// (RFC 8032 section 5.1 "pure" Ed25519: the signature covers the exact bytes, no pre-hash),
// plus the SHA-256 digests the feed cache records. Control plane only.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

typedef struct evp_pkey_st EVP_PKEY;

namespace cordon::feed {

// RFC 8032 section 5.1.6: an Ed25519 signature is 64 bytes.
inline constexpr size_t kEd25519SignatureBytes = 64;
// A signature file is 64 raw bytes or their base64 (88 characters) plus whitespace; anything
// larger is not a signature and is not read further.
inline constexpr size_t kMaxSignatureFileBytes = 4096;

// An Ed25519 public key loaded from PEM (`openssl genpkey -algorithm ed25519 -out k.pem`,
// `openssl pkey -in k.pem -pubout -out k.pub`).
class PublicKey {
 public:
  // nullptr with *err ("path: reason") for an unreadable file, bad PEM or another key type.
  static std::unique_ptr<PublicKey> load(const std::string& pem_path, std::string* err);
  ~PublicKey();
  PublicKey(const PublicKey&) = delete;
  PublicKey& operator=(const PublicKey&) = delete;

  // SHA-256 (hex) of the raw 32-byte public key: names the key in status and cache metadata.
  const std::string& fingerprint() const { return fingerprint_; }
  // True when `sig` (64 bytes) is this key's signature over exactly `data`.
  bool verify(std::string_view data, std::string_view sig) const;

 private:
  PublicKey(EVP_PKEY* key, std::string fingerprint)
      : key_(key), fingerprint_(std::move(fingerprint)) {}
  EVP_PKEY* key_;
  std::string fingerprint_;
};

// Decodes a detached signature file: exactly 64 bytes are the raw signature; anything else
// must be base64 (standard alphabet, padding optional, whitespace ignored) of 64 bytes.
// False with *err otherwise.
bool decodeSignature(std::string_view file_bytes, std::string* sig, std::string* err);

// Base64 (standard alphabet, padded) of `bytes`: how the cache metadata keeps a signature.
std::string base64Encode(std::string_view bytes);
// Standard-alphabet base64, padding optional, ASCII whitespace ignored. False on other bytes.
bool base64Decode(std::string_view text, std::string* out);

std::string sha256Hex(std::string_view data);

// A whole file mapped read-only (Ed25519 is one-shot: OpenSSL needs the message in memory).
class MappedFile {
 public:
  MappedFile() = default;
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  // False with *err ("path: reason"). An empty file maps to an empty view.
  bool open(const std::string& path, std::string* err);
  std::string_view view() const { return {static_cast<const char*>(data_), size_}; }

 private:
  void* data_ = nullptr;
  size_t size_ = 0;
};

}  // namespace cordon::feed

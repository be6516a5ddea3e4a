#pragma once
// Helpers for the evidence tests: a scratch directory, Ed25519 keys written as PEM, a fake
// clock, and line-level access to ledger files for tampering.

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "control/evidence/ledger.h"

namespace cordon::evidence::testing {

namespace fs = std::filesystem;

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "cordon-evidence-XXXXXX").string();
    path_ = ::mkdtemp(tmpl.data());
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }
  std::string sub(const std::string& name) const { return (fs::path(path_) / name).string(); }

 private:
  std::string path_;
};

// Writes a fresh Ed25519 private key (PKCS#8 PEM, as openssl genpkey writes) to `path`.
inline void writeKey(const std::string& path, const char* type = "ED25519") {
  EVP_PKEY* k = EVP_PKEY_Q_keygen(nullptr, nullptr, type);
  FILE* f = std::fopen(path.c_str(), "w");
  PEM_write_PrivateKey(f, k, nullptr, nullptr, 0, nullptr, nullptr);
  std::fclose(f);
  EVP_PKEY_free(k);
}

inline void writeRsaKey(const std::string& path) {
  EVP_PKEY* k = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<size_t>(1024));
  FILE* f = std::fopen(path.c_str(), "w");
  PEM_write_PrivateKey(f, k, nullptr, nullptr, 0, nullptr, nullptr);
  std::fclose(f);
  EVP_PKEY_free(k);
}

inline std::string readAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline void writeAll(const std::string& path, const std::string& data) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << data;
}

// Lines of a file, without their newlines (a final partial line is kept as is).
inline std::vector<std::string> readLines(const std::string& path) {
  std::vector<std::string> lines;
  std::istringstream in(readAll(path));
  std::string l;
  while (std::getline(in, l)) lines.push_back(l);
  return lines;
}

inline void writeLines(const std::string& path, const std::vector<std::string>& lines) {
  std::string s;
  for (const auto& l : lines) s += l + "\n";
  writeAll(path, s);
}

// A settable clock starting at 2026-11-23T20:00:00Z.
struct FakeClock {
  uint64_t ns = 1795464000ull * 1000000000ull;
  std::function<uint64_t()> fn() {
    return [this] { return ns; };
  }
};

// An EVE event line for rule reference `ref`.
inline std::string eventJson(int i, const std::string& ref = "court-2026-17") {
  return "{\"timestamp\":\"2026-11-23T20:00:00.000000Z\",\"event_type\":\"block\","
         "\"action\":\"reset\",\"app_proto\":\"tls\",\"proto\":\"TCP\",\"src_ip\":\"198.51.100.7\","
         "\"src_port\":" +
         std::to_string(40000 + i) +
         ",\"dest_ip\":\"203.0.113.10\",\"dest_port\":443,\"host\":\"www" + std::to_string(i) +
         ".example.com\",\"rule\":{\"pattern\":\"example.com\",\"list\":\"court\",\"id\":\"r-1\","
         "\"ref\":\"" +
         ref + "\"}}";
}

}  // namespace cordon::evidence::testing

#pragma once
// Blacklist feed fetching (control/feed/FEEDS.md): file://, http:// and https:// through
// libcurl, conditional requests (ETag / Last-Modified; file mtime and size for file://), size
// and time limits, an optional detached Ed25519 signature, a content check, and an on-disk
// "last good copy" that only a complete, verified body ever replaces.
//
// Cache layout in FeedSource::cache_dir, per feed:
//   <name>.data   the last good copy, byte for byte as served (the rule compiler reads it)
//   <name>.meta   url, validators, sha256, size, fetch time, key fingerprint and signature
// Both are written to a temporary file, fsynced and renamed into place (data first).

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace cordon::feed {

// Default cap on a feed body: larger transfers are aborted (the rule compiler reads YAML
// feeds whole up to rules::kMaxYamlFeedBytes, the same 256 MiB).
inline constexpr uint64_t kDefaultMaxBytes = uint64_t{256} << 20;
inline constexpr uint32_t kDefaultTimeoutS = 60;
inline constexpr uint32_t kDefaultRefreshS = 300;
// Redirects followed (http/https only: a redirect can never reach file://).
inline constexpr long kMaxRedirects = 5;

// Checks a complete, signature-verified candidate (a file) before it becomes the last good
// copy, e.g. by parsing it as a rule list. False with *err: the candidate is discarded.
using FeedValidator = std::function<bool(const std::string& path, std::string* err)>;

// How to reach an http(s) feed server that is not public: a private CA, a client
// certificate (mutual TLS), extra request headers (an API token). Paths are absolute.
struct HttpAccess {
  std::string ca_file;      // PEM bundle to verify the server with, instead of the system's
  std::string client_cert;  // PEM client certificate (may hold the key too)
  std::string client_key;   // PEM private key of client_cert; "" = in client_cert
  // "Name: value" lines ('#' comments, blank lines ignored), read at every fetch so that a
  // rotated token needs no restart; keep it mode 0600. Sent on the feed and signature
  // requests; libcurl drops them when a redirect leaves the host.
  std::string headers_file;
};

// Reads `path` as HttpAccess::headers_file. False with *err naming the line.
bool readHeadersFile(const std::string& path, std::vector<std::string>* headers, std::string* err);

struct FeedSource {
  std::string name;  // names the cache files: [A-Za-z0-9._-], no leading '.'
  std::string url;   // file:///abs/path, http://..., https://...
  HttpAccess access;
  uint32_t refresh_s = kDefaultRefreshS;
  std::string pubkey_path;  // Ed25519 public key PEM; "" = signatures are not checked
  std::string sig_url;      // detached signature; "" with a pubkey = url + ".sig"
  uint64_t max_bytes = kDefaultMaxBytes;
  uint32_t timeout_s = kDefaultTimeoutS;  // whole transfer (connect included)
  std::string cache_dir;
  FeedValidator validate;  // optional content check after the signature

  std::string dataPath() const { return cache_dir + "/" + name + ".data"; }
  std::string metaPath() const { return cache_dir + "/" + name + ".meta"; }
  std::string signatureUrl() const { return sig_url.empty() ? url + ".sig" : sig_url; }
};

// What <name>.meta records about the last good copy.
struct CacheMeta {
  std::string url;
  std::string etag;           // http: the ETag header, sent back as If-None-Match
  std::string last_modified;  // http: Last-Modified, sent back as If-Modified-Since
  std::string sha256;         // hex, of <name>.data
  uint64_t bytes = 0;
  int64_t fetched_at = 0;        // Unix seconds: when this copy was fetched
  int64_t source_mtime_ns = -1;  // file://: the source's mtime and size when copied
  int64_t source_size = -1;
  std::string key;        // fingerprint of the key that verified it ("" = unsigned)
  std::string signature;  // base64 of the detached signature ("" = unsigned)
};

enum class FetchStatus {
  kUpdated,      // a new copy was verified and replaced the last good one
  kNotModified,  // the source is unchanged (304, same mtime/size, or same sha256)
  kFailed,       // nothing changed on disk; `error` says why
};
std::string_view fetchStatusName(FetchStatus s);  // "updated", "not_modified", "failed"

struct FetchResult {
  FetchStatus status = FetchStatus::kFailed;
  std::string error;      // kFailed: "feed 'name': URL: reason"
  std::string path;       // the last good copy after this fetch; "" when there is none
  CacheMeta meta;         // of that copy (valid when `path` is set)
  long http_status = 0;   // of the feed request (0: file:// or no response)
  uint64_t received = 0;  // body bytes received by this fetch
};

class FeedFetcher {
 public:
  // `cancel` (optional): when it turns true, a running transfer is aborted (shutdown).
  explicit FeedFetcher(const std::atomic<bool>* cancel = nullptr) : cancel_(cancel) {}

  // Fetches `src` once. Never throws; a failure leaves the last good copy untouched.
  // `unconditional`: ignore the cached validators (no If-None-Match / If-Modified-Since, no
  // mtime shortcut, no same-sha256 shortcut), e.g. when the cached copy failed lastGood().
  FetchResult fetch(const FeedSource& src, bool unconditional = false) const;

  // The last good copy without fetching: the metadata must match `src.url`, the data its
  // sha256, and, with a pubkey, the kept signature must verify with that key. False with
  // *err ("feed 'name': ...") when there is no usable copy.
  static bool lastGood(const FeedSource& src, FetchResult* out, std::string* err);

 private:
  const std::atomic<bool>* cancel_;
};

// Reads and writes <name>.meta ("key=value" lines). readMeta: false when absent/unreadable.
bool readMeta(const std::string& path, CacheMeta* meta);
bool writeMetaAtomic(const std::string& path, const CacheMeta& meta, std::string* err);

}  // namespace cordon::feed

#include "control/feed/fetcher.h"

#include <curl/curl.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <mutex>
#include <vector>

#include "control/feed/signature.h"
#include "control/sync_dir.h"

namespace cordon::feed {
namespace {

constexpr const char* kUserAgent = "cordon-feed/1";
// Connecting is bounded separately so a black-holed server fails fast even with a long
// transfer timeout.
constexpr long kMaxConnectTimeoutS = 30;

void curlGlobalInit() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

int64_t unixNow() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

bool startsWith(std::string_view s, std::string_view p) {
  return s.substr(0, p.size()) == p;
}

bool iequalsPrefix(std::string_view s, std::string_view p) {
  if (s.size() < p.size()) return false;
  for (size_t i = 0; i < p.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(s[i])) != p[i]) return false;
  }
  return true;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() &&
         (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n')) {
    s.remove_suffix(1);
  }
  return s;
}

std::string oneLine(std::string_view s) {
  std::string out(s);
  std::replace_if(
      out.begin(), out.end(), [](char c) { return c == '\r' || c == '\n'; }, ' ');
  return out;
}

// file:///abs/path or file://localhost/abs/path, percent-decoded. "" when not a local path.
std::string filePath(const std::string& url) {
  std::string_view rest = std::string_view(url).substr(7);  // after "file://"
  if (startsWith(rest, "localhost/")) rest.remove_prefix(9);
  if (!startsWith(rest, "/")) return "";
  std::string out;
  for (size_t i = 0; i < rest.size(); ++i) {
    if (rest[i] == '%' && i + 2 < rest.size() &&
        std::isxdigit(static_cast<unsigned char>(rest[i + 1])) &&
        std::isxdigit(static_cast<unsigned char>(rest[i + 2]))) {
      out.push_back(static_cast<char>(std::stoi(std::string(rest.substr(i + 1, 2)), nullptr, 16)));
      i += 2;
    } else {
      out.push_back(rest[i]);
    }
  }
  return out;
}

bool isFileUrl(const std::string& url) {
  return startsWith(url, "file://");
}

// Where a body goes: a file descriptor (the feed) or memory (the signature), never past `cap`.
struct Sink {
  int fd = -1;
  std::string* mem = nullptr;
  uint64_t cap = 0;
  uint64_t got = 0;
  bool too_big = false;
  int io_errno = 0;

  bool put(const char* p, size_t len) {
    if (len > cap - got) {
      too_big = true;
      return false;
    }
    if (mem) {
      mem->append(p, len);
    } else {
      for (size_t off = 0; off < len;) {
        const ssize_t w = ::write(fd, p + off, len - off);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) {
          io_errno = w < 0 ? errno : EIO;
          return false;
        }
        off += static_cast<size_t>(w);
      }
    }
    got += len;
    return true;
  }
};

std::string tooBig(uint64_t cap) {
  return "body larger than max_bytes (" + std::to_string(cap) + " bytes); transfer aborted";
}

struct HttpReply {
  long status = 0;
  std::string etag, last_modified, content_type;
};

struct CurlCall {
  Sink* sink;
  HttpReply* reply;
  const std::atomic<bool>* cancel;
};

size_t onWrite(char* p, size_t size, size_t n, void* ud) {
  auto* c = static_cast<CurlCall*>(ud);
  return c->sink->put(p, size * n) ? size * n : 0;  // 0 aborts the transfer
}

size_t onHeader(char* p, size_t size, size_t n, void* ud) {
  auto* c = static_cast<CurlCall*>(ud);
  const std::string_view line = trim({p, size * n});
  if (startsWith(line, "HTTP/")) {  // a new response (after a redirect or 100 Continue)
    *c->reply = HttpReply{};
  } else if (iequalsPrefix(line, "etag:")) {
    c->reply->etag = std::string(trim(line.substr(5)));
  } else if (iequalsPrefix(line, "last-modified:")) {
    c->reply->last_modified = std::string(trim(line.substr(14)));
  } else if (iequalsPrefix(line, "content-type:")) {
    c->reply->content_type = std::string(trim(line.substr(13)));
  }
  return size * n;
}

int onProgress(void* ud, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  auto* c = static_cast<CurlCall*>(ud);
  return c->cancel && c->cancel->load(std::memory_order_relaxed) ? 1 : 0;
}

// GETs `url` into *sink. False with *err on transport failures; HTTP statuses are the
// caller's to judge (reply->status).
bool httpGet(const std::string& url, const HttpAccess& access, std::vector<std::string> headers,
             uint32_t timeout_s, const std::atomic<bool>* cancel, Sink* sink, HttpReply* reply,
             std::string* err) {
  if (!access.headers_file.empty() && !readHeadersFile(access.headers_file, &headers, err)) {
    return false;
  }
  curlGlobalInit();
  std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> h(curl_easy_init(), curl_easy_cleanup);
  if (!h) {
    *err = "cannot initialise libcurl";
    return false;
  }
  curl_slist* list = nullptr;
  for (const auto& hd : headers) list = curl_slist_append(list, hd.c_str());
  std::unique_ptr<curl_slist, decltype(&curl_slist_free_all)> list_guard(list, curl_slist_free_all);
  CurlCall call{sink, reply, cancel};
  char errbuf[CURL_ERROR_SIZE] = {0};
  CURL* c = h.get();
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);  // threads: no SIGALRM for DNS timeouts
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
  curl_easy_setopt(c, CURLOPT_MAXREDIRS, kMaxRedirects);
  curl_easy_setopt(c, CURLOPT_TIMEOUT, static_cast<long>(timeout_s));
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT,
                   std::min<long>(static_cast<long>(timeout_s), kMaxConnectTimeoutS));
  // A declared length over the cap fails before any byte; chunked and compressed bodies
  // are capped by Sink::put (the decoded size counts).
  curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, static_cast<curl_off_t>(sink->cap));
  curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, "");
  curl_easy_setopt(c, CURLOPT_USERAGENT, kUserAgent);
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, list);
  if (!access.ca_file.empty()) curl_easy_setopt(c, CURLOPT_CAINFO, access.ca_file.c_str());
  if (!access.client_cert.empty()) {
    curl_easy_setopt(c, CURLOPT_SSLCERT, access.client_cert.c_str());
    if (!access.client_key.empty()) curl_easy_setopt(c, CURLOPT_SSLKEY, access.client_key.c_str());
  }
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, onWrite);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &call);
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, onHeader);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, &call);
  curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, onProgress);
  curl_easy_setopt(c, CURLOPT_XFERINFODATA, &call);
  curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
  const CURLcode rc = curl_easy_perform(c);
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &reply->status);
  if (rc == CURLE_OK) return true;
  if (sink->too_big || rc == CURLE_FILESIZE_EXCEEDED) {
    *err = tooBig(sink->cap);
  } else if (sink->io_errno) {
    *err = std::string("cannot write the cache: ") + std::strerror(sink->io_errno);
  } else if (rc == CURLE_OPERATION_TIMEDOUT) {
    *err = "timed out after " + std::to_string(timeout_s) + " s (" + std::to_string(sink->got) +
           " bytes received)";
  } else if (rc == CURLE_ABORTED_BY_CALLBACK) {
    *err = "cancelled";
  } else {
    *err = errbuf[0] ? oneLine(errbuf) : curl_easy_strerror(rc);
  }
  return false;
}

// Copies a local file into *sink. False with *err.
bool fileGet(const std::string& path, const std::atomic<bool>* cancel, Sink* sink,
             std::string* err) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    *err = std::strerror(errno);
    return false;
  }
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    *err = "not a regular file";
    ::close(fd);
    return false;
  }
  if (static_cast<uint64_t>(st.st_size) > sink->cap) {
    ::close(fd);
    *err = tooBig(sink->cap);
    return false;
  }
  char buf[1 << 16];
  for (;;) {
    if (cancel && cancel->load(std::memory_order_relaxed)) {
      *err = "cancelled";
      break;
    }
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      *err = std::strerror(errno);
      break;
    }
    if (n == 0) {
      ::close(fd);
      return true;
    }
    if (!sink->put(buf, static_cast<size_t>(n))) {  // the file grew past the cap while read
      *err = sink->too_big
                 ? tooBig(sink->cap)
                 : std::string("cannot write the cache: ") + std::strerror(sink->io_errno);
      break;
    }
  }
  ::close(fd);
  return false;
}

// The detached signature at `url` (file:// or http(s)://), raw bytes. False with *err.
bool fetchSignature(const std::string& url, const HttpAccess& access, uint32_t timeout_s,
                    const std::atomic<bool>* cancel, std::string* out, std::string* err) {
  Sink sink;
  sink.mem = out;
  sink.cap = kMaxSignatureFileBytes;
  std::string why;
  if (isFileUrl(url)) {
    const std::string p = filePath(url);
    if (p.empty()) {
      why = "not a local file:/// URL";
    } else if (fileGet(p, cancel, &sink, &why)) {
      return true;
    }
  } else {
    HttpReply reply;
    if (httpGet(url, access, {}, timeout_s, cancel, &sink, &reply, &why)) {
      if (reply.status == 200) return true;
      why = "HTTP " + std::to_string(reply.status);
    }
  }
  if (sink.too_big) why = "larger than " + std::to_string(kMaxSignatureFileBytes) + " bytes";
  *err = "signature " + url + ": " + why;
  return false;
}

// Removes a temporary file unless it was renamed into place.
struct TempFile {
  std::string path;
  int fd = -1;
  bool keep = false;
  ~TempFile() {
    if (fd >= 0) ::close(fd);
    if (!keep && !path.empty()) ::unlink(path.c_str());
  }
};

// The first byte that is not whitespace or a UTF-8 byte order mark, or -1.
int firstMeaningfulByte(std::string_view s) {
  if (startsWith(s, "\xEF\xBB\xBF")) s.remove_prefix(3);
  for (char c : s) {
    if (c != ' ' && c != '\t' && c != '\r' && c != '\n' && c != '\f' && c != '\v') {
      return static_cast<unsigned char>(c);
    }
  }
  return -1;
}

bool htmlContentType(std::string_view ct) {
  return iequalsPrefix(ct, "text/html") || iequalsPrefix(ct, "application/xhtml");
}

}  // namespace

std::string_view fetchStatusName(FetchStatus s) {
  switch (s) {
    case FetchStatus::kUpdated:
      return "updated";
    case FetchStatus::kNotModified:
      return "not_modified";
    case FetchStatus::kFailed:
      return "failed";
  }
  return "failed";
}

bool readHeadersFile(const std::string& path, std::vector<std::string>* headers, std::string* err) {
  constexpr std::streamsize kMaxBytes = 64 << 10;
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    *err = "headers_file " + path + ": " + std::strerror(errno);
    return false;
  }
  std::string text(static_cast<size_t>(kMaxBytes) + 1, '\0');
  in.read(text.data(), kMaxBytes + 1);
  text.resize(static_cast<size_t>(in.gcount()));
  if (text.size() > static_cast<size_t>(kMaxBytes)) {
    *err = "headers_file " + path + ": larger than 64 KiB";
    return false;
  }
  const auto isTchar = [](unsigned char ch) {  // RFC 9110 section 5.6.2 token characters
    return std::isalnum(ch) || std::strchr("!#$%&'*+-.^_`|~", ch) != nullptr;
  };
  size_t line_no = 0;
  for (size_t pos = 0; pos < text.size();) {
    size_t end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    std::string_view line(text.data() + pos, end - pos);
    pos = end + 1;
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    const std::string_view t = trim(line);
    if (t.empty() || t.front() == '#') continue;
    const auto bad = [&](const std::string& why) {
      *err = "headers_file " + path + ":" + std::to_string(line_no) + ": " + why;
      return false;
    };
    const size_t colon = t.find(':');
    if (colon == std::string_view::npos || colon == 0) return bad("expected 'Name: value'");
    const std::string_view name = t.substr(0, colon);
    if (!std::all_of(name.begin(), name.end(), [&](char ch) { return isTchar(ch); })) {
      return bad("invalid header name");
    }
    const std::string_view value = trim(t.substr(colon + 1));
    if (value.empty()) return bad("empty value");
    for (const char ch : value) {
      const auto u = static_cast<unsigned char>(ch);
      if ((u < 0x20 && ch != '\t') || u == 0x7f) return bad("control character in the value");
    }
    std::string lower(name);
    for (char& ch : lower) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    if (lower == "if-none-match" || lower == "if-modified-since" || lower == "host" ||
        lower == "content-length" || lower == "transfer-encoding") {
      return bad("header '" + std::string(name) + "' is set by cordon or libcurl");
    }
    headers->push_back(std::string(name) + ": " + std::string(value));
  }
  return true;
}

bool readMeta(const std::string& path, CacheMeta* meta) {
  std::ifstream in(path);
  if (!in) return false;
  *meta = CacheMeta{};
  std::string line;
  bool any = false;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    const size_t eq = line.find('=');
    if (eq == std::string::npos) return false;
    const std::string k = line.substr(0, eq), v = line.substr(eq + 1);
    try {
      if (k == "url")
        meta->url = v;
      else if (k == "etag")
        meta->etag = v;
      else if (k == "last_modified")
        meta->last_modified = v;
      else if (k == "sha256")
        meta->sha256 = v;
      else if (k == "bytes")
        meta->bytes = std::stoull(v);
      else if (k == "fetched_at")
        meta->fetched_at = std::stoll(v);
      else if (k == "source_mtime_ns")
        meta->source_mtime_ns = std::stoll(v);
      else if (k == "source_size")
        meta->source_size = std::stoll(v);
      else if (k == "key")
        meta->key = v;
      else if (k == "signature")
        meta->signature = v;
    } catch (const std::exception&) {
      return false;
    }
    any = true;
  }
  return any && !meta->url.empty() && meta->sha256.size() == 64;
}

bool writeMetaAtomic(const std::string& path, const CacheMeta& m, std::string* err) {
  TempFile tmp;
  const std::filesystem::path p(path);
  tmp.path = (p.parent_path() / ("." + p.filename().string() + ".tmp")).string();
  tmp.fd = ::open(tmp.path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (tmp.fd < 0) {
    *err = tmp.path + ": " + std::strerror(errno);
    return false;
  }
  const std::string text =
      "# cordon feed cache metadata (control/feed/FEEDS.md)\n"
      "url=" +
      oneLine(m.url) + "\netag=" + oneLine(m.etag) + "\nlast_modified=" + oneLine(m.last_modified) +
      "\nsha256=" + m.sha256 + "\nbytes=" + std::to_string(m.bytes) +
      "\nfetched_at=" + std::to_string(m.fetched_at) +
      "\nsource_mtime_ns=" + std::to_string(m.source_mtime_ns) +
      "\nsource_size=" + std::to_string(m.source_size) + "\nkey=" + m.key +
      "\nsignature=" + m.signature + "\n";
  Sink s;
  s.fd = tmp.fd;
  s.cap = text.size();
  if (!s.put(text.data(), text.size()) || ::fsync(tmp.fd) != 0) {
    *err = tmp.path + ": " + std::strerror(s.io_errno ? s.io_errno : errno);
    return false;
  }
  ::close(tmp.fd);
  tmp.fd = -1;
  if (::rename(tmp.path.c_str(), path.c_str()) != 0) {
    *err = path + ": " + std::strerror(errno);
    return false;
  }
  tmp.keep = true;
  return true;
}

bool FeedFetcher::lastGood(const FeedSource& src, FetchResult* out, std::string* err) {
  const std::string who = "feed '" + src.name + "': ";
  CacheMeta meta;
  if (!readMeta(src.metaPath(), &meta)) {
    *err = who + "no last good copy in " + src.cache_dir;
    return false;
  }
  if (meta.url != src.url) {
    *err = who + "the cached copy is of " + meta.url + ", not " + src.url;
    return false;
  }
  MappedFile data;
  std::string why;
  if (!data.open(src.dataPath(), &why)) {
    *err = who + "last good copy: " + why;
    return false;
  }
  if (data.view().size() != meta.bytes || sha256Hex(data.view()) != meta.sha256) {
    *err = who + "last good copy " + src.dataPath() + " does not match its metadata (sha256)";
    return false;
  }
  if (!src.pubkey_path.empty()) {
    std::unique_ptr<PublicKey> key = PublicKey::load(src.pubkey_path, &why);
    if (!key) {
      *err = who + why;
      return false;
    }
    std::string sig;
    if (meta.signature.empty() || !base64Decode(meta.signature, &sig) ||
        !key->verify(data.view(), sig)) {
      *err = who + "last good copy is not signed by " + src.pubkey_path;
      return false;
    }
  }
  out->path = src.dataPath();
  out->meta = meta;
  return true;
}

FetchResult FeedFetcher::fetch(const FeedSource& src, bool unconditional) const {
  FetchResult r;
  const bool is_file = isFileUrl(src.url);
  // The copy on disk before this fetch, as far as its metadata says (lastGood() checks more).
  CacheMeta cached;
  const bool have_cache = readMeta(src.metaPath(), &cached) && cached.url == src.url &&
                          std::filesystem::exists(src.dataPath());
  if (have_cache) {
    r.path = src.dataPath();
    r.meta = cached;
  }
  auto failed = [&](const std::string& why) {
    r.status = FetchStatus::kFailed;
    r.error = "feed '" + src.name + "': " + src.url + ": " + why;
    return r;
  };

  std::error_code ec;
  std::filesystem::create_directories(src.cache_dir, ec);
  if (ec) return failed("cannot create the cache directory " + src.cache_dir + ": " + ec.message());
  std::unique_ptr<PublicKey> key;
  std::string why;
  if (!src.pubkey_path.empty()) {
    key = PublicKey::load(src.pubkey_path, &why);
    if (!key) return failed(why);
  }
  // Conditional requests only against a copy verified with the key configured now.
  const bool conditional =
      !unconditional && have_cache && cached.key == (key ? key->fingerprint() : "");

  TempFile tmp;
  tmp.path = src.cache_dir + "/." + src.name + ".data.tmp";
  tmp.fd = ::open(tmp.path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (tmp.fd < 0) return failed(tmp.path + ": " + std::strerror(errno));
  Sink sink;
  sink.fd = tmp.fd;
  sink.cap = src.max_bytes;

  CacheMeta next;
  next.url = src.url;
  if (is_file) {
    const std::string path = filePath(src.url);
    if (path.empty()) return failed("not a local file:/// URL");
    struct stat st;
    if (::stat(path.c_str(), &st) != 0) return failed(std::strerror(errno));
    next.source_mtime_ns =
        static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
    next.source_size = st.st_size;
    if (conditional && cached.source_mtime_ns == next.source_mtime_ns &&
        cached.source_size == next.source_size) {
      r.status = FetchStatus::kNotModified;
      return r;
    }
    if (!fileGet(path, cancel_, &sink, &why)) {
      r.received = sink.got;
      return failed(why);
    }
  } else {
    std::vector<std::string> headers;
    if (conditional && !cached.etag.empty()) headers.push_back("If-None-Match: " + cached.etag);
    if (conditional && !cached.last_modified.empty()) {
      headers.push_back("If-Modified-Since: " + cached.last_modified);
    }
    HttpReply reply;
    const bool ok =
        httpGet(src.url, src.access, headers, src.timeout_s, cancel_, &sink, &reply, &why);
    r.http_status = reply.status;
    r.received = sink.got;
    if (!ok) return failed(why);
    if (reply.status == 304 && conditional) {
      r.status = FetchStatus::kNotModified;
      return r;
    }
    if (reply.status != 200) return failed("HTTP " + std::to_string(reply.status));
    if (htmlContentType(reply.content_type)) {
      return failed("HTML, not a rule list (Content-Type: " + reply.content_type + ")");
    }
    next.etag = reply.etag;
    next.last_modified = reply.last_modified;
  }
  r.received = sink.got;
  if (::fsync(tmp.fd) != 0) return failed(tmp.path + ": " + std::strerror(errno));
  ::close(tmp.fd);
  tmp.fd = -1;

  MappedFile body;
  if (!body.open(tmp.path, &why)) return failed(why);
  if (body.view().empty()) return failed("empty body (0 bytes), not a rule list");
  if (firstMeaningfulByte(body.view()) == '<') {
    return failed("HTML, not a rule list (the body starts with '<')");
  }
  if (key) {
    std::string sig_file, sig;
    if (!fetchSignature(src.signatureUrl(), src.access, src.timeout_s, cancel_, &sig_file, &why)) {
      return failed(why);
    }
    if (!decodeSignature(sig_file, &sig, &why))
      return failed("signature " + src.signatureUrl() + ": " + why);
    if (!key->verify(body.view(), sig)) {
      return failed("signature " + src.signatureUrl() + " does not verify with " + src.pubkey_path +
                    " (wrong key or altered feed)");
    }
    next.key = key->fingerprint();
    next.signature = base64Encode(sig);
  }
  if (src.validate && !src.validate(tmp.path, &why)) return failed(why);
  next.sha256 = sha256Hex(body.view());
  next.bytes = body.view().size();
  next.fetched_at = unixNow();

  if (conditional && cached.sha256 == next.sha256) {
    // Same bytes (a server without validators, or a touched file): keep the copy, refresh
    // the validators so the next request can be conditional.
    next.fetched_at = cached.fetched_at;
    if (!writeMetaAtomic(src.metaPath(), next, &why)) return failed(why);
    r.meta = next;
    r.status = FetchStatus::kNotModified;
    return r;
  }
  if (::rename(tmp.path.c_str(), src.dataPath().c_str()) != 0) {
    return failed(src.dataPath() + ": " + std::strerror(errno));
  }
  tmp.keep = true;
  if (!writeMetaAtomic(src.metaPath(), next, &why)) return failed(why);
  syncDir(src.cache_dir);
  r.status = FetchStatus::kUpdated;
  r.path = src.dataPath();
  r.meta = next;
  return r;
}

}  // namespace cordon::feed

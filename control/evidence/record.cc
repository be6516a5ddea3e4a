#include "control/evidence/record.h"

#include <cstdio>
#include <ctime>

#include "control/evidence/crypto.h"

namespace cordon::evidence {
namespace {

bool isTimeString(std::string_view s) {
  if (s.empty() || s.size() > 40) return false;
  for (const char c : s) {
    if (!((c >= '0' && c <= '9') || c == '-' || c == ':' || c == '.' || c == 'T' || c == 'Z')) {
      return false;
    }
  }
  return true;
}

bool isKnownType(std::string_view t) {
  return t == kTypeGenesis || t == kTypeOpen || t == kTypeEvent || t == kTypeCheckpoint;
}

std::string header(const RecordHeader& h) {
  std::string s = "{\"seq\":" + std::to_string(h.seq) + ",\"time\":\"" + h.time + "\",\"type\":\"" +
                  h.type + "\",\"prev\":\"" + h.prev + "\",";
  return s;
}

unsigned numberedName(std::string_view name, std::string_view prefix, std::string_view suffix) {
  if (name.size() != prefix.size() + 6 + suffix.size()) return 0;
  if (name.substr(0, prefix.size()) != prefix) return 0;
  if (name.substr(prefix.size() + 6) != suffix) return 0;
  unsigned v = 0;
  for (const char c : name.substr(prefix.size(), 6)) {
    if (c < '0' || c > '9') return 0;
    v = v * 10 + static_cast<unsigned>(c - '0');
  }
  return v;
}

std::string numbered(const char* prefix, unsigned index, const char* suffix) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%s%06u%s", prefix, index, suffix);
  return buf;
}

}  // namespace

std::string recordHash(const RecordHeader& h, std::string_view body_sha256) {
  std::string m(kFormatName);
  m += "\n" + std::to_string(h.seq) + "\n" + h.time + "\n" + h.type + "\n" + h.prev + "\n";
  m.append(body_sha256);
  m += "\n";
  return sha256Hex(m);
}

std::string checkpointMessage(std::string_view ledger_id, uint64_t seq, std::string_view time,
                              std::string_view prev, std::string_view reason) {
  std::string m(kFormatName);
  m += " checkpoint\n";
  m.append(ledger_id);
  m += "\n" + std::to_string(seq) + "\n";
  m.append(time);
  m += "\n";
  m.append(prev);
  m += "\n";
  m.append(reason);
  m += "\n";
  return m;
}

std::string formatLine(const RecordHeader& h, std::string_view body_json) {
  std::string s = header(h) + "\"body\":";
  s.append(body_json);
  s.push_back('}');
  return s;
}

std::string formatRedactedLine(const RecordHeader& h, std::string_view body_sha256) {
  std::string s = header(h) + "\"body_sha256\":\"";
  s.append(body_sha256);
  s += "\"}";
  return s;
}

std::string formatTime(uint64_t ns) {
  const time_t secs = static_cast<time_t>(ns / 1000000000ull);
  const unsigned micros = static_cast<unsigned>(ns % 1000000000ull / 1000);
  tm t{};
  gmtime_r(&secs, &t);
  char buf[80];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%06uZ", t.tm_year + 1900,
                t.tm_mon + 1, t.tm_mday, t.tm_hour, t.tm_min, t.tm_sec, micros);
  return buf;
}

bool parseRecordLine(std::string_view line, ParsedRecord* out, std::string* err) {
  std::string jerr;
  if (!json::parse(line, &out->root, &jerr)) {
    *err = "not valid JSON (" + jerr + ")";
    return false;
  }
  const json::Value& r = out->root;
  if (!r.isObject()) {
    *err = "not a JSON object";
    return false;
  }
  const json::Value* seq = r.get("seq");
  const json::Value* time = r.get("time");
  const json::Value* type = r.get("type");
  const json::Value* prev = r.get("prev");
  if (!seq || !seq->asU64(&out->header.seq)) {
    *err = "missing or bad 'seq'";
    return false;
  }
  if (!time || !time->isString() || !isTimeString(time->str)) {
    *err = "missing or bad 'time'";
    return false;
  }
  if (!type || !type->isString() || !isKnownType(type->str)) {
    *err = "missing or unknown 'type'";
    return false;
  }
  if (!prev || !prev->isString() || !isLowerHex(prev->str, kSha256HexLen)) {
    *err = "missing or bad 'prev'";
    return false;
  }
  out->header.time = time->str;
  out->header.type = type->str;
  out->header.prev = prev->str;
  const json::Value* body = r.get("body");
  const json::Value* body_sha = r.get("body_sha256");
  std::string canonical;
  if (body && !body_sha && body->isObject()) {
    out->body = body;
    out->redacted = false;
    out->body_sha256 = sha256Hex(body->raw);
    canonical = formatLine(out->header, body->raw);
  } else if (body_sha && !body && body_sha->isString() &&
             isLowerHex(body_sha->str, kSha256HexLen) && out->header.type == kTypeEvent) {
    out->body = nullptr;
    out->redacted = true;
    out->body_sha256 = body_sha->str;
    canonical = formatRedactedLine(out->header, out->body_sha256);
  } else {
    *err = "needs an object 'body' (or, redacted events only, 'body_sha256')";
    return false;
  }
  if (canonical != line) {
    *err = "not in canonical layout (fields reordered, added or reformatted)";
    return false;
  }
  return true;
}

std::string segmentName(unsigned index) {
  return numbered("ledger-", index, ".jsonl");
}
std::string packetsName(unsigned index) {
  return numbered("packets-", index, ".pcap");
}
unsigned segmentIndex(std::string_view name) {
  return numberedName(name, "ledger-", ".jsonl");
}
bool isPacketsName(std::string_view name) {
  return numberedName(name, "packets-", ".pcap") > 0;
}

}  // namespace cordon::evidence

#include "control/evidence/json.h"

#include <set>

namespace cordon::evidence::json {
namespace {

class Parser {
 public:
  explicit Parser(std::string_view t) : t_(t) {}

  bool parseDocument(Value* v, std::string* err) {
    skipWs();
    if (!parseValue(v, 0)) return fail(err);
    skipWs();
    if (p_ != t_.size()) {
      why_ = "trailing characters after the value";
      return fail(err);
    }
    return true;
  }

 private:
  bool fail(std::string* err) {
    if (err) *err = "offset " + std::to_string(p_) + ": " + why_;
    return false;
  }
  bool error(const char* why) {
    why_ = why;
    return false;
  }
  void skipWs() {
    while (p_ < t_.size() &&
           (t_[p_] == ' ' || t_[p_] == '\t' || t_[p_] == '\n' || t_[p_] == '\r')) {
      ++p_;
    }
  }
  bool literal(std::string_view word) {
    if (t_.substr(p_, word.size()) != word) return error("invalid literal");
    p_ += word.size();
    return true;
  }

  bool parseValue(Value* v, int depth) {
    if (depth > kMaxDepth) return error("nesting too deep");
    if (p_ >= t_.size()) return error("unexpected end of input");
    const size_t start = p_;
    bool ok = false;
    switch (t_[p_]) {
      case '{':
        v->kind = Value::Kind::kObject;
        ok = parseObject(v, depth);
        break;
      case '[':
        v->kind = Value::Kind::kArray;
        ok = parseArray(v, depth);
        break;
      case '"':
        v->kind = Value::Kind::kString;
        ok = parseString(&v->str);
        break;
      case 't':
        v->kind = Value::Kind::kBool;
        v->boolean = true;
        ok = literal("true");
        break;
      case 'f':
        v->kind = Value::Kind::kBool;
        ok = literal("false");
        break;
      case 'n':
        v->kind = Value::Kind::kNull;
        ok = literal("null");
        break;
      default:
        v->kind = Value::Kind::kNumber;
        ok = parseNumber();
    }
    if (ok) v->raw = t_.substr(start, p_ - start);
    return ok;
  }

  bool parseObject(Value* v, int depth) {
    ++p_;  // '{'
    skipWs();
    if (p_ < t_.size() && t_[p_] == '}') {
      ++p_;
      return true;
    }
    std::set<std::string> seen;
    while (true) {
      skipWs();
      if (p_ >= t_.size() || t_[p_] != '"') return error("expected a string key");
      std::string key;
      if (!parseString(&key)) return false;
      if (!seen.insert(key).second) return error("duplicate key");
      skipWs();
      if (p_ >= t_.size() || t_[p_] != ':') return error("expected ':'");
      ++p_;
      skipWs();
      Value member;
      if (!parseValue(&member, depth + 1)) return false;
      v->members.emplace_back(std::move(key), std::move(member));
      skipWs();
      if (p_ < t_.size() && t_[p_] == ',') {
        ++p_;
        continue;
      }
      if (p_ < t_.size() && t_[p_] == '}') {
        ++p_;
        return true;
      }
      return error("expected ',' or '}'");
    }
  }

  bool parseArray(Value* v, int depth) {
    ++p_;  // '['
    skipWs();
    if (p_ < t_.size() && t_[p_] == ']') {
      ++p_;
      return true;
    }
    while (true) {
      skipWs();
      Value item;
      if (!parseValue(&item, depth + 1)) return false;
      v->items.push_back(std::move(item));
      skipWs();
      if (p_ < t_.size() && t_[p_] == ',') {
        ++p_;
        continue;
      }
      if (p_ < t_.size() && t_[p_] == ']') {
        ++p_;
        return true;
      }
      return error("expected ',' or ']'");
    }
  }

  static int hexDigit(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  }

  bool readHex4(uint32_t* out) {
    if (p_ + 4 > t_.size()) return error("truncated \\u escape");
    uint32_t v = 0;
    for (int i = 0; i < 4; ++i) {
      const int d = hexDigit(t_[p_ + i]);
      if (d < 0) return error("bad \\u escape");
      v = v << 4 | static_cast<uint32_t>(d);
    }
    p_ += 4;
    *out = v;
    return true;
  }

  static void appendUtf8(uint32_t cp, std::string* out) {
    if (cp < 0x80) {
      out->push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
      out->push_back(static_cast<char>(0xc0 | cp >> 6));
      out->push_back(static_cast<char>(0x80 | (cp & 0x3f)));
    } else if (cp < 0x10000) {
      out->push_back(static_cast<char>(0xe0 | cp >> 12));
      out->push_back(static_cast<char>(0x80 | (cp >> 6 & 0x3f)));
      out->push_back(static_cast<char>(0x80 | (cp & 0x3f)));
    } else {
      out->push_back(static_cast<char>(0xf0 | cp >> 18));
      out->push_back(static_cast<char>(0x80 | (cp >> 12 & 0x3f)));
      out->push_back(static_cast<char>(0x80 | (cp >> 6 & 0x3f)));
      out->push_back(static_cast<char>(0x80 | (cp & 0x3f)));
    }
  }

  bool parseString(std::string* out) {
    ++p_;  // '"'
    while (true) {
      if (p_ >= t_.size()) return error("unterminated string");
      const char c = t_[p_++];
      if (c == '"') return true;
      if (static_cast<unsigned char>(c) < 0x20) return error("control character in string");
      if (c != '\\') {
        out->push_back(c);
        continue;
      }
      if (p_ >= t_.size()) return error("unterminated escape");
      const char e = t_[p_++];
      switch (e) {
        case '"':
        case '\\':
        case '/':
          out->push_back(e);
          break;
        case 'b':
          out->push_back('\b');
          break;
        case 'f':
          out->push_back('\f');
          break;
        case 'n':
          out->push_back('\n');
          break;
        case 'r':
          out->push_back('\r');
          break;
        case 't':
          out->push_back('\t');
          break;
        case 'u': {
          uint32_t cp = 0;
          if (!readHex4(&cp)) return false;
          if (cp >= 0xd800 && cp < 0xdc00) {  // a high surrogate needs its low half
            uint32_t lo = 0;
            if (t_.substr(p_, 2) != "\\u") return error("unpaired surrogate");
            p_ += 2;
            if (!readHex4(&lo)) return false;
            if (lo < 0xdc00 || lo >= 0xe000) return error("unpaired surrogate");
            cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
          } else if (cp >= 0xdc00 && cp < 0xe000) {
            return error("unpaired surrogate");
          }
          appendUtf8(cp, out);
          break;
        }
        default:
          return error("bad escape");
      }
    }
  }

  bool parseNumber() {
    const size_t start = p_;
    if (p_ < t_.size() && t_[p_] == '-') ++p_;
    auto digits = [&] {
      const size_t s = p_;
      while (p_ < t_.size() && t_[p_] >= '0' && t_[p_] <= '9') ++p_;
      return p_ - s;
    };
    const size_t int_start = p_;
    const size_t n = digits();
    if (n == 0) return error("unexpected character");
    if (n > 1 && t_[int_start] == '0') return error("leading zero in number");
    if (p_ < t_.size() && t_[p_] == '.') {
      ++p_;
      if (digits() == 0) return error("bad fraction");
    }
    if (p_ < t_.size() && (t_[p_] == 'e' || t_[p_] == 'E')) {
      ++p_;
      if (p_ < t_.size() && (t_[p_] == '+' || t_[p_] == '-')) ++p_;
      if (digits() == 0) return error("bad exponent");
    }
    return p_ > start;
  }

  std::string_view t_;
  size_t p_ = 0;
  const char* why_ = "invalid JSON";
};

}  // namespace

const Value* Value::get(std::string_view key) const {
  for (const auto& [k, v] : members) {
    if (k == key) return &v;
  }
  return nullptr;
}

bool Value::asU64(uint64_t* out) const {
  if (kind != Kind::kNumber || raw.empty() || raw.size() > 20) return false;
  uint64_t v = 0;
  for (const char c : raw) {
    if (c < '0' || c > '9') return false;
    const uint64_t d = static_cast<uint64_t>(c - '0');
    if (v > (UINT64_MAX - d) / 10) return false;
    v = v * 10 + d;
  }
  *out = v;
  return true;
}

bool parse(std::string_view text, Value* out, std::string* err) {
  *out = Value();
  return Parser(text).parseDocument(out, err);
}

}  // namespace cordon::evidence::json

namespace cordon::evidence::json {
std::string quote(std::string_view s) {
  static const char kHex[] = "0123456789abcdef";
  std::string out = "\"";
  for (const char ch : s) {
    const auto b = static_cast<unsigned char>(ch);
    if (b == '"' || b == '\\') {
      out.push_back('\\');
      out.push_back(ch);
    } else if (b < 0x20) {
      out.append("\\u00");
      out.push_back(kHex[b >> 4]);
      out.push_back(kHex[b & 15]);
    } else {
      out.push_back(ch);
    }
  }
  out.push_back('"');
  return out;
}
}  // namespace cordon::evidence::json

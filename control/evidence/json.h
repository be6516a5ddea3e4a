#pragma once
// A small strict JSON reader for the evidence ledger (RFC 8259). It keeps the exact input
// bytes of every value (`raw`), because record hashes are taken over the bytes as written,
// not over a re-serialisation. Duplicate object keys are rejected: a record with two "seq"
// keys must not mean different things to different readers.

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace cordon::evidence::json {

// Nesting cap: ledger records are at most four levels deep; 64 leaves room and bounds the
// recursion on hostile input.
constexpr int kMaxDepth = 64;

struct Value {
  enum class Kind { kNull, kBool, kNumber, kString, kObject, kArray };
  Kind kind = Kind::kNull;
  std::string_view raw;  // the value's bytes in the parsed text (valid while the text lives)
  std::string str;       // kString: the decoded string
  bool boolean = false;  // kBool
  std::vector<std::pair<std::string, Value>> members;  // kObject, in input order
  std::vector<Value> items;                            // kArray

  bool isObject() const { return kind == Kind::kObject; }
  bool isString() const { return kind == Kind::kString; }
  // The member named `key` of an object, or nullptr.
  const Value* get(std::string_view key) const;
  // A non-negative integer without sign, fraction or exponent that fits in 64 bits.
  bool asU64(uint64_t* out) const;
};

// Parses `text` as exactly one JSON value (surrounding whitespace allowed). On failure
// returns false and sets *err to "offset N: reason".
bool parse(std::string_view text, Value* out, std::string* err);

}  // namespace cordon::evidence::json

namespace cordon::evidence::json {
// `s` as a JSON string literal, with quotes.
std::string quote(std::string_view s);
}  // namespace cordon::evidence::json

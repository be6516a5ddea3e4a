// Entry fields shared by the CSV and feed readers: action, validity window, pattern.

#include "rules/formats/reader.h"

namespace cordon::rules::fmt {

// Applies an entry `action` value. False (with *why) when unknown.
bool applyAction(std::string_view value, Entry* e, std::string* why) {
  const std::string v = lowerCopy(trim(value));
  if (v.empty() || v == "block") return true;
  if (v == "monitor") {
    e->monitor = true;
  } else if (v == "allow" || v == "pass" || v == "exception") {
    e->rule.exception = true;
  } else if (v == "drop") {
    e->policy = RuleAction::kDrop;
  } else if (v == "nxdomain") {
    e->policy = RuleAction::kNxdomain;
  } else if (v == "nodata") {
    e->policy = RuleAction::kNodata;
  } else if (v == "sinkhole") {
    e->policy = RuleAction::kSinkhole;
  } else {
    *why = "unknown action " + quote(value) +
           " (block, monitor, allow, drop, nxdomain, nodata, sinkhole)";
    return false;
  }
  return true;
}

bool checkWindow(const Entry& e, std::string* why) {
  if (e.valid_from != kNoTimeBound && e.valid_until != kForever && e.valid_until <= e.valid_from) {
    *why = "valid_until is not after valid_from";
    return false;
  }
  return true;
}

// Parses one pattern in the native syntax into e->rule, keeping entry-level flags.
bool parsePattern(std::string_view text, Entry* e, std::string* why) {
  const bool exception = e->rule.exception;
  switch (parseRuleLine(text, &e->rule, why)) {
    case LineResult::kEmpty:
      *why = "empty pattern";
      return false;
    case LineResult::kError:
      return false;
    case LineResult::kRule:
      e->rule.exception = e->rule.exception || exception;
      return true;
  }
  return false;
}

}  // namespace cordon::rules::fmt

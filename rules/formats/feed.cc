// Format "feed": the native feed, a YAML document or JSON lines of entries with id,
// pattern(s), action, reference, rights holder, category and validity window.

#include "rules/formats/reader.h"

#include <yaml-cpp/yaml.h>
#include <nlohmann/json.hpp>

#include <tuple>

namespace cordon::rules::fmt {
namespace {

uint32_t markLine(const YAML::Node& n, uint32_t fallback) {
  const YAML::Mark m = n.Mark();
  return m.line >= 0 ? static_cast<uint32_t>(m.line + 1) : fallback;
}

// A feed entry's fields as read from a YAML document or a JSON line; feedEntry() checks both
// the same way. JSON lines are parsed with nlohmann::json, not yaml-cpp: a million-entry feed
// then parses in about a second instead of ~25 s (yaml-cpp builds a node tree per line).
struct FeedValue {
  enum Kind : uint8_t { kScalar, kList, kOther };
  Kind kind = kOther;
  std::string text;                                     // kScalar
  std::vector<std::pair<std::string, uint32_t>> items;  // kList: the items and their lines
  uint32_t bad_item = 0;  // kList: line of the first item that is not a scalar, or 0
  uint32_t line = 0;
};
struct FeedField {
  std::string key;
  uint32_t key_line = 0;
  FeedValue value;
};

// One feed entry. `is_map` false: the entry is not a mapping/object.
void feedEntry(bool is_map, uint32_t line, const std::vector<FeedField>& fields, EntrySink* sink) {
  if (!is_map) {
    sink->error(line, "feed entry must be a mapping");
    return;
  }
  Entry base;
  base.line = line;
  std::vector<std::pair<std::string, uint32_t>> patterns;
  const auto scalar = [&](const FeedValue& v, const std::string& key, std::string* out) {
    if (v.kind != FeedValue::kScalar) {
      sink->error(v.line, key + " must be a string");
      return false;
    }
    *out = v.text;
    return true;
  };
  std::string action;
  std::string a;
  std::string aaaa;
  for (const FeedField& f : fields) {
    const std::string& key = f.key;
    const FeedValue& v = f.value;
    std::string s;
    if (key == "id") {
      if (!scalar(v, key, &base.id)) return;
    } else if (key == "pattern") {
      if (!scalar(v, key, &s)) return;
      patterns.emplace_back(s, v.line);
    } else if (key == "patterns") {
      if (v.kind != FeedValue::kList) {
        sink->error(v.line, "patterns must be a list");
        return;
      }
      if (v.bad_item != 0) {
        sink->error(v.bad_item, "pattern must be a string");
        return;
      }
      patterns.insert(patterns.end(), v.items.begin(), v.items.end());
    } else if (key == "action") {
      if (!scalar(v, key, &action)) return;
    } else if (key == "reference" || key == "ref") {
      if (!scalar(v, key, &base.ref)) return;
    } else if (key == "rights_holder") {
      if (!scalar(v, key, &base.rights_holder)) return;
    } else if (key == "category") {
      if (!scalar(v, key, &base.category)) return;
    } else if (key == "valid_from" || key == "valid_until") {
      if (!scalar(v, key, &s)) return;
      if (!parseTime(s, key == "valid_from" ? &base.valid_from : &base.valid_until)) {
        sink->error(v.line, key + ": invalid time " + quote(s));
        return;
      }
    } else if (key == "a" || key == "aaaa") {
      if (!scalar(v, key, key == "a" ? &a : &aaaa)) return;
    } else {
      sink->error(f.key_line, "unknown key '" + key + "' in feed entry");
      return;
    }
  }
  std::string why;
  if (!applyAction(action, &base, &why) || !checkWindow(base, &why)) {
    sink->error(line, why);
    return;
  }
  for (const auto& [text, family, out] :
       {std::tuple{&a, 4, &base.sinkhole_a}, std::tuple{&aaaa, 6, &base.sinkhole_aaaa}}) {
    if (text->empty()) continue;
    if (!parseIp(*text, out) || out->family != family) {
      sink->error(line, "invalid sinkhole address " + quote(*text));
      return;
    }
  }
  if (base.policy == RuleAction::kSinkhole && !base.sinkhole_a.family &&
      !base.sinkhole_aaaa.family) {
    sink->error(line, "action sinkhole needs 'a' and/or 'aaaa'");
    return;
  }
  if ((base.sinkhole_a.family || base.sinkhole_aaaa.family) &&
      base.policy == RuleAction::kDefault) {
    base.policy = RuleAction::kSinkhole;
  }
  if (patterns.empty()) {
    sink->error(line, "feed entry without 'pattern' or 'patterns'");
    return;
  }
  for (const auto& [text, pline] : patterns) {
    Entry e = base;
    e.line = pline;
    if (!parsePattern(text, &e, &why)) {
      sink->error(pline, why);
      continue;
    }
    sink->entry(e);
  }
}

// A feed entry of a YAML document; lines from yaml-cpp's marks.
void yamlFeedEntry(const YAML::Node& n, EntrySink* sink) {
  const uint32_t line = markLine(n, 0);
  std::vector<FeedField> fields;
  if (n.IsMap()) {
    for (const auto& kv : n) {
      FeedField f;
      f.key = kv.first.as<std::string>();
      f.key_line = markLine(kv.first, line);
      const YAML::Node& v = kv.second;
      f.value.line = markLine(v, line);
      if (v.IsScalar()) {
        f.value.kind = FeedValue::kScalar;
        f.value.text = v.as<std::string>();
      } else if (v.IsSequence()) {
        f.value.kind = FeedValue::kList;
        for (const auto& item : v) {
          const uint32_t item_line = markLine(item, f.value.line);
          if (!item.IsScalar()) {
            if (f.value.bad_item == 0) f.value.bad_item = item_line;
            continue;
          }
          f.value.items.emplace_back(item.as<std::string>(), item_line);
        }
      }
      fields.push_back(std::move(f));
    }
  }
  feedEntry(n.IsMap(), line, fields, sink);
}

// A feed entry of a JSON line: every field reports the line's number. Numbers and booleans
// count as strings (as they do in the YAML form: `id: 17`).
void jsonFeedEntry(std::string_view text, uint32_t line, EntrySink* sink) {
  nlohmann::ordered_json j;
  try {
    j = nlohmann::ordered_json::parse(text);
  } catch (const nlohmann::json::parse_error& ex) {
    std::string msg = ex.what();  // "[json.exception.parse_error.101] parse error at ..."
    if (const size_t at = msg.find("] "); at != std::string::npos) msg.erase(0, at + 2);
    // "parse error at line 1, column 3: ..." -> "column 3: ..." (the line is the file's)
    if (const size_t at = msg.find("column "); at != std::string::npos) msg.erase(0, at);
    sink->error(line, "invalid JSON: " + msg);
    return;
  }
  const auto scalarText = [](const nlohmann::ordered_json& v, std::string* out) {
    if (v.is_string()) {
      *out = v.get<std::string>();
    } else if (v.is_number() || v.is_boolean()) {
      *out = v.dump();
    } else {
      return false;
    }
    return true;
  };
  std::vector<FeedField> fields;
  if (j.is_object()) {
    for (const auto& [key, v] : j.items()) {
      FeedField f;
      f.key = key;
      f.key_line = f.value.line = line;
      if (scalarText(v, &f.value.text)) {
        f.value.kind = FeedValue::kScalar;
      } else if (v.is_array()) {
        f.value.kind = FeedValue::kList;
        for (const auto& item : v) {
          std::string t;
          if (!scalarText(item, &t)) {
            f.value.bad_item = line;
            break;
          }
          f.value.items.emplace_back(std::move(t), line);
        }
      }
      fields.push_back(std::move(f));
    }
  }
  feedEntry(j.is_object(), line, fields, sink);
}

}  // namespace

void readFeed(LineReader& r, EntrySink* sink) {
  std::string_view line;
  // JSON lines when the first meaningful line is an object; a YAML document otherwise.
  std::string doc;
  bool json = false;
  bool decided = false;
  while (r.next(&line)) {
    const std::string_view t = trim(line);
    if (!decided) {
      if (t.empty() || t.front() == '#') {
        doc.append(line).push_back('\n');
        continue;
      }
      decided = true;
      json = t.front() == '{';
    }
    if (json) {
      if (t.empty() || t.front() == '#') continue;
      jsonFeedEntry(t, r.lineNo(), sink);
      continue;
    }
    if (doc.size() + line.size() + 1 > kMaxYamlFeedBytes) {
      sink->error(0, "YAML feed larger than " + std::to_string(kMaxYamlFeedBytes >> 20) +
                         " MiB (use JSON lines)");
      return;
    }
    doc.append(line).push_back('\n');
  }
  if (json || !decided) return;
  YAML::Node root;
  try {
    root = YAML::Load(doc);
  } catch (const YAML::Exception& ex) {
    sink->error(static_cast<uint32_t>(ex.mark.line + 1), ex.msg);
    return;
  }
  try {
    YAML::Node entries = root;
    if (root.IsMap()) {
      for (const auto& kv : root) {
        const std::string key = kv.first.as<std::string>();
        if (key != "entries" && key != "version" && key != "feed" && key != "name" &&
            key != "generated") {
          sink->error(markLine(kv.first, 0), "unknown key '" + key + "' in feed");
          return;
        }
      }
      entries = root["entries"];
    }
    if (!entries || entries.IsNull()) return;
    if (!entries.IsSequence()) {
      sink->error(markLine(entries, 0), "feed entries must be a list");
      return;
    }
    for (const auto& e : entries) yamlFeedEntry(e, sink);
  } catch (const YAML::Exception& ex) {
    sink->error(static_cast<uint32_t>(ex.mark.line + 1), ex.msg);
  }
}

}  // namespace cordon::rules::fmt

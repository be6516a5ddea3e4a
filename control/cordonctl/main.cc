// cordonctl: the operator's tool (ARCHITECTURE.md "Binaries and flags").
//
//   cordonctl check [--config FILE | --rules LIST... | --snapshot FILE] NAME-or-URL
//   cordonctl check [...] --names FILE|-      (one decision per line)
//   cordonctl compile LIST...
//
// Exit codes follow grep: `check` exits 0 when the name or URL would be blocked or
// redirected, 1 when it passes (no rule, an exception, or a monitor rule), 2 on error.
// `compile` exits 0 when every list is valid, 2 otherwise. Errors go to stderr as
// "file:line: reason".

#include <boost/program_options.hpp>

#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include "control/config.h"
#include "control/cordonctl/daemon_commands.h"
#include "control/evidence/cli.h"
#include "rules/compiler.h"
#include "rules/formats.h"
#include "rules/list_parser.h"
#include "rules/normalize.h"
#include "rules/snapshot.h"

namespace po = boost::program_options;

namespace cordon {
namespace {

constexpr int kExitBlocked = 0;
constexpr int kExitPasses = 1;
constexpr int kExitError = 2;

constexpr const char* kUsage =
    "usage: cordonctl [--help] COMMAND [ARGS]\n"
    "\n"
    "commands:\n"
    "  check [--config FILE | --rules LIST... | --snapshot FILE] NAME-or-URL\n"
    "                      which rule decides a host name, URL or IP, and why others lost\n"
    "  check [...] --names FILE|-\n"
    "                      the decision for every line of FILE, one tab-separated line each\n"
    "  compile LIST... [-o SNAPSHOT]\n"
    "                      validate rule lists; write a snapshot cordond loads as is\n"
    "\n"
    "talking to a running cordond (--socket PATH, default /run/cordon/cordon.sock;\n"
    "--json prints the daemon's JSON answer):\n"
    "  status              rule version, lists, last reload result, uptime\n"
    "  stats               counters per worker and port, event totals\n"
    "  hits                enforcement events per list and per rule\n"
    "  reload              recompile the rule lists now; exit 1 when they are rejected\n"
    "  events [--follow]   the last 100 events (and every new one with --follow)\n"
    "  top [--iterations N]  live view of rates, refreshed every second\n"
    "\n"
    "Run 'cordonctl COMMAND --help' for the options of one command.\n";

constexpr const char* kCheckUsage =
    "usage: cordonctl check [--config FILE | --rules LIST... | --snapshot FILE] NAME-or-URL\n"
    "\n"
    "Matches one query against the rule lists (or a compiled snapshot) and prints the\n"
    "deciding rule, its list, id, reference, source file:line and the action, then every\n"
    "other rule that matches and why it lost (precedence: rules/PRECEDENCE.md). NAME is a host "
    "name as a DNS query or TLS SNI would\n"
    "carry it (case, a trailing dot, a :port and IDN U-labels are normalised); a URL\n"
    "(http://host/path?query or https://...) is matched as an HTTP request; an IP address is\n"
    "matched against IP/CIDR rules.\n"
    "\n"
    "With --names FILE (- for stdin) every line of FILE is a query (blank lines and lines\n"
    "starting with # are skipped) and one line is printed per query, tab-separated:\n"
    "  QUERY  ACTION  RULE-ID  LIST  PATTERN\n"
    "ACTION is block, monitor, exception, pass or invalid (then the reason follows instead of\n"
    "the rule); block may carry the rule's DNS policy as block:nxdomain, block:sinkhole, ...\n"
    "The rules are compiled (or loaded) once; 100,000 names then take under 0.1 s.\n"
    "\n"
    "exit status: 0 blocked or redirected (with --names: at least one query), 1 passes (no\n"
    "rule, exception or monitor list; with --names: none blocked), 2 error (bad list, bad\n"
    "config, bad arguments, unreadable --names file).\n";

constexpr const char* kCompileUsage =
    "usage: cordonctl compile LIST... [-o SNAPSHOT] [--format FORMAT] [--at TIME]\n"
    "\n"
    "Parses and compiles the rule lists (each named after its file stem, action block; the\n"
    "format of each is detected from its content unless --format is given: list, hosts,\n"
    "rpz, adguard, csv, feed). Prints every error as file:line: reason on stderr and exits\n"
    "2 if there is any; warnings (skipped syntax, duplicates) go to stderr too. Otherwise\n"
    "prints a one-line summary of the rules per kind, writes the snapshot to SNAPSHOT when\n"
    "-o is given (cordond and 'check --snapshot' load it without compiling), and exits 0.\n";

void printErrors(const std::vector<std::string>& errors) {
  for (const std::string& e : errors) std::cerr << e << "\n";
}

bool startsWithNoCase(const std::string& s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(s[i])) != prefix[i]) return false;
  }
  return true;
}

// A query for `check`, normalised like the dataplane normalises traffic.
struct Query {
  enum Kind { kHost, kUrl, kIp } kind = kHost;
  std::string host;
  std::string path_query;
  IpAddr ip;
  std::string shown;  // the normalised query, for output
};

bool parseQuery(const std::string& text, Query* q, std::string* error) {
  if (parseIp(text, &q->ip)) {
    q->kind = Query::kIp;
    q->shown = ipToString(q->ip);
    return true;
  }
  std::string reason;
  if (startsWithNoCase(text, "http://") || startsWithNoCase(text, "https://")) {
    const size_t start = text.find("://") + 3;
    const size_t end = text.find_first_of("/?#", start);
    const std::string authority = text.substr(start, end == std::string::npos ? end : end - start);
    std::string target = end == std::string::npos ? "" : text.substr(end);
    if (!rules::canonicalHost(authority, &q->host, &reason)) {
      *error = "invalid host in URL '" + text + "'" + (reason.empty() ? "" : ": " + reason);
      return false;
    }
    char buf[rules::kMaxUrlPathLen + 1];
    q->path_query.assign(buf, rules::normalizeUrlPath(target, buf, sizeof buf));
    q->kind = Query::kUrl;
    q->shown = text.substr(0, start) + q->host + q->path_query;
    return true;
  }
  if (!rules::canonicalHost(text, &q->host, &reason)) {
    *error = "invalid host name '" + text + "'" + (reason.empty() ? "" : ": " + reason);
    return false;
  }
  q->kind = Query::kHost;
  q->shown = q->host;
  return true;
}

// --at TIME: the instant validity windows are evaluated for (default: now).
bool parseAt(const std::string& at, int64_t* out) {
  if (at.empty()) {
    *out = rules::kNoTimeBound;
    return true;
  }
  if (!rules::parseTime(at, out)) {
    std::cerr << "cordonctl: invalid --at time '" << at
              << "' (RFC 3339, YYYY-MM-DD or Unix seconds)\n";
    return false;
  }
  return true;
}

// Applies --format/--no-strict given on the command line to lists named with --rules.
bool applyListOptions(const std::string& format, bool lenient,
                      std::vector<rules::ListSource>* sources) {
  rules::ListFormat f = rules::ListFormat::kAuto;
  if (!format.empty() && !rules::parseFormatName(format, &f)) {
    std::cerr << "cordonctl: unknown --format '" << format
              << "' (auto, list, hosts, rpz, adguard, csv, feed)\n";
    return false;
  }
  for (rules::ListSource& s : *sources) {
    if (!format.empty()) s.format = f;
    if (lenient) s.strict = false;
  }
  return true;
}

void printWarnings(const rules::CompileStats& stats) {
  for (const std::string& w : stats.warnings) std::cerr << "warning: " << w << "\n";
}

std::string_view policyName(rules::RuleAction a) {
  switch (a) {
    case rules::RuleAction::kDefault:
      return "default";
    case rules::RuleAction::kDrop:
      return "drop";
    case rules::RuleAction::kNxdomain:
      return "nxdomain";
    case rules::RuleAction::kNodata:
      return "nodata";
    case rules::RuleAction::kSinkhole:
      return "sinkhole";
  }
  return "?";
}

std::string describeRule(const rules::Rule& r) {
  return std::string(r.exception ? "@@" : "") + std::string(r.pattern) + "  (list " +
         std::string(r.list()) + ", id " + std::string(r.id) + ", " + std::string(r.file()) + ":" +
         std::to_string(r.line) + ")";
}

// --names: one tab-separated decision per query line, matched the way the dataplane matches
// (no explanation). Returns kExitBlocked when any query is blocked.
int checkNames(const rules::Snapshot& snap, std::istream& in) {
  const auto scratch = snap.newScratch();
  bool any_blocked = false;
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    const size_t first = line.find_first_not_of(" \t");
    if (first == std::string::npos || line[first] == '#') continue;
    const size_t last = line.find_last_not_of(" \t");
    const std::string text = line.substr(first, last - first + 1);
    Query q;
    std::string error;
    if (!parseQuery(text, &q, &error)) {
      std::cout << text << "\tinvalid\t" << error << "\n";
      continue;
    }
    rules::Match m;
    switch (q.kind) {
      case Query::kHost:
        m = snap.matchHost(q.host, scratch.get());
        break;
      case Query::kUrl:
        m = snap.matchUrl(q.host, q.path_query, scratch.get());
        break;
      case Query::kIp:
        m = snap.matchIp(q.ip);
        break;
    }
    std::cout << text << "\t";
    if (!m.matched()) {
      std::cout << "pass\n";
      continue;
    }
    const rules::Rule& r = *m.rule;
    if (m.enforce()) {
      any_blocked = true;
      std::cout << "block";
      if (r.policy != rules::RuleAction::kDefault) std::cout << ":" << policyName(r.policy);
    } else {
      std::cout << (m.monitor() ? "monitor" : "exception");
    }
    std::cout << "\t" << r.id << "\t" << r.list() << "\t" << (r.exception ? "@@" : "") << r.pattern
              << "\n";
  }
  return any_blocked ? kExitBlocked : kExitPasses;
}

int runCheck(const std::vector<std::string>& args) {
  po::options_description opts("options");
  std::string config;
  std::string snapshot;
  std::string format;
  std::string at;
  std::string names;
  std::vector<std::string> lists;
  std::vector<std::string> positional;
  opts.add_options()("help,h", "show this help")(
      "config,c", po::value(&config)->value_name("FILE"),
      "take the rule lists (and their actions) from this cordond config")(
      "rules,r", po::value(&lists)->value_name("LIST")->composing(),
      "a rule list (repeatable); named after its file stem, action block")(
      "snapshot,s", po::value(&snapshot)->value_name("FILE"),
      "a snapshot written by 'cordonctl compile -o' instead of lists")(
      "format,f", po::value(&format)->value_name("FORMAT"),
      "format of the --rules lists (default: detected)")(
      "at", po::value(&at)->value_name("TIME"), "evaluate validity windows at TIME instead of now")(
      "names,n", po::value(&names)->value_name("FILE"),
      "check every line of FILE (- for stdin) instead of one query");
  po::options_description hidden;
  hidden.add_options()("query", po::value(&positional));
  po::options_description all;
  all.add(opts).add(hidden);
  po::positional_options_description pos;
  pos.add("query", -1);
  po::variables_map vm;
  po::store(po::command_line_parser(args).options(all).positional(pos).run(), vm);
  po::notify(vm);
  if (vm.count("help")) {
    std::cout << kCheckUsage << "\n" << opts;
    return 0;
  }
  if (positional.size() != (names.empty() ? 1u : 0u)) {
    std::cerr << (names.empty() ? "cordonctl check: expected one NAME-or-URL\n"
                                : "cordonctl check: --names takes the queries from a file, not "
                                  "the command line\n");
    return kExitError;
  }
  if (!config.empty() + !lists.empty() + !snapshot.empty() > 1) {
    std::cerr << "cordonctl check: give one of --config, --rules or --snapshot\n";
    return kExitError;
  }
  if (config.empty() && lists.empty() && snapshot.empty()) {
    std::cerr << "cordonctl check: no rules: give --config FILE, --rules LIST or --snapshot FILE\n";
    return kExitError;
  }
  rules::CompileOptions copts;
  if (!parseAt(at, &copts.now)) return kExitError;
  std::vector<rules::ListSource> sources;
  if (!config.empty()) {
    try {
      sources = loadConfig(config).rules;
    } catch (const ConfigError& e) {
      std::cerr << e.what() << "\n";
      return kExitError;
    }
  } else {
    for (const std::string& l : lists) sources.push_back(listFromPath(l));
    if (!applyListOptions(format, false, &sources)) return kExitError;
  }

  Query q;
  std::string error;
  if (names.empty() && !parseQuery(positional[0], &q, &error)) {
    std::cerr << "cordonctl check: " << error << "\n";
    return kExitError;
  }
  std::ifstream names_file;
  if (!names.empty() && names != "-") {
    names_file.open(names);
    if (!names_file) {
      std::cerr << "cordonctl check: cannot read " << names << ": " << std::strerror(errno) << "\n";
      return kExitError;
    }
  }
  std::shared_ptr<const rules::Snapshot> snap;
  if (!snapshot.empty()) {
    snap = rules::loadSnapshot(snapshot, &error);
    if (snap == nullptr) {
      std::cerr << error << "\n";
      return kExitError;
    }
  } else {
    std::vector<std::string> errors;
    rules::CompileStats stats;
    snap = rules::compileSnapshot(sources, &errors, &stats, copts);
    if (snap == nullptr) {
      printErrors(errors);
      return kExitError;
    }
  }
  if (!names.empty()) return checkNames(*snap, names == "-" ? std::cin : names_file);
  rules::Explanation ex;
  switch (q.kind) {
    case Query::kHost:
      ex = rules::explainHost(*snap, q.host);
      break;
    case Query::kUrl:
      ex = rules::explainUrl(*snap, q.host, q.path_query);
      break;
    case Query::kIp:
      ex = rules::explainIp(*snap, q.ip);
      break;
  }
  const rules::Match& m = ex.decision;
  std::cout << "query:  " << q.shown << "\n";
  const auto printOthers = [&ex]() {
    bool header = false;
    for (const rules::Candidate& c : ex.candidates) {
      if (c.lost_because.empty()) continue;
      if (!header) std::cout << "other matching rules:\n";
      header = true;
      std::cout << "  " << describeRule(*c.rule) << "\n    lost: " << c.lost_because << "\n";
    }
  };
  if (!m.matched()) {
    std::cout << "action: pass (no rule matched)\n";
    printOthers();
    return kExitPasses;
  }
  const rules::Rule& r = *m.rule;
  std::cout << "rule:   " << (r.exception ? "@@" : "") << r.pattern << "\n"
            << "kind:   " << rules::ruleKindName(r.kind) << (r.exception ? " exception" : "")
            << "\n"
            << "list:   " << r.list() << " ("
            << (r.action == rules::ListAction::kBlock ? "block" : "monitor") << ")\n"
            << "id:     " << r.id << "\n"
            << "source: " << r.file() << ":" << r.line << "\n";
  if (!r.ref.empty()) std::cout << "ref:    " << r.ref << "\n";
  if (r.meta != nullptr) {
    if (!r.meta->rights_holder.empty()) std::cout << "rights: " << r.meta->rights_holder << "\n";
    if (!r.meta->category.empty()) std::cout << "category: " << r.meta->category << "\n";
    if (r.meta->valid_from != rules::kNoTimeBound || r.meta->valid_until != rules::kForever) {
      std::cout << "valid:  from " << rules::formatTime(r.meta->valid_from) << " until "
                << rules::formatTime(r.meta->valid_until) << "\n";
    }
  }
  if (const IpAddr* a = r.sinkholeA()) std::cout << "sinkhole a:    " << ipToString(*a) << "\n";
  if (const IpAddr* a = r.sinkholeAaaa()) std::cout << "sinkhole aaaa: " << ipToString(*a) << "\n";
  if (m.enforce()) {
    std::cout << "action: block";
    if (r.policy != rules::RuleAction::kDefault) std::cout << " (" << policyName(r.policy) << ")";
    std::cout << "\n";
    printOthers();
    return kExitBlocked;
  }
  std::cout << "action: " << (m.monitor() ? "monitor" : "pass (exception)") << "\n";
  printOthers();
  return kExitPasses;
}

int runCompile(const std::vector<std::string>& args) {
  po::options_description opts("options");
  std::vector<std::string> lists;
  std::string output;
  std::string format;
  std::string at;
  opts.add_options()("help,h", "show this help")(
      "output,o", po::value(&output)->value_name("SNAPSHOT"), "write the compiled snapshot here")(
      "format,f", po::value(&format)->value_name("FORMAT"),
      "format of every list (default: detected per list)")(
      "at", po::value(&at)->value_name("TIME"),
      "compile for TIME instead of now (validity windows)")(
      "no-strict", "skip invalid entries (reported as warnings) instead of failing");
  po::options_description hidden;
  hidden.add_options()("list", po::value(&lists));
  po::options_description all;
  all.add(opts).add(hidden);
  po::positional_options_description pos;
  pos.add("list", -1);
  po::variables_map vm;
  po::store(po::command_line_parser(args).options(all).positional(pos).run(), vm);
  po::notify(vm);
  if (vm.count("help")) {
    std::cout << kCompileUsage << "\n" << opts;
    return 0;
  }
  if (lists.empty()) {
    std::cerr << "cordonctl compile: expected at least one LIST\n";
    return kExitError;
  }
  rules::CompileOptions copts;
  if (!parseAt(at, &copts.now)) return kExitError;
  std::vector<rules::ListSource> sources;
  for (const std::string& l : lists) sources.push_back(listFromPath(l));
  if (!applyListOptions(format, vm.count("no-strict") > 0, &sources)) return kExitError;
  std::vector<std::string> errors;
  rules::CompileStats stats;
  const auto snap = rules::compileSnapshot(sources, &errors, &stats, copts);
  printWarnings(stats);
  if (snap == nullptr) {
    printErrors(errors);
    return kExitError;
  }
  std::cout << "ok: " << stats.lists << (stats.lists == 1 ? " list, " : " lists, ") << stats.rules
            << (stats.rules == 1 ? " rule" : " rules") << " (";
  for (size_t k = 0; k < rules::kRuleKindCount; ++k) {
    std::cout << (k ? ", " : "") << rules::ruleKindName(static_cast<rules::RuleKind>(k)) << " "
              << stats.by_kind[k];
  }
  std::cout << "; " << stats.exceptions << (stats.exceptions == 1 ? " exception" : " exceptions")
            << ")";
  if (stats.inactive) std::cout << ", " << stats.inactive << " inactive";
  if (stats.duplicates) std::cout << ", " << stats.duplicates << " duplicates";
  if (stats.skipped) std::cout << ", " << stats.skipped << " skipped";
  std::cout << "\n";
  for (const auto& [name, f] : stats.formats) {
    std::cout << "  " << name << ": " << rules::formatName(f) << "\n";
  }
  if (snap->nextBoundary() != rules::kForever) {
    std::cout << "  valid until " << rules::formatTime(snap->nextBoundary())
              << " (next validity boundary)\n";
  }
  if (!output.empty()) {
    std::string error;
    if (!rules::saveSnapshot(*snap, output, &error)) {
      std::cerr << "cordonctl compile: " << error << "\n";
      return kExitError;
    }
    std::cout << "wrote " << output << "\n";
  }
  return 0;
}

int run(int argc, char** argv) {
  po::options_description global("global options");
  std::string socket;
  global.add_options()("help,h", "show this help")(
      "socket", po::value(&socket)->value_name("PATH"),
      "control socket of a running cordond (status, stats, reload, events)");
  po::options_description hidden;
  hidden.add_options()("command", po::value<std::string>())("args",
                                                            po::value<std::vector<std::string>>());
  po::options_description all;
  all.add(global).add(hidden);
  po::positional_options_description pos;
  pos.add("command", 1).add("args", -1);
  const po::parsed_options parsed =
      po::command_line_parser(argc, argv).options(all).positional(pos).allow_unregistered().run();
  po::variables_map vm;
  po::store(parsed, vm);
  po::notify(vm);
  if (!vm.count("command")) {
    if (vm.count("help")) {
      std::cout << kUsage << "\n" << global;
      return 0;
    }
    std::cerr << kUsage;
    return kExitError;
  }
  const std::string command = vm["command"].as<std::string>();
  std::vector<std::string> rest = po::collect_unrecognized(parsed.options, po::include_positional);
  rest.erase(rest.begin());                        // the command itself
  if (vm.count("help")) rest.push_back("--help");  // "cordonctl --help check"
  if (command == "check") return runCheck(rest);
  if (command == "compile") return runCompile(rest);
  if (command == "evidence") {  // verify | export | fingerprint (control/evidence/cli.h)
    std::vector<char*> ev{const_cast<char*>("evidence")};
    for (std::string& a : rest) ev.push_back(a.data());
    return evidence::runEvidenceCommand(static_cast<int>(ev.size()), ev.data());
  }
  if (isDaemonCommand(command)) {
    return runDaemonCommand(command, rest, socket.empty() ? kDefaultSocket : socket);
  }
  if (command == "help") {
    std::cout << kUsage << "\n" << global;
    return 0;
  }
  std::cerr << "cordonctl: unknown command '" << command << "'\n" << kUsage;
  return kExitError;
}

}  // namespace
}  // namespace cordon

int main(int argc, char** argv) {
  try {
    return cordon::run(argc, argv);
  } catch (const po::error& e) {
    std::cerr << "cordonctl: " << e.what() << "\n";
  } catch (const std::exception& e) {
    std::cerr << "cordonctl: " << e.what() << "\n";
  }
  return cordon::kExitError;
}

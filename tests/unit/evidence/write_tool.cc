// Test tool: writes an evidence ledger from EVE event lines on stdin (one appended per line).
//   evidence_write_tool DIR KEY [--every N] [--packets] [--crash]
// --packets stores each line's bytes as its "packet"; --crash exits without the close
// checkpoint, as a killed daemon would. Exit 0, or 1 with the error on stderr.

#include <cstdlib>
#include <cstring>
#include <iostream>
#include <string>

#include "control/evidence/ledger.h"

int main(int argc, char** argv) {
  using cordon::evidence::Ledger;
  if (argc < 3) {
    std::cerr << "usage: evidence_write_tool DIR KEY [--every N] [--packets] [--crash]\n";
    return 2;
  }
  cordon::evidence::LedgerOptions o;
  o.dir = argv[1];
  o.key_path = argv[2];
  o.checkpoint_seconds = 0;
  bool crash = false;
  for (int i = 3; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--every") && i + 1 < argc) {
      o.checkpoint_every = std::strtoull(argv[++i], nullptr, 10);
    } else if (!std::strcmp(argv[i], "--packets")) {
      o.packets = true;
    } else if (!std::strcmp(argv[i], "--crash")) {
      crash = true;
    }
  }
  std::string err;
  std::unique_ptr<Ledger> l = Ledger::open(o, &err);
  if (!l) {
    std::cerr << err << "\n";
    return 1;
  }
  std::string line;
  while (std::getline(std::cin, line)) {
    if (line.empty()) continue;
    if (!l->append(line, {reinterpret_cast<const uint8_t*>(line.data()), line.size()}, 0, &err)) {
      std::cerr << err << "\n";
      return 1;
    }
  }
  if (crash) std::_Exit(0);
  if (!l->close(&err)) {
    std::cerr << err << "\n";
    return 1;
  }
  return 0;
}

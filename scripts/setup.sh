#!/usr/bin/env bash
# Installs everything cordon needs to build, test and benchmark on Debian 12 (run as root).
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
packages=(
  build-essential g++ cmake ninja-build pkg-config git
  libdpdk-dev dpdk               # DPDK 22.11 (EAL, ethdev, mbuf, hash; net_pcap/af_packet PMDs)
  libhyperscan-dev               # pattern rules
  libpcap-dev                    # pcap/pcapng replay
  libyaml-cpp-dev                # config
  libboost-program-options-dev   # command lines
  libgtest-dev                   # unit tests
  libssl-dev                     # OpenSSL (QUIC keys, hashes, signatures)
  libcurl4-openssl-dev           # blacklist feeds over http(s)
  libidn2-dev                    # IDN to punycode for rule names
  nlohmann-json3-dev             # JSON-lines feeds; cordonctl reads cordond's JSON answers
  python3 python3-scapy python3-yaml  # capture generation and the pcap regression runner
  clang libclang-rt-14-dev       # libFuzzer targets
  libndpi-bin                    # ndpiReader, the benchmark's comparison point
  iproute2 ethtool               # namespaces and veth pairs for end-to-end tests
  nginx-light dnsmasq-base bind9-dnsutils curl openssl   # real servers and clients (e2e)
  chromium ngtcp2-client ngtcp2-server  # a real browser; HTTP/3 (QUIC) client, server (e2e)
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  apt-get update -q
  apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

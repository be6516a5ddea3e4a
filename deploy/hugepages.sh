#!/usr/bin/env bash
# Reserves 2 MiB hugepages on every NUMA node and mounts hugetlbfs at /dev/hugepages.
# Run as root before cordond starts (at every boot: the reservation does not persist).
set -euo pipefail

prog=$(basename "$0")
sysfs=${HUGEPAGES_SYSFS:-/sys}   # for tests only
mountpoint_dir=/dev/hugepages
dry_run=0
mount_fs=1
count=2048

usage() {
  cat <<EOF
usage: $prog [--dry-run] [--no-mount] [COUNT]

Reserves COUNT 2 MiB hugepages on EVERY NUMA node (default $count = 4 GiB per node) and
mounts hugetlbfs (pagesize=2M) at $mountpoint_dir if nothing is mounted there.

  COUNT       pages per NUMA node (0 releases them); cordon.yaml's --socket-mem must fit
  --no-mount  only reserve pages, do not mount hugetlbfs
  --dry-run   print what would be done, change nothing
  -h, --help  this text

The kernel may reserve fewer pages than asked when memory is fragmented: the script then
says so and exits 1 (reserve early after boot, or on the kernel command line:
default_hugepagesz=2M hugepagesz=2M hugepages=N, N split across nodes).
EOF
}

log() { printf '%s: %s\n' "$prog" "$*"; }
die() { printf '%s: error: %s\n' "$prog" "$*" >&2; exit 2; }
run() {
  if ((dry_run)); then
    printf 'would run: %s\n' "$*"
  else
    "$@"
  fi
}
write() {  # write VALUE FILE
  if ((dry_run)); then
    printf 'would write %s > %s\n' "$1" "$2"
  else
    printf '%s\n' "$1" >"$2"
  fi
}

while (($#)); do
  case $1 in
    -h | --help) usage; exit 0 ;;
    --dry-run) dry_run=1 ;;
    --no-mount) mount_fs=0 ;;
    -*) usage >&2; die "unknown option '$1'" ;;
    *)
      [[ $1 =~ ^[0-9]+$ ]] || die "COUNT must be a number of pages, not '$1'"
      count=$((10#$1))
      ;;
  esac
  shift
done

((dry_run)) || [[ $(id -u) -eq 0 ]] || die "run as root (or with --dry-run)"

global="$sysfs/kernel/mm/hugepages/hugepages-2048kB"
[[ -d $global ]] || die "$global not found: this kernel has no 2 MiB hugepages"

# Per node when the kernel exposes NUMA nodes, else the global pool.
targets=()
for node in "$sysfs"/devices/system/node/node[0-9]*; do
  [[ -d $node/hugepages/hugepages-2048kB ]] && targets+=("$node/hugepages/hugepages-2048kB")
done
((${#targets[@]})) || targets=("$global")

short=0
for t in "${targets[@]}"; do
  node=$(basename "$(dirname "$(dirname "$t")")")
  [[ $t == "$global" ]] && node=all
  write "$count" "$t/nr_hugepages"
  ((dry_run)) && continue
  got=$(<"$t/nr_hugepages")
  free=$(<"$t/free_hugepages")
  log "node $node: $got x 2 MiB hugepages reserved ($free free)"
  if ((got < count)); then
    log "node $node: asked for $count, the kernel reserved only $got (memory fragmented?)" >&2
    short=1
  fi
done

if ((mount_fs)); then
  if grep -qs "^[^ ]* $mountpoint_dir hugetlbfs " /proc/mounts; then
    log "hugetlbfs already mounted at $mountpoint_dir"
  else
    run mkdir -p "$mountpoint_dir"
    run mount -t hugetlbfs -o pagesize=2M nodev "$mountpoint_dir"
    ((dry_run)) || log "mounted hugetlbfs at $mountpoint_dir"
  fi
fi

((dry_run)) || grep -E '^(HugePages_(Total|Free)|Hugepagesize):' /proc/meminfo || true
exit "$short"

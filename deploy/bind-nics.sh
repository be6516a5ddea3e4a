#!/usr/bin/env bash
# Binds NICs to a DPDK-capable driver (vfio-pci by default) with dpdk-devbind.py, after
# showing their current state. Refuses to take an interface the host is using (link up,
# addresses or routes) unless --force: binding it cuts the host off that network.
set -euo pipefail

prog=$(basename "$0")
sysfs=${BIND_NICS_SYSFS:-/sys}   # for tests only
driver=vfio-pci
force=0
dry_run=0

usage() {
  cat <<EOF
usage: $prog [--driver DRIVER] [--force] [--dry-run] PCI [PCI...]

Loads DRIVER (default $driver), shows the current state of the given PCI devices, then
binds them to DRIVER with dpdk-devbind.py (Debian: apt-get install dpdk).

  PCI            a PCI address: 0000:3b:00.0 or 3b:00.0 (as in cordon.yaml's ports)
  --driver DRV   vfio-pci (default, needs the IOMMU: intel_iommu=on iommu=pt or
                 amd_iommu=on), uio_pci_generic or igb_uio
  --force        bind even when a device's kernel interface is up, has addresses or routes
  --dry-run      show the state and the command, bind nothing
  -h, --help     this text

Example: $prog 0000:3b:00.0 0000:3b:00.1
Undo:    dpdk-devbind.py --bind=KERNEL_DRIVER PCI   (e.g. ice, i40e, ixgbe, mlx5_core)
Note: Mellanox/NVIDIA mlx5 NICs are NOT bound: DPDK drives them next to mlx5_core.
EOF
}

log() { printf '%s: %s\n' "$prog" "$*"; }
die() { printf '%s: error: %s\n' "$prog" "$*" >&2; exit 2; }

devs=()
while (($#)); do
  case $1 in
    -h | --help) usage; exit 0 ;;
    --force) force=1 ;;
    --dry-run) dry_run=1 ;;
    --driver)
      (($# >= 2)) || die "--driver needs a value"
      driver=$2
      shift
      ;;
    --driver=*) driver=${1#--driver=} ;;
    -*) usage >&2; die "unknown option '$1'" ;;
    *) devs+=("$1") ;;
  esac
  shift
done
((${#devs[@]})) || { usage >&2; die "give at least one PCI address"; }
case $driver in
  vfio-pci | uio_pci_generic | igb_uio) ;;
  *) die "unsupported driver '$driver' (vfio-pci, uio_pci_generic or igb_uio)" ;;
esac

devbind=$(command -v dpdk-devbind.py || true)
for candidate in /usr/bin/dpdk-devbind.py /usr/sbin/dpdk-devbind.py \
  /usr/local/bin/dpdk-devbind.py /usr/share/dpdk/usertools/dpdk-devbind.py; do
  [[ -n $devbind ]] && break
  [[ -x $candidate ]] && devbind=$candidate
done
[[ -n $devbind ]] || die "dpdk-devbind.py not found (apt-get install dpdk)"

((dry_run)) || [[ $(id -u) -eq 0 ]] || die "run as root (or with --dry-run)"

# Normalise and check the addresses.
pcis=()
for d in "${devs[@]}"; do
  d=${d,,}
  [[ $d =~ ^[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]$ ]] && d=0000:$d
  [[ $d =~ ^[0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]$ ]] || die "'$d' is not a PCI address"
  [[ -d $sysfs/bus/pci/devices/$d ]] || die "no PCI device $d (lspci -D lists them)"
  pcis+=("$d")
done

log "current state:"
"$devbind" --status-dev net || true
echo

# Refuse devices whose kernel interface the host is using.
busy=0
for d in "${pcis[@]}"; do
  drv=none
  [[ -e $sysfs/bus/pci/devices/$d/driver ]] &&
    drv=$(basename "$(readlink -f "$sysfs/bus/pci/devices/$d/driver")")
  ifaces=()
  if [[ -d $sysfs/bus/pci/devices/$d/net ]]; then
    for n in "$sysfs/bus/pci/devices/$d/net"/*; do
      [[ -e $n ]] && ifaces+=("$(basename "$n")")
    done
  fi
  log "$d: driver $drv, interface(s): ${ifaces[*]:-none}"
  for i in "${ifaces[@]}"; do
    reasons=()
    if ip -o link show dev "$i" 2>/dev/null | grep -q '<[^>]*\bUP\b'; then
      reasons+=("link is up")
    fi
    if [[ -n $(ip -o addr show dev "$i" 2>/dev/null) ]]; then
      reasons+=("has addresses")
    fi
    if [[ -n $(ip route show dev "$i" 2>/dev/null) ]] ||
      ip -6 route show dev "$i" 2>/dev/null | grep -vq '^fe80::/64'; then
      reasons+=("has routes")
    fi
    if ((${#reasons[@]})); then
      log "$d: interface $i is in use: $(IFS=,; echo "${reasons[*]}")" >&2
      busy=1
    fi
  done
done
if ((busy)); then
  if ((force)); then
    log "--force: binding anyway; the host loses those interfaces"
  else
    die "refusing to bind interfaces in use (ip link set DEV down, remove addresses/routes, or --force)"
  fi
fi

# Load the driver.
if ((dry_run)); then
  log "would load $driver"
elif [[ ! -d $sysfs/bus/pci/drivers/$driver ]]; then
  modprobe "$driver" || die "cannot load $driver (for igb_uio: the dpdk-kmods module)"
fi
if [[ $driver == vfio-pci ]] && [[ -z $(ls -A "$sysfs/kernel/iommu_groups" 2>/dev/null) ]]; then
  log "warning: no IOMMU groups: enable the IOMMU (intel_iommu=on iommu=pt on the kernel" \
    "command line and VT-d in the firmware); without it vfio-pci needs" \
    "'echo 1 > /sys/module/vfio/parameters/enable_unsafe_noiommu_mode' (unsafe)" >&2
fi

cmd=("$devbind" "--bind=$driver")
((force)) && cmd+=(--force)
cmd+=("${pcis[@]}")
if ((dry_run)); then
  log "would run: ${cmd[*]}"
  exit 0
fi
"${cmd[@]}"
echo
log "state after binding:"
"$devbind" --status-dev net || true

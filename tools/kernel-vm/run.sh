#!/bin/bash
# tools/kernel-vm/run.sh: run a command as root on a real Debian 6.1 kernel with IPVS, under qemu.
#
#   tools/kernel-vm/run.sh [--mem MB] [--timeout S] [-e NAME=VALUE] -- COMMAND [ARGS...]
#   tools/kernel-vm/run.sh --setup-only
#
# The VM sees the host's node binary and the repository (virtiofs, read-write) at their host
# paths; COMMAND runs in the repository. Everything comes from Debian: qemu-system-x86 (TCG, no
# KVM needed), busybox-static, ipvsadm, iproute2, cpio, kmod, gzip, tmux (the UI test drives the real
# binary in it), and the kernel package behind
# linux-image-cloud-amd64 (downloaded and unpacked into the cache, never installed). Needs root
# (virtiofsd and apt-get). Exit status: COMMAND's; 124 on --timeout; 125 when the VM failed.
# Cache: $KERNEL_VM_CACHE (default /tmp/lvsdeck-kernel-vm), ~220 MB.
set -euo pipefail
HOST_NODE=$(command -v node || true)
export PATH=$PATH:/usr/sbin:/sbin
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd -P)
CACHE=${KERNEL_VM_CACHE:-/tmp/lvsdeck-kernel-vm}
MEM=1024 TIMEOUT=600 SETUP_ONLY=0
ENVS=()
PKGS="qemu-system-x86 busybox-static ipvsadm iproute2 cpio kmod gzip tmux"
MODULES="ip_vs ip_vs_rr ip_vs_wrr ip_vs_lc ip_vs_wlc ip_vs_fo ip_vs_ovf ip_vs_lblc ip_vs_lblcr ip_vs_dh
ip_vs_sh ip_vs_mh ip_vs_sed ip_vs_nq nf_conntrack veth dummy virtio_pci virtiofs"

die() { echo "[kernel-vm] $*" >&2; exit 125; }
while [ $# -gt 0 ]; do
  case "$1" in
    --mem) MEM=$2; shift 2 ;;
    --timeout) TIMEOUT=$2; shift 2 ;;
    -e) ENVS+=("$2"); shift 2 ;;
    --setup-only) SETUP_ONLY=1; shift ;;
    --) shift; break ;;
    -h|--help) sed -n '2,12p' "$0" | cut -c3-; exit 0 ;;
    *) die "unknown option $1 (try --help)" ;;
  esac
done
[ "$SETUP_ONLY" = 1 ] || [ $# -gt 0 ] || die "no command (try --help)"
case "$MEM$TIMEOUT" in *[!0-9]*|'') die "--mem and --timeout take whole numbers" ;; esac
[ "$(id -u)" = 0 ] || die "needs root (virtiofsd shares the repository; apt-get installs: $PKGS)"
mkdir -p "$CACHE"

# --- host packages, kernel, images (cached; a lock serialises parallel setups)
missing=0
for c in qemu-system-x86_64 ipvsadm cpio depmod gzip ip tmux; do command -v $c >/dev/null || missing=1; done
[ -x /bin/busybox ] && ! ldd /bin/busybox >/dev/null 2>&1 || missing=1
if [ $missing = 1 ]; then
  echo "[kernel-vm] installing $PKGS" >&2
  export DEBIAN_FRONTEND=noninteractive
  { apt-get install -y --no-install-recommends $PKGS || { apt-get update && apt-get install -y --no-install-recommends $PKGS; }; } \
    >"$CACHE/apt.log" 2>&1 || die "apt-get install failed: $CACHE/apt.log"
fi
VIRTIOFSD=/usr/lib/qemu/virtiofsd
[ -x "$VIRTIOFSD" ] || VIRTIOFSD=$(command -v virtiofsd) || die "no virtiofsd (package qemu-system-common)"
exec 9>"$CACHE/lock"; flock 9

if [ ! -s "$CACHE/PKG" ]; then
  kpkg() { apt-cache depends linux-image-cloud-amd64 2>/dev/null | awk '/Depends: linux-image-[0-9]/{print $2; exit}'; }
  p=$(kpkg); [ -n "$p" ] || { apt-get update >/dev/null 2>&1; p=$(kpkg); }
  [ -n "$p" ] || die "cannot resolve the kernel package behind linux-image-cloud-amd64"
  rm -rf "$CACHE/dl" "$CACHE/kernel"; mkdir -p "$CACHE/dl"
  echo "[kernel-vm] downloading $p (unpacked into $CACHE, not installed)" >&2
  (cd "$CACHE/dl" && apt-get download "$p" >/dev/null 2>&1) || die "apt-get download $p failed"
  dpkg-deb -x "$CACHE"/dl/*.deb "$CACHE/kernel"; rm -rf "$CACHE/dl"
  echo "$p" >"$CACHE/PKG"
fi
KVER=$(ls "$CACHE/kernel/lib/modules" | head -1)
[ -f "$CACHE/kernel/lib/modules/$KVER/modules.dep" ] || depmod -b "$CACHE/kernel" "$KVER"
NODE=$(readlink -f "$("$HOST_NODE" -p process.execPath)")

# copy FILE and the shared libraries ldd names into ROOT (merged /usr: /lib -> usr/lib)
put() {
  local root=$1 f d
  for f in "$2" $(ldd "$2" 2>/dev/null | awk '/=> \//{print $3} /^\t\/[^ ]*ld-linux/{print $1}'); do
    d=$f; case "$d" in /bin/*|/sbin/*|/lib/*|/lib64/*) d=/usr$d ;; esac
    mkdir -p "$root$(dirname "$d")"; [ -e "$root$d" ] || cp -L "$f" "$root$d"
  done
}
KEY=$( { cat "$0" "$HERE/init.sh"; echo "$KVER $NODE"; stat -c '%s %Y' "$NODE"; dpkg-query -W busybox-static ipvsadm iproute2 libc6 bash tmux; } | sha256sum | cut -c1-16)
IMG=$CACHE/base-$KEY.cpio.gz
if [ ! -f "$IMG" ]; then
  echo "[kernel-vm] building the initramfs for $KVER" >&2
  R=$CACHE/stage.$$; rm -rf "$R"
  mkdir -p "$R"/{proc,sys,dev,run,tmp,root,etc,kvm} "$R"/usr/{bin,sbin,lib,lib64} "$R/usr/lib/modules/$KVER"
  for t in bin sbin lib lib64; do ln -s usr/$t "$R/$t"; done
  cp /bin/busybox "$R/usr/bin/"; for a in $(/bin/busybox --list); do [ "$a" = busybox ] || ln -sf busybox "$R/usr/bin/$a"; done
  rm -f "$R/usr/bin/sh" "$R/usr/bin/ip"   # bash and the real ip (busybox has no `ip netns`)
  put "$R" "$(command -v bash)"; ln -s bash "$R/usr/bin/sh"
  for t in ip ipvsadm ipvsadm-save ipvsadm-restore; do put "$R" "$(command -v $t)"; done
  put "$R" "$NODE"
  # tmux, the terminal descriptions it needs for its panes (TERM=tmux-256color) and the C.UTF-8
  # locale (init.sh's LANG: tmux refuses to start without a UTF-8 locale it can load)
  put "$R" "$(command -v tmux)"
  for d in /usr/share/terminfo /lib/terminfo; do [ -d $d ] && mkdir -p "$R/usr/share/terminfo" && cp -a $d/. "$R/usr/share/terminfo/"; done
  [ -d /usr/lib/locale/C.utf8 ] && mkdir -p "$R/usr/lib/locale" && cp -a /usr/lib/locale/C.utf8 "$R/usr/lib/locale/"
  M=$CACHE/kernel/lib/modules/$KVER
  for m in $MODULES; do
    for f in $(awk -v m="$m" '{f=$1; sub(":$","",f); n=f; sub(".*/","",n); sub("\\.ko.*$","",n); gsub("-","_",n); if (n==m) {print; exit}}' "$M/modules.dep" | tr -d :); do
      mkdir -p "$R/lib/modules/$KVER/$(dirname "$f")"; cp "$M/$f" "$R/lib/modules/$KVER/$f"
    done
  done
  cp "$M"/modules.builtin* "$M/modules.order" "$R/lib/modules/$KVER/"
  depmod -b "$R" "$KVER"
  echo $MODULES >"$R/etc/modules"
  printf 'root:x:0:0::/root:/bin/sh\n' >"$R/etc/passwd"; printf 'root:x:0:\n' >"$R/etc/group"
  cp /etc/services /etc/protocols "$R/etc/" 2>/dev/null || true
  cp "$HERE/init.sh" "$R/init"
  rm -f "$CACHE"/base-*.cpio.gz
  (cd "$R" && find . | cpio -o -H newc --owner 0:0 --quiet) | gzip -1 >"$IMG.tmp"
  truncate -s %512 "$IMG.tmp"; mv "$IMG.tmp" "$IMG"; rm -rf "$R"
fi
[ "$SETUP_ONLY" = 0 ] || { echo "[kernel-vm] ready: kernel $KVER, image $IMG" >&2; exit 0; }

# --- one run: a small cpio with the command and its environment after the cached image
RUN=$(mktemp -d "$CACHE/run.XXXX")
VPID=""; QPID=""
trap 'kill $VPID $QPID 2>/dev/null || true; [ -n "${KERNEL_VM_KEEP:-}" ] || rm -rf "$RUN"' EXIT
mkdir -p "$RUN/r/kvm"
{ printf 'cd %q\nexport PATH=%q:$PATH' "$REPO" "$(dirname "$HOST_NODE"):$(dirname "$NODE")"
  for kv in "${ENVS[@]+"${ENVS[@]}"}"; do printf ' %q' "$kv"; done
  printf '\nexec'; printf ' %q' "$@"; echo; } >"$RUN/r/kvm/cmd"
echo "$REPO" >"$RUN/r/kvm/share"
{ cat "$IMG"; (cd "$RUN/r" && find . | cpio -o -H newc --owner 0:0 --quiet); } >"$RUN/initrd"
flock -u 9

"$VIRTIOFSD" --socket-path="$RUN/fs.sock" -o source="$REPO" -o cache=auto -o sandbox=namespace \
  </dev/null >"$RUN/virtiofsd.log" 2>&1 & VPID=$!
for _ in $(seq 100); do [ -S "$RUN/fs.sock" ] && break; sleep 0.05; done
[ -S "$RUN/fs.sock" ] || die "virtiofsd did not start: $(cat "$RUN/virtiofsd.log")"
: >"$RUN/out"; : >"$RUN/err"; : >"$RUN/status"
BIOS=(); [ -f /usr/share/qemu/qboot.rom ] && BIOS=(-bios /usr/share/qemu/qboot.rom)
timeout -k 5 "$TIMEOUT" qemu-system-x86_64 -nodefaults -display none -no-reboot -accel tcg -cpu max -m "${MEM}M" \
  "${BIOS[@]}" -object "memory-backend-memfd,id=mem,size=${MEM}M,share=on" -machine pc,memory-backend=mem \
  -chardev "socket,id=fs,path=$RUN/fs.sock" -device vhost-user-fs-pci,chardev=fs,tag=repo \
  -kernel "$CACHE/kernel/boot/vmlinuz-$KVER" -initrd "$RUN/initrd" \
  -append "console=ttyS0 quiet loglevel=3 panic=-1" -nic none \
  -serial "file:$RUN/console" -serial "file:$RUN/out" -serial "file:$RUN/err" -serial "file:$RUN/status" \
  </dev/null >"$RUN/qemu.log" 2>&1 & QPID=$!
tail -s 0.2 -f --pid=$QPID "$RUN/out" & tail -s 0.2 -f --pid=$QPID "$RUN/err" >&2 &
set +e; wait $QPID; QRC=$?; QPID=""; wait; set -e
RC=$(sed -n 's/^KVM-RC=\([0-9]*\).*/\1/p' "$RUN/status" | tail -1)
[ -n "$RC" ] && exit "$RC"
[ $QRC = 124 ] && { echo "[kernel-vm] timeout after ${TIMEOUT}s" >&2; exit 124; }
echo "[kernel-vm] the VM did not finish (qemu status $QRC); console tail:" >&2
tr -d '\r' <"$RUN/console" | tail -20 >&2; tail -5 "$RUN/qemu.log" >&2
exit 125

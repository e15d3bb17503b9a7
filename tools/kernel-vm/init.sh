#!/bin/sh
# /init of the kernel-vm image (PID 1; /bin/sh is bash): mount, load IPVS, mount the repository
# (virtiofs tag "repo") at its host path, run /kvm/cmd with stdout on ttyS1 and stderr on ttyS2,
# report its status on ttyS3, power off.
export PATH=/usr/sbin:/usr/bin HOME=/root TERM=dumb LANG=C.UTF-8 KERNEL_VM=1
mount -t proc proc /proc; mount -t sysfs sysfs /sys; mount -t devtmpfs dev /dev
mkdir -p /dev/pts /dev/shm /run/netns; mount -t devpts pts /dev/pts; mount -t tmpfs shm /dev/shm
ip link set lo up
for n in 1 2 3; do stty -F /dev/ttyS$n raw -echo 2>/dev/null; done
for m in $(cat /etc/modules); do modprobe "$m" 2>/dev/ttyS3; done
REPO=$(cat /kvm/share); mkdir -p "$REPO"
mount -t virtiofs repo "$REPO" 2>/dev/ttyS3 || { echo KVM-RC=125 >/dev/ttyS3; poweroff -f; }
mkfifo /run/out /run/err
cat /run/out >/dev/ttyS1 & cat /run/err >/dev/ttyS2 &
bash /kvm/cmd </dev/null >/run/out 2>/run/err
rc=$?
wait
echo "KVM-RC=$rc" >/dev/ttyS3
umount "$REPO"; sync; poweroff -f

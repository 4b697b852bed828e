#!/bin/busybox sh
# PID 1 of the browser VM's initramfs: mounts the kernel file systems, loads the NIC driver, raises eth0 and
# gives a root shell on the serial console (ttyS0), which the demo page shows in its terminal.
/bin/busybox --install -s
export PATH=/bin:/sbin:/usr/bin:/usr/sbin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null || mdev -s
mkdir -p /dev/pts && mount -t devpts devpts /dev/pts
hostname -F /etc/hostname
echo "init: kernel up at $(cut -d' ' -f1 /proc/uptime) s"
# Only the NIC the page chose: each insmod costs the emulated CPU a signature check and relocation.
modules="8390 ne2k-pci"
if grep -qx 0x1af4 /sys/bus/pci/devices/*/vendor 2>/dev/null; then
    modules="virtio virtio_ring virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci failover net_failover virtio_net"
fi
for module in $modules; do
    [ -f /lib/modules/$module.ko ] && insmod /lib/modules/$module.ko 2>/dev/null
done
ip link set lo up
ip link set eth0 up 2>/dev/null || echo "init: no eth0 (NIC driver not loaded?)"
# The page chooses the link MTU (WebTransport datagrams from Chromium carry at most 1199 bytes, so frames stay
# within them) and, optionally, a static address: relay.mtu=N relay.ip=A.B.C.D/N on the kernel command line.
for arg in $(cat /proc/cmdline); do
    case "$arg" in
        relay.mtu=*) ip link set eth0 mtu "${arg#relay.mtu=}" ;;
        relay.ip=*)
            ip addr add "${arg#relay.ip=}" dev eth0
            ip route add default via 10.0.2.2 dev eth0
            echo "nameserver 10.0.2.3" > /etc/resolv.conf
            ;;
    esac
done
# Quiet kernel messages on the console, so they do not interleave with the shell's output.
echo 1 > /proc/sys/kernel/printk
echo "VM ready: uptime $(cut -d' ' -f1 /proc/uptime) s, eth0 $(cat /sys/class/net/eth0/address 2>/dev/null)"
while true; do
    setsid cttyhack sh -l 2>/dev/null || sh </dev/ttyS0 >/dev/ttyS0 2>&1
done

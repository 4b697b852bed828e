#!/usr/bin/env bash
# Builds what the browser VM needs into target/v86/ (or $1), from registry packages only:
#   libv86.js, v86.wasm      the emulator (npm package v86)
#   bios.bin, vgabios.bin    SeaBIOS and its VGA BIOS (Debian seabios)
#   bzImage                  an i386 Linux kernel (Debian linux-image-686, unpacked, never installed)
#   initrd.cpio.gz           busybox (Debian busybox-static:i386) with the ne2k-pci NIC modules and an init
#                            that loads them and gives a shell on the serial console
# Needs root for apt-get (i386 multiarch). Skips the work when the outputs exist and the script is unchanged.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="${1:-$root/target/v86}"
V86_VERSION="${V86_VERSION:-0.5.462}"
stamp="$out/.built-by"
self_hash="$(cat "${BASH_SOURCE[0]}" "$root/scripts/v86-init.sh" "$root/scripts/v86-udhcpc.sh" | sha256sum | cut -d' ' -f1) v86@$V86_VERSION"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$self_hash" ]; then
    exit 0
fi

as_root=()
if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null 2>&1 || { echo "error: building the v86 image needs root for apt-get" >&2; exit 1; }
    as_root=(sudo)
fi
export DEBIAN_FRONTEND=noninteractive

need_host_tools=()
command -v npm >/dev/null 2>&1 || need_host_tools+=(npm)
command -v cpio >/dev/null 2>&1 || need_host_tools+=(cpio)
command -v xz >/dev/null 2>&1 || need_host_tools+=(xz-utils)
[ -f /usr/share/seabios/bios.bin ] || need_host_tools+=(seabios)
if ! dpkg --print-foreign-architectures | grep -qx i386; then
    "${as_root[@]}" dpkg --add-architecture i386
    apt_updated=no
fi
if [ ${#need_host_tools[@]} -gt 0 ] || [ "${apt_updated:-}" = no ] \
        || ! apt-cache show linux-image-686:i386 >/dev/null 2>&1; then
    # A suite we do not use (e.g. security) may fail to update; the packages are checked below.
    "${as_root[@]}" apt-get update -qq || true
fi
if [ ${#need_host_tools[@]} -gt 0 ]; then
    "${as_root[@]}" apt-get install -y -qq --no-install-recommends "${need_host_tools[@]}" >/dev/null
fi

work="$out/work"
rm -rf "$work"
mkdir -p "$work/debs" "$work/npm" "$out"

# --- the emulator: the npm package ships the JS and the wasm, no BIOS images ---
(cd "$work/npm" && npm pack --silent "v86@$V86_VERSION" >/dev/null && tar xzf "v86-$V86_VERSION.tgz")
cp "$work/npm/package/build/libv86.js" "$work/npm/package/build/v86.wasm" "$out/"
cp "$work/npm/package/LICENSE" "$out/v86-LICENSE"

# --- BIOS: SeaBIOS, and its std VGA BIOS (v86 emulates a Bochs VBE adapter) ---
cp /usr/share/seabios/bios.bin "$out/bios.bin"
cp /usr/share/seabios/vgabios-stdvga.bin "$out/vgabios.bin"

# --- kernel and busybox, downloaded as i386 .debs and unpacked, never installed ---
kernel_pkg="$(apt-cache depends linux-image-686:i386 | awk '/Depends: linux-image-[0-9]/ {print $2; exit}')"
kernel_pkg="${kernel_pkg%:i386}"
if [ -z "$kernel_pkg" ]; then
    echo "error: cannot resolve linux-image-686:i386 to a versioned kernel package (apt-get update with i386?)" >&2
    exit 1
fi
chmod 777 "$work/debs" # apt's download sandbox user writes here
(cd "$work/debs" && apt-get download -qq "$kernel_pkg:i386" busybox-static:i386)
mkdir -p "$work/kernel" "$work/busybox"
dpkg-deb -x "$work/debs/${kernel_pkg}_"*.deb "$work/kernel"
dpkg-deb -x "$work/debs/busybox-static_"*.deb "$work/busybox"
cp "$work/kernel"/boot/vmlinuz-* "$out/bzImage"
kver="$(basename "$(ls -d "$work/kernel"/lib/modules/*)")"

# --- initramfs ---
rootfs="$work/rootfs"
mkdir -p "$rootfs"/{bin,sbin,etc,proc,sys,dev,tmp,root,lib/modules,usr/bin,usr/sbin,etc/udhcpc}
cp "$work/busybox/bin/busybox" "$rootfs/bin/busybox"
# The NE2000 PCI NIC v86 emulates (10ec:8029) and the 8390 core it needs; virtio-net for the virtio option.
for module in drivers/net/ethernet/8390/8390 drivers/net/ethernet/8390/ne2k-pci \
              drivers/virtio/virtio drivers/virtio/virtio_ring drivers/virtio/virtio_pci_modern_dev \
              drivers/virtio/virtio_pci_legacy_dev drivers/virtio/virtio_pci net/core/failover \
              drivers/net/net_failover drivers/net/virtio_net; do
    src="$(ls "$work/kernel/lib/modules/$kver/kernel/$module".ko* 2>/dev/null | head -1 || true)"
    [ -n "$src" ] || continue
    name="$(basename "$module").ko"
    case "$src" in
        *.xz) xz -dc "$src" > "$rootfs/lib/modules/$name" ;;
        *.zst) zstd -qdc "$src" > "$rootfs/lib/modules/$name" ;;
        *) cp "$src" "$rootfs/lib/modules/$name" ;;
    esac
done
for required in 8390.ko ne2k-pci.ko; do
    [ -f "$rootfs/lib/modules/$required" ] || { echo "error: $required missing from $kernel_pkg" >&2; exit 1; }
done
cp "$root/scripts/v86-init.sh" "$rootfs/init"
# Where Debian's busybox udhcpc looks for its script (see `udhcpc --help`), so a bare `udhcpc` applies the lease.
cp "$root/scripts/v86-udhcpc.sh" "$rootfs/etc/udhcpc/default.script"
chmod 755 "$rootfs/init" "$rootfs/etc/udhcpc/default.script"
echo "vm" > "$rootfs/etc/hostname"
(cd "$rootfs" && find . | LC_ALL=C sort | cpio -o -H newc --quiet -R 0:0 | gzip -9 > "$out/initrd.cpio.gz")

echo "$kernel_pkg" > "$out/kernel-version"
rm -rf "$work"
echo "$self_hash" > "$stamp"
ls -l "$out" >&2

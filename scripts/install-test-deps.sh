#!/usr/bin/env bash
# Installs the Debian packages the test suite needs, only those missing. Needs root (or sudo) and the
# Debian package mirror. Safe to run repeatedly.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

# package -> a file or command that proves it is installed
declare -A probe=(
    [chromium]=/usr/bin/chromium
    [firefox-esr]=/usr/bin/firefox-esr
    [iproute2]=/usr/sbin/ip
    [iputils-ping]=/usr/bin/ping
    [iperf3]=/usr/bin/iperf3
    [socat]=/usr/bin/socat
    [curl]=/usr/bin/curl
    [python3]=/usr/bin/python3
    [tshark]=/usr/bin/tshark
    [busybox-static]=/bin/busybox # and it must be statically linked: see installed() below
    [qemu-system-x86]=/usr/bin/qemu-system-x86_64
    [linux-image-amd64]=/usr/share/doc/linux-image-amd64
    [util-linux]=/usr/bin/setpriv
    [procps]=/usr/bin/pkill
    [openssl]=/usr/bin/openssl
    [dnsmasq-base]=/usr/sbin/dnsmasq
    [isc-dhcp-client]=/sbin/dhclient
    [bind9-dnsutils]=/usr/bin/dig
    [fonts-dejavu-core]=/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf
    # ClusterIT: a three-node NATS cluster for relays joined with --cluster
    [nats-server]=/usr/sbin/nats-server
    # relay bench P2 (and NatBenchIT): the NATs the relay is measured against
    [slirp4netns]=/usr/bin/slirp4netns
    [passt]=/usr/bin/pasta
    # scripts/build-v86-image.sh (the browser VM): npm for v86, SeaBIOS, cpio/xz for the initramfs. It adds the
    # i386 architecture itself and only downloads (never installs) the i386 kernel and busybox packages.
    [npm]=/usr/bin/npm
    [seabios]=/usr/share/seabios/bios.bin
    [cpio]=/usr/bin/cpio
    [xz-utils]=/usr/bin/xz
)

# installed PACKAGE: whether its probe proves it is there. Debian's ordinary busybox package also provides
# /bin/busybox, but dynamically linked: in the QEMU guest test's initramfs (no ld.so there) the kernel cannot run it
# and panics with "No working init found". busybox-static replaces that package (Conflicts/Replaces: busybox).
installed() {
    [ -e "${probe[$1]}" ] || return 1
    if [ "$1" = busybox-static ]; then
        "$here/is-static-elf.sh" "${probe[$1]}" || return 1
    fi
}

missing=()
for package in "${!probe[@]}"; do
    installed "$package" || missing+=("$package")
done
if [ ${#missing[@]} -eq 0 ]; then
    "$here/install-wisp-clients.sh"
    exit 0
fi

as_root=()
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then
        as_root=(sudo)
    else
        echo "error: the tests need these packages and installing them needs root: ${missing[*]}" >&2
        exit 1
    fi
fi
echo "Installing test dependencies: ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
# tshark asks whether non-root users may capture; answer no without a prompt.
echo "wireshark-common wireshark-common/install-setuid boolean false" | "${as_root[@]}" debconf-set-selections 2>/dev/null || true
"${as_root[@]}" apt-get update -qq
"${as_root[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
for package in "${missing[@]}"; do
    if ! installed "$package"; then
        echo "error: installing $package did not provide ${probe[$package]} (statically linked for busybox-static)" >&2
        exit 1
    fi
done
# npm packages the browser tests load (pinned), once npm is there.
"$here/install-wisp-clients.sh"

#!/bin/sh
# udhcpc's hook: applies the lease to the interface (address, MTU), the default route and resolv.conf. Only IPv4
# addresses are flushed: the IPv6 ones (link-local, SLAAC) are the kernel's and survive a renewal.
case "$1" in
    deconfig)
        ip -4 addr flush dev "$interface"
        ip link set "$interface" up
        ;;
    bound|renew)
        ip -4 addr flush dev "$interface"
        ip addr add "$ip/${mask:-24}" dev "$interface"
        if [ -n "$mtu" ]; then
            ip link set dev "$interface" mtu "$mtu"
        fi
        if [ -n "$router" ]; then
            ip route replace default via "${router%% *}" dev "$interface"
        fi
        : > /etc/resolv.conf
        for server in $dns; do
            echo "nameserver $server" >> /etc/resolv.conf
        done
        echo "udhcpc: lease $ip/${mask:-24} router ${router:-none} dns ${dns:-none} mtu ${mtu:-unchanged}"
        ;;
esac
exit 0

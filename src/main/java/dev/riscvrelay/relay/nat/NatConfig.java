package dev.riscvrelay.relay.nat;

import java.time.Duration;

/**
 * How the NAT behaves; made once from the command line.
 *
 * @param gatewayMac the gateway's MAC (48 bits in a long), the source of every frame the NAT builds
 * @param gatewayAddress the gateway's IPv4 address, the source of ICMP errors the NAT itself reports
 * @param lanMtu the largest IPv4 packet a VM can receive in one frame; larger replies are dropped and counted
 * @param frameHeadroom free bytes reserved in front of each frame built, for a transport's prefix
 * @param udpIdleTimeout how long a UDP flow lives without traffic in either direction
 * @param udpDnsIdleTimeout the same for flows to destination port 53 (one query, one answer)
 * @param udpMaxFlowsPerVm most UDP flows one VM (source MAC) may hold; more are refused and counted
 * @param udpMaxFlows most UDP flows in total
 * @param icmpIdleTimeout how long an echo flow (one ping socket) lives without traffic
 * @param icmpMaxFlowsPerVm most echo flows one VM may hold
 * @param icmpMaxFlows most echo flows in total (each is one host socket)
 * @param replyTtl the TTL of packets the NAT builds towards VMs
 */
public record NatConfig(
        long gatewayMac,
        int gatewayAddress,
        int lanMtu,
        int frameHeadroom,
        Duration udpIdleTimeout,
        Duration udpDnsIdleTimeout,
        int udpMaxFlowsPerVm,
        int udpMaxFlows,
        Duration icmpIdleTimeout,
        int icmpMaxFlowsPerVm,
        int icmpMaxFlows,
        int replyTtl) {

    /** 52:54:00:12:34:56, the address VMs know from QEMU's user-mode network. */
    public static final long DEFAULT_GATEWAY_MAC = 0x5254_0012_3456L;
    /** 10.0.2.2. */
    public static final int DEFAULT_GATEWAY_ADDRESS = 0x0A00_0202;
    public static final int DEFAULT_LAN_MTU = 1500;
    public static final int DEFAULT_FRAME_HEADROOM = 16;
    public static final int DEFAULT_UDP_IDLE_SECONDS = 60;
    public static final int DEFAULT_UDP_DNS_IDLE_SECONDS = 10;
    public static final int DEFAULT_UDP_MAX_FLOWS_PER_VM = 256;
    public static final int DEFAULT_UDP_MAX_FLOWS = 4096;
    public static final int DEFAULT_ICMP_IDLE_SECONDS = 30;
    public static final int DEFAULT_ICMP_MAX_FLOWS_PER_VM = 32;
    public static final int DEFAULT_ICMP_MAX_FLOWS = 512;
    public static final int DEFAULT_REPLY_TTL = 64;

    /** The smallest MTU IPv4 allows every link (RFC 791: 68); anything lower could not carry an ICMP error. */
    public static final int MIN_LAN_MTU = 68;

    public NatConfig {
        if (lanMtu < MIN_LAN_MTU || lanMtu > 65535) {
            throw new IllegalArgumentException("LAN MTU must be 68..65535: " + lanMtu);
        }
        if (frameHeadroom < 0 || udpMaxFlowsPerVm < 1 || udpMaxFlows < 1 || icmpMaxFlowsPerVm < 1
                || icmpMaxFlows < 1) {
            throw new IllegalArgumentException("limits must be positive and headroom non-negative");
        }
        if (replyTtl < 1 || replyTtl > 255) {
            throw new IllegalArgumentException("TTL must be 1..255: " + replyTtl);
        }
    }

    public static NatConfig defaults() {
        return new NatConfig(DEFAULT_GATEWAY_MAC, DEFAULT_GATEWAY_ADDRESS, DEFAULT_LAN_MTU, DEFAULT_FRAME_HEADROOM,
                Duration.ofSeconds(DEFAULT_UDP_IDLE_SECONDS), Duration.ofSeconds(DEFAULT_UDP_DNS_IDLE_SECONDS),
                DEFAULT_UDP_MAX_FLOWS_PER_VM, DEFAULT_UDP_MAX_FLOWS,
                Duration.ofSeconds(DEFAULT_ICMP_IDLE_SECONDS), DEFAULT_ICMP_MAX_FLOWS_PER_VM, DEFAULT_ICMP_MAX_FLOWS,
                DEFAULT_REPLY_TTL);
    }

    public NatConfig withLanMtu(int mtu) {
        return new NatConfig(gatewayMac, gatewayAddress, mtu, frameHeadroom, udpIdleTimeout, udpDnsIdleTimeout,
                udpMaxFlowsPerVm, udpMaxFlows, icmpIdleTimeout, icmpMaxFlowsPerVm, icmpMaxFlows, replyTtl);
    }

    public NatConfig withUdpLimits(int perVm, int total) {
        return new NatConfig(gatewayMac, gatewayAddress, lanMtu, frameHeadroom, udpIdleTimeout, udpDnsIdleTimeout,
                perVm, total, icmpIdleTimeout, icmpMaxFlowsPerVm, icmpMaxFlows, replyTtl);
    }
}

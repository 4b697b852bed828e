package dev.riscvrelay.relay.nat;

import java.time.Duration;

/**
 * How the NAT's UDP and ICMP flows behave; made once from the command line. Where the NAT sits (the gateway's MAC
 * and address, the LAN's MTU, the headroom of the frames it builds) is the network's
 * ({@link dev.riscvrelay.relay.lan.NetworkConfig}); TCP has its own ({@link dev.riscvrelay.relay.nat.tcp.TcpConfig}).
 *
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
        Duration udpIdleTimeout,
        Duration udpDnsIdleTimeout,
        int udpMaxFlowsPerVm,
        int udpMaxFlows,
        Duration icmpIdleTimeout,
        int icmpMaxFlowsPerVm,
        int icmpMaxFlows,
        int replyTtl) {

    public static final int DEFAULT_UDP_IDLE_SECONDS = 60;
    public static final int DEFAULT_UDP_DNS_IDLE_SECONDS = 10;
    public static final int DEFAULT_UDP_MAX_FLOWS_PER_VM = 256;
    public static final int DEFAULT_UDP_MAX_FLOWS = 4096;
    public static final int DEFAULT_ICMP_IDLE_SECONDS = 30;
    public static final int DEFAULT_ICMP_MAX_FLOWS_PER_VM = 32;
    public static final int DEFAULT_ICMP_MAX_FLOWS = 512;
    public static final int DEFAULT_REPLY_TTL = 64;

    public NatConfig {
        if (udpMaxFlowsPerVm < 1 || udpMaxFlows < 1 || icmpMaxFlowsPerVm < 1 || icmpMaxFlows < 1) {
            throw new IllegalArgumentException("limits must be positive");
        }
        if (replyTtl < 1 || replyTtl > 255) {
            throw new IllegalArgumentException("TTL must be 1..255: " + replyTtl);
        }
    }

    public static NatConfig defaults() {
        return new NatConfig(Duration.ofSeconds(DEFAULT_UDP_IDLE_SECONDS),
                Duration.ofSeconds(DEFAULT_UDP_DNS_IDLE_SECONDS), DEFAULT_UDP_MAX_FLOWS_PER_VM, DEFAULT_UDP_MAX_FLOWS,
                Duration.ofSeconds(DEFAULT_ICMP_IDLE_SECONDS), DEFAULT_ICMP_MAX_FLOWS_PER_VM, DEFAULT_ICMP_MAX_FLOWS,
                DEFAULT_REPLY_TTL);
    }

    public NatConfig withUdpLimits(int perVm, int total) {
        return new NatConfig(udpIdleTimeout, udpDnsIdleTimeout, perVm, total, icmpIdleTimeout, icmpMaxFlowsPerVm,
                icmpMaxFlows, replyTtl);
    }
}

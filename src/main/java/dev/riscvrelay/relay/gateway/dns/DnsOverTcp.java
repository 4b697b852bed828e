package dev.riscvrelay.relay.gateway.dns;

import dev.riscvrelay.relay.gateway.GatewayOutput;
import dev.riscvrelay.relay.gateway.IpHandler;
import dev.riscvrelay.relay.metrics.Counter;
import dev.riscvrelay.relay.wire.EthernetFrame;
import dev.riscvrelay.relay.wire.Ipv4Packet;
import java.net.InetSocketAddress;
import java.util.Objects;

/**
 * DNS over TCP at the gateway's DNS address: claims TCP segments to the DNS address, port 53, and hands them to the
 * TCP NAT, whose connection toward the guest plays the DNS address while its host socket connects to the first
 * configured resolver. The bytes pass through unchanged: RFC 7766's length-prefixed messages go from the guest's
 * resolver to the host's and back, so the answer is matched to its query by the connection itself.
 *
 * <p>This is where a guest's stub resolver lands when a UDP answer came back truncated (RFC 1035 section 4.2.2,
 * RFC 7766 section 5): it retries the same question over TCP to the same server. Other TCP ports of the DNS address
 * are not served.
 */
public final class DnsOverTcp implements IpHandler {

    /** Where a claimed segment goes: the TCP NAT's service entry. Same ownership rules as {@link IpHandler}. */
    @FunctionalInterface
    public interface TcpService {
        void onSegment(EthernetFrame ethernet, Ipv4Packet ip, InetSocketAddress upstream);
    }

    private static final int TCP_DESTINATION_PORT_OFFSET = 2;

    private final InetSocketAddress resolver;
    private final TcpService tcp;

    /** Carries DNS over TCP to the first of {@code config}'s resolvers (the one the forwarder also asks first). */
    public DnsOverTcp(DnsConfig config, TcpService tcp) {
        this.resolver = config.resolvers().getFirst();
        this.tcp = Objects.requireNonNull(tcp, "tcp");
    }

    /** The host-side address connections are carried to. */
    public InetSocketAddress resolver() {
        return resolver;
    }

    @Override
    public boolean handle(EthernetFrame ethernet, Ipv4Packet ip, GatewayOutput output) {
        if (ip.protocol() != Ipv4Packet.PROTOCOL_TCP || ip.destination() != output.config().dnsAddress()
                || ip.payloadLength() < TCP_DESTINATION_PORT_OFFSET + 2 || ip.buffer().getUnsignedShort(
                        ip.payloadOffset() + TCP_DESTINATION_PORT_OFFSET) != DnsForwarder.DNS_PORT) {
            return false;
        }
        output.counters().increment(Counter.DNS_TCP_SEGMENTS);
        tcp.onSegment(ethernet, ip, resolver);
        return true;
    }
}

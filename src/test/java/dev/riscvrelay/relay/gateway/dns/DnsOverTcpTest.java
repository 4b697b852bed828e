package dev.riscvrelay.relay.gateway.dns;

import static org.assertj.core.api.Assertions.assertThat;

import dev.riscvrelay.relay.gateway.GuestLan;
import dev.riscvrelay.relay.lan.NetworkConfig;
import dev.riscvrelay.relay.metrics.Counter;
import dev.riscvrelay.relay.wire.EthernetFrame;
import dev.riscvrelay.relay.wire.Ipv4Address;
import dev.riscvrelay.relay.wire.Ipv4Packet;
import dev.riscvrelay.relay.wire.TcpPacket;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Which segments the DNS-over-TCP handler claims in a real gateway's handler chain, and where it sends them: TCP to
 * the DNS address, port 53, goes to the TCP service with the first configured resolver; everything else passes on.
 * The TCP NAT's side of it (connecting to that resolver) is in {@code TcpNatLoopbackIT}, the whole path with dig in
 * {@code InternetThroughRelayIT}.
 */
class DnsOverTcpTest {

    private static final long GUEST_MAC = 0x5255_0a00_020fL;
    private static final int GUEST_IP = Ipv4Address.parse("10.0.2.15");
    private static final int DNS_IP = Ipv4Address.parse("10.0.2.3");
    private static final int GATEWAY_IP = Ipv4Address.parse("10.0.2.2");
    private static final InetSocketAddress FIRST = new InetSocketAddress("127.0.0.53", 53);
    private static final InetSocketAddress SECOND = new InetSocketAddress("192.0.2.1", 53);

    /** What the handler handed to the TCP service: destination, port and upstream of each segment. */
    private record Handed(int destination, int port, InetSocketAddress upstream) {
    }

    private final List<Handed> handed = new ArrayList<>();
    private final DnsOverTcp handler = new DnsOverTcp(DnsConfig.of(List.of(FIRST, SECOND)),
            (ethernet, ip, upstream) -> handed.add(new Handed(ip.destination(),
                    ip.buffer().getUnsignedShort(ip.payloadOffset() + 2), upstream)));
    private final GuestLan lan = new GuestLan(NetworkConfig.defaults(), handler);

    @Test
    void tcpToTheDnsAddressPort53GoesToTheFirstResolver() {
        lan.sendFromGuest(tcpFrame(DNS_IP, 53, TcpPacket.FLAG_SYN));
        lan.sendFromGuest(tcpFrame(DNS_IP, 53, TcpPacket.FLAG_ACK));

        assertThat(handler.resolver()).isEqualTo(FIRST);
        assertThat(handed).containsExactly(new Handed(DNS_IP, 53, FIRST), new Handed(DNS_IP, 53, FIRST));
        assertThat(lan.counters.get(Counter.DNS_TCP_SEGMENTS)).isEqualTo(2);
        assertThat(lan.counters.get(Counter.GATEWAY_UNHANDLED)).isZero();
    }

    @Test
    void otherPortsOtherAddressesAndUdpPassOn() {
        lan.sendFromGuest(tcpFrame(DNS_IP, 80, TcpPacket.FLAG_SYN));
        lan.sendFromGuest(tcpFrame(GATEWAY_IP, 53, TcpPacket.FLAG_SYN));
        lan.sendFromGuest(DnsForwarderTest.queryFrame(GUEST_MAC, GUEST_IP, 5000, 0x1234, "www.relay.test"));

        assertThat(handed).isEmpty();
        assertThat(lan.counters.get(Counter.DNS_TCP_SEGMENTS)).isZero();
        // No later handler in this chain: each is the gateway's unhandled unicast.
        assertThat(lan.counters.get(Counter.GATEWAY_UNHANDLED)).isEqualTo(3);
    }

    @Test
    void aPacketTooShortForTheTcpPortsPassesOn() {
        byte[] frame = tcpFrame(DNS_IP, 53, TcpPacket.FLAG_SYN);
        ByteBuf buf = Unpooled.buffer(37);
        try {
            // IPv4 header claiming 3 bytes of TCP: not even the destination port.
            buf.writeBytes(frame, 0, 34).writeBytes(new byte[] {0, 1, 0});
            Ipv4Packet.writeHeader(buf, 14, 23, 7, true, 64, Ipv4Packet.PROTOCOL_TCP, GUEST_IP, DNS_IP);
            byte[] shortFrame = new byte[37];
            buf.getBytes(0, shortFrame);
            lan.sendFromGuest(shortFrame);
        } finally {
            buf.release();
        }
        assertThat(handed).isEmpty();
        assertThat(lan.counters.get(Counter.DNS_TCP_SEGMENTS)).isZero();
        assertThat(lan.counters.get(Counter.GATEWAY_UNHANDLED)).as("offered to the chain, claimed by none")
                .isEqualTo(1);
    }

    private static byte[] tcpFrame(int destination, int port, int flags) {
        int tcpLength = TcpPacket.MIN_HEADER_LENGTH;
        ByteBuf buf = Unpooled.buffer(34 + tcpLength);
        try {
            buf.writerIndex(34 + tcpLength);
            EthernetFrame.writeHeader(buf, 0, NetworkConfig.DEFAULT_GATEWAY_MAC, GUEST_MAC, EthernetFrame.TYPE_IPV4);
            Ipv4Packet.writeHeader(buf, 14, 20 + tcpLength, 7, true, 64, Ipv4Packet.PROTOCOL_TCP, GUEST_IP,
                    destination);
            TcpPacket.writeHeader(buf, 34, 40000, port, 1000, 0, tcpLength, flags, 65535);
            TcpPacket.fillChecksum(buf, 34, tcpLength, GUEST_IP, destination);
            byte[] frame = new byte[34 + tcpLength];
            buf.getBytes(0, frame);
            return frame;
        } finally {
            buf.release();
        }
    }
}

package dev.riscvrelay.relay.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.riscvrelay.relay.gateway.dhcp.DhcpServer;
import dev.riscvrelay.relay.gateway.dns.DnsConfig;
import dev.riscvrelay.relay.gateway.dns.DnsForwarder;
import dev.riscvrelay.relay.lan.NetworkConfig;
import dev.riscvrelay.relay.metrics.Counters;
import dev.riscvrelay.relay.wire.Checksums;
import dev.riscvrelay.relay.wire.EthernetFrame;
import dev.riscvrelay.relay.wire.Icmpv6Packet;
import dev.riscvrelay.relay.wire.Ipv4Packet;
import dev.riscvrelay.relay.wire.Ipv6Packet;
import dev.riscvrelay.relay.wire.UdpPacket;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.buffer.UnpooledByteBufAllocator;
import io.netty.channel.DefaultEventLoop;
import io.netty.channel.EventLoop;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;

/**
 * Any sequence of frames guests send to the gateway, as the relay wires it (ping, DHCP, DNS, the route to the
 * outside, IPv4 and IPv6; DNS over IPv6 and stateless DHCPv6 too): {@link Gateway#send} never throws, releases
 * each frame, and every reply is a valid frame from the gateway ({@link ReplyCheckingLan}). Pending DNS queries all end (SERVFAIL) once their timeout passes.
 *
 * <p>Input: records of a control byte, a 16-bit length and that many frame bytes (cut at the end of the input).
 * Control bit 0 recomputes the IPv4 header checksum and bit 1 the ICMP/UDP (or, in an IPv6 frame, the ICMPv6 or
 * UDP) checksum, so the fuzzer gets past the checksums (and still sends bad ones when clear); bits 2..4 move the clock
 * forward by 16^k milliseconds first, and the gateway then sends its periodic router advertisement when due.
 */
class GatewayFuzzTest {

    /** Never started: the DNS forwarder only keeps it; no socket is opened, so no query leaves the test. */
    private static final EventLoop UNUSED_LOOP = new DefaultEventLoop();
    private static final InetSocketAddress RESOLVER = new InetSocketAddress(InetAddress.getLoopbackAddress(), 53);

    @FuzzTest(maxDuration = "60s")
    void send(byte[] input) {
        long[] now = {1_000_000_000L};
        Counters counters = new Counters();
        ReplyCheckingLan lan = new ReplyCheckingLan(null);
        NetworkConfig config = NetworkConfig.defaults().withPool(0x0A00_020F, 4);
        Gateway gateway = new Gateway(config, lan, UnpooledByteBufAllocator.DEFAULT, counters);
        DhcpServer dhcp = new DhcpServer(config, () -> now[0]);
        DnsForwarder dns = new DnsForwarder(DnsConfig.of(List.of(RESOLVER)).withMaxPending(4), UNUSED_LOOP,
                counters, () -> now[0]);
        int[] outside = {0};
        gateway.addIpHandler(dhcp);
        gateway.addIpHandler(dns);
        gateway.addIpv6Handler(dns);
        gateway.addIpHandler(new RouteToOutside((ethernet, ip) -> {
            assertThat(ip.payloadOffset() + ip.payloadLength())
                    .isLessThanOrEqualTo(ethernet.offset() + ethernet.length());
            outside[0]++;
        }));
        // The IPv6 route to the outside: it refuses every other packet, in turn with each code the NAT gives.
        gateway.routeIpv6ToOutside((ethernet, ip) -> {
            assertThat(ip.payloadOffset() + ip.payloadLength())
                    .isLessThanOrEqualTo(ethernet.offset() + ethernet.length());
            assertThat(ip.sourceHigh() >>> 56).as("never a multicast source").isNotEqualTo(0xFF);
            outside[0]++;
            return switch (outside[0] % 4) {
                case 0 -> Icmpv6Packet.CODE_NO_ROUTE;
                case 1 -> Icmpv6Packet.CODE_ADMIN_PROHIBITED;
                default -> Ipv6Outside.HANDLED;
            };
        });
        lan.attach(gateway);

        int at = 0;
        while (at + 3 <= input.length) {
            int control = input[at] & 0xFF;
            int length = Math.min((input[at + 1] & 0xFF) << 8 | (input[at + 2] & 0xFF), input.length - at - 3);
            at += 3;
            now[0] += advanceNanos(control);
            ByteBuf frame = Unpooled.directBuffer(length);
            frame.writeBytes(input, at, length);
            at += length;
            fixChecksums(frame, control);
            gateway.everySecond(now[0]);
            gateway.send(frame);
            assertThat(frame.refCnt()).as("the gateway releases what it is sent").isZero();
            assertThat(dhcp.boundLeases()).isBetween(0, 4);
            assertThat(dns.pendingQueries()).isBetween(0, 4);
        }
        now[0] += Duration.ofMinutes(1).toNanos();
        dns.expireTimeouts();
        assertThat(dns.pendingQueries()).as("every query ends after its timeout").isZero();
        // Datagrams still in reassembly hold buffers until the LAN closes, as a network's close() does.
        gateway.close();
    }

    static long advanceNanos(int control) {
        int k = control >>> 2 & 0x07;
        return k == 0 ? 0 : Duration.ofMillis(1L << (4 * k)).toNanos();
    }

    /** Recomputes checksums of an untagged IPv4 or IPv6 frame in place, as far as its lengths allow. */
    static void fixChecksums(ByteBuf frame, int control) {
        EthernetFrame ethernet = new EthernetFrame();
        if ((control & 0x03) == 0 || !ethernet.wrap(frame).ok()) {
            return;
        }
        if (ethernet.etherType() == EthernetFrame.TYPE_IPV6) {
            fixIcmpv6Checksum(frame, ethernet, control);
            return;
        }
        if (ethernet.etherType() != EthernetFrame.TYPE_IPV4) {
            return;
        }
        int ipAt = ethernet.payloadOffset();
        int available = ethernet.payloadLength();
        if (available < Ipv4Packet.MIN_HEADER_LENGTH) {
            return;
        }
        int headerLength = (frame.getUnsignedByte(ipAt) & 0x0F) * 4;
        if (headerLength < Ipv4Packet.MIN_HEADER_LENGTH || headerLength > available) {
            return;
        }
        if ((control & 0x01) != 0) {
            frame.setShort(ipAt + 10, 0);
            frame.setShort(ipAt + 10, Checksums.internetChecksum(frame, ipAt, headerLength));
        }
        int total = frame.getUnsignedShort(ipAt + 2);
        if ((control & 0x02) == 0 || total < headerLength || total > available) {
            return;
        }
        int l4At = ipAt + headerLength;
        int l4Length = total - headerLength;
        int protocol = frame.getUnsignedByte(ipAt + 9);
        if (protocol == Ipv4Packet.PROTOCOL_ICMP && l4Length >= 8) {
            frame.setShort(l4At + 2, 0);
            frame.setShort(l4At + 2, Checksums.internetChecksum(frame, l4At, l4Length));
        } else if (protocol == Ipv4Packet.PROTOCOL_UDP && l4Length >= 8) {
            int udpLength = frame.getUnsignedShort(l4At + 4);
            if (udpLength >= 8 && udpLength <= l4Length) {
                frame.setShort(l4At + 6, 0);
                UdpPacket.fillChecksum(frame, l4At, udpLength, frame.getInt(ipAt + 12),
                        frame.getInt(ipAt + 16));
            }
        }
    }

    private static void fixIcmpv6Checksum(ByteBuf frame, EthernetFrame ethernet, int control) {
        Ipv6Packet ip = new Ipv6Packet();
        if ((control & 0x02) == 0 || !ip.wrap(frame, ethernet.payloadOffset(), ethernet.payloadLength()).ok()) {
            return;
        }
        if (ip.nextHeader() == Ipv6Packet.NEXT_HEADER_UDP && ip.payloadLength() >= UdpPacket.HEADER_LENGTH) {
            int udpLength = frame.getUnsignedShort(ip.payloadOffset() + 4);
            if (udpLength >= UdpPacket.HEADER_LENGTH && udpLength <= ip.payloadLength()) {
                frame.setShort(ip.payloadOffset() + 6, 0);
                UdpPacket.fillChecksumOverIpv6(frame, ip.payloadOffset(), udpLength, ip.sourceHigh(), ip.sourceLow(),
                        ip.destinationHigh(), ip.destinationLow());
            }
            return;
        }
        if (ip.nextHeader() != Ipv6Packet.NEXT_HEADER_ICMPV6 || ip.payloadLength() < 4) {
            return;
        }
        frame.setShort(ip.payloadOffset() + 2, 0);
        Icmpv6Packet.fillChecksum(frame, ip.payloadOffset(), ip.payloadLength(), ip.sourceHigh(), ip.sourceLow(),
                ip.destinationHigh(), ip.destinationLow());
    }
}

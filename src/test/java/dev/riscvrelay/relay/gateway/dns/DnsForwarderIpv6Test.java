package dev.riscvrelay.relay.gateway.dns;

import static org.assertj.core.api.Assertions.assertThat;

import dev.riscvrelay.relay.gateway.GuestLan;
import dev.riscvrelay.relay.lan.NetworkConfig;
import dev.riscvrelay.relay.metrics.Counter;
import dev.riscvrelay.relay.wire.EthernetFrame;
import dev.riscvrelay.relay.wire.Ipv6Address;
import dev.riscvrelay.relay.wire.Ipv6Packet;
import dev.riscvrelay.relay.wire.ParseResult;
import dev.riscvrelay.relay.wire.UdpPacket;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.EpollIoHandler;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The DNS forwarder at the LAN's IPv6 DNS address, fd00:10:0:2::3: queries in and answers out over IPv6. */
class DnsForwarderIpv6Test {

    private static final Duration WAIT = Duration.ofSeconds(5);
    private static final long GUEST_MAC = 0x5255_0a00_020fL;
    private static final long[] GUEST = Ipv6Address.parse("fd00:10:0:2:5055:aff:fe00:20f");
    private static final long[] DNS = Ipv6Address.parse("fd00:10:0:2::3");
    /** One AAAA record, 2001:db8::10, TTL 60, name by compression pointer. */
    private static final byte[] AAAA_RECORD = {(byte) 0xC0, 12, 0, 28, 0, 1, 0, 0, 0, 60, 0, 16,
        0x20, 0x01, 0x0d, (byte) 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10};

    private final AtomicLong nanoTime = new AtomicLong(1_000_000_000L);
    private EventLoopGroup group;
    private TestResolver upstream;
    private GuestLan lan;
    private DnsForwarder forwarder;

    @AfterEach
    void tearDown() throws Exception {
        if (forwarder != null) {
            forwarder.close();
        }
        if (upstream != null) {
            upstream.close();
        }
        if (group != null) {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        }
    }

    private void start(java.util.function.BiFunction<byte[], Integer, byte[]> answers) throws Exception {
        upstream = new TestResolver(answers);
        group = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
        lan = new GuestLan(NetworkConfig.defaults());
        forwarder = new DnsForwarder(DnsConfig.of(List.of(upstream.address())), group.next(), lan.counters,
                nanoTime::get);
        lan.gateway.addIpHandler(forwarder);
        lan.gateway.addIpv6Handler(forwarder);
        forwarder.start().sync();
    }

    @Test
    void anAaaaQueryOverIpv6IsForwardedAndAnsweredFromTheIpv6DnsAddress() throws Exception {
        start((query, n) -> answer(query, 1));
        byte[] query = dnsQuery(0xabcd, "www.relay.test");

        fromGuest(udpFrame(41000, query, true));

        byte[] sent = upstream.queries.poll(5, TimeUnit.SECONDS);
        assertThat(Arrays.copyOfRange(sent, 2, sent.length)).as("forwarded unchanged but for the id")
                .isEqualTo(Arrays.copyOfRange(query, 2, query.length));
        Answer answer = Answer.parse(lan.awaitFrame(WAIT));
        assertThat(answer.destinationMac).isEqualTo(GUEST_MAC);
        assertThat(answer.source).containsExactly(DNS[0], DNS[1]);
        assertThat(answer.destination).containsExactly(GUEST[0], GUEST[1]);
        assertThat(answer.sourcePort).isEqualTo(53);
        assertThat(answer.destinationPort).isEqualTo(41000);
        assertThat(answer.dns[0] & 0xFF).isEqualTo(0xab);
        assertThat(Arrays.copyOfRange(answer.dns, answer.dns.length - 16, answer.dns.length))
                .isEqualTo(Ipv6Address.toInetAddress(0x2001_0db8_0000_0000L, 0x10).getAddress());
        assertThat(counter(Counter.DNS_ANSWERS)).isEqualTo(1);
    }

    @Test
    void aQueryWithoutAChecksumIsRefusedOverIpv6() throws Exception {
        start((query, n) -> answer(query, 1));
        fromGuest(udpFrame(41001, dnsQuery(1, "x.relay.test"), false));

        assertThat(upstream.queries.poll(200, TimeUnit.MILLISECONDS)).isNull();
        assertThat(counter(Counter.DROP_BAD_CHECKSUM)).isEqualTo(1);
        assertThat(lan.takeReceived()).isEmpty();
    }

    @Test
    void anAnswerThatDoesNotFitTheLanMtuWithItsIpv6HeaderIsTruncated() throws Exception {
        // 1185 - 40 - 8 = 1137 bytes of DNS fit over IPv6; 32 + 40 × 28 = 1152 do not (they would over IPv4).
        start((query, n) -> answer(query, 40));
        fromGuest(udpFrame(41002, dnsQuery(2, "big.relay.test"), true));

        Answer answer = Answer.parse(lan.awaitFrame(WAIT));
        assertThat(answer.dns[2] & 0x02).as("TC").isNotZero();
        assertThat(answer.dns.length).isEqualTo(12 + "big.relay.test".length() + 2 + 4);
        assertThat(counter(Counter.DNS_TRUNCATED_FOR_MTU)).isEqualTo(1);
    }

    private void fromGuest(byte[] frame) throws Exception {
        group.next().submit(() -> lan.sendFromGuest(frame)).sync();
    }

    private long counter(Counter counter) throws Exception {
        return group.next().submit(() -> lan.counters.get(counter)).get(5, TimeUnit.SECONDS);
    }

    private static byte[] answer(byte[] query, int records) {
        int questionEnd = DnsForwarder.questionEnd(Unpooled.wrappedBuffer(query), 0, query.length);
        byte[] answer = Arrays.copyOf(query, questionEnd + records * AAAA_RECORD.length);
        answer[2] = (byte) 0x81;
        answer[3] = (byte) 0x80;
        answer[7] = (byte) records;
        for (int i = 0; i < records; i++) {
            System.arraycopy(AAAA_RECORD, 0, answer, questionEnd + i * AAAA_RECORD.length, AAAA_RECORD.length);
        }
        return answer;
    }

    private static byte[] dnsQuery(int id, String name) {
        byte[] query = DnsForwarderTest.dnsQuery(id, name);
        query[query.length - 3] = 28;
        return query;
    }

    private static byte[] udpFrame(int port, byte[] dns, boolean checksum) {
        int udpLength = UdpPacket.HEADER_LENGTH + dns.length;
        int length = EthernetFrame.HEADER_LENGTH + Ipv6Packet.HEADER_LENGTH + udpLength;
        ByteBuf buf = Unpooled.buffer(length);
        try {
            buf.writeZero(length);
            EthernetFrame.writeHeader(buf, 0, NetworkConfig.DEFAULT_GATEWAY_MAC, GUEST_MAC, EthernetFrame.TYPE_IPV6);
            Ipv6Packet.writeHeader(buf, 14, udpLength, Ipv6Packet.NEXT_HEADER_UDP, 64, GUEST[0], GUEST[1], DNS[0],
                    DNS[1]);
            UdpPacket.writeHeader(buf, 54, port, 53, udpLength);
            buf.setBytes(62, dns);
            if (checksum) {
                UdpPacket.fillChecksumOverIpv6(buf, 54, udpLength, GUEST[0], GUEST[1], DNS[0], DNS[1]);
            }
            byte[] frame = new byte[length];
            buf.getBytes(0, frame);
            return frame;
        } finally {
            buf.release();
        }
    }

    /** A DNS reply over IPv6 the guest received, with its headers and UDP checksum verified. */
    private record Answer(long destinationMac, long[] source, long[] destination, int sourcePort,
            int destinationPort, byte[] dns) {

        static Answer parse(byte[] frame) {
            ByteBuf buf = Unpooled.wrappedBuffer(frame);
            EthernetFrame ethernet = new EthernetFrame();
            Ipv6Packet ip = new Ipv6Packet();
            UdpPacket udp = new UdpPacket();
            assertThat(ethernet.wrap(buf)).isEqualTo(ParseResult.OK);
            assertThat(ethernet.etherType()).isEqualTo(EthernetFrame.TYPE_IPV6);
            assertThat(ip.wrap(buf, ethernet.payloadOffset(), ethernet.payloadLength())).isEqualTo(ParseResult.OK);
            assertThat(ip.nextHeader()).isEqualTo(Ipv6Packet.NEXT_HEADER_UDP);
            assertThat(Ipv6Packet.HEADER_LENGTH + ip.payloadLength()).isLessThanOrEqualTo(NetworkConfig.DEFAULT_MTU);
            assertThat(udp.wrap(buf, ip.payloadOffset(), ip.payloadLength())).isEqualTo(ParseResult.OK);
            assertThat(udp.checksumValidOverIpv6(ip.sourceHigh(), ip.sourceLow(), ip.destinationHigh(),
                    ip.destinationLow())).isTrue();
            byte[] dns = new byte[udp.dataLength()];
            buf.getBytes(udp.dataOffset(), dns);
            return new Answer(ethernet.destination(), new long[] {ip.sourceHigh(), ip.sourceLow()},
                    new long[] {ip.destinationHigh(), ip.destinationLow()}, udp.sourcePort(), udp.destinationPort(),
                    dns);
        }
    }
}

package dev.riscvrelay.relay.gateway.dns;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.riscvrelay.relay.gateway.GuestLan;
import dev.riscvrelay.relay.lan.NetworkConfig;
import dev.riscvrelay.relay.metrics.Counter;
import dev.riscvrelay.relay.wire.EthernetFrame;
import dev.riscvrelay.relay.wire.HexFixtures;
import dev.riscvrelay.relay.wire.Ipv4Address;
import dev.riscvrelay.relay.wire.Ipv4Packet;
import dev.riscvrelay.relay.wire.ParseResult;
import dev.riscvrelay.relay.wire.UdpPacket;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.nio.NioIoHandler;
import java.io.ByteArrayOutputStream;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class DnsForwarderTest {

    private static final Duration WAIT = Duration.ofSeconds(5);
    private static final long GUEST_MAC = 0x5255_0a00_020fL;
    private static final int GUEST_IP = Ipv4Address.parse("10.0.2.15");
    private static final int DNS_IP = Ipv4Address.parse("10.0.2.3");

    private final AtomicLong nanoTime = new AtomicLong(1_000_000_000L);
    private final List<AutoCloseable> closeLast = new ArrayList<>();
    private EventLoopGroup group;
    private GuestLan lan;
    private DnsForwarder forwarder;

    @AfterEach
    void tearDown() throws Exception {
        if (forwarder != null) {
            forwarder.close();
        }
        for (AutoCloseable closeable : closeLast) {
            closeable.close();
        }
        if (group != null) {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        }
    }

    private TestResolver resolver(java.util.function.BiFunction<byte[], Integer, byte[]> answers) {
        TestResolver resolver = new TestResolver(answers);
        closeLast.add(resolver);
        return resolver;
    }

    private void start(DnsConfig config, boolean epoll) throws Exception {
        group = new MultiThreadIoEventLoopGroup(1,
                epoll ? EpollIoHandler.newFactory() : NioIoHandler.newFactory());
        lan = new GuestLan(NetworkConfig.defaults());
        forwarder = new DnsForwarder(config, group.next(), lan.counters, nanoTime::get);
        lan.gateway.addIpHandler(forwarder);
        forwarder.start().sync();
    }

    private void start(DnsConfig config) throws Exception {
        if (!Epoll.isAvailable()) {
            throw new AssertionError("epoll must be available on Linux: " + Epoll.unavailabilityCause());
        }
        start(config, true);
    }

    private void onLoop(Runnable action) throws Exception {
        group.next().submit(action).sync();
    }

    private void fromGuest(byte[] frame) throws Exception {
        onLoop(() -> lan.sendFromGuest(frame));
    }

    /**
     * Read on the loop: a frame the forwarder emitted can reach the test before the loop finished the handler that
     * counts it.
     */
    private long counter(Counter counter) throws Exception {
        return group.next().submit(() -> lan.counters.get(counter)).get(5, TimeUnit.SECONDS);
    }

    @Test
    void aCapturedQueryIsForwardedWithAFreshIdAndTheAnswerComesBackFromTheDnsAddress() throws Exception {
        TestResolver upstream = resolver((query, n) -> TestResolver.answerA(query));
        start(DnsConfig.of(List.of(upstream.address())));
        byte[] captured = HexFixtures.bytes("udp-dns-query-example-com");

        fromGuest(captured);

        byte[] sent = upstream.queries.poll(5, TimeUnit.SECONDS);
        byte[] guestQuery = Arrays.copyOfRange(captured, 42, captured.length);
        assertThat(sent).hasSameSizeAs(guestQuery);
        assertThat(Arrays.copyOfRange(sent, 2, sent.length)).isEqualTo(Arrays.copyOfRange(guestQuery, 2,
                guestQuery.length));
        Answer answer = Answer.parse(lan.awaitFrame(WAIT));
        assertThat(answer.destinationMac).isEqualTo(GUEST_MAC);
        assertThat(answer.sourceIp).isEqualTo(DNS_IP);
        assertThat(answer.sourcePort).isEqualTo(53);
        assertThat(answer.destinationIp).isEqualTo(GUEST_IP);
        assertThat(answer.destinationPort).isEqualTo(40000);
        assertThat(answer.id()).isEqualTo(0xbeef);
        assertThat(answer.dns).hasSize(guestQuery.length + 16);
        assertThat(Arrays.copyOfRange(answer.dns, answer.dns.length - 4, answer.dns.length))
                .containsExactly(203, 0, 113, 10);
        assertThat(counter(Counter.DNS_QUERIES_FORWARDED)).isEqualTo(1);
        assertThat(counter(Counter.DNS_ANSWERS)).isEqualTo(1);
        onLoop(() -> assertThat(forwarder.pendingQueries()).isZero());
    }

    @Test
    void twoGuestsWithTheSameQueryIdEachGetTheirOwnAnswer() throws Exception {
        TestResolver upstream = resolver((query, n) -> null);
        start(DnsConfig.of(List.of(upstream.address())), false);
        long otherMac = 0x5255_0a00_0210L;
        int otherIp = Ipv4Address.parse("10.0.2.16");
        fromGuest(queryFrame(GUEST_MAC, GUEST_IP, 5000, 0x1111, "one.relay.test"));
        fromGuest(queryFrame(otherMac, otherIp, 5000, 0x1111, "two.relay.test"));
        byte[] first = upstream.queries.poll(5, TimeUnit.SECONDS);
        byte[] second = upstream.queries.poll(5, TimeUnit.SECONDS);
        assertThat(id(first)).isNotEqualTo(id(second));

        // The resolver stops; a socket on its address replays both answers, the second query's first.
        InetSocketAddress resolverAddress = upstream.address();
        upstream.close();
        try (java.net.DatagramSocket socket = new java.net.DatagramSocket(resolverAddress)) {
            InetSocketAddress forwarderAddress = new InetSocketAddress("127.0.0.1",
                    forwarder.ipv4LocalAddress().getPort());
            for (byte[] query : List.of(second, first)) {
                byte[] answer = TestResolver.answerA(query);
                socket.send(new java.net.DatagramPacket(answer, answer.length, forwarderAddress));
            }
                Answer a = Answer.parse(lan.awaitFrame(WAIT));
            Answer b = Answer.parse(lan.awaitFrame(WAIT));
            assertThat(a.destinationIp).isEqualTo(otherIp);
            assertThat(a.destinationMac).isEqualTo(otherMac);
            assertThat(a.name()).isEqualTo("two.relay.test");
            assertThat(b.destinationIp).isEqualTo(GUEST_IP);
            assertThat(b.name()).isEqualTo("one.relay.test");
            assertThat(a.id()).isEqualTo(0x1111);
            assertThat(b.id()).isEqualTo(0x1111);
        }
    }

    @Test
    void aSilentResolverIsReplacedByTheNextAfterTheTimeoutThenServfail() throws Exception {
        TestResolver silent = resolver((query, n) -> null);
        TestResolver answering = resolver((query, n) -> n == 0 ? TestResolver.answerA(query) : null);
        start(DnsConfig.of(List.of(silent.address(), answering.address())).withTimeout(Duration.ofSeconds(5)));

        fromGuest(queryFrame(GUEST_MAC, GUEST_IP, 6000, 0x2222, "slow.relay.test"));
        assertThat(silent.queries.poll(5, TimeUnit.SECONDS)).isNotNull();
        nanoTime.addAndGet(Duration.ofSeconds(5).toNanos() - 1);
        onLoop(forwarder::expireTimeouts);
        assertThat(counter(Counter.DNS_TIMEOUTS)).isZero();
        nanoTime.addAndGet(1);
        onLoop(forwarder::expireTimeouts);
        assertThat(answering.queries.poll(5, TimeUnit.SECONDS)).isNotNull();
        assertThat(Answer.parse(lan.awaitFrame(WAIT)).name()).isEqualTo("slow.relay.test");
        assertThat(counter(Counter.DNS_TIMEOUTS)).isEqualTo(1);

        // Now both stay silent: after two timeouts the guest gets SERVFAIL.
        fromGuest(queryFrame(GUEST_MAC, GUEST_IP, 6001, 0x3333, "dead.relay.test"));
        assertThat(silent.queries.poll(5, TimeUnit.SECONDS)).isNotNull();
        nanoTime.addAndGet(Duration.ofSeconds(5).toNanos());
        onLoop(forwarder::expireTimeouts);
        assertThat(answering.queries.poll(5, TimeUnit.SECONDS)).isNotNull();
        nanoTime.addAndGet(Duration.ofSeconds(5).toNanos());
        onLoop(forwarder::expireTimeouts);
        Answer servfail = Answer.parse(lan.awaitFrame(WAIT));
        assertThat(servfail.id()).isEqualTo(0x3333);
        assertThat(servfail.flags() & 0x800F).isEqualTo(0x8002);
        assertThat(servfail.name()).isEqualTo("dead.relay.test");
        assertThat(counter(Counter.DNS_FAILURES)).isEqualTo(1);
        onLoop(() -> assertThat(forwarder.pendingQueries()).isZero());
    }

    @Test
    void aFullPendingTableAnswersServfailAndCounts() throws Exception {
        TestResolver silent = resolver((query, n) -> null);
        start(DnsConfig.of(List.of(silent.address())).withMaxPending(2));
        for (int i = 0; i < 3; i++) {
            fromGuest(queryFrame(GUEST_MAC, GUEST_IP, 7000 + i, i, "q" + i + ".relay.test"));
        }
        Answer refused = Answer.parse(lan.awaitFrame(WAIT));
        assertThat(refused.destinationPort).isEqualTo(7002);
        assertThat(refused.flags() & 0x000F).isEqualTo(2);
        assertThat(counter(Counter.DNS_REFUSED_PENDING_FULL)).isEqualTo(1);
        onLoop(() -> assertThat(forwarder.pendingQueries()).isEqualTo(2));
    }

    @Test
    void answersWithAnotherQuestionOrFromAnotherPortAreNotDelivered() throws Exception {
        TestResolver upstream = resolver((query, n) -> {
            byte[] answer = TestResolver.answerA(query);
            answer[13] ^= 0x01; // first letter of the name changed
            return answer;
        });
        start(DnsConfig.of(List.of(upstream.address())));
        fromGuest(queryFrame(GUEST_MAC, GUEST_IP, 8000, 0x4444, "spoof.relay.test"));
        byte[] sent = upstream.queries.poll(5, TimeUnit.SECONDS);
        try (java.net.DatagramSocket stranger = new java.net.DatagramSocket()) {
            byte[] answer = TestResolver.answerA(sent);
            stranger.send(new java.net.DatagramPacket(answer, answer.length,
                    new InetSocketAddress("127.0.0.1", forwarder.ipv4LocalAddress().getPort())));
        }
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (counter(Counter.DNS_UNMATCHED_ANSWERS) < 2 && System.nanoTime() < deadline) {
            onLoop(() -> { });
            Thread.onSpinWait();
        }
        assertThat(counter(Counter.DNS_UNMATCHED_ANSWERS)).isEqualTo(2);
        assertThat(lan.takeReceived()).isEmpty();
        onLoop(() -> assertThat(forwarder.pendingQueries()).isEqualTo(1));
    }

    @Test
    void anAnswerTooBigForTheLanMtuIsSentTruncated() throws Exception {
        TestResolver upstream = resolver((query, n) -> {
            byte[] one = TestResolver.answerA(query);
            int questionEnd = one.length - 16;
            ByteArrayOutputStream big = new ByteArrayOutputStream();
            big.write(one, 0, questionEnd);
            for (int i = 0; i < 80; i++) {
                big.write(one, questionEnd, 16);
            }
            byte[] answer = big.toByteArray();
            answer[6] = 0;
            answer[7] = 80;
            return answer;
        });
        start(DnsConfig.of(List.of(upstream.address())));
        fromGuest(queryFrame(GUEST_MAC, GUEST_IP, 9000, 0x5555, "big.relay.test"));
        Answer truncated = Answer.parse(lan.awaitFrame(WAIT));
        assertThat(truncated.flags() & 0x8200).isEqualTo(0x8200);
        assertThat(truncated.id()).isEqualTo(0x5555);
        assertThat(truncated.name()).isEqualTo("big.relay.test");
        assertThat(truncated.dns.length).isEqualTo(12 + "big.relay.test".length() + 2 + 4);
        assertThat(counter(Counter.DNS_TRUNCATED_FOR_MTU)).isEqualTo(1);
    }

    @Test
    void malformedQueriesAreDroppedAndCounted() throws Exception {
        TestResolver upstream = resolver((query, n) -> TestResolver.answerA(query));
        start(DnsConfig.of(List.of(upstream.address())));
        byte[] good = dnsQuery(0x6666, "ok.relay.test");
        byte[] response = good.clone();
        response[2] |= (byte) 0x80;
        byte[] twoQuestions = good.clone();
        twoQuestions[5] = 2;
        byte[] labelOverrun = good.clone();
        labelOverrun[12] = 60;
        byte[] pointer = good.clone();
        pointer[12] = (byte) 0xC0;
        for (byte[] dns : List.of(response, twoQuestions, labelOverrun, pointer, Arrays.copyOf(good, 11),
                Arrays.copyOf(good, good.length - 2))) {
            fromGuest(udpFrame(GUEST_MAC, GUEST_IP, 9100, dns));
        }
        assertThat(counter(Counter.DROP_DNS_MALFORMED)).isEqualTo(6);
        assertThat(upstream.queries.poll(200, TimeUnit.MILLISECONDS)).isNull();
        assertThat(lan.takeReceived()).isEmpty();
    }

    @Test
    void resolvConfNameserversAreReadInOrderWithoutNames() {
        List<InetSocketAddress> resolvers = DnsConfig.parseResolvConf("""
                # Generated by NetworkManager
                search example.org
                nameserver 127.0.0.53
                options edns0 trust-ad
                nameserver  2001:db8::53
                nameserver\t198.51.100.7
                """);
        assertThat(resolvers).extracting(r -> r.getAddress().getHostAddress())
                .containsExactly("127.0.0.53", "2001:db8:0:0:0:0:0:53", "198.51.100.7");
        assertThat(resolvers).allMatch(r -> r.getPort() == 53);
        assertThatThrownBy(() -> DnsConfig.parseResolvConf("nameserver dns.example\n"))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> DnsConfig.parseResolvConf("search x\n"))
                .isInstanceOf(IllegalArgumentException.class);
    }

    private static int id(byte[] dns) {
        return (dns[0] & 0xFF) << 8 | (dns[1] & 0xFF);
    }

    static byte[] dnsQuery(int id, String name) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(id >>> 8);
        out.write(id);
        out.writeBytes(new byte[] {1, 0, 0, 1, 0, 0, 0, 0, 0, 0});
        for (String label : name.split("\\.")) {
            out.write(label.length());
            out.writeBytes(label.getBytes(java.nio.charset.StandardCharsets.US_ASCII));
        }
        out.writeBytes(new byte[] {0, 0, 1, 0, 1});
        return out.toByteArray();
    }

    static byte[] queryFrame(long mac, int ip, int port, int id, String name) {
        return udpFrame(mac, ip, port, dnsQuery(id, name));
    }

    static byte[] udpFrame(long mac, int ip, int port, byte[] dns) {
        int udpLength = 8 + dns.length;
        ByteBuf buf = Unpooled.buffer(42 + dns.length);
        try {
            EthernetFrame.writeHeader(buf, 0, NetworkConfig.DEFAULT_GATEWAY_MAC, mac, EthernetFrame.TYPE_IPV4);
            Ipv4Packet.writeHeader(buf, 14, 20 + udpLength, 7, true, 64, Ipv4Packet.PROTOCOL_UDP, ip, DNS_IP);
            UdpPacket.writeHeader(buf, 34, port, 53, udpLength);
            buf.setBytes(42, dns);
            UdpPacket.fillChecksum(buf, 34, udpLength, ip, DNS_IP);
            byte[] frame = new byte[42 + dns.length];
            buf.getBytes(0, frame);
            return frame;
        } finally {
            buf.release();
        }
    }

    /** A DNS reply frame the guest received, with its headers and checksums verified. */
    record Answer(long destinationMac, int sourceIp, int destinationIp, int sourcePort, int destinationPort,
            byte[] dns) {

        static Answer parse(byte[] frame) {
            ByteBuf buf = Unpooled.wrappedBuffer(frame);
            EthernetFrame ethernet = new EthernetFrame();
            Ipv4Packet ip = new Ipv4Packet();
            UdpPacket udp = new UdpPacket();
            assertThat(ethernet.wrap(buf)).isEqualTo(ParseResult.OK);
            assertThat(ip.wrap(buf, ethernet.payloadOffset(), ethernet.payloadLength())).isEqualTo(ParseResult.OK);
            assertThat(udp.wrap(buf, ip.payloadOffset(), ip.payloadLength())).isEqualTo(ParseResult.OK);
            assertThat(udp.hasChecksum() && udp.checksumValid(ip.source(), ip.destination())).isTrue();
            byte[] dns = new byte[udp.dataLength()];
            buf.getBytes(udp.dataOffset(), dns);
            return new Answer(ethernet.destination(), ip.source(), ip.destination(), udp.sourcePort(),
                    udp.destinationPort(), dns);
        }

        int id() {
            return (dns[0] & 0xFF) << 8 | (dns[1] & 0xFF);
        }

        int flags() {
            return (dns[2] & 0xFF) << 8 | (dns[3] & 0xFF);
        }

        String name() {
            StringBuilder name = new StringBuilder();
            int at = 12;
            while (dns[at] != 0) {
                if (!name.isEmpty()) {
                    name.append('.');
                }
                name.append(new String(dns, at + 1, dns[at], java.nio.charset.StandardCharsets.US_ASCII));
                at += dns[at] + 1;
            }
            return name.toString();
        }
    }
}

package dev.riscvrelay.relay.transport.webtransport;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.riscvrelay.relay.metrics.Counter;
import dev.riscvrelay.relay.metrics.Counters;
import dev.riscvrelay.relay.switching.Port;
import dev.riscvrelay.relay.tls.RelayCertificate;
import dev.riscvrelay.relay.wire.FlowHash;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.PooledByteBufAllocator;
import java.net.InetAddress;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The real server and the real Java client over loopback, joined by a hub. */
class WebTransportIT {

    private static final InetAddress LOOPBACK = InetAddress.getLoopbackAddress();
    private static RelayCertificate certificate;

    private final Counters counters = new Counters();
    private final HubSwitch hub = new HubSwitch();
    private final List<WebTransportClient> clients = new ArrayList<>();
    private WebTransportServer server;
    private URI uri;

    @BeforeAll
    static void certificate() {
        certificate = RelayCertificate.selfSignedForLocalhost();
    }

    @BeforeEach
    void start() throws Exception {
        startServer(WebTransportServerConfig.defaults());
    }

    /** A server on loopback with {@code config}, and {@link #uri} pointing at it. */
    private void startServer(WebTransportServerConfig config) throws Exception {
        server = new WebTransportServer(LOOPBACK, 0, certificate, hub, counters, config);
        uri = URI.create("https://127.0.0.1:" + server.localAddress().getPort() + "/");
    }

    @AfterEach
    void stop() {
        for (WebTransportClient client : clients) {
            client.close();
            client.closed().orTimeout(5, TimeUnit.SECONDS).join();
        }
        server.close();
    }

    @AfterAll
    static void done() {
    }

    /** A client whose received frames land in {@code inbox} as byte arrays (buffers released at once). */
    private WebTransportClient open(BlockingQueue<byte[]> inbox) throws Exception {
        WebTransportClient client = WebTransportClient.connect(uri,
                WebTransportClientConfig.pinned(certificate.sha256Hex()), frame -> {
                    try {
                        inbox.add(ByteBufUtil.getBytes(frame));
                    } finally {
                        frame.release();
                    }
                }).get(10, TimeUnit.SECONDS);
        clients.add(client);
        return client;
    }

    /** A frame of {@code length} bytes in a pooled direct buffer with headroom for the datagram prefix. */
    private static ByteBuf frame(int length, int seed) {
        ByteBuf buf = PooledByteBufAllocator.DEFAULT.directBuffer(HttpDatagram.HEADROOM + length);
        buf.writerIndex(HttpDatagram.HEADROOM).readerIndex(HttpDatagram.HEADROOM);
        for (int i = 0; i < length; i++) {
            buf.writeByte(seed + i);
        }
        return buf;
    }

    private static byte[] bytes(int length, int seed) {
        byte[] bytes = new byte[length];
        for (int i = 0; i < length; i++) {
            bytes[i] = (byte) (seed + i);
        }
        return bytes;
    }

    @Test
    void aFrameHandedToAClosedClientFromAnotherThreadIsRefusedAndReleased() throws Exception {
        WebTransportClient client = open(new LinkedBlockingQueue<>());
        client.close();
        client.closed().get(5, TimeUnit.SECONDS); // its own loop has stopped by then

        ByteBuf late = frame(100, 1);
        assertThat(client.sendDatagram(late)).as("sent from the test's thread, not the client's loop").isFalse();
        assertThat(late.refCnt()).as("released, not left to a loop that will never run").isZero();
    }

    @Test
    void framesTravelBetweenTwoClientsBothWays() throws Exception {
        BlockingQueue<byte[]> inboxA = new LinkedBlockingQueue<>();
        BlockingQueue<byte[]> inboxB = new LinkedBlockingQueue<>();
        WebTransportClient a = open(inboxA);
        WebTransportClient b = open(inboxB);
        assertThat(hub.attached.poll(5, TimeUnit.SECONDS)).isNotNull();
        assertThat(hub.attached.poll(5, TimeUnit.SECONDS)).isNotNull();
        assertThat(server.sessionCount()).isEqualTo(2);

        assertThat(a.sendDatagram(frame(60, 1))).isTrue();
        assertThat(inboxB.poll(5, TimeUnit.SECONDS)).isEqualTo(bytes(60, 1));
        assertThat(b.sendDatagram(frame(100, 7))).isTrue();
        assertThat(inboxA.poll(5, TimeUnit.SECONDS)).isEqualTo(bytes(100, 7));
        assertThat(counters.get(Counter.DROP_UNKNOWN_SESSION)).isZero();
    }

    @Test
    void linkRecoveryIsGrantedToClientsThatAskAndFramesCrossToClientsWithoutIt() throws Exception {
        BlockingQueue<byte[]> inboxA = new LinkedBlockingQueue<>();
        BlockingQueue<byte[]> inboxB = new LinkedBlockingQueue<>();
        WebTransportClient a = WebTransportClient.connect(uri,
                WebTransportClientConfig.pinned(certificate.sha256Hex()).withLinkRecovery(true), frame -> {
                    inboxA.add(ByteBufUtil.getBytes(frame));
                    frame.release();
                }).get(10, TimeUnit.SECONDS);
        clients.add(a);
        WebTransportClient b = open(inboxB);
        assertThat(a.linkRecovery()).isTrue();
        assertThat(a.linkParity()).as("the server echoed relay-link-parity").isTrue();
        assertThat(b.linkRecovery()).isFalse();
        assertThat(b.linkParity()).isFalse();
        assertThat(counters.get(Counter.RECOVERY_SESSIONS)).isEqualTo(1);
        // Five bytes of each datagram carry the type and sequence number.
        assertThat(a.maxDatagramPayload()).isEqualTo(b.maxDatagramPayload() - LinkRecovery.DATA_HEADER);
        for (int i = 0; i < 50; i++) {
            assertThat(a.sendDatagram(frame(a.maxDatagramPayload() - i, i))).isTrue();
            assertThat(inboxB.poll(5, TimeUnit.SECONDS)).isEqualTo(bytes(a.maxDatagramPayload() - i, i));
            assertThat(b.sendDatagram(frame(60 + i, i))).isTrue();
            assertThat(inboxA.poll(5, TimeUnit.SECONDS)).isEqualTo(bytes(60 + i, i));
        }
        // The largest frame a's datagrams carry reaches it; b's largest does not fit: the server drops it as too
        // large, never truncates.
        assertThat(b.sendDatagram(frame(a.maxDatagramPayload(), 2))).isTrue();
        assertThat(inboxA.poll(5, TimeUnit.SECONDS)).isEqualTo(bytes(a.maxDatagramPayload(), 2));
        assertThat(b.sendDatagram(frame(b.maxDatagramPayload(), 1))).isTrue();
        awaitCounter(counters, Counter.DROP_TOO_LARGE, 1);
        assertThat(inboxA.poll(200, TimeUnit.MILLISECONDS)).isNull();
        assertThat(counters.get(Counter.DROP_BAD_DATAGRAM)).isZero();
        assertThat(counters.get(Counter.RECOVERY_ASKED) + a.counters().get(Counter.RECOVERY_ASKED))
                .as("nothing is lost on loopback").isZero();
    }

    @Test
    void aDualStackServerOnTheUnspecifiedIpv6AddressTakesIpv6AndIpv4ClientsAlike() throws Exception {
        server.close();
        server = new WebTransportServer(InetAddress.ofLiteral("::"), 0, certificate, hub, counters,
                WebTransportServerConfig.defaults());
        int port = server.localAddress().getPort();
        BlockingQueue<byte[]> inboxSix = new LinkedBlockingQueue<>();
        BlockingQueue<byte[]> inboxFour = new LinkedBlockingQueue<>();
        uri = URI.create("https://[::1]:" + port + "/");
        WebTransportClient six = open(inboxSix);
        uri = URI.create("https://127.0.0.1:" + port + "/");
        WebTransportClient four = open(inboxFour);
        assertThat(hub.attached.poll(5, TimeUnit.SECONDS)).isNotNull();
        assertThat(hub.attached.poll(5, TimeUnit.SECONDS)).isNotNull();

        assertThat(six.sendDatagram(frame(1200, 3))).isTrue();
        assertThat(inboxFour.poll(5, TimeUnit.SECONDS)).isEqualTo(bytes(1200, 3));
        assertThat(four.sendDatagram(frame(80, 9))).isTrue();
        assertThat(inboxSix.poll(5, TimeUnit.SECONDS)).isEqualTo(bytes(80, 9));
    }

    /** Waits for a counter to reach {@code expected}: counters move on the server loop, after the datagram left. */
    private void awaitCounter(Counters which, Counter counter, long expected) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (which.get(counter) < expected && System.nanoTime() < deadline) {
            Thread.sleep(5);
        }
        assertThat(which.get(counter)).as(counter.name()).isEqualTo(expected);
    }

    @Test
    void framesUpToWhatAFullPacketCarriesPassAndLargerOnesAreRefusedAtTheSender() throws Exception {
        BlockingQueue<byte[]> inboxA = new LinkedBlockingQueue<>();
        BlockingQueue<byte[]> inboxB = new LinkedBlockingQueue<>();
        WebTransportClient a = open(inboxA);
        open(inboxB);
        // 1472-byte UDP payloads (validated by path MTU discovery) with quiche's 20-byte connection IDs leave room
        // for 1427 payload bytes behind a 1-byte prefix.
        assertThat(a.maxDatagramPayload()).isEqualTo(1427);
        for (int size : new int[] {1199, 1200, 1400, a.maxDatagramPayload()}) {
            assertThat(a.sendDatagram(frame(size, size))).as("send %d", size).isTrue();
            assertThat(inboxB.poll(5, TimeUnit.SECONDS)).as("receive %d", size).isEqualTo(bytes(size, size));
        }
        assertThat(a.sendDatagram(frame(a.maxDatagramPayload() + 1, 0))).isFalse();
        assertThat(a.counters().get(Counter.DROP_TOO_LARGE)).isEqualTo(1);
        assertThat(counters.get(Counter.DATAGRAMS_COPIED)).as("unicast reuses the received buffer").isZero();
    }

    @Test
    void aFrameLargerThanTheReceiverTakesIsDroppedAndCountedAtItsPort() throws Exception {
        BlockingQueue<byte[]> inboxSmall = new LinkedBlockingQueue<>();
        WebTransportClient big = open(new LinkedBlockingQueue<>());
        WebTransportClientConfig smallUdp = new WebTransportClientConfig(certificate.sha256Hex(), "https://test",
                Duration.ofSeconds(5), Duration.ofSeconds(30), Duration.ofSeconds(10), 1200, 64, 64);
        WebTransportClient small = WebTransportClient.connect(uri, smallUdp, frame -> {
            inboxSmall.add(ByteBufUtil.getBytes(frame));
            frame.release();
        }).get(10, TimeUnit.SECONDS);
        clients.add(small);
        assertThat(small.maxDatagramPayload()).isLessThan(1200);
        assertThat(big.sendDatagram(frame(1400, 3))).isTrue();
        awaitCounter(counters, Counter.DROP_TOO_LARGE, 1);
        assertThat(big.sendDatagram(frame(1000, 4))).isTrue();
        assertThat(inboxSmall.poll(5, TimeUnit.SECONDS)).isEqualTo(bytes(1000, 4));
        assertThat(inboxSmall).isEmpty();
    }

    @Test
    void closingASessionDetachesItsPort() throws Exception {
        WebTransportClient a = open(new LinkedBlockingQueue<>());
        open(new LinkedBlockingQueue<>());
        hub.attached.poll(5, TimeUnit.SECONDS);
        hub.attached.poll(5, TimeUnit.SECONDS);
        clients.remove(a);
        a.close(42, "done");
        WebTransportClient.CloseInfo info = a.closed().get(5, TimeUnit.SECONDS);
        assertThat(info.byPeer()).isFalse();
        assertThat(hub.detached.poll(5, TimeUnit.SECONDS)).isNotNull();
        assertThat(server.sessionCount()).isEqualTo(1);
        assertThat(counters.get(Counter.SESSIONS_CLOSED)).isEqualTo(1);
        assertThat(counters.get(Counter.DROP_BAD_CAPSULE)).isZero();
    }

    @Test
    void serverShutdownClosesSessionsWithTheCapsule() throws Exception {
        WebTransportClient a = open(new LinkedBlockingQueue<>());
        clients.remove(a);
        server.close();
        WebTransportClient.CloseInfo info = a.closed().get(5, TimeUnit.SECONDS);
        assertThat(info.byPeer()).isTrue();
        assertThat(info.reason()).isEqualTo("relay shutting down");
        server = new WebTransportServer(LOOPBACK, 0, certificate, hub, counters, WebTransportServerConfig.defaults());
    }

    @Test
    void garbageDatagramsAreCountedWhileAGoodSessionKeepsWorking() throws Exception {
        BlockingQueue<byte[]> inboxB = new LinkedBlockingQueue<>();
        WebTransportClient a = open(new LinkedBlockingQueue<>());
        open(inboxB);
        PooledByteBufAllocator alloc = PooledByteBufAllocator.DEFAULT;
        a.sendRawDatagram(alloc.directBuffer().writeByte(0x40)); // a 2-byte varint cut after 1 byte
        a.sendRawDatagram(alloc.directBuffer().writeBytes(new byte[] {(byte) 0xc0, 0, 0})); // 8-byte varint cut
        a.sendRawDatagram(alloc.directBuffer().writeByte(0x05).writeZero(60)); // no session on stream 20
        a.sendRawDatagram(alloc.directBuffer().writeByte(0x00)); // a 1-byte datagram: prefix, no frame
        a.sendRawDatagram(alloc.directBuffer().writeByte(0x00).writeZero(13)); // shorter than Ethernet
        a.sendRawDatagram(alloc.directBuffer().writeZero(2000)); // larger than QUIC lets through
        awaitCounter(counters, Counter.DROP_BAD_DATAGRAM, 2);
        awaitCounter(counters, Counter.DROP_UNKNOWN_SESSION, 1);
        awaitCounter(counters, Counter.DROP_RUNT, 2);
        awaitCounter(a.counters(), Counter.DROP_DATAGRAM_SEND_FAILED, 1);
        assertThat(a.sendDatagram(frame(64, 9))).isTrue();
        assertThat(inboxB.poll(5, TimeUnit.SECONDS)).isEqualTo(bytes(64, 9));
        assertThat(server.sessionCount()).isEqualTo(2);
    }

    @Test
    void twoHundredSessionsOpenedAndClosedInALoopLeaveNothingBehind() throws Exception {
        io.netty.channel.MultiThreadIoEventLoopGroup group = new io.netty.channel.MultiThreadIoEventLoopGroup(1,
                io.netty.channel.nio.NioIoHandler.newFactory());
        try {
            io.netty.channel.IoEventLoop loop = group.next();
            long start = System.nanoTime();
            for (int i = 0; i < 200; i++) {
                WebTransportClient client = WebTransportClient.connect(uri,
                        WebTransportClientConfig.pinned(certificate.sha256Hex()), ByteBuf::release, loop)
                        .get(10, TimeUnit.SECONDS);
                client.sendDatagram(frame(60, i));
                client.close();
                client.closed().get(5, TimeUnit.SECONDS);
            }
            long elapsedMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
            assertThat(elapsedMs).as("200 sequential sessions").isLessThan(60_000);
        } finally {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
        }
        awaitCounter(counters, Counter.SESSIONS_CLOSED, 200);
        assertThat(counters.get(Counter.SESSIONS_OPENED)).isEqualTo(200);
        assertThat(server.sessionCount()).isZero();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (server.connectionCount() > 0 && System.nanoTime() < deadline) {
            Thread.sleep(5);
        }
        assertThat(server.connectionCount()).isZero();
        BlockingQueue<byte[]> inboxB = new LinkedBlockingQueue<>();
        WebTransportClient a = open(new LinkedBlockingQueue<>());
        open(inboxB);
        assertThat(a.sendDatagram(frame(80, 5))).isTrue();
        assertThat(inboxB.poll(5, TimeUnit.SECONDS)).isEqualTo(bytes(80, 5));
    }

    @Test
    void requestsThatAreNoWebTransportSessionGetAnErrorStatus() throws Exception {
        assertThat(Http3Probe.status(server.localAddress(), h -> h.method("GET").scheme("https").path("/")))
                .isEqualTo("404");
        // A plain CONNECT (RFC 9114 §4.4: no :scheme or :path) asks for a proxy tunnel.
        assertThat(Http3Probe.status(server.localAddress(), h -> h.method("CONNECT"))).isEqualTo("400");
        assertThat(Http3Probe.status(server.localAddress(),
                h -> h.method("CONNECT").protocol("websocket").scheme("https").path("/"))).isEqualTo("501");
        // An extended CONNECT without :path is malformed (RFC 9220 §4): Netty's validation ends the stream
        // (RFC 9114 §4.1.2: a stream error of type H3_MESSAGE_ERROR) without any status and no session opens.
        assertThat(Http3Probe.status(server.localAddress(), h -> h.method("CONNECT").protocol("webtransport")))
                .startsWith("stream ").doesNotContain("200");
        assertThat(counters.get(Counter.REQUESTS_REJECTED)).isEqualTo(4);
        assertThat(server.sessionCount()).isZero();
    }

    @Test
    void aWrongCertificateHashIsRejectedWithAClearMessage() {
        String wrong = "00".repeat(32);
        assertThatThrownBy(() -> WebTransportClient.connect(uri, WebTransportClientConfig.pinned(wrong), ByteBuf::release)
                .get(10, TimeUnit.SECONDS))
                .isInstanceOf(ExecutionException.class)
                .cause().isInstanceOf(WebTransportException.class)
                .hasMessageContaining("server certificate SHA-256 is " + certificate.sha256Hex())
                .hasMessageContaining("expected " + wrong);
    }

    @Test
    void anUnreachableRelayFailsWithinTheConnectTimeout() throws Exception {
        int freePort;
        try (java.net.DatagramSocket probe = new java.net.DatagramSocket(0, LOOPBACK)) {
            freePort = probe.getLocalPort();
        }
        WebTransportClientConfig config = WebTransportClientConfig.pinned(certificate.sha256Hex())
                .withConnectTimeout(Duration.ofMillis(500));
        assertThatThrownBy(() -> WebTransportClient.connect(URI.create("https://127.0.0.1:" + freePort + "/"),
                config, ByteBuf::release).get(10, TimeUnit.SECONDS))
                .cause().isInstanceOf(WebTransportException.class)
                .hasMessageContaining("within 500 ms");
    }

    @Test
    void theServerReadsAClientsBurstInOneCallAndPassesOnEveryFrameOfItInOrder() throws Exception {
        assertThat(server.receivesBursts()).as("UDP GRO on the server's socket").isTrue();
        BlockingQueue<byte[]> inboxB = new LinkedBlockingQueue<>();
        WebTransportClient a = open(new LinkedBlockingQueue<>());
        open(inboxB);
        assertThat(hub.attached.poll(5, TimeUnit.SECONDS)).isNotNull();
        assertThat(hub.attached.poll(5, TimeUnit.SECONDS)).isNotNull();

        // Frames of one flow (one EtherType) and one size: the client's flush leaves as one GSO burst, which the
        // server's socket reads in one call; the relay keeps a flow's frames in order.
        sendBurstExpectingEveryFrameInOrder(a, inboxB, 50);
    }

    @Test
    void aBurstLargerThanQuichesDatagramQueueWaitsInTheClientsQueueInsteadOfVanishing() throws Exception {
        // quiche's datagram queue of 16 holds a fraction of the burst: once it is full, Netty drops the rest of a
        // flush without a word, so every frame must reach the peer or show in the client's drop counters.
        WebTransportClientConfig shortQueue = new WebTransportClientConfig(certificate.sha256Hex(), "https://test",
                Duration.ofSeconds(5), Duration.ofSeconds(30), Duration.ofSeconds(10), 1472, 16, 64);
        WebTransportClient a = WebTransportClient.connect(uri, shortQueue, ByteBuf::release).get(10, TimeUnit.SECONDS);
        clients.add(a);
        BlockingQueue<byte[]> inboxB = new LinkedBlockingQueue<>();
        open(inboxB);
        assertThat(hub.attached.poll(5, TimeUnit.SECONDS)).isNotNull();
        assertThat(hub.attached.poll(5, TimeUnit.SECONDS)).isNotNull();

        sendBurstExpectingEveryFrameInOrder(a, inboxB, 500);
    }

    @Test
    void anAnswerLeavesAtOnceWhileTheBulkWaitsForQuichesQueueToDrain() throws Exception {
        // quiche's datagram queue of 16: a flush hands it 8 datagrams, then the rest waits for a timer.
        server.close();
        startServer(WebTransportServerConfig.defaults().withDatagramQueueLength(16));
        BlockingQueue<byte[]> inbox = new LinkedBlockingQueue<>();
        open(inbox);
        Port port = hub.attached.poll(5, TimeUnit.SECONDS);
        assertThat(port).isNotNull();
        ByteBuf probe = answerFrame();
        ByteBuf bulkProbe = oneFlowFrame(1000, 0);
        assertThat(new FlowHash().of(probe) & 255).as("the answer's flow slot is not the bulk's")
                .isNotEqualTo(new FlowHash().of(bulkProbe) & 255);
        probe.release();
        bulkProbe.release();

        server.eventLoop().submit(() -> port.send(answerFrame())).get(5, TimeUnit.SECONDS);
        assertThat(inbox.poll(5, TimeUnit.SECONDS)).isEqualTo(answerBytes());
        assertThat(counters.get(Counter.ANSWERS_PAST_BULK)).as("nothing waited: the answer left with the turn's flush")
                .isZero();

        int bulk = 200;
        server.eventLoop().submit(() -> {
            for (int i = 0; i < bulk; i++) {
                port.send(oneFlowFrame(1000, i));
            }
            // Queued behind the turn's flush, which the first send queued: 8 datagrams go to quiche, the rest wait
            // for its timer, and the answer comes before that timer can run. A task submitted from the test thread
            // instead could come after the whole bulk had drained on a busy machine.
            server.eventLoop().execute(() -> port.send(answerFrame()));
        }).get(5, TimeUnit.SECONDS);
        List<byte[]> received = new ArrayList<>();
        for (int i = 0; i <= bulk; i++) {
            byte[] frame = inbox.poll(5, TimeUnit.SECONDS);
            assertThat(frame).as("frame %d of %d (the relay counted %s)", i, bulk + 1, counters.nonZero()).isNotNull();
            received.add(frame);
        }
        int answerAt = -1;
        for (int i = 0; i < received.size(); i++) {
            if (Arrays.equals(received.get(i), answerBytes())) {
                answerAt = i;
            }
        }
        assertThat(counters.get(Counter.ANSWERS_PAST_BULK)).as("the answer went past the waiting bulk").isEqualTo(1);
        assertThat(answerAt).as("the answer arrived ahead of the bulk that waited").isBetween(0, bulk - 8);
        assertThat(counters.nonZero().keySet()).noneMatch(Counter::isDrop);
    }

    /** A unicast frame of its own flow (EtherType 0x88B6, another source), as a ping reply or a DNS answer is. */
    private static ByteBuf answerFrame() {
        ByteBuf frame = frame(100, 7);
        frame.setBytes(frame.readerIndex(), answerHeader());
        return frame;
    }

    private static byte[] answerBytes() {
        byte[] bytes = bytes(100, 7);
        System.arraycopy(answerHeader(), 0, bytes, 0, 14);
        return bytes;
    }

    private static byte[] answerHeader() {
        return new byte[] {2, 0, 0, 0, 0, 9, 2, 0, 0, 0, 0, 2, (byte) 0x88, (byte) 0xB6};
    }

    /** {@code frames} frames of one flow from {@code a} in one loop turn: each must reach {@code inbox}, in order. */
    private void sendBurstExpectingEveryFrameInOrder(WebTransportClient a, BlockingQueue<byte[]> inbox, int frames)
            throws Exception {
        assertThat(a.eventLoop().submit(() -> {
            int sent = 0;
            for (int i = 0; i < frames; i++) {
                sent += a.sendDatagram(oneFlowFrame(1000, i)) ? 1 : 0;
            }
            return sent;
        }).get(5, TimeUnit.SECONDS)).isEqualTo(frames);
        for (int i = 0; i < frames; i++) {
            ByteBuf expected = oneFlowFrame(1000, i);
            try {
                assertThat(inbox.poll(5, TimeUnit.SECONDS))
                        .as("frame %d of %d (client's counters: %s; the relay forwarded %d, counted %s)", i, frames,
                                a.counters().nonZero(), hub.forwarded.get(), counters.nonZero())
                        .isEqualTo(ByteBufUtil.getBytes(expected));
            } finally {
                expected.release();
            }
        }
    }

    /** A broadcast frame of an experimental EtherType (0x88B5) whose payload starts at {@code seed}. */
    private static ByteBuf oneFlowFrame(int length, int seed) {
        ByteBuf frame = frame(length, seed);
        frame.setBytes(frame.readerIndex(), new byte[] {-1, -1, -1, -1, -1, -1, 2, 0, 0, 0, 0, 1, (byte) 0x88, (byte) 0xB5});
        return frame;
    }

    @Test
    void sessionsBeyondTheLimitAreRefusedWith503() throws Exception {
        server.close();
        startServer(WebTransportServerConfig.defaults().withMaxSessions(1, 1));
        open(new LinkedBlockingQueue<>());
        assertThatThrownBy(() -> WebTransportClient.connect(uri,
                WebTransportClientConfig.pinned(certificate.sha256Hex()), ByteBuf::release).get(10, TimeUnit.SECONDS))
                .cause().isInstanceOf(WebTransportException.class)
                .hasMessageContaining("refused the WebTransport session: HTTP 503");
        assertThat(counters.get(Counter.SESSIONS_REFUSED)).isEqualTo(1);
    }

    @Test
    void aPortInUseIsReportedClearly() {
        int port = server.localAddress().getPort();
        assertThatThrownBy(() -> new WebTransportServer(LOOPBACK, port, certificate, hub, counters,
                WebTransportServerConfig.defaults()))
                .isInstanceOf(WebTransportServer.PortInUseException.class)
                .hasMessage("UDP port " + port + " on 127.0.0.1 is already in use");
    }

    @Test
    void aFloodReachesEveryOtherSessionCopyingOnlyWhileTheFrameIsShared() throws Exception {
        BlockingQueue<byte[]> inboxB = new LinkedBlockingQueue<>();
        BlockingQueue<byte[]> inboxC = new LinkedBlockingQueue<>();
        WebTransportClient a = open(new LinkedBlockingQueue<>());
        open(inboxB);
        open(inboxC);
        assertThat(a.sendDatagram(frame(300, 11))).isTrue();
        assertThat(inboxB.poll(5, TimeUnit.SECONDS)).isEqualTo(bytes(300, 11));
        assertThat(inboxC.poll(5, TimeUnit.SECONDS)).isEqualTo(bytes(300, 11));
        // The first receiver to flush copies (the frame is still shared); the last one sends the buffer itself.
        assertThat(counters.get(Counter.DATAGRAMS_COPIED)).isEqualTo(1);
    }

    @Test
    void connectionsBeyondTheLimitAreClosed() throws Exception {
        server.close();
        startServer(WebTransportServerConfig.defaults().withMaxConnections(1));
        open(new LinkedBlockingQueue<>());
        assertThatThrownBy(() -> WebTransportClient.connect(uri,
                WebTransportClientConfig.pinned(certificate.sha256Hex()), ByteBuf::release).get(10, TimeUnit.SECONDS))
                .cause().isInstanceOf(WebTransportException.class)
                .hasMessageContaining("too many connections");
        assertThat(counters.get(Counter.CONNECTIONS_REFUSED)).isEqualTo(1);
        assertThat(server.connectionCount()).isEqualTo(1);
    }

    @Test
    void serverKeepAliveHoldsAQuietSessionOpenAndWithoutItTheIdleTimeoutEndsIt() throws Exception {
        WebTransportClientConfig quietClient = new WebTransportClientConfig(certificate.sha256Hex(), "https://test",
                Duration.ofSeconds(5), Duration.ofSeconds(1), Duration.ZERO, 1500, 64, 64);
        for (boolean keepAlive : new boolean[] {true, false}) {
            server.close();
            startServer(WebTransportServerConfig.defaults()
                    .withTimeouts(Duration.ofSeconds(1), keepAlive ? Duration.ofMillis(300) : Duration.ZERO));
            hub.detached.clear();
            WebTransportClient quiet = WebTransportClient.connect(uri, quietClient, ByteBuf::release)
                    .get(10, TimeUnit.SECONDS);
            if (keepAlive) {
                // Three idle timeouts of silence from the client: the server's capsules keep both sides alive.
                assertThat(hub.detached.poll(3, TimeUnit.SECONDS)).isNull();
                assertThat(quiet.closed()).isNotDone();
                quiet.close();
                quiet.closed().get(5, TimeUnit.SECONDS);
            } else {
                assertThat(hub.detached.poll(5, TimeUnit.SECONDS)).as("detached after the idle timeout").isNotNull();
                assertThat(quiet.closed().get(5, TimeUnit.SECONDS).byPeer()).isTrue();
            }
        }
    }

    @Test
    void sessionsBeyondThePerConnectionLimitAreRefusedWith429() throws Exception {
        server.close();
        server = new WebTransportServer(LOOPBACK, 0, certificate, hub, counters,
                WebTransportServerConfig.defaults().withMaxSessions(10, 1));
        List<String> statuses = Http3Probe.statuses(server.localAddress(), 2,
                h -> h.method("CONNECT").protocol("webtransport").scheme("https").path("/"));
        assertThat(statuses).containsExactly("200", "429");
        assertThat(counters.get(Counter.SESSIONS_REFUSED)).isEqualTo(1);
    }

    @Test
    void aResetConnectStreamEndsTheSessionWhileTheConnectionStays() throws Exception {
        WebTransportClient a = open(new LinkedBlockingQueue<>());
        hub.attached.poll(5, TimeUnit.SECONDS);
        a.resetConnectStream();
        assertThat(hub.detached.poll(5, TimeUnit.SECONDS)).isNotNull();
        assertThat(server.sessionCount()).isZero();
        assertThat(server.connectionCount()).isEqualTo(1);
    }

    /** Browsers fail silently without these (notes/webtransport-in-browsers.md), so each one is checked. */
    @Test
    void theServerAnnouncesEverySettingBrowsersCheck() throws Exception {
        io.netty.handler.codec.http3.Http3Settings settings = open(new LinkedBlockingQueue<>()).serverSettings();
        assertThat(settings.get(0x8L)).as("ENABLE_CONNECT_PROTOCOL").isEqualTo(1L);
        assertThat(settings.get(0x33L)).as("H3_DATAGRAM").isEqualTo(1L);
        assertThat(settings.get(0x2b603742L)).as("ENABLE_WEBTRANSPORT").isEqualTo(1L);
        assertThat(settings.get(0xc671706aL)).as("WEBTRANSPORT_MAX_SESSIONS (draft-07)")
                .isEqualTo((long) WebTransportServerConfig.defaults().maxSessionsPerConnection());
        assertThat(settings.get(0x14e9cd29L)).as("WEBTRANSPORT_MAX_SESSIONS")
                .isEqualTo((long) WebTransportServerConfig.defaults().maxSessionsPerConnection());
    }
}

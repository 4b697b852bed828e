package dev.riscvrelay.relay.transport.websocket;

import static org.assertj.core.api.Assertions.assertThat;

import dev.riscvrelay.relay.Relay;
import dev.riscvrelay.relay.RelayConfig;
import dev.riscvrelay.relay.WebOptions;
import dev.riscvrelay.relay.metrics.Counter;
import dev.riscvrelay.relay.nat.Cidr;
import dev.riscvrelay.relay.nat.EgressRules;
import dev.riscvrelay.relay.nat.TestFrames;
import dev.riscvrelay.relay.tls.RelayCertificate;
import dev.riscvrelay.relay.transport.webtransport.WebTransportClient;
import dev.riscvrelay.relay.transport.webtransport.WebTransportClientConfig;
import dev.riscvrelay.relay.wire.Ipv4Address;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.PooledByteBufAllocator;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.nio.ByteBuffer;
import java.security.KeyStore;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The relay in-process (switch, gateway, both transports on one loop) with real clients: the JDK's WebSocket client
 * and the project's WebTransport client, on one LAN.
 */
class WebSocketIT {

    private static final InetAddress LOOPBACK = InetAddress.getLoopbackAddress();
    private static final byte[] MAC_WS = {0x02, 0, 0, 0, 0x57, 0x01};
    private static final byte[] MAC_WT = {0x02, 0, 0, 0, 0x57, 0x02};
    private static final byte[] BROADCAST = {-1, -1, -1, -1, -1, -1};

    private final RelayCertificate certificate = RelayCertificate.selfSignedForLocalhost();
    private Relay relay;
    private WebTransportClient webTransport;
    private final java.util.List<HttpClient> httpClients = new java.util.ArrayList<>();

    /** close() would wait for every WebSocket to end; the tests end theirs, then shut the client down. */
    private HttpClient client(HttpClient.Builder builder) {
        HttpClient http = builder.build();
        httpClients.add(http);
        return http;
    }

    private Relay start(WebOptions.WebSocketMode mode) throws Exception {
        return start(mode, RelayConfig.defaults(LOOPBACK, 0).egress());
    }

    private Relay start(WebOptions.WebSocketMode mode, EgressRules egress) throws Exception {
        return start(mode, egress, RelayConfig.defaults(LOOPBACK, 0).workers());
    }

    private Relay start(WebOptions.WebSocketMode mode, EgressRules egress, int workers) throws Exception {
        RelayConfig defaults = RelayConfig.defaults(LOOPBACK, 0);
        RelayConfig config = new RelayConfig(defaults.bind(), 0, defaults.maxSessions(), 64,
                defaults.network(), defaults.idleTimeout(),
                defaults.dnsResolvers(), egress, new WebOptions(mode, null, null), defaults.access(),
                defaults.congestionControl(), defaults.hostBudget(), java.util.List.of(), workers);
        relay = Relay.start(config, certificate);
        return relay;
    }

    @AfterEach
    void stop() {
        httpClients.forEach(HttpClient::shutdownNow);
        if (webTransport != null) {
            webTransport.close();
            webTransport.closed().orTimeout(5, TimeUnit.SECONDS).join();
        }
        if (relay != null) {
            relay.close();
        }
    }

    /** Collects binary messages (whole) and the close status. */
    private static WebSocket connect(HttpClient http, String url, WebSocketInbox inbox) throws Exception {
        return http.newWebSocketBuilder().buildAsync(URI.create(url), inbox).get(10, TimeUnit.SECONDS);
    }

    private WebTransportClient webTransport(BlockingQueue<byte[]> inbox) throws Exception {
        return webTransport(inbox, "/");
    }

    private WebTransportClient webTransport(BlockingQueue<byte[]> inbox, String path) throws Exception {
        webTransport = WebTransportClient.connect(URI.create("https://127.0.0.1:" + relay.port() + path),
                WebTransportClientConfig.pinned(certificate.sha256Hex()), frame -> {
                    try {
                        inbox.add(ByteBufUtil.getBytes(frame));
                    } finally {
                        frame.release();
                    }
                }).get(10, TimeUnit.SECONDS);
        return webTransport;
    }

    static byte[] ethernet(byte[] dst, byte[] src, int type, int payloadLength, int seed) {
        byte[] frame = new byte[14 + payloadLength];
        System.arraycopy(dst, 0, frame, 0, 6);
        System.arraycopy(src, 0, frame, 6, 6);
        frame[12] = (byte) (type >> 8);
        frame[13] = (byte) type;
        for (int i = 0; i < payloadLength; i++) {
            frame[14 + i] = (byte) (seed + i);
        }
        return frame;
    }

    /** An ARP request (RFC 826) from {@code mac}/10.0.2.15 for the gateway 10.0.2.2. */
    static byte[] arpRequestForGateway(byte[] mac) {
        byte[] frame = ethernet(BROADCAST, mac, 0x0806, 28, 0);
        byte[] arp = {0, 1, 8, 0, 6, 4, 0, 1, mac[0], mac[1], mac[2], mac[3], mac[4], mac[5], 10, 0, 2, 15,
            0, 0, 0, 0, 0, 0, 10, 0, 2, 2};
        System.arraycopy(arp, 0, frame, 14, 28);
        return frame;
    }

    private static ByteBuf buffer(byte[] bytes) {
        ByteBuf buf = PooledByteBufAllocator.DEFAULT.directBuffer(16 + bytes.length);
        buf.writerIndex(16).readerIndex(16);
        return buf.writeBytes(bytes);
    }

    private static byte[] pollFrom(BlockingQueue<byte[]> inbox, byte[] sourceMac) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (System.nanoTime() < deadline) {
            byte[] frame = inbox.poll(100, TimeUnit.MILLISECONDS);
            if (frame != null && Arrays.equals(Arrays.copyOfRange(frame, 6, 12), sourceMac)) {
                return frame;
            }
        }
        return null;
    }

    @Test
    void aWebSocketClientAndAWebTransportClientShareOneLan() throws Exception {
        start(WebOptions.WebSocketMode.AUTO);
        assertThat(relay.webSocket().config().tls()).as("AUTO on loopback is plain ws://").isFalse();
        assertThat(relay.webSocket().localAddress().getPort()).as("same port number as the UDP socket")
                .isEqualTo(relay.port());
        BlockingQueue<byte[]> wtInbox = new LinkedBlockingQueue<>();
        webTransport(wtInbox);
        WebSocketInbox wsInbox = new WebSocketInbox();
        {
            HttpClient http = client(HttpClient.newBuilder());
            WebSocket ws = connect(http, "ws://127.0.0.1:" + relay.port() + "/", wsInbox);

            byte[] broadcast = ethernet(BROADCAST, MAC_WS, 0x88b5, 100, 3);
            ws.sendBinary(ByteBuffer.wrap(broadcast), true).get(5, TimeUnit.SECONDS);
            assertThat(pollFrom(wtInbox, MAC_WS)).as("WS broadcast reaches the WebTransport client")
                    .isEqualTo(broadcast);

            byte[] unicast = ethernet(MAC_WS, MAC_WT, 0x88b5, 1100, 9); // within the Java client's datagram size
            assertThat(webTransport.sendDatagram(buffer(unicast))).isTrue();
            assertThat(pollFrom(wsInbox.frames, MAC_WT)).as("WT unicast to the learned WS MAC").isEqualTo(unicast);

            byte[] back = ethernet(MAC_WT, MAC_WS, 0x88b5, 60, 5);
            ws.sendBinary(ByteBuffer.wrap(back), true).get(5, TimeUnit.SECONDS);
            assertThat(pollFrom(wtInbox, MAC_WS)).as("WS unicast to the learned WT MAC").isEqualTo(back);

            ws.sendBinary(ByteBuffer.wrap(arpRequestForGateway(MAC_WS)), true).get(5, TimeUnit.SECONDS);
            byte[] reply = pollFrom(wsInbox.frames, new byte[] {0x52, 0x54, 0, 0x12, 0x34, 0x56});
            assertThat(reply).as("the gateway answers ARP over WebSocket").isNotNull();
            assertThat(reply[21]).as("ARP opcode reply").isEqualTo((byte) 2);
            awaitSessions(2); // relay_sessions and the summary line count the WebSocket member too
            ws.sendClose(WebSocket.NORMAL_CLOSURE, "bye").get(5, TimeUnit.SECONDS);
            assertThat(wsInbox.closeCode.get(5, TimeUnit.SECONDS)).isEqualTo(WebSocket.NORMAL_CLOSURE);
        }
        awaitCounter(Counter.WEBSOCKET_CLOSED, 1);
        assertThat(relay.counters().get(Counter.WEBSOCKET_OPENED)).isEqualTo(1);
        awaitSessions(1);
    }

    @Test
    void aWebSocketClientAndAWebTransportClientShareANetworkThatAnotherWorkerOwns() throws Exception {
        // Of two workers, lab0 belongs to the second by its name: the WebSocket moves to that loop at its upgrade,
        // and the WebTransport session reaches it from whichever worker its connection landed on.
        start(WebOptions.WebSocketMode.PLAIN, RelayConfig.defaults(LOOPBACK, 0).egress(), 2);
        BlockingQueue<byte[]> wtInbox = new LinkedBlockingQueue<>();
        webTransport(wtInbox, "/net/lab0");
        WebSocketInbox wsInbox = new WebSocketInbox();
        HttpClient http = client(HttpClient.newBuilder());
        WebSocket ws = connect(http, "ws://127.0.0.1:" + relay.port() + "/net/lab0", wsInbox);
        WebSocketInbox elsewhere = new WebSocketInbox();
        WebSocket other = connect(http, "ws://127.0.0.1:" + relay.port() + "/net/lab1", elsewhere);

        byte[] broadcast = ethernet(BROADCAST, MAC_WS, 0x88b5, 100, 3);
        ws.sendBinary(ByteBuffer.wrap(broadcast), true).get(5, TimeUnit.SECONDS);
        assertThat(pollFrom(wtInbox, MAC_WS)).as("the WebSocket's broadcast reaches the WebTransport client")
                .isEqualTo(broadcast);
        byte[] unicast = ethernet(MAC_WS, MAC_WT, 0x88b5, 1100, 9);
        assertThat(webTransport.sendDatagram(buffer(unicast))).isTrue();
        assertThat(pollFrom(wsInbox.frames, MAC_WT)).as("and its unicast the WebSocket").isEqualTo(unicast);
        ws.sendBinary(ByteBuffer.wrap(arpRequestForGateway(MAC_WS)), true).get(5, TimeUnit.SECONDS);
        assertThat(pollFrom(wsInbox.frames, new byte[] {0x52, 0x54, 0, 0x12, 0x34, 0x56}))
                .as("lab0's gateway answers ARP over the WebSocket").isNotNull();
        Thread.sleep(200);
        assertThat(elsewhere.frames).as("lab1 is another LAN: nothing of lab0's members reaches it")
                .noneMatch(frame -> Arrays.equals(Arrays.copyOfRange(frame, 6, 12), MAC_WS)
                        || Arrays.equals(Arrays.copyOfRange(frame, 6, 12), MAC_WT));
        assertThat(relay.counters().get(Counter.WEB_MOVED_TO_LAN_LOOP)).isEqualTo(2);
        ws.sendClose(WebSocket.NORMAL_CLOSURE, "bye").get(5, TimeUnit.SECONDS);
        other.sendClose(WebSocket.NORMAL_CLOSURE, "bye").get(5, TimeUnit.SECONDS);
        awaitCounter(Counter.WEBSOCKET_CLOSED, 2);
    }

    @Test
    void targetsThatDoNotDecodeAreAnsweredNotLeftHanging() throws Exception {
        start(WebOptions.WebSocketMode.PLAIN);
        for (String target : List.of("/%", "/net/lab/vm/10.0.2.15:80/?token=%", "/net/%", "/net/lab?token=%zz")) {
            boolean upgrade = target.startsWith("/net/%") || target.endsWith("%zz");
            try (Socket socket = new Socket(LOOPBACK, relay.port())) {
                socket.setSoTimeout(5000);
                socket.getOutputStream().write(("GET " + target + " HTTP/1.1\r\nHost: x\r\n" + (upgrade
                        ? "Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\n"
                                + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n" : "") + "\r\n")
                        .getBytes(java.nio.charset.StandardCharsets.US_ASCII));
                String status = new String(socket.getInputStream().readNBytes(12),
                        java.nio.charset.StandardCharsets.US_ASCII);
                assertThat(status).as(target).isIn("HTTP/1.1 400", "HTTP/1.1 404");
            }
        }
    }

    @Test
    void anOpenTcpNatConnectionIsCountedInTheSnapshotTheMetricsRead() throws Exception {
        // 127.0.0.2, not 127.0.0.1: the egress policy denies the host's own addresses whatever the rules allow.
        InetAddress host = InetAddress.getByName("127.0.0.2");
        start(WebOptions.WebSocketMode.PLAIN, new EgressRules(List.of(Cidr.parse("127.0.0.0/8")), List.of()));
        try (ServerSocket server = new ServerSocket(0, 1, host)) {
            server.setSoTimeout(10_000);
            WebSocketInbox inbox = new WebSocketInbox();
            WebSocket ws = connect(client(HttpClient.newBuilder()), "ws://127.0.0.1:" + relay.port() + "/", inbox);
            ByteBuf syn = TestFrames.tcpSyn(0x02_00_00_00_57_01L, // MAC_WS
                    Ipv4Address.parse("10.0.2.40"), 40000, Ipv4Address.parse("127.0.0.2"), server.getLocalPort(),
                    1000);
            ws.sendBinary(ByteBuffer.wrap(ByteBufUtil.getBytes(syn)), true).get(5, TimeUnit.SECONDS);
            syn.release();
            try (Socket accepted = server.accept()) {
                byte[] synAck = pollFrom(inbox.frames, new byte[] {0x52, 0x54, 0, 0x12, 0x34, 0x56});
                assertThat(synAck).as("the NAT's SYN-ACK over WebSocket").isNotNull();
                assertThat(synAck[14 + 20 + 13]).as("SYN and ACK").isEqualTo((byte) 0x12);
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
                while (relay.snapshot().tcpConnections() != 1 && System.nanoTime() < deadline) {
                    Thread.sleep(50);
                }
                assertThat(relay.snapshot().tcpConnections()).as("open TCP NAT connections").isEqualTo(1);
                assertThat(relay.snapshot().sessions()).as("the WebSocket member").isEqualTo(1);
            }
        }
    }

    /** The loop publishes its snapshot once a second: waits until it shows {@code expected} sessions. */
    private void awaitSessions(int expected) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (relay.snapshot().sessions() != expected && System.nanoTime() < deadline) {
            Thread.sleep(50);
        }
        assertThat(relay.snapshot().sessions()).as("sessions on the LAN, WebTransport and WebSocket")
                .isEqualTo(expected);
    }

    @Test
    void wssUsesTheRelaysCertificateAndTheSamePortServesTheCertificateHash() throws Exception {
        start(WebOptions.WebSocketMode.TLS);
        assertThat(relay.webSocket().config().tls()).isTrue();
        KeyStore trust = KeyStore.getInstance("PKCS12");
        trust.load(null, null);
        trust.setCertificateEntry("relay", certificate.leaf());
        TrustManagerFactory factory = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        factory.init(trust);
        SSLContext tls = SSLContext.getInstance("TLS");
        tls.init(null, factory.getTrustManagers(), null);
        WebSocketInbox inbox = new WebSocketInbox();
        {
            HttpClient http = client(HttpClient.newBuilder().sslContext(tls));
            HttpResponse<String> hash = http.send(HttpRequest.newBuilder(
                    URI.create("https://localhost:" + relay.port() + "/cert-hash")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(hash.statusCode()).isEqualTo(200);
            assertThat(hash.body().strip()).isEqualTo(certificate.sha256Hex());

            WebSocket ws = connect(http, "wss://localhost:" + relay.port() + "/any/path", inbox);
            ws.sendBinary(ByteBuffer.wrap(arpRequestForGateway(MAC_WS)), true).get(5, TimeUnit.SECONDS);
            byte[] reply = pollFrom(inbox.frames, new byte[] {0x52, 0x54, 0, 0x12, 0x34, 0x56});
            assertThat(reply).as("ARP reply over wss://").isNotNull();
            ws.abort();
        }
    }

    @Test
    void textFragmentsAndRuntsAreDroppedAndCountedAndAnOversizedMessageClosesWith1009() throws Exception {
        start(WebOptions.WebSocketMode.PLAIN);
        WebSocketInbox inbox = new WebSocketInbox();
        {
            HttpClient http = client(HttpClient.newBuilder());
            WebSocket ws = connect(http, "ws://127.0.0.1:" + relay.port() + "/", inbox);
            ws.sendText("hello", true).get(5, TimeUnit.SECONDS);
            ws.sendBinary(ByteBuffer.wrap(new byte[40]), false).get(5, TimeUnit.SECONDS);
            ws.sendBinary(ByteBuffer.wrap(new byte[40]), true).get(5, TimeUnit.SECONDS);
            ws.sendBinary(ByteBuffer.wrap(new byte[10]), true).get(5, TimeUnit.SECONDS);
            awaitCounter(Counter.DROP_WEBSOCKET_TEXT, 1);
            awaitCounter(Counter.DROP_WEBSOCKET_FRAGMENTED, 2);
            awaitCounter(Counter.DROP_RUNT, 1);
            assertThat(relay.counters().get(Counter.FRAMES_IN)).as("nothing reached the switch").isZero();

            ws.sendBinary(ByteBuffer.wrap(new byte[WebSocketServerConfig.DEFAULT_MAX_FRAME_SIZE + 1]), true);
            assertThat(inbox.closeCode.get(5, TimeUnit.SECONDS)).as("1009: message too big (RFC 6455 §7.4.1)")
                    .isEqualTo(1009);
        }
        awaitCounter(Counter.WEBSOCKET_PROTOCOL_CLOSES, 1);
        awaitCounter(Counter.WEBSOCKET_CLOSED, 1);
    }

    @Test
    void aReaderThatStopsReadingLosesFramesNotTheRelaysMemory() throws Exception {
        start(WebOptions.WebSocketMode.PLAIN);
        // A raw client that upgrades, then never reads: its TCP window closes, the channel turns unwritable, and
        // the port's 64-frame queue overflows.
        try (Socket stalled = new Socket(LOOPBACK, relay.port())) {
            stalled.setReceiveBufferSize(4096);
            RawWebSocket.upgrade(stalled);
            awaitCounter(Counter.WEBSOCKET_OPENED, 1);

            HttpClient http = client(HttpClient.newBuilder());
            WebSocket sender = connect(http, "ws://127.0.0.1:" + relay.port() + "/", new WebSocketInbox());
            byte[] flood = ethernet(BROADCAST, MAC_WT, 0x88b5, 1500, 1);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            // Bounded by count (at most 30 MB) and time; stops at the first counted drop.
            for (int i = 0; i < 20_000 && relay.counters().get(Counter.DROP_QUEUE_FULL) == 0
                    && System.nanoTime() < deadline; i++) {
                sender.sendBinary(ByteBuffer.wrap(flood), true).get(5, TimeUnit.SECONDS);
            }
            sender.abort();
            assertThat(relay.counters().get(Counter.DROP_QUEUE_FULL)).as("frames dropped at the full port queue")
                    .isPositive();
        }
        awaitCounter(Counter.WEBSOCKET_CLOSED, 1);
    }

    private void awaitCounter(Counter counter, long atLeast) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (relay.counters().get(counter) < atLeast && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        assertThat(relay.counters().get(counter)).as(counter.name()).isGreaterThanOrEqualTo(atLeast);
    }
}

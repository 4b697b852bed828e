package dev.riscvrelay.relay.transport.wisp;

import static org.assertj.core.api.Assertions.assertThat;

import dev.riscvrelay.relay.Relay;
import dev.riscvrelay.relay.RelayConfig;
import dev.riscvrelay.relay.WebOptions;
import dev.riscvrelay.relay.access.AccessConfig;
import dev.riscvrelay.relay.access.AccessTokens;
import dev.riscvrelay.relay.transport.websocket.WebSocketInbox;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.http.WebSocketHandshakeException;
import java.time.Duration;
import dev.riscvrelay.relay.metrics.Counter;
import dev.riscvrelay.relay.nat.Cidr;
import dev.riscvrelay.relay.nat.EgressRules;
import dev.riscvrelay.relay.tls.RelayCertificate;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.http.HttpClient;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The relay in-process with WISP clients on the JDK's WebSocket client, destinations on 127.0.0.2 (allowed by the
 * test's policy) and 127.0.0.1 (the host's own address: denied): streams, CLOSE reasons, bad input, flow control
 * against a destination that never reads, and a thousand streams on one connection.
 */
class WispIT {

    private static final InetAddress LOOPBACK = InetAddress.getLoopbackAddress();
    private static final String SERVER_HOST = "127.0.0.2";

    private Relay relay;
    private HttpClient http;
    /** What each test opened; the echo servers' accept threads add to it while a test ends, so it is thread-safe. */
    private final List<AutoCloseable> closing = new java.util.concurrent.CopyOnWriteArrayList<>();

    @BeforeEach
    void start() throws Exception {
        start(RelayConfig.defaults(LOOPBACK, 0).access());
    }

    private void start(AccessConfig access) throws Exception {
        if (relay != null) {
            relay.close();
        }
        RelayConfig defaults = RelayConfig.defaults(LOOPBACK, 0);
        EgressRules egress = new EgressRules(List.of(Cidr.parse(SERVER_HOST + "/32")), List.of());
        RelayConfig config = new RelayConfig(defaults.bind(), 0, defaults.maxSessions(), 64, defaults.network(),
                defaults.idleTimeout(), defaults.dnsResolvers(), egress,
                new WebOptions(WebOptions.WebSocketMode.PLAIN, null, null), access,
                defaults.congestionControl(), defaults.hostBudget(), List.of(), defaults.workers());
        relay = startOnFreePorts(config);
        if (http == null) {
            http = HttpClient.newHttpClient();
        }
    }

    /**
     * The relay takes a free UDP port and then the same number on TCP for WebSocket; the streams of the tests before
     * leave many loopback TCP ports in use, so that number may be taken: a few tries find a pair free on both.
     */
    private static Relay startOnFreePorts(RelayConfig config) throws Relay.StartException {
        for (int attempt = 1; ; attempt++) {
            try {
                return Relay.start(config, RelayCertificate.selfSignedForLocalhost());
            } catch (Relay.StartException e) {
                if (attempt == 5 || !String.valueOf(e.getMessage()).contains("already in use")) {
                    throw e;
                }
            }
        }
    }

    @AfterEach
    void stop() throws Exception {
        for (AutoCloseable c : closing) {
            c.close();
        }
        if (http != null) {
            http.shutdownNow();
        }
        if (relay != null) {
            relay.close();
        }
    }

    private String url() {
        return url("/wisp/");
    }

    private String url(String pathAndQuery) {
        return "ws://127.0.0.1:" + relay.webSocket().localAddress().getPort() + pathAndQuery;
    }

    private WispTestClient client(String subprotocol) throws Exception {
        return client(url(), subprotocol);
    }

    private WispTestClient client(String url, String subprotocol) throws Exception {
        WispTestClient client = new WispTestClient(http, url, subprotocol);
        closing.add(client);
        return client;
    }

    /** A v1 client: the relay greets it with CONTINUE on stream 0, the credit of every stream. */
    private WispTestClient v1() throws Exception {
        WispTestClient client = client(null);
        WispTestClient.Packet hello = client.next(0);
        assertThat(hello.type()).isEqualTo(WispPacket.CONTINUE);
        assertThat(hello.u32()).isEqualTo(WispConfig.defaults().bufferPackets());
        return client;
    }

    /** Echoes every connection on 127.0.0.2 until closed. */
    private ServerSocket echoServer() throws Exception {
        ServerSocket server = new ServerSocket();
        server.bind(new InetSocketAddress(SERVER_HOST, 0), 2048);
        closing.add(server);
        Thread.ofVirtual().start(() -> {
            while (!server.isClosed()) {
                try {
                    Socket s = server.accept();
                    closing.add(s);
                    Thread.ofVirtual().start(() -> {
                        try (s; InputStream in = s.getInputStream(); OutputStream out = s.getOutputStream()) {
                            in.transferTo(out);
                        } catch (Exception e) {
                            // the stream ended
                        }
                    });
                } catch (Exception e) {
                    return;
                }
            }
        });
        return server;
    }

    private long counter(Counter counter) {
        return relay.counters().get(counter);
    }

    @Test
    void aTcpStreamEchoesAndEndsWithVoluntaryClose() throws Exception {
        ServerSocket echo = echoServer();
        WispTestClient client = v1();
        client.connectTcp(7, SERVER_HOST, echo.getLocalPort());
        client.data(7, "hello wisp".getBytes(StandardCharsets.UTF_8));
        WispTestClient.Packet back = client.next(7);
        assertThat(back.type()).isEqualTo(WispPacket.DATA);
        assertThat(new String(back.payload(), StandardCharsets.UTF_8)).isEqualTo("hello wisp");
        assertThat(counter(Counter.WISP_STREAMS_OPENED)).isEqualTo(1);
        // The client closes: the relay closes the socket and says nothing more on the stream.
        client.sendNow(WispTestClient.packet(WispPacket.CLOSE, 7, new byte[] {WispClose.VOLUNTARY}));
        waitFor(() -> counter(Counter.WISP_STREAMS_CLOSED) == 1);
        assertThat(relay.snapshot().wispStreams()).isLessThanOrEqualTo(1); // published once a second
    }

    @Test
    void theDestinationClosingEndsTheStreamWithVoluntaryClose() throws Exception {
        ServerSocket server = new ServerSocket();
        server.bind(new InetSocketAddress(SERVER_HOST, 0));
        closing.add(server);
        CompletableFuture<Void> served = new CompletableFuture<>();
        Thread.ofVirtual().start(() -> {
            try (Socket s = server.accept()) {
                s.getOutputStream().write("bye".getBytes(StandardCharsets.US_ASCII));
                served.complete(null);
            } catch (Exception e) {
                served.completeExceptionally(e);
            }
        });
        WispTestClient client = v1();
        client.connectTcp(1, SERVER_HOST, server.getLocalPort());
        served.get(10, TimeUnit.SECONDS);
        assertThat(new String(client.next(1).payload(), StandardCharsets.US_ASCII)).isEqualTo("bye");
        WispTestClient.Packet close = client.next(1);
        assertThat(close.type()).isEqualTo(WispPacket.CLOSE);
        assertThat(close.reason()).isEqualTo(WispClose.VOLUNTARY);
    }

    @Test
    void refusalsCarryTheReasonsOfTheSpecification() throws Exception {
        WispTestClient client = v1();
        ServerSocket closed = new ServerSocket();
        closed.bind(new InetSocketAddress(SERVER_HOST, 0));
        int closedPort = closed.getLocalPort();
        closed.close();
        client.connectTcp(1, "127.0.0.1", 80); // the host's own address: the policy denies it
        client.connectTcp(2, SERVER_HOST, closedPort);
        client.connectTcp(3, "no-such-host.invalid", 80);
        client.sendNow(WispTestClient.packet(WispPacket.CONNECT, 4,
                WispTestClient.connectPayload(WispPacket.STREAM_TCP, 0, SERVER_HOST))); // port 0
        client.sendNow(WispTestClient.packet(WispPacket.CONNECT, 5,
                WispTestClient.connectPayload(9, 80, SERVER_HOST))); // no such stream type
        assertThat(client.next(1).reason()).isEqualTo(WispClose.BLOCKED);
        assertThat(client.next(2).reason()).isEqualTo(WispClose.REFUSED);
        assertThat(client.next(3).reason()).isEqualTo(WispClose.UNREACHABLE);
        assertThat(client.next(4).reason()).isEqualTo(WispClose.INVALID);
        assertThat(client.next(5).reason()).isEqualTo(WispClose.INVALID);
        assertThat(counter(Counter.WISP_STREAMS_BLOCKED)).isEqualTo(1);
        assertThat(counter(Counter.WISP_STREAMS_INVALID)).isEqualTo(2);
        assertThat(counter(Counter.WISP_STREAMS_FAILED)).isEqualTo(2);
    }

    @Test
    void garbageAndUnknownStreamsAreDroppedAndTheConnectionGoesOn() throws Exception {
        ServerSocket echo = echoServer();
        WispTestClient client = v1();
        client.sendNow(new byte[] {1, 2});                                        // shorter than a header
        client.sendNow(new byte[0]);
        client.sendNow(WispTestClient.packet(0x7f, 1, new byte[] {1, 2, 3}));    // no such type
        client.sendNow(WispTestClient.packet(WispPacket.DATA, 12345, new byte[] {1})); // no such stream
        client.sendNow(WispTestClient.packet(WispPacket.CLOSE, 999, new byte[] {2}));
        client.sendNow(WispTestClient.packet(WispPacket.CONNECT, 0,
                WispTestClient.connectPayload(WispPacket.STREAM_TCP, 80, SERVER_HOST))); // stream 0 is reserved
        client.sendNow(WispTestClient.packet(WispPacket.CONNECT, 3, new byte[] {1})); // truncated CONNECT
        client.socket.sendText("not wisp", true).get(5, TimeUnit.SECONDS);
        assertThat(client.next(3).reason()).isEqualTo(WispClose.INVALID);
        client.connectTcp(8, SERVER_HOST, echo.getLocalPort());
        client.data(8, new byte[] {42});
        assertThat(client.next(8).payload()).containsExactly(42);
        assertThat(counter(Counter.DROP_WISP_MALFORMED)).isEqualTo(5);
        assertThat(counter(Counter.DROP_WISP_UNKNOWN_STREAM)).isEqualTo(2);
    }

    @Test
    void aDestinationThatNeverReadsStopsTheCreditAndHoldsMemoryBounded() throws Exception {
        ServerSocket sink = new ServerSocket();
        sink.setReceiveBufferSize(4096);
        sink.bind(new InetSocketAddress(SERVER_HOST, 0));
        closing.add(sink);
        List<Socket> accepted = new ArrayList<>();
        Thread.ofVirtual().start(() -> {
            try {
                accepted.add(sink.accept()); // and never read
            } catch (Exception e) {
                // closed
            }
        });
        WispTestClient client = v1();
        client.connectTcp(1, SERVER_HOST, sink.getLocalPort());
        byte[] chunk = new byte[16 * 1024];
        int credit = WispConfig.defaults().bufferPackets();
        int sent = 0;
        // A well-behaved client: send while credit lasts, take each CONTINUE's new credit.
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (System.nanoTime() < deadline) {
            WispTestClient.Packet renewal = client.queue(1).poll(credit > 0 ? 0 : 500, TimeUnit.MILLISECONDS);
            if (renewal != null) {
                assertThat(renewal.type()).isEqualTo(WispPacket.CONTINUE);
                credit = renewal.u32();
            }
            if (credit > 0) {
                client.data(1, chunk);
                sent++;
                credit--;
            } else if (renewal == null) {
                break; // no credit, and none came in half a second: the relay holds the client back
            }
        }
        assertThat(credit).isZero();
        long sentBytes = (long) sent * chunk.length;
        // The kernel's socket buffers take some; past them the relay holds at most about one credit's worth.
        assertThat(sentBytes).isLessThan(32L << 20);
        long held = relay.snapshot().natBufferBytes();
        // CONTINUE sets the client's credit anew, so packets it sent on the old credit and still in flight come on
        // top of the last one: at most about two credits, past the 64 KiB at which the socket stops taking data.
        assertThat(held).isLessThanOrEqualTo(2L * WispConfig.defaults().bufferPackets() * chunk.length + (64 << 10));

        // A client that ignores the credit: once the connection holds its most for its destinations, the stream
        // that crosses the line is closed with 0x49, and what the relay holds stays bounded.
        java.util.concurrent.atomic.AtomicInteger written = new java.util.concurrent.atomic.AtomicInteger();
        byte[] ignoring = WispTestClient.packet(WispPacket.DATA, 1, chunk);
        int total = 4096; // 64 MiB
        Thread.ofVirtual().start(() -> {
            try {
                for (int i = 0; i < total; i++) {
                    client.sendNow(ignoring);
                    written.incrementAndGet();
                }
            } catch (Exception e) {
                // the test ended
            }
        });
        // Slow under the tests' paranoid leak detection: about 20 MiB must cross before the limit is reached.
        WispTestClient.Packet throttled = client.next(1, 90);
        while (throttled.type() == WispPacket.CONTINUE) { // renewals as the kernel's buffers take their part
            throttled = client.next(1, 90);
        }
        assertThat(throttled.type()).isEqualTo(WispPacket.CLOSE);
        assertThat(throttled.reason()).isEqualTo(WispClose.THROTTLED);
        assertThat(counter(Counter.WISP_CREDIT_EXCEEDED)).isPositive();
        assertThat(counter(Counter.WISP_STREAMS_THROTTLED)).isEqualTo(1);
        int before = written.get();
        waitFor(() -> written.get() > before + 16); // what follows is read and dropped as DATA for no stream
        assertThat(counter(Counter.DROP_WISP_UNKNOWN_STREAM)).isPositive();
        Thread.sleep(1100); // the snapshot is published once a second
        assertThat(relay.snapshot().natBufferBytes()).isZero();
        assertThat(relay.snapshot().natSockets()).isZero();
        for (Socket s : accepted) {
            s.close();
        }
    }

    @Test
    void aThousandStreamsOnOneConnectionEachEcho() throws Exception {
        ServerSocket echo = echoServer();
        WispTestClient client = v1();
        int streams = 1000;
        for (int id = 1; id <= streams; id++) {
            client.connectTcp(id, SERVER_HOST, echo.getLocalPort());
            client.data(id, ("stream " + id).getBytes(StandardCharsets.US_ASCII));
        }
        for (int id = 1; id <= streams; id++) {
            WispTestClient.Packet back = client.next(id);
            assertThat(back.type()).as("stream %d", id).isEqualTo(WispPacket.DATA);
            assertThat(new String(back.payload(), StandardCharsets.US_ASCII)).isEqualTo("stream " + id);
        }
        assertThat(counter(Counter.WISP_STREAMS_OPENED)).isEqualTo(streams);
        // Past the per-connection limit the relay refuses with CLOSE 0x49, and the others stay up.
        int limit = WispConfig.defaults().streamsPerConnection();
        for (int id = streams + 1; id <= limit; id++) {
            client.connectTcp(id, SERVER_HOST, echo.getLocalPort());
        }
        client.connectTcp(limit + 1, SERVER_HOST, echo.getLocalPort());
        WispTestClient.Packet refused = client.next(limit + 1);
        assertThat(refused.type()).isEqualTo(WispPacket.CLOSE);
        assertThat(refused.reason()).isEqualTo(WispClose.THROTTLED);
        client.data(500, new byte[] {7});
        assertThat(client.next(500).payload()).containsExactly(7);
        client.close();
        waitFor(() -> relay.snapshot().wispStreams() == 0 && relay.snapshot().natSockets() == 0);
    }

    @Test
    void aV2ClientGetsInfoThenCredit() throws Exception {
        ServerSocket echo = echoServer();
        WispTestClient client = client("wisp-v2");
        WispTestClient.Packet info = client.next(0);
        assertThat(info.type()).isEqualTo(WispPacket.INFO);
        assertThat(info.payload()[0]).isEqualTo((byte) 2);
        // Client INFO: version 2.0, the stream open confirmation extension.
        client.sendNow(WispTestClient.packet(WispPacket.INFO, 0, new byte[] {2, 0, 5, 0, 0, 0, 0}));
        WispTestClient.Packet credit = client.next(0);
        assertThat(credit.type()).isEqualTo(WispPacket.CONTINUE);
        client.connectTcp(1, SERVER_HOST, echo.getLocalPort());
        WispTestClient.Packet confirmed = client.next(1);
        assertThat(confirmed.type()).isEqualTo(WispPacket.CONTINUE);
        client.data(1, new byte[] {1, 2, 3});
        assertThat(client.next(1).payload()).containsExactly(1, 2, 3);
    }

    @Test
    void aUdpStreamCarriesDatagramsWithoutCredit() throws Exception {
        DatagramSocket echo = new DatagramSocket(new InetSocketAddress(SERVER_HOST, 0));
        closing.add(echo);
        Thread.ofVirtual().start(() -> {
            byte[] buffer = new byte[2048];
            try {
                while (true) {
                    DatagramPacket packet = new DatagramPacket(buffer, buffer.length);
                    echo.receive(packet);
                    echo.send(new DatagramPacket(buffer, packet.getLength(), packet.getSocketAddress()));
                }
            } catch (Exception e) {
                // closed
            }
        });
        WispTestClient client = v1();
        client.sendNow(WispTestClient.packet(WispPacket.CONNECT, 9,
                WispTestClient.connectPayload(WispPacket.STREAM_UDP, echo.getLocalPort(), SERVER_HOST)));
        WispTestClient.Packet back = null;
        for (int attempt = 0; attempt < 20 && back == null; attempt++) { // the first may arrive while it opens
            client.data(9, "ping".getBytes(StandardCharsets.US_ASCII));
            back = client.queue(9).poll(500, TimeUnit.MILLISECONDS);
        }
        assertThat(back).isNotNull();
        assertThat(back.type()).as("no CONTINUE on UDP streams").isEqualTo(WispPacket.DATA);
        assertThat(new String(back.payload(), StandardCharsets.US_ASCII)).isEqualTo("ping");
    }

    @Test
    void tokensGuardTheEndpointAndV2ClientsMayGiveThemAsPasswords() throws Exception {
        start(AccessConfig.defaults().withTokens(AccessTokens.of(List.<String[]>of(new String[] {"lab", "lab-token"}))));
        assertThat(upgradeStatus(url("/net/lab/wisp/"))).isEqualTo(401);
        assertThat(upgradeStatus(url("/net/lab/wisp/?token=wrong"))).isEqualTo(403);
        assertThat(upgradeStatus(url("/net/Bad!/wisp/"))).isEqualTo(404);
        WispTestClient v1 = client(url("/net/lab/wisp/?token=lab-token"), null);
        assertThat(v1.next(0).type()).isEqualTo(WispPacket.CONTINUE);

        // v2 without a token: INFO offers password authentication, required.
        WispTestClient good = client(url("/net/lab/wisp/"), "wisp-v2");
        WispTestClient.Packet info = good.next(0);
        assertThat(info.type()).isEqualTo(WispPacket.INFO);
        assertThat(info.payload()).endsWith(2, 1, 0, 0, 0, 1);
        good.sendNow(WispTestClient.packet(WispPacket.INFO, 0, passwordInfo("anyone", "lab-token")));
        assertThat(good.next(0).type()).isEqualTo(WispPacket.CONTINUE);

        WispTestClient wrong = client(url("/net/lab/wisp/"), "wisp-v2");
        wrong.next(0);
        wrong.sendNow(WispTestClient.packet(WispPacket.INFO, 0, passwordInfo("anyone", "nope")));
        WispTestClient.Packet refused = wrong.next(0);
        assertThat(refused.type()).isEqualTo(WispPacket.CLOSE);
        assertThat(refused.reason()).isEqualTo(WispClose.AUTH_BAD_PASSWORD);
        assertThat(wrong.inbox.closeCode).succeedsWithin(Duration.ofSeconds(10));

        WispTestClient none = client(url("/net/lab/wisp/"), "wisp-v2");
        none.next(0);
        none.sendNow(WispTestClient.packet(WispPacket.INFO, 0, new byte[] {2, 0}));
        assertThat(none.next(0).reason()).isEqualTo(WispClose.AUTH_REQUIRED);
        assertThat(counter(Counter.WISP_CONNECTIONS_REFUSED)).isEqualTo(5);
    }

    @Test
    void aV2ClientThatNeverAnswersTheInfoIsClosed() throws Exception {
        WispTestClient silent = client("wisp-v2");
        assertThat(silent.next(0).type()).isEqualTo(WispPacket.INFO);
        WispTestClient.Packet close = silent.next(0, WispConnection.INFO_TIMEOUT_SECONDS + 10);
        assertThat(close.type()).isEqualTo(WispPacket.CLOSE);
        assertThat(close.reason()).isEqualTo(WispClose.UNSPECIFIED);
        assertThat(silent.inbox.closeCode).succeedsWithin(Duration.ofSeconds(10));
        waitFor(() -> counter(Counter.WISP_CONNECTIONS_CLOSED) == 1);
    }

    /** A v2 client INFO: version 2.0 and the password extension's record. */
    private static byte[] passwordInfo(String user, String password) {
        byte[] u = user.getBytes(StandardCharsets.UTF_8);
        byte[] p = password.getBytes(StandardCharsets.UTF_8);
        int length = 1 + u.length + p.length;
        java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(2 + 5 + length).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        b.put((byte) 2).put((byte) 0).put((byte) 2).putInt(length).put((byte) u.length).put(u).put(p);
        return b.array();
    }

    /** The HTTP status an upgrade to {@code url} is refused with. */
    private int upgradeStatus(String url) {
        try {
            http.newWebSocketBuilder().buildAsync(java.net.URI.create(url), new WebSocketInbox())
                    .get(10, TimeUnit.SECONDS).abort();
            return 101;
        } catch (Exception e) {
            for (Throwable t = e; t != null; t = t.getCause()) {
                if (t instanceof WebSocketHandshakeException refused) {
                    return refused.getResponse().statusCode();
                }
            }
            throw new AssertionError(e);
        }
    }

    private static void waitFor(java.util.function.BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("condition not met within 10 s");
            }
            Thread.sleep(50);
        }
    }
}

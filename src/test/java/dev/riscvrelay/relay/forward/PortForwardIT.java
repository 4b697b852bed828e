package dev.riscvrelay.relay.forward;

import static dev.riscvrelay.relay.testbed.TcpTransfers.MIB;
import static org.assertj.core.api.Assertions.assertThat;

import dev.riscvrelay.relay.testbed.FieldBed;
import dev.riscvrelay.relay.testbed.ImpairedLink.LinkProfile;
import dev.riscvrelay.relay.testbed.LanHost;
import dev.riscvrelay.relay.testbed.NetnsTestBed;
import dev.riscvrelay.relay.testbed.NetnsTestBed.Namespace;
import dev.riscvrelay.relay.testbed.TcpTransfers;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Port forwards into a Linux stack on the relay's LAN: a namespace host at 10.0.2.23 ({@code relay connect} across
 * 1500-MTU links) serves, outside clients dial the relay's forwards. 20 MB SHA-exact into the host and out of it, an
 * interactive socat session, a forward to an address nobody holds, one to a host that left, and 1,000 connections at
 * once against the per-VM connection limit, after which the relay still serves; a UDP echo through a UDP forward, a
 * flow per outside client.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class PortForwardIT {

    private static final String SERVER = "10.0.2.23";
    private static final String LEAVER = "10.0.2.24";
    private static final String ECHO_SERVER = """
            import asyncio, sys
            async def echo(reader, writer):
                try:
                    while data := await reader.read(65536):
                        writer.write(data)
                        await writer.drain()
                except ConnectionError:
                    pass
                finally:
                    writer.close()
            async def main():
                server = await asyncio.start_server(echo, sys.argv[1], 7, backlog=2048)
                async with server:
                    await server.serve_forever()
            asyncio.run(main())
            """;

    /** Echoes each datagram; one starting with "big" is answered with its length and sha256 instead. */
    private static final String UDP_ECHO_SERVER = """
            import hashlib, socket, sys
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.bind((sys.argv[1], 5353))
            while True:
                data, sender = s.recvfrom(65535)
                if data.startswith(b"big"):
                    data = b"%d %s" % (len(data), hashlib.sha256(data).hexdigest().encode())
                s.sendto(data, sender)
            """;

    private FieldBed field;
    private TcpTransfers transfers;
    private LanHost server;
    private Namespace client;
    private final HttpClient http = HttpClient.newHttpClient();

    @BeforeAll
    void build() throws Exception {
        NetnsTestBed.requireTools("ip", "socat", "ss", "python3");
        field = FieldBed.create();
        transfers = field.bed().own(new TcpTransfers(field.bed()));
        field.startRelay("forward",
                "--forward", "tcp:8022=" + SERVER + ":5000",
                "--forward", "tcp:0.0.0.0:8023=default/" + SERVER + ":5001",
                "--forward", "tcp:8024=" + SERVER + ":7",
                "--forward", "tcp:8025=10.0.2.99:7",
                "--forward", "tcp:8026=" + LEAVER + ":7",
                "--forward", "udp:8053=" + SERVER + ":5353",
                "--forward", "udp:8054=10.0.2.99:5353",
                "--forward", "udp:8055=" + SERVER + ":5353");
        server = field.addLanHost("srv", SERVER, LinkProfile.CLEAN);
        startEcho(server);
        field.bed().startInBackground(server.namespace(), "python3", "-c", UDP_ECHO_SERVER, SERVER);
        server.namespace().awaitListening("-lun", SERVER + ":5353");
        client = field.addClientNamespace("cli");
    }

    @AfterAll
    void tearDown() {
        if (field != null) {
            field.close();
        }
    }

    private void startEcho(LanHost host) throws InterruptedException {
        field.bed().startInBackground(host.namespace(), "python3", "-c", ECHO_SERVER, host.address());
        host.namespace().awaitListening("-ltn", host.address() + ":7");
    }

    private String forward(int port) {
        return field.relayAddress() + ":" + port;
    }

    @Test
    void relayPrintsEachForwardItOpened() throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (field.relay().output().stream().filter(l -> l.startsWith("Forwarding ")).count() < 8
                && System.nanoTime() < deadline) {
            Thread.sleep(50);
        }
        assertThat(field.relay().output()).contains(
                "Forwarding tcp 0.0.0.0:8022 -> default/10.0.2.23:5000",
                "Forwarding tcp 0.0.0.0:8023 -> default/10.0.2.23:5001",
                "Forwarding tcp 0.0.0.0:8025 -> default/10.0.2.99:7",
                "Forwarding udp 0.0.0.0:8053 -> default/10.0.2.23:5353");
    }

    @Test
    void twentyMegabytesIntoTheVmShaExact() throws Exception {
        TcpTransfers.Payload payload = transfers.payload("in20", 20 * MIB, 20);
        double mbps = transfers.send("forward in", client, forward(8022), server.namespace(), SERVER, 5000, payload,
                Duration.ofSeconds(120));
        assertThat(mbps).as("Mbit/s, loose").isGreaterThan(1.0);
    }

    @Test
    void twentyMegabytesOutOfTheVmShaExact() throws Exception {
        TcpTransfers.Payload payload = transfers.payload("out20", 20 * MIB, 21);
        double mbps = transfers.receive("forward out", server.namespace(), SERVER, 5001, client, forward(8023),
                payload, Duration.ofSeconds(120));
        assertThat(mbps).as("Mbit/s, loose").isGreaterThan(1.0);
    }

    @Test
    void interactiveSocatSession() throws Exception {
        Process socat = new ProcessBuilder("ip", "netns", "exec", client.name(), "socat", "-",
                "TCP:" + forward(8024) + ",connect-timeout=10").redirectErrorStream(true).start();
        try {
            OutputStream in = socat.getOutputStream();
            BufferedReader out = new BufferedReader(new InputStreamReader(socat.getInputStream(),
                    StandardCharsets.UTF_8));
            for (String line : List.of("hello through the forward", "a second line", "x".repeat(3000))) {
                in.write((line + "\n").getBytes(StandardCharsets.UTF_8));
                in.flush();
                assertThat(out.readLine()).isEqualTo(line);
            }
            in.close(); // socat half-closes; the echo server closes; socat ends
            assertThat(socat.waitFor(20, TimeUnit.SECONDS)).as("socat ends after the close").isTrue();
            assertThat(socat.exitValue()).isZero();
        } finally {
            socat.destroyForcibly();
        }
    }

    @Test
    void forwardToAnAddressNobodyHoldsResetsTheClientAndCounts() throws Exception {
        double before = metric("relay_forward_no_guest_total");
        long start = System.nanoTime();
        assertThat(endsWithoutData(8025, Duration.ofSeconds(15))).isTrue();
        double seconds = (System.nanoTime() - start) / 1e9;
        System.out.printf("[facts] forward to nobody: client closed after %.1f s%n", seconds);
        assertThat(seconds).as("the ARP lookup gives up within a few seconds").isLessThan(10);
        assertThat(metric("relay_forward_no_guest_total")).isGreaterThan(before);
        assertThat(echo(8024, "still serving")).isEqualTo("still serving");
    }

    @Test
    void forwardToAHostThatLeftResetsTheClient() throws Exception {
        LanHost leaver = field.addLanHost("leaver", LEAVER, LinkProfile.CLEAN);
        startEcho(leaver);
        assertThat(echo(8026, "before leaving")).isEqualTo("before leaving");
        leaver.connector().close();
        double before = metric("relay_forward_no_guest_total");
        assertThat(endsWithoutData(8026, Duration.ofSeconds(60))).isTrue();
        assertThat(metric("relay_forward_no_guest_total")).isGreaterThan(before);
        assertThat(echo(8024, "still serving")).isEqualTo("still serving");
    }

    @Test
    void thousandConnectionsAtOnceAreBoundedAndTheRelayKeepsServing() throws Exception {
        double limitDrops = metric("relay_drops_total{reason=\"nat_tcp_vm_limit\"}");
        List<Socket> sockets = new ArrayList<>();
        int echoed = 0;
        int refused = 0;
        try {
            for (int i = 0; i < 1000; i++) {
                Socket socket = new Socket();
                socket.connect(new InetSocketAddress(field.relayAddress(), 8024), 10_000);
                socket.setSoTimeout(30_000);
                sockets.add(socket);
            }
            for (Socket socket : sockets) {
                try {
                    socket.getOutputStream().write('x');
                } catch (IOException refusedAlready) {
                    // reset before we wrote: counted below when the read fails too
                }
            }
            for (Socket socket : sockets) {
                try {
                    if (socket.getInputStream().read() == 'x') {
                        echoed++;
                    } else {
                        refused++;
                    }
                } catch (SocketTimeoutException e) {
                    throw new AssertionError("a forwarded connection neither echoed nor ended within 30 s", e);
                } catch (IOException reset) {
                    refused++;
                }
            }
        } finally {
            for (Socket socket : sockets) {
                socket.close();
            }
        }
        System.out.printf("[facts] 1000 connections at once: %d echoed, %d reset%n", echoed, refused);
        assertThat(echoed + refused).isEqualTo(1000);
        assertThat(echoed).as("up to the per-VM limit (512) get through").isBetween(400, 512);
        assertThat(metric("relay_drops_total{reason=\"nat_tcp_vm_limit\"}") - limitDrops).isGreaterThan(0);
        assertThat(field.relay().isAlive()).isTrue();
        // The closed connections leave the table once their FINs are through (TIME_WAIT is 2 s): then room again.
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        String answer = null;
        while (answer == null && System.nanoTime() < deadline) {
            try {
                answer = echo(8024, "after the storm");
            } catch (IOException stillFull) {
                Thread.sleep(250);
            }
        }
        assertThat(answer).isEqualTo("after the storm");
    }

    @Test
    void udpEchoThroughTheUdpForwardWithAFlowPerClient() throws Exception {
        double flowsBefore = metric("relay_forward_udp_flows_opened_total");
        try (java.net.DatagramSocket first = new java.net.DatagramSocket();
                java.net.DatagramSocket second = new java.net.DatagramSocket()) {
            for (int i = 0; i < 20; i++) {
                assertThat(udpEcho(first, "first " + i)).isEqualTo("first " + i);
                assertThat(udpEcho(second, "second " + i)).isEqualTo("second " + i);
            }
        }
        assertThat(metric("relay_forward_udp_flows_opened_total") - flowsBefore).isEqualTo(2);
        assertThat(metric("relay_forward_udp_datagrams_from_vm_total")).isGreaterThanOrEqualTo(40);
    }

    @Test
    void aDatagramLargerThanTheLanMtuReachesTheVmWholeInFragments() throws Exception {
        byte[] big = new byte[5000];
        for (int i = 0; i < big.length; i++) {
            big[i] = (byte) (i < 3 ? "big".charAt(i) : i % 251);
        }
        String expected = big.length + " " + java.util.HexFormat.of().formatHex(
                java.security.MessageDigest.getInstance("SHA-256").digest(big));
        double before = metric("relay_nat_udp_datagrams_fragmented_total");
        try (java.net.DatagramSocket socket = new java.net.DatagramSocket()) {
            // The VM's server answers with the length and hash of what its kernel reassembled.
            assertThat(udpEcho(socket, big)).isEqualTo(expected);
        }
        assertThat(metric("relay_nat_udp_datagrams_fragmented_total") - before).isPositive();
    }

    @Test
    void udpFlowsAreBoundedPerForwardAndCounted() throws Exception {
        double full = metric("relay_drops_total{reason=\"forward_udp_table_full\"}");
        List<java.net.DatagramSocket> clients = new ArrayList<>();
        try {
            byte[] hello = "hello".getBytes(StandardCharsets.UTF_8);
            for (int i = 0; i < Forwards.MAX_UDP_FLOWS + 100; i++) {
                java.net.DatagramSocket client = new java.net.DatagramSocket();
                clients.add(client);
                client.send(new java.net.DatagramPacket(hello, hello.length,
                        new InetSocketAddress(field.relayAddress(), 8055)));
                if (i % 50 == 49) {
                    Thread.sleep(20); // within what the forward's socket buffer holds until the loop reads it
                }
            }
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (metric("relay_drops_total{reason=\"forward_udp_table_full\"}") - full < 100
                    && System.nanoTime() < deadline) {
                Thread.sleep(100);
            }
            assertThat(metric("relay_drops_total{reason=\"forward_udp_table_full\"}") - full)
                    .as("clients beyond the flow table of the forward").isGreaterThanOrEqualTo(100);
        } finally {
            clients.forEach(java.net.DatagramSocket::close);
        }
        assertThat(field.relay().isAlive()).isTrue();
        assertThat(echo(8024, "tcp still serving")).isEqualTo("tcp still serving");
    }

    @Test
    void udpForwardToAnAddressNobodyHoldsDropsAndCounts() throws Exception {
        double before = metric("relay_forward_no_guest_total");
        try (java.net.DatagramSocket client = new java.net.DatagramSocket()) {
            byte[] hello = "anyone?".getBytes(StandardCharsets.UTF_8);
            client.send(new java.net.DatagramPacket(hello, hello.length,
                    new InetSocketAddress(field.relayAddress(), 8054)));
            client.setSoTimeout(5000);
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> client.receive(
                    new java.net.DatagramPacket(new byte[64], 64))).isInstanceOf(SocketTimeoutException.class);
        }
        assertThat(metric("relay_forward_no_guest_total")).isGreaterThan(before);
    }

    @Test
    void udpSessionWithSocatFromAClientNamespace() throws Exception {
        Process socat = new ProcessBuilder("ip", "netns", "exec", client.name(), "socat", "-",
                "UDP:" + forward(8053)).redirectErrorStream(true).start();
        try {
            OutputStream in = socat.getOutputStream();
            BufferedReader out = new BufferedReader(new InputStreamReader(socat.getInputStream(),
                    StandardCharsets.UTF_8));
            for (String line : List.of("one datagram", "another one")) {
                in.write((line + "\n").getBytes(StandardCharsets.UTF_8));
                in.flush();
                assertThat(out.readLine()).isEqualTo(line);
            }
        } finally {
            socat.destroy();
            socat.waitFor(5, TimeUnit.SECONDS);
        }
    }

    @Test
    void adminApiOpensListsAndClosesForwardsAtRuntime() throws Exception {
        HttpResponse<String> opened = admin("POST", "/forwards", "{\"forward\":\"tcp:8030=" + SERVER + ":7\"}");
        assertThat(opened.statusCode()).as(opened.body()).isEqualTo(201);
        assertThat(opened.body()).contains("\"name\":\"tcp:0.0.0.0:8030\"", "\"target\":\"default/10.0.2.23:7\"");
        assertThat(echo(8030, "opened at runtime")).isEqualTo("opened at runtime");

        HttpResponse<String> list = admin("GET", "/forwards", null);
        assertThat(list.statusCode()).isEqualTo(200);
        assertThat(list.headers().firstValue("Content-Type")).hasValue("application/json");
        assertThat(list.body()).startsWith("{\"forwards\":[").contains(
                "\"spec\":\"tcp:0.0.0.0:8030=default/10.0.2.23:7\"",
                "\"name\":\"udp:0.0.0.0:8053\"");

        assertThat(admin("POST", "/forwards", "{\"forward\":\"tcp:8030=" + SERVER + ":7\"}").statusCode())
                .as("the port is taken").isEqualTo(409);
        assertThat(admin("POST", "/forwards", "{\"forward\":\"tcp:8031\"}").statusCode()).isEqualTo(400);
        assertThat(admin("POST", "/forwards", "not json").statusCode()).isEqualTo(400);

        assertThat(admin("DELETE", "/forwards/tcp:0.0.0.0:8030", null).statusCode()).isEqualTo(204);
        assertThat(admin("DELETE", "/forwards/tcp:0.0.0.0:8030", null).statusCode()).isEqualTo(404);
        assertThat(admin("GET", "/forwards", null).body()).doesNotContain("8030");
        try (Socket socket = new Socket()) {
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> socket.connect(
                    new InetSocketAddress(field.relayAddress(), 8030), 5_000))
                    .as("nothing listens after the DELETE").isInstanceOf(IOException.class);
        }
    }

    private HttpResponse<String> admin(String method, String path, String body) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(field.adminUrl(path)));
        request.method(method, body == null ? HttpRequest.BodyPublishers.noBody()
                : HttpRequest.BodyPublishers.ofString(body));
        return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    /** Sends {@code text} through the UDP forward and waits for its echo, resending after a lost datagram. */
    private String udpEcho(java.net.DatagramSocket socket, String text) throws IOException {
        return udpEcho(socket, text.getBytes(StandardCharsets.UTF_8));
    }

    /** Sends {@code bytes} through the UDP forward and returns the answer as text, resending after a loss. */
    private String udpEcho(java.net.DatagramSocket socket, byte[] bytes) throws IOException {
        socket.setSoTimeout(2000);
        java.net.DatagramPacket reply = new java.net.DatagramPacket(new byte[2048], 2048);
        for (int attempt = 0; attempt < 5; attempt++) {
            socket.send(new java.net.DatagramPacket(bytes, bytes.length,
                    new InetSocketAddress(field.relayAddress(), 8053)));
            try {
                socket.receive(reply);
                return new String(reply.getData(), 0, reply.getLength(), StandardCharsets.UTF_8);
            } catch (SocketTimeoutException lost) {
                // the datagram or its echo was lost: send it again
            }
        }
        throw new AssertionError("no answer to " + bytes.length + " bytes through the UDP forward");
    }

    /** One line through the echo forward on {@code port}. */
    private String echo(int port, String line) throws IOException {
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress(field.relayAddress(), port), 10_000);
            socket.setSoTimeout(20_000);
            socket.getOutputStream().write((line + "\n").getBytes(StandardCharsets.UTF_8));
            return new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.UTF_8))
                    .readLine();
        }
    }

    /** Whether a client of the forward on {@code port} is closed or reset, without a byte, within {@code limit}. */
    private boolean endsWithoutData(int port, Duration limit) throws IOException {
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress(field.relayAddress(), port), 10_000);
            socket.setSoTimeout((int) limit.toMillis());
            socket.getOutputStream().write("anyone?\n".getBytes(StandardCharsets.UTF_8));
            return socket.getInputStream().read() == -1;
        } catch (SocketTimeoutException e) {
            return false;
        } catch (IOException reset) {
            return true;
        }
    }

    private double metric(String name) throws Exception {
        String metrics = http.send(HttpRequest.newBuilder(URI.create(field.adminUrl("/metrics"))).build(),
                HttpResponse.BodyHandlers.ofString()).body();
        Matcher m = Pattern.compile("(?m)^" + Pattern.quote(name) + " (\\S+)$").matcher(metrics);
        return m.find() ? Double.parseDouble(m.group(1)) : 0;
    }
}

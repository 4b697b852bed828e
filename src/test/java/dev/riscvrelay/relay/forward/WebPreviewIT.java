package dev.riscvrelay.relay.forward;

import static org.assertj.core.api.Assertions.assertThat;

import dev.riscvrelay.relay.testbed.CommandResult;
import dev.riscvrelay.relay.testbed.ConnectorProcess;
import dev.riscvrelay.relay.testbed.FieldBed;
import dev.riscvrelay.relay.testbed.ImpairedLink.LinkProfile;
import dev.riscvrelay.relay.testbed.LanHost;
import dev.riscvrelay.relay.testbed.NetnsTestBed;
import dev.riscvrelay.relay.testbed.TcpTransfers;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Random;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Web previews: a namespace host on the LAN serves HTTP (python's http.server) and WebSocket; clients open
 * {@code /net/default/vm/10.0.2.23:PORT/...} on the relay's demo listener (plain HTTP) and its TLS listener, behind
 * the network's token. Pages and a 3 MB file arrive exact, a WebSocket upgrade carries messages both ways, the
 * token and the address are checked, and an address nobody holds gets 502.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class WebPreviewIT {

    private static final String SERVER = "10.0.2.23";
    private static final String TOKEN = "preview-secret";
    private static final int WEB_PORT = 8088;

    private FieldBed field;
    private Path site;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();

    @BeforeAll
    void build() throws Exception {
        NetnsTestBed.requireTools("ip", "ss", "python3", "curl");
        field = FieldBed.create();
        site = Files.createTempDirectory("rr-preview");
        Files.writeString(site.resolve("index.html"), "<h1>hello from the VM</h1>\n");
        byte[] big = new byte[3 * TcpTransfers.MIB];
        new Random(3).nextBytes(big);
        Files.write(site.resolve("big.bin"), big);
        Path tokens = site.resolve("tokens");
        Files.writeString(tokens, "default " + TOKEN + "\n");
        field.startRelay("preview", "--token-file", tokens.toString(), "--web", field.relayAddress() + ":" + WEB_PORT);
        ConnectorProcess.RelayEndpoint endpoint = field.endpoint(LinkProfile.CLEAN);
        LanHost server = field.addLanHost("web", SERVER,
                new ConnectorProcess.RelayEndpoint(endpoint.url() + "?token=" + TOKEN, endpoint.certificateHash()));
        field.bed().startInBackground(server.namespace(), "python3", "-m", "http.server", "8000", "--bind", SERVER,
                "--directory", site.toString());
        server.namespace().awaitListening("-ltn", SERVER + ":8000");
        Path echo = Path.of("src", "test", "resources", "forward", "websocket_echo.py").toAbsolutePath();
        field.bed().startInBackground(server.namespace(), "python3", echo.toString(), SERVER, "9000");
        server.namespace().awaitListening("-ltn", SERVER + ":9000");
    }

    @AfterAll
    void tearDown() throws Exception {
        if (field != null) {
            field.close();
        }
        if (site != null) {
            try (var files = Files.walk(site)) {
                files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    private String preview(String vmAndPath) {
        return "http://" + field.relayAddress() + ":" + WEB_PORT + "/net/default/vm/" + vmAndPath;
    }

    private HttpResponse<byte[]> get(String url) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(20)).build(),
                HttpResponse.BodyHandlers.ofByteArray());
    }

    @Test
    void aPageAndALargeFileArriveExact() throws Exception {
        HttpResponse<byte[]> page = get(preview(SERVER + ":8000/index.html?token=" + TOKEN));
        assertThat(page.statusCode()).isEqualTo(200);
        assertThat(new String(page.body())).isEqualTo("<h1>hello from the VM</h1>\n");
        for (int i = 0; i < 3; i++) { // every request its own connection to the VM
            HttpResponse<byte[]> big = get(preview(SERVER + ":8000/big.bin?token=" + TOKEN));
            assertThat(big.statusCode()).isEqualTo(200);
            assertThat(big.body()).isEqualTo(Files.readAllBytes(site.resolve("big.bin")));
        }
        assertThat(metric("relay_preview_requests_total")).isGreaterThanOrEqualTo(4);
    }

    @Test
    void theTlsListenerServesPreviewsToo() throws Exception {
        CommandResult curl = NetnsTestBed.run(Duration.ofSeconds(30), "curl", "-sk", "--max-time", "20",
                "https://" + field.relayAddress() + ":" + FieldBed.RELAY_PORT + "/net/default/vm/" + SERVER
                        + ":8000/index.html?token=" + TOKEN);
        assertThat(curl.succeeded()).as(curl.describe()).isTrue();
        assertThat(curl.stdout()).isEqualTo("<h1>hello from the VM</h1>\n");
    }

    @Test
    void theNetworksTokenIsRequired() throws Exception {
        assertThat(get(preview(SERVER + ":8000/index.html")).statusCode()).isEqualTo(401);
        assertThat(get(preview(SERVER + ":8000/index.html?token=wrong")).statusCode()).isEqualTo(403);
        assertThat(metric("relay_preview_refused_token_total")).isGreaterThanOrEqualTo(2);
    }

    @Test
    void addressesOutsideTheLanOrTheGatewayAreRefused() throws Exception {
        assertThat(get(preview("10.0.2.2:80/?token=" + TOKEN)).statusCode()).isEqualTo(400);
        assertThat(get(preview("198.51.100.1:80/?token=" + TOKEN)).statusCode()).isEqualTo(400);
        assertThat(get("http://" + field.relayAddress() + ":" + WEB_PORT + "/net/nosuch/vm/" + SERVER
                + ":8000/?token=" + TOKEN).statusCode()).isIn(403, 404);
    }

    @Test
    void anAddressNobodyHoldsGets502() throws Exception {
        long start = System.nanoTime();
        HttpResponse<byte[]> response = get(preview("10.0.2.99:8000/?token=" + TOKEN));
        assertThat(response.statusCode()).isEqualTo(502);
        assertThat((System.nanoTime() - start) / 1e9).isLessThan(10);
    }

    @Test
    void webSocketUpgradeCarriesMessagesBothWays() throws Exception {
        BlockingQueue<String> received = new LinkedBlockingQueue<>();
        WebSocket socket = http.newWebSocketBuilder().connectTimeout(Duration.ofSeconds(10))
                .buildAsync(URI.create(preview(SERVER + ":9000/ws?token=" + TOKEN).replace("http:", "ws:")),
                        new WebSocket.Listener() {
                            private final StringBuilder text = new StringBuilder();

                            @Override
                            public CompletionStage<?> onText(WebSocket webSocket, CharSequence data, boolean last) {
                                text.append(data);
                                if (last) {
                                    received.add(text.toString());
                                    text.setLength(0);
                                }
                                webSocket.request(1);
                                return null;
                            }
                        })
                .get(20, TimeUnit.SECONDS);
        try {
            socket.sendText("path?", true).get(10, TimeUnit.SECONDS);
            assertThat(received.poll(10, TimeUnit.SECONDS)).as("the path the VM saw, without the token")
                    .isEqualTo("/ws");
            for (String message : new String[] {"hello", "x".repeat(20_000)}) {
                socket.sendText(message, true).get(10, TimeUnit.SECONDS);
                String echoed = received.poll(10, TimeUnit.SECONDS);
                assertThat(message.equals(echoed)).as("echo of %d chars, got %s", message.length(),
                        echoed == null ? "nothing" : echoed.length() + " chars").isTrue();
            }
        } finally {
            socket.sendClose(WebSocket.NORMAL_CLOSURE, "done");
        }
    }

    @Test
    void slowlorisClientsAreClosedAndPreviewsGoOn() throws Exception {
        double before = metric("relay_web_first_request_timeouts_total");
        java.util.List<java.net.Socket> slow = new java.util.ArrayList<>();
        try {
            for (int i = 0; i < 50; i++) {
                java.net.Socket socket = new java.net.Socket(field.relayAddress(), WEB_PORT);
                socket.getOutputStream().write(("GET /net/default/vm/" + SERVER + ":8000/ HTTP/1.1\r\n")
                        .getBytes(java.nio.charset.StandardCharsets.US_ASCII));
                slow.add(socket);
            }
            long start = System.nanoTime();
            int closed = 0;
            while (closed < slow.size() && System.nanoTime() - start < TimeUnit.SECONDS.toNanos(20)) {
                closed = 0;
                for (java.net.Socket socket : slow) {
                    try {
                        socket.getOutputStream().write('X'); // one header byte at a time
                    } catch (java.io.IOException gone) {
                        closed++;
                    }
                }
                assertThat(get(preview(SERVER + ":8000/index.html?token=" + TOKEN)).statusCode())
                        .as("previews go on meanwhile").isEqualTo(200);
                Thread.sleep(1000);
            }
            double seconds = (System.nanoTime() - start) / 1e9;
            System.out.printf("[facts] slowloris: %d of %d slow clients closed after %.1f s%n", closed, slow.size(),
                    seconds);
            assertThat(closed).isEqualTo(slow.size());
            assertThat(metric("relay_web_first_request_timeouts_total") - before).isGreaterThanOrEqualTo(50);
        } finally {
            for (java.net.Socket socket : slow) {
                socket.close();
            }
        }
    }

    private double metric(String name) throws Exception {
        String metrics = http.send(HttpRequest.newBuilder(URI.create(field.adminUrl("/metrics"))).build(),
                HttpResponse.BodyHandlers.ofString()).body();
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("(?m)^" + java.util.regex.Pattern.quote(name)
                + " (\\S+)$").matcher(metrics);
        return m.find() ? Double.parseDouble(m.group(1)) : 0;
    }
}

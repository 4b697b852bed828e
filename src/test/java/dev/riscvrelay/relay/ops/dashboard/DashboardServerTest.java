package dev.riscvrelay.relay.ops.dashboard;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import dev.riscvrelay.relay.metrics.Counter;
import dev.riscvrelay.relay.metrics.Counters;
import dev.riscvrelay.relay.metrics.LoopSnapshot;
import dev.riscvrelay.relay.ops.api.LanInspector;
import dev.riscvrelay.relay.ops.api.MemberPage;
import dev.riscvrelay.relay.ops.api.NetworkView;
import dev.riscvrelay.relay.tls.RelayCertificate;
import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The dashboard's files and its event stream on a real JDK HTTP server, fed by real counters. */
class DashboardServerTest {

    private static final RelayCertificate CERTIFICATE = RelayCertificate.selfSignedForLocalhost();

    private final Counters counters = new Counters();
    private final HttpClient http = HttpClient.newHttpClient();
    private boolean loopAnswers = true;
    private final LanInspector lans = new LanInspector() {
        @Override
        public List<NetworkView> networks(MemberPage page) throws TimeoutException {
            if (!loopAnswers) {
                throw new TimeoutException("stuck");
            }
            return List.of(new NetworkView("default", 0, 0, 0, page.offset(), List.of()));
        }

        @Override
        public NetworkView network(String name, MemberPage page) {
            return null;
        }

        @Override
        public boolean disconnect(String name, long mac, String reason) {
            return false;
        }
    };
    private final DashboardFeed feed = new DashboardFeed(counters,
            () -> new LoopSnapshot(2, 2, 3, 4, 5, 6, 7, 0, 0), lans, () -> CERTIFICATE, () -> Path.of("/tmp/x.pcap"));
    private HttpServer server;
    private EventStream events;

    @AfterEach
    void stop() {
        if (events != null) {
            events.close();
        }
        if (server != null) {
            server.stop(0);
        }
        http.shutdownNow();
    }

    private URI start() throws Exception {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 4);
        events = new EventStream(feed, 100);
        server.createContext("/api/events", events);
        server.createContext("/", new DashboardFiles());
        server.setExecutor(Executors.newSingleThreadExecutor());
        server.start();
        return URI.create("http://127.0.0.1:" + server.getAddress().getPort());
    }

    @Test
    void anEventCarriesTheCountersAsMetricsCountsThemAndTheNetworks() {
        counters.add(Counter.FRAMES_IN, 10);
        counters.add(Counter.BYTES_OUT, 1500);
        counters.add(Counter.DROP_QUEUE_FULL, 3);
        counters.add(Counter.DROP_RATE_LIMITED, 2);

        String event = feed.get();

        assertThat(event).startsWith("{\"time\":").contains(",\"sessions\":2,\"framesIn\":10,\"framesOut\":0,",
                "\"bytesOut\":1500,", "\"drops\":5,\"dropsByReason\":{\"rate_limited\":2,\"queue_full\":3}",
                "\"natFlows\":{\"udp\":4,\"icmp\":5,\"tcp\":6},\"dhcpLeases\":7,\"macTableEntries\":3",
                "\"sha256\":\"" + CERTIFICATE.sha256Hex() + "\"", "\"selfSigned\":true", "\"capture\":\"/tmp/x.pcap\"",
                "\"networks\":[{\"name\":\"default\",\"worker\":0,\"memberCount\":0,").endsWith("}");
        loopAnswers = false;
        assertThat(feed.get()).as("a stuck loop leaves the tables out, not the totals").endsWith("\"networks\":null}");
    }

    @Test
    void thePageItsScriptAndStyleAreServedWithAPolicyAndNothingElse() throws Exception {
        URI base = start();
        HttpResponse<String> page = http.send(HttpRequest.newBuilder(base.resolve("/")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(page.statusCode()).isEqualTo(200);
        assertThat(page.headers().firstValue("Content-Type")).contains("text/html; charset=utf-8");
        assertThat(page.headers().firstValue("Content-Security-Policy").orElseThrow()).startsWith("default-src 'self'");
        assertThat(page.body()).contains("<script src=\"/dashboard.js\"", "<canvas id=\"plot-throughput\"")
                .doesNotContain("http://", "https://");
        for (String file : List.of("/dashboard.js", "/dashboard.css")) {
            HttpResponse<String> response = http.send(HttpRequest.newBuilder(base.resolve(file)).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(response.statusCode()).as(file).isEqualTo(200);
            assertThat(response.body()).as(file + " loads nothing from elsewhere").doesNotContain("http://",
                    "https://");
        }
        assertThat(http.send(HttpRequest.newBuilder(base.resolve("/etc/passwd")).build(),
                HttpResponse.BodyHandlers.ofString()).statusCode()).isEqualTo(404);
        assertThat(http.send(HttpRequest.newBuilder(base.resolve("/")).POST(HttpRequest.BodyPublishers.noBody())
                .build(), HttpResponse.BodyHandlers.ofString()).statusCode()).isEqualTo(405);
    }

    @Test
    void aStreamGetsEventsUntilItsReaderGoesAway() throws Exception {
        URI base = start();
        HttpResponse<InputStream> stream = http.send(HttpRequest.newBuilder(base.resolve("/api/events")).build(),
                HttpResponse.BodyHandlers.ofInputStream());
        assertThat(stream.headers().firstValue("Content-Type")).contains("text/event-stream; charset=utf-8");
        try (BufferedReader lines = new BufferedReader(new InputStreamReader(stream.body(), StandardCharsets.UTF_8))) {
            for (int event = 0; event < 3; event++) {
                assertThat(lines.readLine()).startsWith("data: {\"time\":");
                assertThat(lines.readLine()).isEmpty();
            }
        }
        assertThat(events.openStreams()).isEqualTo(1);
        http.shutdownNow(); // the reader goes away: the next writes fail and the stream is dropped
        long deadline = System.nanoTime() + 5_000_000_000L;
        while (events.openStreams() > 0 && System.nanoTime() < deadline) {
            Thread.sleep(50);
        }
        assertThat(events.openStreams()).isZero();
    }
}

package dev.riscvrelay.relay.browser;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import dev.riscvrelay.relay.testbed.FieldBed;
import dev.riscvrelay.relay.testbed.NetnsTestBed;
import dev.riscvrelay.relay.testbed.NetnsTestBed.Namespace;
import dev.riscvrelay.relay.testbed.RelayProcess;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * A real WISP client in headless Chromium: libcurl.js (npm, curl in WebAssembly) on a page served from loopback
 * fetches a file from the field bed's test internet through the relay's {@code /wisp/} endpoint, across the bed's
 * 1500-MTU veths, and the page checks its SHA-256; a fetch to a range the egress policy denies fails.
 *
 * <pre>
 *   root namespace                        relay namespace                      internet namespace
 *   Chromium: http://127.0.0.1:P/ -------- relay 198.19.X.2:4433 (ws://) ------ 203.0.113.10 http :80 (allowed)
 *     libcurl.js, ws://.../wisp/            --allow 203.0.113.0/24              198.51.100.10 (denied by default)
 * </pre>
 */
class WispBrowserIT {

    private static final String WEB_HOST = FieldBed.INTERNET_HOST;
    private static final int FILE_BYTES = 3 << 20;
    private static final Path CLIENTS = Path.of("target", "wisp-clients");

    @Test
    void libcurlJsFetchesAFileShaExactThroughWisp() throws Exception {
        NetnsTestBed.requireTools("ip", "python3", "ss");
        installClients();
        Path site = Files.createTempDirectory("rr-wisp-site");
        byte[] file = new byte[FILE_BYTES];
        new Random(20).nextBytes(file);
        Files.write(site.resolve("file"), file);
        String fileSha256 = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(file));
        HttpServer pages = pageServer();
        try (FieldBed field = FieldBed.create()) {
            Namespace internet = field.addInternet();
            field.bed().startInBackground(internet, "python3", "-m", "http.server", "--bind", WEB_HOST,
                    "--directory", site.toString(), "80");
            internet.awaitListening("-ltn", WEB_HOST + ":80");
            RelayProcess relay = field.startRelay("wisp", "--websocket", "plain", "--allow", "203.0.113.0/24");
            String wisp = "ws://" + field.relayAddress() + ":" + FieldBed.RELAY_PORT + "/wisp/";
            String allowed = "http://" + WEB_HOST + "/file";
            String denied = "http://" + FieldBed.INTERNET_PEER + "/file";
            URI page = URI.create("http://127.0.0.1:" + pages.getAddress().getPort() + "/wisp-libcurl.html?wisp="
                    + wisp + "&fetch=" + allowed + "," + denied);
            try (Browsers.Running chromium = Browsers.launch(Browsers.Kind.CHROMIUM, List.of(page),
                    field.relayAddress(), "wisp-libcurl", List.of("--remote-debugging-port=0"));
                 DevTools devTools = DevTools.attach(chromium.profile(), 30, TimeUnit.SECONDS)) {
                DevTools.Page tab = devTools.pages("wisp-libcurl").getFirst();
                String results = awaitResults(tab, chromium);
                System.out.println("[facts] libcurl.js through /wisp/: " + results);
                assertThat(results).as("the allowed fetch, sha-exact")
                        .contains("\"url\":\"" + allowed + "\",\"status\":200,\"bytes\":" + FILE_BYTES
                                + ",\"sha256\":\"" + fileSha256 + "\"");
                assertThat(results).as("the denied fetch fails").contains("\"url\":\"" + denied + "\",\"error\"");
                String metrics = relay.metrics();
                assertThat(metrics).containsPattern("relay_wisp_streams_opened_total \\d+")
                        .containsPattern("relay_wisp_streams_blocked_total [1-9]")
                        .containsPattern("relay_wisp_bytes_to_client_total [1-9]\\d{6,}");
                assertThat(relay.isAlive()).isTrue();
            }
        } finally {
            pages.stop(0);
            Files.deleteIfExists(site.resolve("file"));
            Files.deleteIfExists(site);
        }
    }

    /**
     * The demo page with {@code ?transport=wisp}: v86's own network (its router and DHCP in the page) whose TCP
     * connections are WISP streams of the relay. The VM leases from v86, then wgets a file from the test internet
     * through the relay, checked by its sha256.
     */
    @Test
    void theDemoVmWgetsThroughV86sWispNetwork() throws Exception {
        NetnsTestBed.requireTools("ip", "python3", "ss");
        V86BrowserLanIT.buildImage();
        Path site = Files.createTempDirectory("rr-wisp-v86-site");
        byte[] file = new byte[1 << 20];
        new Random(86).nextBytes(file);
        Files.write(site.resolve("file"), file);
        String fileSha256 = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(file));
        try (FieldBed field = FieldBed.create()) {
            Namespace internet = field.addInternet();
            field.bed().startInBackground(internet, "python3", "-m", "http.server", "--bind", WEB_HOST,
                    "--directory", site.toString(), "80");
            internet.awaitListening("-ltn", WEB_HOST + ":80");
            // Plain ws:// and the page over plain HTTP: v86's WISP network needs no secure context.
            RelayProcess relay = field.startRelay("wisp-v86", "--websocket", "plain", "--v86-dir",
                    Path.of("target", "v86").toString(), "--allow", "203.0.113.0/24");
            URI page = URI.create("http://" + field.relayAddress() + ":" + FieldBed.RELAY_PORT + "/?transport=wisp");
            try (Browsers.Running chromium = Browsers.launch(Browsers.Kind.CHROMIUM, List.of(page),
                    field.relayAddress(), "wisp-v86", List.of("--remote-debugging-port=0"));
                 DevTools devTools = DevTools.attach(chromium.profile(), 30, TimeUnit.SECONDS)) {
                DevTools.Page vm = V86BrowserLanIT.page(devTools, "transport=wisp");
                long boot = V86BrowserLanIT.awaitBoot(vm, chromium);
                System.out.println("[facts] v86 over WISP booted in " + boot + " ms");
                String lease = V86BrowserLanIT.run(vm, "udhcpc -i eth0 -n -q -t 5", 60);
                assertThat(lease).as("v86's own DHCP").contains("udhcpc: lease");
                String wget = V86BrowserLanIT.run(vm, "wget -q -O /tmp/file http://" + WEB_HOST + "/file;"
                        + " wc -c < /tmp/file; sha256sum /tmp/file", 180);
                assertThat(wget).as("the file through v86's WISP network and the relay").contains(fileSha256);
                String blocked = V86BrowserLanIT.run(vm, "wget -q -O /tmp/no http://"
                        + FieldBed.INTERNET_PEER + "/file; echo wget-exit=$?", 60);
                assertThat(blocked).as("a range the egress policy denies").doesNotContain("wget-exit=0");
                String metrics = relay.metrics();
                assertThat(metrics).containsPattern("relay_wisp_connections_opened_total [1-9]")
                        .containsPattern("relay_wisp_streams_blocked_total [1-9]")
                        .containsPattern("relay_wisp_bytes_to_client_total [1-9]\\d{6,}");
            }
        } finally {
            Files.deleteIfExists(site.resolve("file"));
            Files.deleteIfExists(site);
        }
    }

    private static String awaitResults(DevTools.Page tab, Browsers.Running chromium) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
        while (System.nanoTime() < deadline) {
            Object results = tab.evaluate("window.results ? JSON.stringify(window.results) : null");
            if (results instanceof String json) {
                return json;
            }
            Thread.sleep(250);
        }
        throw new AssertionError("libcurl.js did not finish within 90 s; page log: "
                + tab.evaluate("document.getElementById('log').textContent") + "\nbrowser log:\n"
                + chromium.logTail(30));
    }

    /** The test page and libcurl.js on loopback (a secure context: crypto.subtle works there). */
    private static HttpServer pageServer() throws Exception {
        Map<String, Path> files = Map.of(
                "/libcurl.mjs", CLIENTS.resolve("libcurl.mjs"),
                "/libcurl.wasm", CLIENTS.resolve("libcurl.wasm"));
        HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 16);
        server.createContext("/", exchange -> {
            String path = exchange.getRequestURI().getPath();
            byte[] body;
            String type;
            if (path.equals("/wisp-libcurl.html")) {
                try (InputStream in = WispBrowserIT.class.getResourceAsStream("/browser/wisp-libcurl.html")) {
                    body = in.readAllBytes();
                }
                type = "text/html; charset=utf-8";
            } else if (files.containsKey(path)) {
                body = Files.readAllBytes(files.get(path));
                type = path.endsWith(".wasm") ? "application/wasm" : "text/javascript; charset=utf-8";
            } else {
                exchange.sendResponseHeaders(404, -1);
                exchange.close();
                return;
            }
            exchange.getResponseHeaders().set("Content-Type", type);
            exchange.sendResponseHeaders(200, body.length);
            exchange.getResponseBody().write(body);
            exchange.close();
        });
        server.start();
        return server;
    }

    /** scripts/install-wisp-clients.sh (npm, pinned): skips itself when the files are there. */
    static void installClients() throws Exception {
        SetupScript.run("scripts/install-wisp-clients.sh", "wisp-clients.log", 300);
    }
}

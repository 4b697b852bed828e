package dev.riscvrelay.relay.browser;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.regex.Pattern;

/**
 * Serves the browser test pages from {@code src/test/resources/browser/} on {@code http://127.0.0.1:PORT/} (a
 * potentially trustworthy origin, so WebTransport is available without HTTPS) and receives the page's JSON report
 * by POST. The seed's snippet is served with only its two placeholders filled in: the certificate hash and the
 * relay's URL, {@code https://HOST:PORT} ({@code seed-snippet.js?cert=wrong} gets a hash that differs in one digit).
 * The page stays on loopback while the relay may be anywhere: the origin is what makes the context secure.
 */
public final class TestPageServer implements AutoCloseable {

    private static final String SNIPPET = "seed-snippet.js";
    private static final String HASH_PLACEHOLDER = "\"YOUR_CERTIFICATE_HASH_HERE\"";
    private static final String URL_PLACEHOLDER = "\"https://127.0.0.1:4433\"";
    private static final Pattern HEX_HASH = Pattern.compile("[0-9a-f]{64}");
    private static final Map<String, String> CONTENT_TYPES = Map.of(
            "html", "text/html; charset=utf-8", "js", "text/javascript; charset=utf-8");

    private final HttpServer server;
    private final ExecutorService executor = Executors.newSingleThreadExecutor(r -> {
        Thread thread = new Thread(r, "test-page-server");
        thread.setDaemon(true);
        return thread;
    });
    private final Consumer<String> pageLog;
    private volatile String certificateHash = "0".repeat(64);
    private volatile String relayHost = "127.0.0.1";
    private volatile int relayPort = 4433;
    private volatile String relayPath = "";
    private volatile CompletableFuture<PageReport> report = new CompletableFuture<>();
    private final Map<String, Function<String, String>> probes = new java.util.concurrent.ConcurrentHashMap<>();

    public TestPageServer(Consumer<String> pageLog) {
        this.pageLog = pageLog;
        try {
            server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 16);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        server.setExecutor(executor);
        server.createContext("/", this::handle);
        server.start();
    }

    /** What the served snippet puts in RELAY_CERT_HASH and in its URL: {@code https://relayHost:relayPort}. */
    public void relay(String certificateHash, String relayHost, int relayPort) {
        relay(certificateHash, relayHost, relayPort, "");
    }

    /**
     * As {@link #relay(String, String, int)} with a network's path after the port ({@code /net/lab0}), as a user of a
     * named network writes it into the snippet's URL; {@code ""} for the default network.
     */
    public void relay(String certificateHash, String relayHost, int relayPort, String path) {
        if (!path.isEmpty() && !path.matches("/[A-Za-z0-9/_.-]*")) {
            throw new IllegalArgumentException("a plain absolute path or none, not " + path);
        }
        if (!HEX_HASH.matcher(certificateHash).matches()) {
            throw new IllegalArgumentException("not a lowercase hex SHA-256: " + certificateHash);
        }
        if (!relayHost.matches("[0-9.]+|\\[[0-9a-f:]+]")) {
            throw new IllegalArgumentException("an IPv4 or bracketed IPv6 literal, not a name the browser would have"
                    + " to resolve: "
                    + relayHost);
        }
        this.certificateHash = certificateHash;
        this.relayHost = relayHost;
        this.relayPort = relayPort;
        this.relayPath = path;
    }

    /** The host the served snippet connects to. */
    public String relayHost() {
        return relayHost;
    }

    /**
     * What answers the page's {@code POST /inbound} or {@code POST /burst}: the page asks the test to send it frames
     * from outside the browser (the request body says which), and gets the handler's answer once they are sent.
     */
    public void probe(String path, Function<String, String> handler) {
        probes.put(path, handler);
    }

    /** The URL of a page under this server, e.g. {@code page("relay-test.html?scenarios=arp")}. */
    public URI page(String pathAndQuery) {
        return URI.create("http://127.0.0.1:" + server.getAddress().getPort() + "/" + pathAndQuery);
    }

    /** Forgets any earlier report; call before starting the browser that will send the next one. */
    public void expectReport() {
        report = new CompletableFuture<>();
    }

    /** Waits for the page's report: the page posts it once it is done or its own watchdog fires. */
    public PageReport awaitReport(long timeout, TimeUnit unit) throws TimeoutException, InterruptedException {
        try {
            return report.get(timeout, unit);
        } catch (java.util.concurrent.ExecutionException e) {
            throw new IllegalStateException("page report unreadable", e.getCause());
        }
    }

    private void handle(HttpExchange exchange) throws IOException {
        try (exchange) {
            String path = exchange.getRequestURI().getPath();
            if ("POST".equals(exchange.getRequestMethod())) {
                String body = new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
                switch (path) {
                    case "/report" -> {
                        try {
                            report.complete(PageReport.parse(body));
                        } catch (IllegalArgumentException e) {
                            report.completeExceptionally(e);
                        }
                    }
                    case "/log" -> pageLog.accept(body);
                    case "/inbound", "/burst" -> {
                        byte[] answer;
                        try {
                            Function<String, String> probe = probes.get(path);
                            if (probe == null) throw new IllegalStateException("no handler for " + path);
                            answer = probe.apply(body).getBytes(StandardCharsets.UTF_8);
                        } catch (RuntimeException e) {
                            answer = ("error: " + e).getBytes(StandardCharsets.UTF_8);
                        }
                        exchange.sendResponseHeaders(200, answer.length);
                        exchange.getResponseBody().write(answer);
                        return;
                    }
                    default -> {
                        exchange.sendResponseHeaders(404, -1);
                        return;
                    }
                }
                exchange.sendResponseHeaders(204, -1);
                return;
            }
            String name = path.substring(1);
            String extension = name.substring(name.lastIndexOf('.') + 1);
            boolean wrongHash = "cert=wrong".equals(exchange.getRequestURI().getQuery());
            byte[] body = name.matches("[a-z-]+\\.(html|js)") ? resource(name, wrongHash) : null;
            if (body == null) {
                exchange.sendResponseHeaders(404, -1);
                return;
            }
            var headers = exchange.getResponseHeaders();
            headers.set("Content-Type", CONTENT_TYPES.get(extension));
            headers.set("Cache-Control", "no-store");
            // Cross-origin isolation gives the page a fine-grained performance.now() (Firefox coarsens it to
            // 1 ms otherwise), so the echo round trips it reports mean something.
            headers.set("Cross-Origin-Opener-Policy", "same-origin");
            headers.set("Cross-Origin-Embedder-Policy", "require-corp");
            headers.set("Cross-Origin-Resource-Policy", "same-origin");
            exchange.sendResponseHeaders(200, body.length);
            exchange.getResponseBody().write(body);
        }
    }

    private byte[] resource(String name, boolean wrongHash) throws IOException {
        try (InputStream in = TestPageServer.class.getResourceAsStream("/browser/" + name)) {
            if (in == null) return null;
            byte[] bytes = in.readAllBytes();
            if (!name.equals(SNIPPET)) return bytes;
            String snippet = new String(bytes, StandardCharsets.UTF_8);
            if (!snippet.contains(HASH_PLACEHOLDER) || !snippet.contains(URL_PLACEHOLDER)) {
                throw new IllegalStateException(SNIPPET + " lost the seed's placeholders: it must stay verbatim");
            }
            String hash = wrongHash ? wrongHash(certificateHash) : certificateHash;
            return snippet.replace(HASH_PLACEHOLDER, '"' + hash + '"')
                    .replace(URL_PLACEHOLDER, "\"https://" + relayHost + ":" + relayPort + relayPath + '"')
                    .getBytes(StandardCharsets.UTF_8);
        }
    }

    /** The relay's hash with its first digit changed: a hash for some other certificate. */
    static String wrongHash(String hash) {
        return (hash.charAt(0) == '0' ? "1" : "0") + hash.substring(1);
    }

    @Override
    public void close() {
        server.stop(0);
        executor.shutdownNow();
    }
}

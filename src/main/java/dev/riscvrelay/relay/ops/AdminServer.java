package dev.riscvrelay.relay.ops;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import com.sun.net.httpserver.HttpServer;
import dev.riscvrelay.relay.forward.Forwards;
import dev.riscvrelay.relay.metrics.LoopSnapshot;
import dev.riscvrelay.relay.ops.api.ApiHandler;
import dev.riscvrelay.relay.ops.dashboard.DashboardFeed;
import dev.riscvrelay.relay.ops.dashboard.DashboardFiles;
import dev.riscvrelay.relay.ops.dashboard.EventStream;
import dev.riscvrelay.relay.tls.RelayCertificate;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Executor;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The admin HTTP server: {@code GET /metrics} (Prometheus), {@code GET /healthz}, {@code GET /cert-hash} (with
 * CORS, for pages that connect by hash), {@code POST /pcap/start} and {@code POST /pcap/stop}, the JSON API under
 * {@code /api/} with its event stream {@code /api/events}, and the dashboard at {@code /}.
 *
 * <p>The JDK's {@code com.sun.net.httpserver} on the relay's control thread rather than Netty on the event loop: a
 * handful of requests a minute, some of which wait (health waits for the loop to answer, a capture opens a file),
 * must never take a turn from the loop that carries every frame. It listens on loopback unless told otherwise,
 * since it can start captures of the LAN.
 */
final class AdminServer {

    /** How long the event loop may take to run a probe before {@code /healthz} calls it stuck. */
    static final Duration LOOP_PROBE_TIMEOUT = Duration.ofSeconds(1);
    private static final Logger LOG = Logger.getLogger(AdminServer.class.getName());
    private static final String NO_DELAY = "sun.net.httpserver.nodelay";

    private final HttpServer server;
    private final EventStream events;

    private AdminServer(HttpServer server, EventStream events) {
        this.server = server;
        this.events = events;
    }

    static AdminServer start(InetSocketAddress address, Operations operations, Executor executor) throws IOException {
        // Without TCP_NODELAY a response written as headers then body waits on the client's delayed ACK (40 ms).
        if (System.getProperty(NO_DELAY) == null) {
            System.setProperty(NO_DELAY, "true");
        }
        HttpServer server;
        try {
            server = HttpServer.create(address, 16);
        } catch (IOException e) {
            throw new IOException("cannot listen on tcp " + address.getAddress().getHostAddress() + ":"
                    + address.getPort() + " for --admin: " + e.getMessage(), e);
        }
        server.createContext("/metrics", get(exchange -> reply(exchange, 200,
                "text/plain; version=0.0.4; charset=utf-8", operations.metrics().scrape())));
        server.createContext("/healthz", get(exchange -> health(exchange, operations)));
        server.createContext("/cert-hash", exchange -> certificateHash(exchange, operations));
        server.createContext("/api/", new ApiHandler(operations.relay().lans()));
        EventStream events = new EventStream(new DashboardFeed(operations.counters(), operations.relay()::snapshot,
                operations.relay().lans(), operations.certificates()::current, operations::captureFile), 1000);
        server.createContext("/api/events", events);
        server.createContext("/", new DashboardFiles());
        server.createContext("/pcap/start", post(exchange -> {
            try {
                Path file = operations.startCapture(null);
                reply(exchange, 200, "text/plain; charset=utf-8", "capturing to " + file + "\n");
            } catch (IllegalStateException e) {
                reply(exchange, 409, "text/plain; charset=utf-8", e.getMessage() + "\n");
            } catch (IOException e) {
                reply(exchange, 500, "text/plain; charset=utf-8", "cannot capture: " + e.getMessage() + "\n");
            }
        }));
        server.createContext("/pcap/stop", post(exchange -> {
            Path file = operations.stopCapture();
            if (file == null) {
                reply(exchange, 409, "text/plain; charset=utf-8", "no capture is running\n");
            } else {
                reply(exchange, 200, "text/plain; charset=utf-8", "capture written to " + file + "\n");
            }
        }));
        Forwards forwards = operations.relay().forwards();
        if (forwards != null) {
            server.createContext("/forwards", new ForwardsEndpoint(forwards));
        }
        server.setExecutor(executor);
        server.start();
        return new AdminServer(server, events);
    }

    InetSocketAddress address() {
        return server.getAddress();
    }

    void stop() {
        events.close();
        server.stop(0);
    }

    /** 200 with a small JSON body when the socket is open and the loop answers in time, 503 otherwise. */
    private static void health(HttpExchange exchange, Operations operations) throws IOException {
        RelayState relay = operations.relay();
        boolean socketOpen = relay.socketOpen();
        boolean loopResponds = relay.loopRespondsWithin(LOOP_PROBE_TIMEOUT);
        boolean healthy = socketOpen && loopResponds;
        LoopSnapshot snapshot = relay.snapshot();
        RelayCertificate certificate = operations.certificates().current();
        StringBuilder json = new StringBuilder(256);
        json.append("{\"status\":\"").append(healthy ? "ok" : "unhealthy").append('"')
                .append(",\"udpSocketOpen\":").append(socketOpen)
                .append(",\"eventLoopResponds\":").append(loopResponds)
                .append(",\"sessions\":").append(snapshot.sessions())
                .append(",\"certificateSha256\":\"").append(certificate.sha256Hex()).append('"')
                .append(",\"certificateNotAfter\":\"").append(certificate.leaf().getNotAfter().toInstant())
                .append("\"}\n");
        reply(exchange, healthy ? 200 : 503, "application/json", json.toString());
    }

    /**
     * The SHA-256 of the current certificate as bare lowercase hex, readable by pages of any origin
     * (CORS, Fetch standard): a page fetches it right before it connects, so a renewal never strands it.
     */
    private static void certificateHash(HttpExchange exchange, Operations operations) throws IOException {
        try (exchange) {
            exchange.getResponseHeaders().set("Access-Control-Allow-Origin", "*");
            exchange.getResponseHeaders().set("Cache-Control", "no-store");
            switch (exchange.getRequestMethod()) {
                case "OPTIONS" -> {
                    exchange.getResponseHeaders().set("Access-Control-Allow-Methods", "GET");
                    exchange.getResponseHeaders().set("Access-Control-Max-Age", "86400");
                    exchange.sendResponseHeaders(204, -1);
                }
                case "GET", "HEAD" -> reply(exchange, 200, "text/plain; charset=utf-8",
                        operations.certificates().current().sha256Hex());
                default -> methodNotAllowed(exchange, "GET");
            }
        }
    }

    private interface Handler {
        void handle(HttpExchange exchange) throws IOException;
    }

    private static HttpHandler get(Handler handler) {
        return only("GET", handler);
    }

    private static HttpHandler post(Handler handler) {
        return only("POST", handler);
    }

    /** One method per endpoint (HEAD with GET); a failure becomes a 500, never a dropped connection. */
    private static HttpHandler only(String method, Handler handler) {
        return exchange -> {
            try (exchange) {
                String asked = exchange.getRequestMethod();
                if (!asked.equals(method) && !(method.equals("GET") && asked.equals("HEAD"))) {
                    methodNotAllowed(exchange, method);
                    return;
                }
                handler.handle(exchange);
            } catch (IOException | RuntimeException e) {
                LOG.log(Level.WARNING, "admin " + exchange.getRequestURI() + ": " + e, e);
            }
        };
    }

    private static void methodNotAllowed(HttpExchange exchange, String allowed) throws IOException {
        exchange.getResponseHeaders().set("Allow", allowed);
        reply(exchange, 405, "text/plain; charset=utf-8", "use " + allowed + "\n");
    }

    private static void reply(HttpExchange exchange, int status, String contentType, String body) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().set("Content-Type", contentType);
        boolean head = exchange.getRequestMethod().equals("HEAD");
        exchange.sendResponseHeaders(status, head ? -1 : bytes.length == 0 ? -1 : bytes.length);
        if (!head) {
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(bytes);
            }
        }
    }
}

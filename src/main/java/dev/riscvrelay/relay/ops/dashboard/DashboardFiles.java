package dev.riscvrelay.relay.ops.dashboard;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import dev.riscvrelay.relay.ops.api.HttpReplies;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Map;

/**
 * {@code /}: the dashboard's page, script and style, read once from the jar. Every other path is 404, so the
 * admin server's catch-all context answers nothing it does not know.
 */
public final class DashboardFiles implements HttpHandler {

    /** Only the relay's own files, no inline script: a page injected into the admin origin could act as the operator. */
    private static final String POLICY = "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'";

    private record File(String contentType, byte[] bytes) {
    }

    private final Map<String, File> files = Map.of(
            "/", load("index.html", "text/html; charset=utf-8"),
            "/dashboard.js", load("dashboard.js", "text/javascript; charset=utf-8"),
            "/dashboard.css", load("dashboard.css", "text/css; charset=utf-8"));

    private static File load(String name, String contentType) {
        try (InputStream in = DashboardFiles.class.getResourceAsStream("/dashboard/" + name)) {
            if (in == null) {
                throw new IllegalStateException("dashboard file missing from the jar: " + name);
            }
            return new File(contentType, in.readAllBytes());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public void handle(HttpExchange exchange) throws IOException {
        try (exchange) {
            String method = exchange.getRequestMethod();
            File file = files.get(exchange.getRequestURI().getPath());
            if (file == null) {
                HttpReplies.reply(exchange, 404, HttpReplies.TEXT, "not found\n");
            } else if (!method.equals("GET") && !method.equals("HEAD")) {
                exchange.getResponseHeaders().set("Allow", "GET");
                HttpReplies.reply(exchange, 405, HttpReplies.TEXT, "use GET\n");
            } else {
                exchange.getResponseHeaders().set("Content-Security-Policy", POLICY);
                exchange.getResponseHeaders().set("X-Content-Type-Options", "nosniff");
                HttpReplies.reply(exchange, 200, file.contentType(), file.bytes());
            }
        }
    }
}

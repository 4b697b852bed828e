package dev.riscvrelay.relay.ops;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import dev.riscvrelay.relay.forward.ForwardException;
import dev.riscvrelay.relay.forward.ForwardSpec;
import dev.riscvrelay.relay.forward.Forwards;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.logging.Level;
import java.util.logging.Logger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code /forwards} on the admin server: {@code GET} lists the open port forwards as JSON, {@code POST} with
 * {@code {"forward":"tcp:8022=10.0.2.15:22"}} opens one (201 and the forward, 400 for a malformed spec, 409 when it
 * cannot listen), {@code DELETE /forwards/NAME} ({@code tcp:ADDR:PORT}, as listed) closes one (204, or 404).
 */
final class ForwardsEndpoint implements HttpHandler {

    /** A spec never holds quotes or backslashes, so this one-field object needs no general JSON parser. */
    private static final Pattern BODY =
            Pattern.compile("\\s*\\{\\s*\"forward\"\\s*:\\s*\"([^\"\\\\]{1,200})\"\\s*}\\s*");
    private static final int MAX_BODY = 1024;
    private static final Logger LOG = Logger.getLogger(ForwardsEndpoint.class.getName());

    private final Forwards forwards;

    ForwardsEndpoint(Forwards forwards) {
        this.forwards = forwards;
    }

    @Override
    public void handle(HttpExchange exchange) throws IOException {
        try (exchange) {
            String path = exchange.getRequestURI().getRawPath();
            String name = path.startsWith("/forwards/")
                    ? URLDecoder.decode(path.substring("/forwards/".length()), StandardCharsets.UTF_8) : null;
            switch (exchange.getRequestMethod()) {
                case "GET" -> list(exchange);
                case "POST" -> open(exchange);
                case "DELETE" -> close(exchange, name);
                default -> {
                    exchange.getResponseHeaders().set("Allow", "GET, POST, DELETE");
                    reply(exchange, 405, error("use GET, POST or DELETE"));
                }
            }
        } catch (IOException | RuntimeException e) {
            LOG.log(Level.WARNING, "admin " + exchange.getRequestURI() + ": " + e, e);
        }
    }

    private void list(HttpExchange exchange) throws IOException {
        List<Forwards.Open> open = forwards.list();
        StringBuilder json = new StringBuilder("{\"forwards\":[");
        for (int i = 0; i < open.size(); i++) {
            json.append(i == 0 ? "" : ",").append(json(open.get(i)));
        }
        reply(exchange, 200, json.append("]}\n").toString());
    }

    private void open(HttpExchange exchange) throws IOException {
        byte[] body;
        try (InputStream in = exchange.getRequestBody()) {
            body = in.readNBytes(MAX_BODY + 1);
        }
        Matcher m = BODY.matcher(new String(body, StandardCharsets.UTF_8));
        if (body.length > MAX_BODY || !m.matches()) {
            reply(exchange, 400, error("expected {\"forward\":\"tcp:[ADDR:]PORT=[NETWORK/]VMADDR:PORT\"}"));
            return;
        }
        ForwardSpec spec;
        try {
            spec = ForwardSpec.parse(m.group(1));
        } catch (IllegalArgumentException e) {
            reply(exchange, 400, error(e.getMessage()));
            return;
        }
        try {
            reply(exchange, 201, json(forwards.open(spec)) + "\n");
        } catch (ForwardException e) {
            reply(exchange, 409, error(e.getMessage()));
        }
    }

    private void close(HttpExchange exchange, String name) throws IOException {
        if (name == null || name.isEmpty()) {
            reply(exchange, 400, error("DELETE /forwards/NAME, NAME as listed (tcp:ADDR:PORT)"));
        } else if (forwards.close(name)) {
            exchange.sendResponseHeaders(204, -1);
        } else {
            reply(exchange, 404, error("no forward " + name));
        }
    }

    private static String json(Forwards.Open open) {
        return "{\"name\":\"" + open.name() + "\",\"protocol\":\""
                + open.spec().protocol().name().toLowerCase(java.util.Locale.ROOT)
                + "\",\"listen\":\"" + open.name().substring(4) + "\",\"target\":\"" + open.spec().target()
                + "\",\"spec\":\"" + open.spec() + "\"}";
    }

    /** Error texts quote the operator's spec, which the body pattern kept free of quotes and backslashes. */
    private static String error(String message) {
        return "{\"error\":\"" + message.replace("\\", "\\\\").replace("\"", "\\\"") + "\"}\n";
    }

    private static void reply(HttpExchange exchange, int status, String json) throws IOException {
        byte[] bytes = json.getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().set("Content-Type", "application/json");
        exchange.sendResponseHeaders(status, bytes.length);
        try (OutputStream out = exchange.getResponseBody()) {
            out.write(bytes);
        }
    }
}

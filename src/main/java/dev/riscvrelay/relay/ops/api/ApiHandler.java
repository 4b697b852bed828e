package dev.riscvrelay.relay.ops.api;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import dev.riscvrelay.relay.wire.MacAddress;
import java.io.IOException;
import java.util.concurrent.TimeoutException;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * {@code /api/}: {@code GET /api/networks}, {@code GET /api/networks/NAME/members} (both take {@code offset} and
 * {@code limit}) and {@code POST /api/networks/NAME/members/MAC/disconnect}. Answers 400 for a bad page, 404 for an
 * unknown network, member or path, 405 for a wrong method, 503 when the event loop does not answer in time.
 */
public final class ApiHandler implements HttpHandler {

    private static final Logger LOG = Logger.getLogger(ApiHandler.class.getName());
    private static final String NETWORKS = "/api/networks";

    private final LanInspector lans;

    public ApiHandler(LanInspector lans) {
        this.lans = lans;
    }

    @Override
    public void handle(HttpExchange exchange) throws IOException {
        // The exchange closes after the answer: a resource of the try would close before its catch could answer.
        try (exchange) {
            answer(exchange);
        }
    }

    private void answer(HttpExchange exchange) throws IOException {
        try {
            route(exchange);
        } catch (IllegalArgumentException e) {
            HttpReplies.reply(exchange, 400, HttpReplies.TEXT, e.getMessage() + "\n");
        } catch (TimeoutException e) {
            HttpReplies.reply(exchange, 503, HttpReplies.TEXT, "the event loop did not answer in time\n");
        } catch (RuntimeException e) {
            LOG.log(Level.WARNING, "admin " + exchange.getRequestURI() + ": " + e, e);
            HttpReplies.reply(exchange, 500, HttpReplies.TEXT, "failed: " + e.getMessage() + "\n");
        }
    }

    private void route(HttpExchange exchange) throws IOException, TimeoutException {
        String path = exchange.getRequestURI().getPath();
        String method = exchange.getRequestMethod();
        boolean read = method.equals("GET") || method.equals("HEAD");
        if (path.equals(NETWORKS) || path.equals(NETWORKS + "/")) {
            if (!read) {
                methodNotAllowed(exchange, "GET");
                return;
            }
            MemberPage page = MemberPage.parse(exchange.getRequestURI().getRawQuery());
            HttpReplies.reply(exchange, 200, HttpReplies.JSON, ApiJson.networks(lans.networks(page), page));
            return;
        }
        String[] parts = path.startsWith(NETWORKS + "/") ? path.substring(NETWORKS.length() + 1).split("/", -1)
                : new String[0];
        if (parts.length == 2 && parts[1].equals("members")) {
            if (!read) {
                methodNotAllowed(exchange, "GET");
                return;
            }
            MemberPage page = MemberPage.parse(exchange.getRequestURI().getRawQuery());
            NetworkView network = lans.network(parts[0], page);
            if (network == null) {
                notFound(exchange, "no network " + parts[0]);
            } else {
                HttpReplies.reply(exchange, 200, HttpReplies.JSON, ApiJson.network(network, page));
            }
            return;
        }
        if (parts.length == 4 && parts[1].equals("members") && parts[3].equals("disconnect")) {
            if (!method.equals("POST")) {
                methodNotAllowed(exchange, "POST");
                return;
            }
            if (!HttpReplies.sameOriginOrNone(exchange)) {
                HttpReplies.reply(exchange, 403, HttpReplies.TEXT, "only the admin server's own pages may do this\n");
                return;
            }
            long mac = parseMac(parts[2]);
            if (lans.disconnect(parts[0], mac, "disconnected by the relay's operator")) {
                LOG.info("member " + MacAddress.format(mac) + " of network " + parts[0] + " disconnected by the operator");
                HttpReplies.reply(exchange, 200, HttpReplies.TEXT, "disconnected " + MacAddress.format(mac) + "\n");
            } else {
                notFound(exchange, "no member " + MacAddress.format(mac) + " on network " + parts[0]);
            }
            return;
        }
        notFound(exchange, "no such API path: " + path);
    }

    private static long parseMac(String text) {
        try {
            return MacAddress.parse(text);
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("not a MAC address: " + text);
        }
    }

    private static void notFound(HttpExchange exchange, String why) throws IOException {
        HttpReplies.reply(exchange, 404, HttpReplies.TEXT, why + "\n");
    }

    private static void methodNotAllowed(HttpExchange exchange, String allowed) throws IOException {
        exchange.getResponseHeaders().set("Allow", allowed);
        HttpReplies.reply(exchange, 405, HttpReplies.TEXT, "use " + allowed + "\n");
    }
}

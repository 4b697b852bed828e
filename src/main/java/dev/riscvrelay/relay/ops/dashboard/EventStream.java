package dev.riscvrelay.relay.ops.dashboard;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import dev.riscvrelay.relay.ops.api.HttpReplies;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * {@code GET /api/events}: server-sent events (HTML Living Standard §9.2), one {@code data:} line of JSON a second to
 * every open stream. The streams are written by a thread of their own, so a slow reader never holds up the admin
 * server's other answers; a stream whose write fails is closed. At most {@link #MAX_STREAMS} at once.
 */
public final class EventStream implements HttpHandler, AutoCloseable {

    static final int MAX_STREAMS = 8;
    private static final Logger LOG = Logger.getLogger(EventStream.class.getName());

    private final Supplier<String> event;
    private final List<OutputStream> streams = new CopyOnWriteArrayList<>();
    private final ScheduledExecutorService writer = Executors.newSingleThreadScheduledExecutor(task -> {
        Thread thread = new Thread(task, "relay-admin-events");
        thread.setDaemon(true);
        return thread;
    });

    /** @param event one event's JSON, made when at least one stream is open */
    public EventStream(Supplier<String> event, long periodMillis) {
        this.event = event;
        writer.scheduleAtFixedRate(this::tick, periodMillis, periodMillis, TimeUnit.MILLISECONDS);
    }

    @Override
    public void handle(HttpExchange exchange) throws IOException {
        if (!exchange.getRequestMethod().equals("GET")) {
            try (exchange) {
                exchange.getResponseHeaders().set("Allow", "GET");
                HttpReplies.reply(exchange, 405, HttpReplies.TEXT, "use GET\n");
            }
            return;
        }
        if (streams.size() >= MAX_STREAMS) {
            try (exchange) {
                HttpReplies.reply(exchange, 503, HttpReplies.TEXT, "too many event streams open\n");
            }
            return;
        }
        exchange.getResponseHeaders().set("Content-Type", "text/event-stream; charset=utf-8");
        exchange.getResponseHeaders().set("Cache-Control", "no-store");
        exchange.sendResponseHeaders(200, 0);
        OutputStream body = exchange.getResponseBody();
        streams.add(body);
        // The first event at once, on the writer's thread, so the page has figures before the next tick.
        writer.execute(() -> send(List.of(body)));
    }

    int openStreams() {
        return streams.size();
    }

    private void tick() {
        send(streams);
    }

    private void send(List<OutputStream> to) {
        if (to.isEmpty()) {
            return;
        }
        byte[] bytes;
        try {
            bytes = ("data: " + event.get() + "\n\n").getBytes(StandardCharsets.UTF_8);
        } catch (RuntimeException e) {
            LOG.log(Level.WARNING, "dashboard event failed: " + e, e);
            return;
        }
        for (OutputStream stream : to) {
            try {
                stream.write(bytes);
                stream.flush();
            } catch (IOException e) {
                end(stream); // the page went away
            }
        }
    }

    private void end(OutputStream stream) {
        streams.remove(stream);
        try {
            stream.close();
        } catch (IOException ignored) {
            // already broken
        }
    }

    /** Stops the writer and ends every stream. */
    @Override
    public void close() {
        writer.shutdownNow();
        streams.forEach(this::end);
    }
}

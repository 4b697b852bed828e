package dev.riscvrelay.relay.bench;

import dev.riscvrelay.relay.metrics.Counter;
import java.io.IOException;
import java.io.InputStream;
import java.net.HttpURLConnection;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.EnumMap;
import java.util.Locale;
import java.util.Map;

/**
 * The relay's {@link Counter}s in the Prometheus text format its {@code /metrics} serves: {@code FRAMES_IN} as
 * {@code relay_frames_in_total}, each {@code DROP_*} as {@code relay_drops_total{reason="..."}}. The bench reads
 * a forwarder that runs in its own process through it, and the plain UDP forwarder's process serves the same.
 */
final class MetricsText {

    private MetricsText() {
    }

    /** The series of one counter as {@code /metrics} names it, labels included. */
    static String series(Counter counter) {
        if (counter.isDrop()) {
            return "relay_drops_total{reason=\"" + counter.dropReason() + "\"}";
        }
        return "relay_" + counter.name().toLowerCase(Locale.ROOT) + "_total";
    }

    /** Every counter as one line each: the subset of the relay's exposition the bench reads. */
    static String render(Map<Counter, Long> counters) {
        StringBuilder text = new StringBuilder();
        for (Map.Entry<Counter, Long> entry : counters.entrySet()) {
            text.append(series(entry.getKey())).append(' ').append(entry.getValue()).append('\n');
        }
        return text.toString();
    }

    /**
     * The counters in {@code text}; a counter it does not hold reads 0. Micrometer writes a trailing comma in
     * label sets ({@code {reason="queue_full",}}) and values as doubles ({@code 12.0}); both are read.
     */
    static Map<Counter, Long> parse(String text) {
        Map<String, Counter> bySeries = new java.util.HashMap<>();
        for (Counter counter : Counter.values()) {
            bySeries.put(series(counter), counter);
        }
        Map<Counter, Long> counters = new EnumMap<>(Counter.class);
        for (Counter counter : Counter.values()) {
            counters.put(counter, 0L);
        }
        for (String line : text.split("\n")) {
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            int space = line.lastIndexOf(' ');
            if (space <= 0) {
                continue;
            }
            String key = line.substring(0, space).replace(",}", "}");
            Counter counter = bySeries.get(key);
            if (counter != null) {
                counters.put(counter, (long) Double.parseDouble(line.substring(space + 1)));
            }
        }
        return counters;
    }

    /** GETs {@code uri} (bounded: 5 s to connect, 5 s to read) and parses it. */
    static Map<Counter, Long> scrape(URI uri) throws IOException {
        HttpURLConnection connection = (HttpURLConnection) uri.toURL().openConnection();
        connection.setConnectTimeout(5000);
        connection.setReadTimeout(5000);
        try {
            if (connection.getResponseCode() != 200) {
                throw new IOException(uri + " answered " + connection.getResponseCode());
            }
            try (InputStream in = connection.getInputStream()) {
                return parse(new String(in.readAllBytes(), StandardCharsets.UTF_8));
            }
        } finally {
            connection.disconnect();
        }
    }
}

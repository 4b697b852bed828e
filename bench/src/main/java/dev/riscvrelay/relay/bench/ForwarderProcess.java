package dev.riscvrelay.relay.bench;

import dev.riscvrelay.relay.metrics.Counter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A forwarder under test running as a process of its own on loopback, so neither the load generator's work nor
 * its garbage collector is counted as the forwarder's: its CPU time comes from /proc (the process, and its
 * event-loop threads by name), its switch counters from the {@code /metrics} of its admin port.
 */
final class ForwarderProcess implements AutoCloseable {

    /** The admin line the relay prints and the plain UDP forwarder's process imitates. */
    static final Pattern ADMIN = Pattern.compile("Admin on http://127\\.0\\.0\\.1:(\\d+)");
    static final Duration START_TIMEOUT = Duration.ofSeconds(60);

    private final Namespaces.Background process;
    private final Predicate<String> loopThread;
    private final URI admin;
    private final URI metrics;

    private ForwarderProcess(Namespaces.Background process, Predicate<String> loopThread, int adminPort) {
        this.process = process;
        this.loopThread = loopThread;
        this.admin = URI.create("http://127.0.0.1:" + adminPort);
        this.metrics = admin.resolve("/metrics");
    }

    /**
     * Starts {@code command} and waits (bounded) for its admin line; {@code loopThread} tells its event-loop
     * threads by their /proc name (at most 15 characters).
     */
    static ForwarderProcess start(String label, List<String> command, Predicate<String> loopThread) {
        Namespaces.Background process = Namespaces.Background.launch(label, command);
        try {
            Matcher admin = process.awaitLine(ADMIN, START_TIMEOUT);
            return new ForwarderProcess(process, loopThread, Integer.parseInt(admin.group(1)));
        } catch (RuntimeException e) {
            process.stop();
            throw e;
        }
    }

    /** Waits (bounded) for a line of its output matching {@code pattern}. */
    Matcher awaitLine(Pattern pattern) {
        return process.awaitLine(pattern, START_TIMEOUT);
    }

    long pid() {
        return process.pid();
    }

    Map<Counter, Long> counters() {
        try {
            return MetricsText.scrape(metrics);
        } catch (IOException e) {
            throw new UncheckedIOException(process + ": cannot read " + metrics + " (its output: " + process.output()
                    + ")", e);
        }
    }

    /** The body of a GET of {@code path} on its admin port (bounded: 5 s to connect, 5 s to read). */
    String adminGet(String path) {
        URI uri = admin.resolve(path);
        try {
            java.net.HttpURLConnection connection = (java.net.HttpURLConnection) uri.toURL().openConnection();
            connection.setConnectTimeout(5000);
            connection.setReadTimeout(5000);
            try {
                if (connection.getResponseCode() != 200) {
                    throw new IOException(uri + " answered " + connection.getResponseCode());
                }
                try (java.io.InputStream in = connection.getInputStream()) {
                    return new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
                }
            } finally {
                connection.disconnect();
            }
        } catch (IOException e) {
            throw new UncheckedIOException(process + ": cannot read " + uri + " (its output: " + process.output()
                    + ")", e);
        }
    }

    CpuTime cpu() {
        try {
            long whole = ProcStat.ofProcess(pid()).nanos();
            List<ProcStat> threads = ProcStat.threadsOf(pid());
            long loops = ProcStat.sum(threads, loopThread, "loops").nanos();
            return new CpuTime(loops, whole, ProcStat.byName(threads, loopThread));
        } catch (IOException e) {
            throw new UncheckedIOException(process + " is gone (its output: " + process.output() + ")", e);
        }
    }

    @Override
    public void close() {
        process.stop();
    }
}

package dev.riscvrelay.relay.testbed;

import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * An {@link ImpairedLink} run as its own process inside a namespace ({@code ip netns exec NS java -cp
 * target/test-classes ...ImpairedLink}), as {@code relay bench} runs it. It reports its counters every second;
 * {@link #counters} reads the latest. Output goes to the test log ({@code [link <label>]}) and to
 * {@code target/relay-logs/link-<label>.log}.
 */
public final class LinkProxyProcess implements AutoCloseable {

    private static final Pattern READY = Pattern.compile("^ImpairedLink listening on (\\S+) -> (\\S+) profile (\\S+)");
    private static final Pattern COUNTERS = Pattern.compile("^ImpairedLink counters (up|down) (.*)$");

    /** One direction's counters as the process printed them. */
    public record Counters(long forwarded, long bytes, long lost, long oversize, long queue, long sendFailed) {
        public long offered() {
            return forwarded + lost + oversize + queue + sendFailed;
        }

        /** Lost by the profile's loss, of those that arrived. */
        public double lossRatio() {
            return offered() == 0 ? 0 : (double) lost / offered();
        }

        static Counters parse(String keyValues) {
            Map<String, Long> values = new HashMap<>();
            for (String pair : keyValues.trim().split("\\s+")) {
                String[] kv = pair.split("=", 2);
                values.put(kv[0], Long.parseLong(kv[1]));
            }
            return new Counters(values.get("forwarded"), values.get("bytes"), values.get("lost"),
                    values.get("oversize"), values.get("queue"), values.get("sendfail"));
        }
    }

    private final String label;
    private final Process process;
    private final List<String> lines = new ArrayList<>();
    private Counters up = new Counters(0, 0, 0, 0, 0, 0);
    private Counters down = new Counters(0, 0, 0, 0, 0, 0);
    private long reports;
    private String readyLine;

    private LinkProxyProcess(String label, Process process) {
        this.label = label;
        this.process = process;
    }

    /**
     * Starts the link in {@code namespace}: clients send to {@code listen} (ADDR:PORT), it forwards to {@code to};
     * waits (bounded) for its ready line. It ends by itself after {@code maxSeconds} if nobody closes it.
     */
    public static LinkProxyProcess start(String label, NetnsTestBed.Namespace namespace, String listen, String to,
            ImpairedLink.LinkProfile profile, long seed, long maxSeconds) throws IOException {
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        List<String> command = List.of("ip", "netns", "exec", namespace.name(), java.toString(), "-Xmx256m",
                "-XX:+UseSerialGC", "-cp", classPathOf(ImpairedLink.class), ImpairedLink.class.getName(),
                "--listen", listen, "--to", to, "--profile", profile.cliName(), "--seed", Long.toString(seed),
                "--duration-seconds", Long.toString(maxSeconds), "--report-seconds", "1");
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        LinkProxyProcess link = new LinkProxyProcess(label, process);
        ProcessOutput.pump(process, command, "link-" + label + ".log", "link-output-" + label, link::onLine,
                link::onEnd);
        try {
            link.awaitReady(30_000);
        } catch (RuntimeException | Error notReady) {
            link.close(); // the caller never gets it to close
            throw notReady;
        }
        return link;
    }

    /** Where {@code type} was loaded from (the test classes or the test jar): ImpairedLink needs only the JDK. */
    private static String classPathOf(Class<?> type) {
        try {
            return Path.of(type.getProtectionDomain().getCodeSource().getLocation().toURI()).toString();
        } catch (URISyntaxException e) {
            throw new IllegalStateException("cannot locate " + type.getName(), e);
        }
    }

    private void onLine(String line) {
        Matcher counters = COUNTERS.matcher(line);
        synchronized (lines) {
            if (counters.find()) {
                if (counters.group(1).equals("up")) {
                    up = Counters.parse(counters.group(2));
                } else {
                    down = Counters.parse(counters.group(2));
                    reports++;
                }
            } else if (!line.startsWith("ImpairedLink flows ")) {
                // Counter lines every second would drown the test log; everything else goes there.
                System.out.println("[link " + label + "] " + line);
                if (lines.size() < 1_000) {
                    lines.add(line);
                }
                if (READY.matcher(line).find()) {
                    readyLine = line;
                }
            }
            lines.notifyAll();
        }
    }

    private void onEnd() {
        synchronized (lines) {
            lines.notifyAll();
        }
    }

    private void awaitReady(long timeoutMillis) {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
        synchronized (lines) {
            while (readyLine == null) {
                long left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
                if (left <= 0 || !process.isAlive()) {
                    process.destroyForcibly();
                    throw new AssertionError("ImpairedLink " + label + " did not print its ready line"
                            + (process.isAlive() ? " within " + timeoutMillis + " ms" : "; it exited") + ": "
                            + lines);
                }
                try {
                    lines.wait(Math.max(1, Math.min(left, 200)));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new AssertionError("interrupted", e);
                }
            }
        }
    }

    /** Waits for the next counter report (bounded: 5 s) so counters include what was sent before this call. */
    public void awaitFreshCounters() {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        synchronized (lines) {
            long seen = reports;
            while (reports < seen + 2 && System.nanoTime() < deadline && process.isAlive()) {
                try {
                    lines.wait(200);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
        }
    }

    /** Client → server, as last reported. */
    public Counters up() {
        synchronized (lines) {
            return up;
        }
    }

    /** Server → client, as last reported. */
    public Counters down() {
        synchronized (lines) {
            return down;
        }
    }

    public String readyLine() {
        synchronized (lines) {
            return readyLine;
        }
    }

    public boolean isAlive() {
        return process.isAlive();
    }

    @Override
    public void close() {
        ProcessOutput.terminate(process); // SIGTERM: it prints its final counters
    }
}

package dev.riscvrelay.relay.testbed;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code relay connect} as a user runs it: {@code java -jar target/riscv-relay.jar connect ARGS}. Its output goes
 * to the test log (prefixed {@code [connect <label>]}) and to {@code target/relay-logs/connect-<label>.log}; tests
 * wait for its lines ({@link #awaitLine}), e.g. the MTU it prints once the local end is up, or a reconnect.
 */
public final class ConnectorProcess implements AutoCloseable {

    private static final Path JAR = Path.of("target", "riscv-relay.jar");
    /** "TAP eth0 up in /run/netns/x, MTU 1413 (one datagram carries 1427-byte frames)", or the QEMU variant. */
    public static final Pattern READY_LINE = Pattern.compile("MTU (\\d+) \\(one datagram carries (\\d+)-byte frames\\)");

    private final String label;
    private final Process process;
    private final List<String> lines = new ArrayList<>();
    private Thread pump;
    private int mtu;
    private int maxDatagramFrame;

    private ConnectorProcess(String label, Process process) {
        this.label = label;
        this.process = process;
    }

    /** Starts {@code relay connect} with {@code args} (everything after {@code connect}); does not wait. */
    public static ConnectorProcess start(String label, List<String> args) throws IOException {
        return start(label, List.of(), args);
    }

    /** As {@link #start(String, List)}, run behind {@code wrapper} (e.g. {@code setpriv ...}). */
    public static ConnectorProcess start(String label, List<String> wrapper, List<String> args) throws IOException {
        if (!Files.isRegularFile(JAR)) {
            throw new AssertionError(JAR.toAbsolutePath() + " missing: build it with `./mvnw package` (or run the"
                    + " tests through `./mvnw verify`, which packages first)");
        }
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        List<String> command = new ArrayList<>(wrapper);
        // Behind a wrapper the connector may run as another user: give it a copy of the jar it can read.
        Path jar = wrapper.isEmpty() ? JAR.toAbsolutePath() : worldReadableJar();
        command.addAll(List.of(java.toString(), "--enable-native-access=ALL-UNNAMED", "-jar", jar.toString(),
                "connect"));
        command.addAll(args);
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        ConnectorProcess connector = new ConnectorProcess(label, process);
        connector.pump = ProcessOutput.pump(process, command, "connect-" + label + ".log", "connect-output-" + label,
                connector::onLine, connector::onEnd);
        return connector;
    }

    private static Path readableJar;

    /** A copy of the relay jar in a fresh directory that every user may read (made once per test JVM). */
    static synchronized Path worldReadableJar() throws IOException {
        if (readableJar == null) {
            Path dir = Files.createTempDirectory("rr-jar");
            Files.setPosixFilePermissions(dir, java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
            Path copy = Files.copy(JAR, dir.resolve("riscv-relay.jar"));
            Files.setPosixFilePermissions(copy, java.nio.file.attribute.PosixFilePermissions.fromString("rw-r--r--"));
            copy.toFile().deleteOnExit();
            dir.toFile().deleteOnExit();
            readableJar = copy;
        }
        return readableJar;
    }

    /** Starts a connector that joins a TAP named {@code tap} inside {@code netns} to the relay, and waits for it. */
    public static ConnectorProcess tapInNamespace(String label, RelayEndpoint relay, Path netns, String tap,
            String... extraArgs) throws IOException {
        return tapInNamespace(label, List.of(), relay, netns, tap, extraArgs);
    }

    /**
     * As {@link #tapInNamespace(String, RelayEndpoint, Path, String, String...)}, the connector run behind
     * {@code wrapper}, e.g. {@code ip netns exec NS} to reach a relay that listens inside namespace NS.
     */
    public static ConnectorProcess tapInNamespace(String label, List<String> wrapper, RelayEndpoint relay, Path netns,
            String tap, String... extraArgs) throws IOException {
        List<String> args = new ArrayList<>(relay.connectArgs());
        args.addAll(List.of("--tap", tap, "--tap-netns", netns.toString()));
        args.addAll(List.of(extraArgs));
        ConnectorProcess connector = start(label, wrapper, args);
        try {
            connector.awaitReady(Duration.ofSeconds(30));
        } catch (RuntimeException | Error notReady) {
            connector.close(); // the caller never gets it to close: a connector left retrying would outlive the test
            throw notReady;
        }
        return connector;
    }

    private void onLine(String line) {
        System.out.println("[connect " + label + "] " + line);
        synchronized (lines) {
            if (lines.size() < 10_000) {
                lines.add(line);
            }
            lines.notifyAll();
        }
    }

    private void onEnd() {
        synchronized (lines) {
            lines.notifyAll();
        }
    }

    /** Waits for the line that says the local end is up, and remembers the MTU it printed. */
    public ConnectorProcess awaitReady(Duration timeout) {
        Matcher ready = awaitLine(READY_LINE, 0, timeout);
        mtu = Integer.parseInt(ready.group(1));
        maxDatagramFrame = Integer.parseInt(ready.group(2));
        return this;
    }

    /**
     * Waits until a line at index {@code fromLine} or later matches {@code pattern}; fails with the whole output
     * when the process ends or the time is up first.
     */
    public Matcher awaitLine(Pattern pattern, int fromLine, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        synchronized (lines) {
            int next = fromLine;
            while (true) {
                for (; next < lines.size(); next++) {
                    Matcher m = pattern.matcher(lines.get(next));
                    if (m.find()) {
                        return m;
                    }
                }
                long left = deadline - System.nanoTime();
                if (left <= 0 || (!process.isAlive() && next >= lines.size())) {
                    throw new AssertionError("connector " + label + " printed no line matching '" + pattern + "' "
                            + (process.isAlive() ? "within " + timeout : "before it exited with "
                            + process.exitValue()) + "; its output:\n" + String.join("\n", lines));
                }
                try {
                    lines.wait(Math.max(1, TimeUnit.NANOSECONDS.toMillis(left)));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new AssertionError("interrupted", e);
                }
            }
        }
    }

    /** How many lines it has printed so far (a starting point for {@link #awaitLine}). */
    public int lineCount() {
        synchronized (lines) {
            return lines.size();
        }
    }

    public List<String> lines() {
        synchronized (lines) {
            return List.copyOf(lines);
        }
    }

    /** Waits for the process to end and returns its exit code; fails after {@code timeout}. */
    public int awaitExit(Duration timeout) throws InterruptedException {
        if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
            throw new AssertionError("connector " + label + " still runs after " + timeout + "; its output:\n"
                    + String.join("\n", lines()));
        }
        pump.join(TimeUnit.SECONDS.toMillis(5)); // its last lines
        return process.exitValue();
    }

    public int mtu() {
        return mtu;
    }

    public int maxDatagramFrame() {
        return maxDatagramFrame;
    }

    public boolean isAlive() {
        return process.isAlive();
    }

    /** SIGTERM (the connector closes its session cleanly), then SIGKILL after 10 s. */
    @Override
    public void close() {
        ProcessOutput.terminate(process);
    }

    /** Where a connector finds the relay and how it trusts it. */
    public record RelayEndpoint(String url, String certificateHash) {
        public static RelayEndpoint of(RelayProcess relay) {
            return new RelayEndpoint(relay.url(), relay.certificateHash());
        }

        List<String> connectArgs() {
            List<String> args = new ArrayList<>(List.of("--url", url));
            if (certificateHash != null) {
                args.addAll(List.of("--cert-hash", certificateHash));
            }
            return args;
        }
    }
}

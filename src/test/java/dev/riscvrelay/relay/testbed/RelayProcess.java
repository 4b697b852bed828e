package dev.riscvrelay.relay.testbed;

import java.io.IOException;
import java.io.InputStream;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.SocketException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The relay as a user runs it: {@code java --enable-native-access=ALL-UNNAMED -jar target/riscv-relay.jar --bind
 * 127.0.0.1 --port N} on a free UDP port. It is ready once it printed its certificate hash and its listening
 * address; its output goes to the test log (prefixed {@code [relay]}) and to {@code target/relay-logs/}.
 * {@link #start(String, List, Path)} runs it behind a wrapper command (e.g. {@code setpriv} to drop privileges).
 */
public final class RelayProcess implements AutoCloseable {

    private static final Pattern HASH_LINE =
            Pattern.compile("Certificate Hash \\(use this in client\\): ([0-9a-f]{64})\\s*$");
    private static final Pattern CA_CERTIFICATE_LINE = Pattern.compile("^Certificate: ");
    /** The listening line for any bind address ({@code 127.0.0.1}, {@code 0.0.0.0}, {@code [::]}). */
    private static final Pattern LISTENING_LINE = Pattern.compile("Listening on https://(\\S+):(\\d+)\\s*$");
    private static final Pattern ADMIN_LINE = Pattern.compile("Admin on http://(\\S+):(\\d+) ");
    private static final Path JAR = Path.of("target", "riscv-relay.jar");
    private static final long STARTUP_TIMEOUT_SECONDS = 45;

    private final Process process;
    private final String certificateHash;
    private final int port;
    private final int adminPort;
    private final String urlHost;
    private final String adminHost;
    private final List<String> lines;
    private final List<String> hashes;

    private RelayProcess(Process process, String certificateHash, int port, int adminPort, String urlHost,
            String adminHost, List<String> lines, List<String> hashes) {
        this.process = process;
        this.certificateHash = certificateHash;
        this.port = port;
        this.adminPort = adminPort;
        this.urlHost = urlHost;
        this.adminHost = adminHost;
        this.lines = lines;
        this.hashes = hashes;
    }

    public static RelayProcess start(String label) throws IOException, InterruptedException {
        return start(label, List.of());
    }

    /** The relay jar with {@code extraArguments} (e.g. {@code --pcap FILE}) before the bind and port flags. */
    public static RelayProcess start(String label, List<String> extraArguments)
            throws IOException, InterruptedException {
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        List<String> command = new ArrayList<>(List.of(java.toString(), "--enable-native-access=ALL-UNNAMED",
                "-jar", JAR.toString()));
        command.addAll(extraArguments);
        return start(label, command, JAR);
    }

    /**
     * Starts the relay jar with {@code extraArgs} (e.g. {@code --cert-pem F --key-pem K}) on {@code port}, e.g. to
     * restart a relay on the port its clients know. With a PEM certificate {@link #certificateHash()} is null.
     */
    public static RelayProcess start(String label, List<String> extraArgs, int port)
            throws IOException, InterruptedException {
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        List<String> command = new ArrayList<>(List.of(java.toString(), "--enable-native-access=ALL-UNNAMED",
                "-jar", JAR.toString()));
        command.addAll(extraArgs);
        return start(label, command, JAR, port);
    }

    /**
     * Starts {@code command} (a full command line that runs the relay jar {@code jar}) with {@code --bind 127.0.0.1
     * --port N} appended.
     */
    public static RelayProcess start(String label, List<String> relayCommand, Path jar)
            throws IOException, InterruptedException {
        return start(label, relayCommand, jar, freeUdpPort());
    }

    private static RelayProcess start(String label, List<String> relayCommand, Path jar, int port)
            throws IOException, InterruptedException {
        return start(label, relayCommand, jar, new Binding("127.0.0.1", port, "127.0.0.1", "127.0.0.1"));
    }

    /**
     * Where a relay listens and how clients and tests reach it: {@code --bind bind --port port --admin
     * adminAddress:0}; {@link #url()} names {@code urlHost}, {@link #adminUrl} names {@code adminAddress}. A relay
     * in its own namespace binds {@code 0.0.0.0} and is reached at its veth's address.
     */
    public record Binding(String bind, int port, String adminAddress, String urlHost) {
    }

    /**
     * Starts {@code relayCommand} (a full command line that runs the relay jar {@code jar}, e.g. behind {@code ip
     * netns exec NS}) with the bind, port and admin flags of {@code binding} appended.
     */
    public static RelayProcess start(String label, List<String> relayCommand, Path jar, Binding binding)
            throws IOException, InterruptedException {
        int port = binding.port();
        if (!Files.isRegularFile(jar)) {
            throw new AssertionError(jar.toAbsolutePath() + " missing: build it with `./mvnw package` (or run the"
                    + " browser tests through `./mvnw verify`, which packages first)");
        }
        List<String> command = new ArrayList<>(relayCommand);
        // The admin server on a free port, so relays of parallel tests never meet on the default one.
        command.addAll(List.of("--bind", binding.bind(), "--port", Integer.toString(port), "--admin",
                binding.adminAddress() + ":0"));
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();

        CompletableFuture<String> hash = new CompletableFuture<>();
        CompletableFuture<Integer> listening = new CompletableFuture<>();
        CompletableFuture<Integer> admin = new CompletableFuture<>();
        List<String> lines = Collections.synchronizedList(new ArrayList<>());
        List<String> hashes = new java.util.concurrent.CopyOnWriteArrayList<>();
        ProcessOutput.pump(process, command, "relay-" + label + ".log", "relay-output", line -> {
            System.out.println("[relay] " + line);
            if (lines.size() < 10_000) lines.add(line);
            Matcher m = HASH_LINE.matcher(line);
            if (m.find()) {
                hashes.add(m.group(1));
                hash.complete(m.group(1));
            }
            if (CA_CERTIFICATE_LINE.matcher(line).find()) hash.complete(null);
            m = LISTENING_LINE.matcher(line);
            if (m.find()) listening.complete(Integer.parseInt(m.group(2)));
            m = ADMIN_LINE.matcher(line);
            if (m.find()) admin.complete(Integer.parseInt(m.group(2)));
        }, () -> {
            // The process ended: whatever it has not printed yet never comes.
            IllegalStateException ended = new IllegalStateException("relay exited before it was ready");
            hash.completeExceptionally(ended);
            listening.completeExceptionally(ended);
            admin.completeExceptionally(ended);
        });

        try {
            String certificateHash = hash.get(STARTUP_TIMEOUT_SECONDS, TimeUnit.SECONDS);
            int listeningPort = listening.get(STARTUP_TIMEOUT_SECONDS, TimeUnit.SECONDS);
            if (listeningPort != port) {
                throw new AssertionError("relay listens on " + listeningPort + ", asked for " + port);
            }
            int adminPort = admin.get(STARTUP_TIMEOUT_SECONDS, TimeUnit.SECONDS);
            return new RelayProcess(process, certificateHash, port, adminPort, binding.urlHost(),
                    binding.adminAddress(), lines, hashes);
        } catch (ExecutionException | TimeoutException e) {
            process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            throw new AssertionError("relay did not print its certificate hash and listening address within "
                    + STARTUP_TIMEOUT_SECONDS + " s (" + e.getMessage() + "); its output:\n"
                    + String.join("\n", lines), e);
        }
    }

    /** A UDP port free right now on 127.0.0.1 (the relay binds it moments later). */
    public static int freeUdpPort() throws SocketException {
        try (DatagramSocket socket = new DatagramSocket(0, InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        }
    }

    /** The printed hash of a self-signed certificate; null when the relay runs with a PEM certificate. */
    public String certificateHash() {
        return certificateHash;
    }

    public int port() {
        return port;
    }

    /** The TCP port of the relay's admin HTTP server (on 127.0.0.1 unless started with a {@link Binding}). */
    public int adminPort() {
        return adminPort;
    }

    /** {@code http://ADMIN_ADDRESS:ADMIN_PORT} followed by {@code path}. */
    public String adminUrl(String path) {
        return "http://" + adminHost + ":" + adminPort + path;
    }

    /** The relay's {@code /metrics} now, as Prometheus text. */
    public String metrics() throws IOException {
        try (InputStream in = URI.create(adminUrl("/metrics")).toURL().openStream()) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    /** One series of the relay's {@code /metrics} now, as {@code relay_drops_total{reason="malformed"}}; 0 if none. */
    public double metric(String series) throws IOException {
        return metric(metrics(), series);
    }

    /** One series of a {@code /metrics} text; 0 when it has none. */
    public static double metric(String metrics, String series) {
        return metrics.lines().filter(line -> line.startsWith(series + " ")).findFirst()
                .map(line -> Double.parseDouble(line.substring(series.length() + 1).trim())).orElse(0.0);
    }

    /** Every certificate hash the relay printed so far, the first at start, then one per renewal. */
    public List<String> certificateHashes() {
        return List.copyOf(hashes);
    }

    /** What the relay printed so far (stdout and stderr, the first 10000 lines). */
    public List<String> output() {
        synchronized (lines) {
            return List.copyOf(lines);
        }
    }

    /**
     * Sends SIGTERM, as {@code docker stop} or systemd do, and waits up to {@code timeoutSeconds} for the exit.
     *
     * @return the exit status
     * @throws AssertionError when the relay is still running after the timeout (it is then killed)
     */
    public int terminate(long timeoutSeconds) throws InterruptedException {
        process.destroy(); // SIGTERM on Linux
        if (!process.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
            process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            throw new AssertionError("relay still running " + timeoutSeconds + " s after SIGTERM");
        }
        return process.exitValue();
    }

    /** Kills the relay at once (SIGKILL), as a crash or the OOM killer would: it tells no client, no cluster. */
    public void kill() throws InterruptedException {
        process.destroyForcibly();
        if (!process.waitFor(10, TimeUnit.SECONDS)) {
            throw new AssertionError("relay still running 10 s after SIGKILL");
        }
    }

    /** The URL clients connect to. */
    public String url() {
        return "https://" + urlHost + ":" + port + "/";
    }

    /** The relay's process id, e.g. to read its credentials from /proc. */
    public long pid() {
        return process.pid();
    }

    public boolean isAlive() {
        return process.isAlive();
    }

    @Override
    public void close() {
        process.descendants().forEach(ProcessHandle::destroyForcibly);
        process.destroy();
        try {
            if (!process.waitFor(10, TimeUnit.SECONDS)) process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            process.destroyForcibly();
        }
    }
}

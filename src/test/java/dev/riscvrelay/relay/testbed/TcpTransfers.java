package dev.riscvrelay.relay.testbed;

import static org.assertj.core.api.Assertions.assertThat;

import dev.riscvrelay.relay.testbed.NetnsTestBed.Namespace;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.Locale;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/** One-connection TCP transfers between namespaces with socat, checked by SHA-256, for the bulk tests. */
public final class TcpTransfers implements AutoCloseable {

    public static final int MIB = 1024 * 1024;

    private final NetnsTestBed bed;
    private final Path work;

    public TcpTransfers(NetnsTestBed bed) throws Exception {
        this.bed = bed;
        this.work = Files.createTempDirectory("rr-bulk");
    }

    public record Payload(Path file, long size, String sha256) {
    }

    /** A file of {@code size} random bytes from {@code seed}, and its SHA-256. */
    public Payload payload(String name, int size, long seed) throws Exception {
        Path file = work.resolve(name + ".bin");
        if (!Files.exists(file)) {
            Random random = new Random(seed);
            byte[] chunk = new byte[MIB];
            try (OutputStream out = Files.newOutputStream(file)) {
                for (int written = 0; written < size; written += chunk.length) {
                    random.nextBytes(chunk);
                    out.write(chunk, 0, Math.min(chunk.length, size - written));
                }
            }
        }
        return new Payload(file, size, sha256(file));
    }

    /**
     * Sends {@code payload} over one TCP connection from {@code from} to a one-shot socat receiver in {@code to},
     * bounded by {@code timeout}; prints a {@code [facts]} line, asserts it arrived whole and SHA-256 exact and
     * returns the rate in Mbit/s.
     */
    public double send(String profile, Namespace from, Namespace to, String toAddress, int port, Payload payload,
            Duration timeout) throws Exception {
        return send(profile, from, toAddress + ":" + port, to, toAddress, port, payload, timeout);
    }

    /**
     * As {@link #send(String, Namespace, Namespace, String, int, Payload, Duration)}, the sender dialling
     * {@code dial} ({@code ADDR:PORT}, e.g. a port forward) and the receiver listening on {@code toAddress:port}.
     */
    public double send(String profile, Namespace from, String dial, Namespace to, String toAddress, int port,
            Payload payload, Duration timeout) throws Exception {
        Path received = work.resolve("received-" + port + ".bin");
        Process listener = bed.startInBackground(to, "socat", "-u", listen(toAddress, port), "CREATE:" + received);
        to.awaitListening("-ltn", hostPort(toAddress, port));
        long start = System.nanoTime();
        CommandResult send = from.exec(timeout, "socat", "-u", "OPEN:" + payload.file(),
                connect(dial) + ",connect-timeout=10");
        boolean done = listener.waitFor(30, TimeUnit.SECONDS);
        double seconds = (System.nanoTime() - start) / 1e9;
        long arrived = Files.exists(received) ? Files.size(received) : -1;
        double mbps = arrived * 8 / seconds / 1e6;
        System.out.println("[facts] " + String.format(Locale.ROOT, "%s: %d MiB TCP %s -> %s in %.1f s, %.1f Mbit/s%s",
                profile, payload.size() / MIB, from.name().replaceFirst("^rr-[0-9a-f]+-", ""), toAddress, seconds,
                mbps, send.succeeded() ? "" : " (sender FAILED, " + arrived + " bytes arrived)"));
        assertThat(send.succeeded()).as(send.describe()).isTrue();
        assertThat(done).as("the receiver got the end of the stream").isTrue();
        assertWhole(received, arrived, payload);
        return mbps;
    }

    /**
     * The other way: a one-shot socat in {@code from} listening on {@code fromAddress:port} sends {@code payload} to
     * whoever connects; {@code to} dials {@code dial} and keeps what arrives. Asserts it whole and SHA-256 exact and
     * returns the rate in Mbit/s.
     */
    public double receive(String profile, Namespace from, String fromAddress, int port, Namespace to, String dial,
            Payload payload, Duration timeout) throws Exception {
        Path received = work.resolve("pulled-" + port + ".bin");
        Process sender = bed.startInBackground(from, "socat", "-u", "OPEN:" + payload.file(),
                listen(fromAddress, port));
        from.awaitListening("-ltn", hostPort(fromAddress, port));
        long start = System.nanoTime();
        CommandResult pull = to.exec(timeout, "socat", "-u", connect(dial) + ",connect-timeout=10",
                "CREATE:" + received);
        double seconds = (System.nanoTime() - start) / 1e9;
        boolean done = sender.waitFor(30, TimeUnit.SECONDS);
        long arrived = Files.exists(received) ? Files.size(received) : -1;
        double mbps = arrived * 8 / seconds / 1e6;
        System.out.println("[facts] " + String.format(Locale.ROOT, "%s: %d MiB TCP %s -> %s in %.1f s, %.1f Mbit/s",
                profile, payload.size() / MIB, fromAddress, to.name().replaceFirst("^rr-[0-9a-f]+-", ""), seconds,
                mbps));
        assertThat(pull.succeeded()).as(pull.describe()).isTrue();
        assertThat(done).as("the sender finished").isTrue();
        assertWhole(received, arrived, payload);
        return mbps;
    }

    /** A socat listening address on {@code address:port}, IPv6 when the address is (a literal with colons). */
    private static String listen(String address, int port) {
        return address.contains(":") ? "TCP6-LISTEN:" + port + ",bind=[" + address + "],reuseaddr"
                : "TCP-LISTEN:" + port + ",bind=" + address + ",reuseaddr";
    }

    /** A socat client address for {@code dial}, {@code ADDR:PORT} or {@code [IPV6]:PORT}. */
    private static String connect(String dial) {
        return dial.startsWith("[") ? "TCP6:" + dial : "TCP:" + dial;
    }

    /** How ss prints a listening socket's address and port. */
    private static String hostPort(String address, int port) {
        return (address.contains(":") ? "[" + address + "]" : address) + ":" + port;
    }

    /** {@code received} ({@code arrived} bytes) is {@code payload} to the byte; then it is deleted. */
    private static void assertWhole(Path received, long arrived, Payload payload) throws Exception {
        assertThat(arrived).isEqualTo(payload.size());
        assertThat(sha256(received)).as("sha256 of what arrived").isEqualTo(payload.sha256());
        Files.delete(received);
    }

    public static String sha256(Path file) throws Exception {
        MessageDigest digest = MessageDigest.getInstance("SHA-256");
        byte[] buffer = new byte[MIB];
        try (InputStream in = Files.newInputStream(file)) {
            int n;
            while ((n = in.read(buffer)) > 0) {
                digest.update(buffer, 0, n);
            }
        }
        return HexFormat.of().formatHex(digest.digest());
    }

    /** Deletes the payloads and whatever arrived. */
    @Override
    public void close() throws Exception {
        try (Stream<Path> files = Files.walk(work)) {
            for (Path path : files.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(path);
            }
        }
    }
}

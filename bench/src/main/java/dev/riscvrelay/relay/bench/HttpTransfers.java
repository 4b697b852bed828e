package dev.riscvrelay.relay.bench;

import dev.riscvrelay.relay.testbed.CommandResult;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Byte-exact HTTP transfers between namespaces for P2 and the field part: a small Python server (GET serves a
 * directory, PUT answers the body's length and sha256), curl as the client, seeded random payloads. Every command
 * is bounded by a timeout.
 */
final class HttpTransfers {

    /** An HTTP server: GET serves the directory given as argument, PUT answers "bytes sha256" of the body. */
    static final String HTTP_SERVER = """
            import hashlib, http.server, socketserver, sys
            class Handler(http.server.SimpleHTTPRequestHandler):
                def do_PUT(self):
                    left = int(self.headers["Content-Length"])
                    digest, got = hashlib.sha256(), 0
                    while left > 0:
                        chunk = self.rfile.read(min(left, 1 << 20))
                        if not chunk:
                            break
                        digest.update(chunk)
                        got += len(chunk)
                        left -= len(chunk)
                    body = ("%d %s\\n" % (got, digest.hexdigest())).encode()
                    self.send_response(200)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                def log_message(self, *args):
                    pass
            class Server(http.server.ThreadingHTTPServer):
                def server_bind(self):
                    # no getfqdn(): it can block for long in a namespace without DNS
                    socketserver.TCPServer.server_bind(self)
                    self.server_name, self.server_port = "bench", self.server_address[1]
            Server((sys.argv[1], 80), lambda *a, **k: Handler(*a, directory=sys.argv[2], **k)).serve_forever()
            """;

    private HttpTransfers() {
    }

    /** A temporary directory in /dev/shm when there is one: payloads never wait for a disk. */
    static Path workDirectory(String prefix) throws IOException {
        Path work = Files.createTempDirectory(Path.of(Files.isDirectory(Path.of("/dev/shm")) ? "/dev/shm" : "/tmp"),
                prefix);
        // The part deletes it when done; a bench stopped before (Ctrl-C) must not leave its files in memory.
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                deleteTree(work);
            } catch (IOException | UncheckedIOException e) {
                System.err.println("relay bench: could not delete " + work + ": " + e.getMessage());
            }
        }, "bench-delete-" + prefix));
        return work;
    }

    /** Starts the HTTP server on {@code address}:80 in {@code namespace}, serving {@code site}; waits until it listens. */
    static Namespaces.Background startServer(Namespaces ns, String label, String namespace, String address, Path site,
            Path work) throws IOException {
        Path script = work.resolve("server.py");
        if (!Files.exists(script)) {
            Files.writeString(script, HTTP_SERVER);
        }
        Namespaces.Background http = ns.start(label, namespace, List.of("python3", "-u", script.toString(), address,
                site.toString()));
        awaitListening(ns, namespace, address + ":80", http);
        return http;
    }

    /** At least 30 s, and time for {@code bytesPerSecond}: a stalled transfer ends as a failure, not a hung bench. */
    static Duration timeout(long bytes, long bytesPerSecond) {
        return Duration.ofSeconds(30 + bytes / bytesPerSecond);
    }

    /**
     * curl in {@code namespace} GETs {@code url} into {@code out} (deleted afterwards); fails unless exactly
     * {@code bytes} arrived with sha256 {@code expectedSha}.
     */
    static ToolOutput.Transfer download(Namespaces ns, String namespace, String url, Path out, long bytes,
            String expectedSha, Duration timeout) throws IOException {
        try {
            CommandResult curl = ns.exec(namespace, timeout.plusSeconds(10), "curl", "-sS", "--fail",
                    "--max-time", Long.toString(timeout.toSeconds()), "-o", out.toString(), "-w",
                    ToolOutput.CURL_DOWNLOAD_FORMAT, url);
            if (!curl.succeeded()) {
                throw new IllegalStateException(failure(curl));
            }
            ToolOutput.Transfer transfer = ToolOutput.curl(curl.stdout());
            String sha = sha256(out);
            if (transfer.bytes() != bytes || !sha.equals(expectedSha)) {
                throw new IllegalStateException("download corrupt: " + transfer.bytes() + " bytes, sha256 " + sha);
            }
            return transfer;
        } finally {
            Files.deleteIfExists(out);
        }
    }

    /**
     * curl in {@code namespace} PUTs {@code file} to {@code url}; fails unless the server answers that it received
     * exactly {@code bytes} with sha256 {@code expectedSha}. {@code answer} is a scratch file.
     */
    static ToolOutput.Transfer upload(Namespaces ns, String namespace, String url, Path file, long bytes,
            String expectedSha, Path answer, Duration timeout) throws IOException {
        try {
            // No "Expect: 100-continue": Python's HTTP/1.0 server never answers it and curl would wait 1 s.
            CommandResult curl = ns.exec(namespace, timeout.plusSeconds(10), "curl", "-sS", "--fail",
                    "--max-time", Long.toString(timeout.toSeconds()), "-H", "Expect:", "-T", file.toString(), "-o",
                    answer.toString(), "-w", ToolOutput.CURL_UPLOAD_FORMAT, url);
            if (!curl.succeeded()) {
                throw new IllegalStateException(failure(curl));
            }
            ToolOutput.Transfer transfer = ToolOutput.curl(curl.stdout());
            String got = Files.readString(answer).strip();
            if (!got.equals(bytes + " " + expectedSha)) {
                throw new IllegalStateException("upload corrupt: the server received '" + got + "'");
            }
            return transfer;
        } finally {
            Files.deleteIfExists(answer);
        }
    }

    /** A failed curl in a line: its exit, what it wrote out (bytes, seconds, HTTP code) and its error. */
    private static String failure(CommandResult curl) {
        return "curl " + (curl.timedOut() ? "timed out" : "exited " + curl.exitCode()) + " (bytes, s, HTTP: "
                + curl.stdout().strip() + "): " + curl.stderr().strip();
    }

    /** Waits (bounded, 20 s) until something listens on TCP {@code addressAndPort} in {@code namespace}. */
    static void awaitListening(Namespaces ns, String namespace, String addressAndPort,
            Namespaces.Background process) {
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (System.nanoTime() < deadline) {
            if (ns.exec(namespace, "ss", "-H", "-ltn").stdout().contains(addressAndPort)) {
                return;
            }
            sleep(100);
        }
        throw new IllegalStateException("nothing listens on " + addressAndPort + ": " + process.output());
    }

    /** Writes {@code bytes} of seeded random data and returns their sha256 (hex). */
    static String writeRandom(Path file, long bytes, long seed) throws IOException {
        MessageDigest digest = sha256Digest();
        SplittableRandom random = new SplittableRandom(seed);
        byte[] chunk = new byte[1 << 20];
        try (OutputStream out = Files.newOutputStream(file)) {
            for (long left = bytes; left > 0; left -= chunk.length) {
                for (int i = 0; i < chunk.length; i += 8) {
                    long value = random.nextLong();
                    for (int b = 0; b < 8; b++) {
                        chunk[i + b] = (byte) (value >>> (b * 8));
                    }
                }
                int n = (int) Math.min(chunk.length, left);
                out.write(chunk, 0, n);
                digest.update(chunk, 0, n);
            }
        }
        return HexFormat.of().formatHex(digest.digest());
    }

    static String sha256(Path file) throws IOException {
        MessageDigest digest = sha256Digest();
        byte[] buffer = new byte[1 << 20];
        try (InputStream in = Files.newInputStream(file)) {
            for (int n; (n = in.read(buffer)) > 0; ) {
                digest.update(buffer, 0, n);
            }
        }
        return HexFormat.of().formatHex(digest.digest());
    }

    private static MessageDigest sha256Digest() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("no SHA-256 in this JVM", e);
        }
    }

    static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (var files = Files.walk(dir)) {
            for (Path file : files.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(file);
            }
        }
    }

    static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }
}

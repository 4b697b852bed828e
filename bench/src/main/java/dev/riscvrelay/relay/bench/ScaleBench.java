package dev.riscvrelay.relay.bench;

import dev.riscvrelay.relay.transport.webtransport.WebTransportClient;
import dev.riscvrelay.relay.transport.webtransport.WebTransportClientConfig;
import io.netty.channel.IoEventLoop;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * P3: memory per idle session. The relay runs in a process of its own (so its memory is its own), started as
 * {@code relay} starts it; this process opens WebTransport sessions to it in steps and reads the relay's resident
 * set (RSS, /proc) and its heap after a full GC (jcmd) at each step. Bounded: each step has a deadline.
 */
public final class ScaleBench {

    private static final Pattern HASH = Pattern.compile("Certificate Hash \\(use this in client\\): ([0-9a-f]{64})");
    private static final Pattern LISTENING = Pattern.compile("Listening on https://[^:]+:(\\d+)");
    private static final Pattern HEAP_USED = Pattern.compile("used (\\d+)K");
    private static final int CONCURRENT_HANDSHAKES = 64;
    private static final int WARM_UP_SESSIONS = 100;

    /** One step: sessions open, the relay's RSS and heap then, and how long opening took. */
    public record Level(int sessions, long rssBytes, long heapUsedBytes, long bytesPerSession, double openSeconds) {
    }

    /** @param note why fewer levels than planned were reached, or empty */
    public record Results(long baselineRssBytes, long baselineHeapBytes, List<Level> levels, String method,
            String note) {
    }

    private final List<Integer> levels;
    private final Duration budget;
    private final IoEventLoop loop;
    private final PrintWriter log;

    /** @param budget how long opening sessions may take in all; levels not reached by then are reported so */
    public ScaleBench(List<Integer> levels, Duration budget, IoEventLoop loop, PrintWriter log) {
        this.levels = levels;
        this.budget = budget;
        this.loop = loop;
        this.log = log;
    }

    public Results run() throws Exception {
        int most = levels.getLast();
        Path java = Path.of(ProcessHandle.current().info().command().orElseThrow());
        List<String> command = List.of(java.toString(), "--enable-native-access=ALL-UNNAMED", "-cp",
                System.getProperty("java.class.path"), "dev.riscvrelay.relay.cli.RelayCommand", "--bind", "127.0.0.1",
                "--port", "0", "--max-sessions", Integer.toString(most + WARM_UP_SESSIONS),
                // Every idle session comes from 127.0.0.1: lift the per-address bound a public relay keeps.
                "--max-sessions-per-ip", Integer.toString(most + WARM_UP_SESSIONS), "--idle-timeout", "60");
        Process relay = new ProcessBuilder(command).redirectErrorStream(true).start();
        List<WebTransportClient> clients = new ArrayList<>();
        try {
            BufferedReader out = new BufferedReader(new InputStreamReader(relay.getInputStream(),
                    StandardCharsets.UTF_8));
            String hash = null;
            int port = -1;
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while ((hash == null || port < 0) && System.nanoTime() < deadline) {
                String line = out.readLine();
                if (line == null) {
                    throw new IOException("the relay process ended before it listened");
                }
                Matcher h = HASH.matcher(line);
                if (h.find()) {
                    hash = h.group(1);
                }
                Matcher l = LISTENING.matcher(line);
                if (l.find()) {
                    port = Integer.parseInt(l.group(1));
                }
            }
            if (hash == null || port < 0) {
                throw new IOException("the relay process printed no hash and port within 30 s");
            }
            drain(out);
            URI uri = URI.create("https://127.0.0.1:" + port + "/scale");
            WebTransportClientConfig config = WebTransportClientConfig.pinned(hash)
                    .withConnectTimeout(Duration.ofSeconds(30));
            long pid = relay.pid();

            // Warm up (JIT, buffer pools, TLS), then measure the empty relay.
            List<WebTransportClient> warm = new ArrayList<>();
            try {
                open(uri, config, WARM_UP_SESSIONS, warm, System.nanoTime() + TimeUnit.SECONDS.toNanos(60));
            } finally {
                closeAll(warm);
            }
            Thread.sleep(1000);
            long baselineHeap = heapUsedAfterGc(java, pid);
            long baselineRss = rss(pid);
            log.printf("  empty relay: RSS %.1f MiB, heap %.1f MiB after GC%n", baselineRss / 1048576.0,
                    baselineHeap / 1048576.0);

            List<Level> results = new ArrayList<>();
            String note = "";
            long budgetEnd = System.nanoTime() + budget.toNanos();
            for (int target : levels) {
                long start = System.nanoTime();
                try {
                    open(uri, config, target - clients.size(), clients, budgetEnd);
                } catch (Exception e) {
                    note = String.format(Locale.ROOT, "Stopped at %,d of %,d sessions: %s (the opening budget is "
                            + "%d s; on a busy machine handshakes are slower).", clients.size(), target,
                            e.getMessage(), budget.toSeconds());
                    log.println("  " + note);
                    break;
                }
                double seconds = (System.nanoTime() - start) / 1e9;
                Thread.sleep(1000);
                long heap = heapUsedAfterGc(java, pid);
                long rss = rss(pid);
                long perSession = (rss - baselineRss) / target;
                results.add(new Level(target, rss, heap, perSession, seconds));
                log.printf("  %,6d idle sessions: RSS %.1f MiB (%.1f KiB each), heap %.1f MiB after GC; opened in"
                        + " %.1f s%n", target, rss / 1048576.0, perSession / 1024.0, heap / 1048576.0, seconds);
                log.flush();
            }
            String method = String.format(Locale.ROOT, "The relay runs in its own JVM with the launcher's flags (no "
                    + "-Xmx: the JVM's default heap sizing), listening on loopback. This process opens WebTransport "
                    + "sessions (one QUIC connection each, Java clients, %d handshakes at a time), waits 1 s, asks the "
                    + "relay for a full GC (`jcmd GC.run`) and reads its RSS from /proc. Per session = (RSS − RSS of "
                    + "the relay after %d warm-up sessions came and went) ÷ sessions. The sessions are idle but "
                    + "alive: keep-alives every 10 s.", CONCURRENT_HANDSHAKES, WARM_UP_SESSIONS);
            return new Results(baselineRss, baselineHeap, results, method, note);
        } finally {
            closeAll(clients);
            relay.destroy();
            if (!relay.waitFor(10, TimeUnit.SECONDS)) {
                relay.destroyForcibly();
            }
        }
    }

    /** Opens {@code count} sessions into {@code opened} (each as it completes), by {@code deadline} (nanoTime). */
    private void open(URI uri, WebTransportClientConfig config, int count, List<WebTransportClient> opened,
            long deadline) throws Exception {
        Semaphore inFlight = new Semaphore(CONCURRENT_HANDSHAKES);
        List<CompletableFuture<WebTransportClient>> pending = new ArrayList<>();
        try {
            for (int i = 0; i < count; i++) {
                if (!inFlight.tryAcquire(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS)) {
                    throw new IllegalStateException("the budget ran out while opening sessions");
                }
                CompletableFuture<WebTransportClient> future = WebTransportClient.connect(uri, config,
                        frame -> frame.release(), loop);
                future.whenComplete((c, e) -> inFlight.release());
                pending.add(future);
            }
            for (CompletableFuture<WebTransportClient> future : pending) {
                future.get(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
            }
        } finally {
            // Keep every session that opened, so the caller measures and then closes them all.
            for (CompletableFuture<WebTransportClient> future : pending) {
                future.whenComplete((client, e) -> {
                    if (client != null) {
                        synchronized (opened) {
                            if (!opened.contains(client)) {
                                opened.add(client);
                            }
                        }
                    }
                });
            }
        }
    }

    private static void closeAll(List<WebTransportClient> clients) {
        List<WebTransportClient> all;
        synchronized (clients) {
            all = new ArrayList<>(clients);
            clients.clear();
        }
        for (WebTransportClient client : all) {
            client.close();
        }
        for (WebTransportClient client : all) {
            client.closed().orTimeout(10, TimeUnit.SECONDS).exceptionally(e -> null).join();
        }
    }

    /** VmRSS of a process, in bytes. */
    static long rss(long pid) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"))) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
            }
        }
        throw new IOException("no VmRSS in /proc/" + pid + "/status");
    }

    /** Runs a full GC in the process and returns its heap's used bytes afterwards (jcmd of the same JDK). */
    private static long heapUsedAfterGc(Path java, long pid) throws IOException, InterruptedException {
        Path jcmd = java.resolveSibling("jcmd");
        run(jcmd.toString(), Long.toString(pid), "GC.run");
        String info = run(jcmd.toString(), Long.toString(pid), "GC.heap_info");
        Matcher m = HEAP_USED.matcher(info);
        if (!m.find()) {
            throw new IOException("no heap usage in jcmd GC.heap_info: " + info);
        }
        return Long.parseLong(m.group(1)) * 1024;
    }

    private static String run(String... command) throws IOException, InterruptedException {
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!process.waitFor(30, TimeUnit.SECONDS) || process.exitValue() != 0) {
            throw new IOException(String.join(" ", command) + " failed: " + output);
        }
        return output;
    }

    /** Keeps reading the relay's output so a full pipe never blocks it. */
    private static void drain(BufferedReader out) {
        Thread drainer = new Thread(() -> {
            try {
                while (out.readLine() != null) {
                    // discard
                }
            } catch (IOException ignored) {
                // the process ended
            }
        }, "relay-output");
        drainer.setDaemon(true);
        drainer.start();
    }
}

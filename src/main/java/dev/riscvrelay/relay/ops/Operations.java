package dev.riscvrelay.relay.ops;

import dev.riscvrelay.relay.capture.PcapCapture;
import dev.riscvrelay.relay.metrics.Counter;
import dev.riscvrelay.relay.metrics.Counters;
import dev.riscvrelay.relay.metrics.LoopSnapshot;
import dev.riscvrelay.relay.metrics.RelayMetrics;
import dev.riscvrelay.relay.tls.CertificateManager;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The control plane of a running relay: metrics, the admin HTTP server, the periodic summary line, certificate
 * renewal checks and the pcap capture. All of it runs on one small thread of its own ({@code relay-control}), never
 * on the event loop, which it only reads through {@link RelayState}.
 */
public final class Operations implements AutoCloseable {

    static final Logger SUMMARY_LOG = Logger.getLogger("dev.riscvrelay.relay.summary");
    private static final Logger LOG = Logger.getLogger(Operations.class.getName());
    private static final DateTimeFormatter CAPTURE_NAME =
            DateTimeFormatter.ofPattern("'capture-'yyyyMMdd'T'HHmmss'Z.pcap'").withZone(ZoneOffset.UTC);

    private final OperationsConfig config;
    private final RelayState relay;
    private final CertificateManager certificates;
    private final Counters counters;
    private final RelayMetrics metrics;
    private final ScheduledThreadPoolExecutor control;
    private AdminServer admin;
    private PcapCapture capture;
    private long[] lastSummary = new long[4];

    private Operations(OperationsConfig config, RelayState relay, CertificateManager certificates, Counters counters) {
        this.config = config;
        this.relay = relay;
        this.certificates = certificates;
        this.counters = counters;
        this.metrics = new RelayMetrics(counters, relay::snapshot, this::certificateSecondsLeft, relay.workers());
        this.control = new ScheduledThreadPoolExecutor(1, task -> {
            Thread thread = new Thread(task, "relay-control");
            thread.setDaemon(true);
            return thread;
        });
        control.setRemoveOnCancelPolicy(true);
        control.setExecuteExistingDelayedTasksAfterShutdownPolicy(false);
    }

    /**
     * Starts what {@code config} asks for; certificate checks always run.
     *
     * @throws IOException when the admin port cannot be bound or the pcap file cannot be created
     */
    public static Operations start(OperationsConfig config, RelayState relay, CertificateManager certificates,
            Counters counters) throws IOException {
        Operations operations = new Operations(config, relay, certificates, counters);
        certificates.onChange(renewed -> {
            counters.increment(Counter.CERTIFICATE_RENEWALS);
            LOG.info("certificate renewed, SHA-256 " + renewed.sha256Hex() + ", valid until "
                    + renewed.leaf().getNotAfter().toInstant());
        });
        try {
            if (config.pcapFile() != null) {
                operations.startCapture(config.pcapFile());
            }
            if (config.admin() != null) {
                operations.admin = AdminServer.start(config.admin(), operations, operations.control);
            }
        } catch (IOException | RuntimeException e) {
            operations.close();
            throw e;
        }
        long checkMillis = certificates.checkInterval().toMillis();
        operations.control.scheduleWithFixedDelay(certificates::refresh, checkMillis, checkMillis,
                TimeUnit.MILLISECONDS);
        if (config.summaryInterval() != null) {
            long summaryMillis = config.summaryInterval().toMillis();
            operations.control.scheduleAtFixedRate(operations::logSummary, summaryMillis, summaryMillis,
                    TimeUnit.MILLISECONDS);
        }
        return operations;
    }

    /** Where the admin server listens (the bound port when 0 was asked), or null without one. */
    public InetSocketAddress adminAddress() {
        return admin == null ? null : admin.address();
    }

    RelayMetrics metrics() {
        return metrics;
    }

    RelayState relay() {
        return relay;
    }

    CertificateManager certificates() {
        return certificates;
    }

    Counters counters() {
        return counters;
    }

    private double certificateSecondsLeft() {
        return Duration.between(Instant.now(), certificates.current().leaf().getNotAfter().toInstant()).toSeconds();
    }

    /** Captures the LAN to {@code file} (or, with null, to a new file in the capture directory); one at a time. */
    public synchronized Path startCapture(Path file) throws IOException {
        if (capture != null) {
            throw new IllegalStateException("a capture to " + capture.file() + " is running");
        }
        Path target = file != null ? file : config.pcapFile() != null ? config.pcapFile()
                : captureDirectory().resolve(CAPTURE_NAME.format(Instant.now()));
        PcapCapture started = PcapCapture.start(target, counters, PcapCapture.DEFAULT_QUEUE_FRAMES);
        relay.setTap(started);
        capture = started;
        LOG.info("pcap capture started: " + target);
        return target;
    }

    /** The file being captured to, or null when no capture runs. */
    public synchronized Path captureFile() {
        return capture == null ? null : capture.file();
    }

    /** Stops the running capture and closes its file; returns it, or null when none ran. */
    public synchronized Path stopCapture() {
        if (capture == null) {
            return null;
        }
        PcapCapture stopping = capture;
        capture = null;
        relay.setTap(null);
        stopping.close();
        LOG.info("pcap capture stopped: " + stopping.file());
        return stopping.file();
    }

    private Path captureDirectory() {
        return config.captureDirectory() != null ? config.captureDirectory()
                : Path.of(System.getProperty("java.io.tmpdir"));
    }

    /** One line: sessions, frames in and out, drops, NAT flows, leases; totals and the change since the last. */
    void logSummary() {
        try {
            SUMMARY_LOG.info(summaryLine());
        } catch (RuntimeException e) {
            LOG.log(Level.WARNING, "summary failed: " + e, e);
        }
    }

    synchronized String summaryLine() {
        LoopSnapshot snapshot = relay.snapshot();
        long framesIn = counters.get(Counter.FRAMES_IN);
        long framesOut = counters.get(Counter.FRAMES_OUT);
        long drops = totalDrops(counters);
        long sessionsOpened = counters.get(Counter.SESSIONS_OPENED);
        String line = "summary: sessions " + snapshot.sessions() + " (+" + (sessionsOpened - lastSummary[0])
                + " opened), frames in " + framesIn + " (+" + (framesIn - lastSummary[1]) + "), out " + framesOut
                + " (+" + (framesOut - lastSummary[2]) + "), drops " + drops + " (+" + (drops - lastSummary[3])
                + "), nat flows udp " + snapshot.udpFlows() + " icmp " + snapshot.icmpFlows() + " tcp "
                + snapshot.tcpConnections() + ", dhcp leases "
                + snapshot.dhcpLeases() + ", macs " + snapshot.macTableEntries();
        lastSummary = new long[] {sessionsOpened, framesIn, framesOut, drops};
        return line;
    }

    static long totalDrops(Counters counters) {
        long total = 0;
        for (Counter counter : Counter.values()) {
            if (counter.isDrop()) {
                total += counters.get(counter);
            }
        }
        return total;
    }

    /** Stops the admin server and the timers, then flushes and closes a running capture. Idempotent. */
    @Override
    public void close() {
        if (admin != null) {
            admin.stop();
        }
        control.shutdownNow();
        try {
            control.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        stopCapture();
        metrics.close();
    }
}

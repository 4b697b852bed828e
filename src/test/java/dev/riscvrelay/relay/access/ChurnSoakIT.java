package dev.riscvrelay.relay.access;

import static org.assertj.core.api.Assertions.assertThat;

import dev.riscvrelay.relay.access.HostileClient.Session;
import dev.riscvrelay.relay.access.HostileClient.Transport;
import dev.riscvrelay.relay.testbed.FieldBed;
import dev.riscvrelay.relay.testbed.NetnsTestBed;
import io.netty.channel.IoEventLoop;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.EpollIoHandler;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Ten thousand sessions (by default; {@code -Dsoak.sessions=N}, {@code -Dsoak.minutes=M}) opened, each leasing an
 * address for a fresh MAC, and closed, over WebSocket and WebTransport in turn, by a few clients at once, across the
 * field bed. Afterwards what the relay holds must be what it held before: heap (after a GC), the frame buffer pool's
 * direct memory, open files, leases, sessions, networks and NAT sockets.
 */
class ChurnSoakIT {

    private static final int SESSIONS = Integer.getInteger("soak.sessions", 10_000);
    private static final int MINUTES = Integer.getInteger("soak.minutes", 10);
    private static final int CLIENTS = 6;
    private static final int LEASE_GRACE_SECONDS = 3;

    private FieldBed field;
    private MultiThreadIoEventLoopGroup clientLoops;
    private final HttpClient admin = HttpClient.newHttpClient();

    @AfterEach
    void stop() throws Exception {
        if (clientLoops != null) {
            clientLoops.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
        }
        if (field != null) {
            field.close();
        }
        admin.close();
    }

    private String metrics() throws Exception {
        return admin.send(HttpRequest.newBuilder(URI.create(field.adminUrl("/metrics"))).build(),
                HttpResponse.BodyHandlers.ofString()).body();
    }

    private static double sum(String metrics, String name) {
        Matcher m = Pattern.compile("(?m)^" + Pattern.quote(name) + "(\\{[^}]*\\})? (\\S+)$").matcher(metrics);
        double total = 0;
        boolean found = false;
        while (m.find()) {
            total += Double.parseDouble(m.group(2));
            found = true;
        }
        assertThat(found).as("%s in /metrics", name).isTrue();
        return total;
    }

    private static double heap(String metrics) {
        Matcher m = Pattern.compile("(?m)^jvm_memory_used_bytes\\{area=\"heap\"[^}]*\\} (\\S+)$").matcher(metrics);
        double total = 0;
        while (m.find()) {
            total += Double.parseDouble(m.group(1));
        }
        return total;
    }

    /** What the relay holds, after a full GC in it so the heap figure is what is live. */
    private record Held(double heap, double directPool, double openFiles, double leases, double sessions,
            double networks, double natSockets) {
    }

    private Held held() throws Exception {
        Path jcmd = Path.of(System.getProperty("java.home"), "bin", "jcmd");
        NetnsTestBed.run(Duration.ofSeconds(60), jcmd.toString(), Long.toString(field.relay().pid()), "GC.run")
                .orThrow();
        Thread.sleep(1500); // the gauges are published once a second
        String m = metrics();
        return new Held(heap(m), sum(m, "relay_buffer_pool_direct_bytes"), sum(m, "process_files_open_files"),
                sum(m, "relay_dhcp_leases"), sum(m, "relay_sessions"), sum(m, "relay_networks_open"),
                sum(m, "relay_nat_host_sockets"));
    }

    @Test
    void thousandsOfSessionsThatLeaseAndLeaveLeaveNothingBehind() throws Exception {
        field = FieldBed.create();
        field.startRelay("soak", "--lease-grace", Integer.toString(LEASE_GRACE_SECONDS));
        clientLoops = new MultiThreadIoEventLoopGroup(2, EpollIoHandler.newFactory());
        HostileClient[] clients = new HostileClient[CLIENTS];
        for (int i = 0; i < CLIENTS; i++) {
            clients[i] = new HostileClient(field.relayAddress(), FieldBed.RELAY_PORT,
                    field.relay().certificateHash(), (IoEventLoop) clientLoops.next());
        }
        // Warm up first (JIT, the buffer pool's first chunks, the clients' own connections), then take the baseline.
        churn(clients, 200, Duration.ofMinutes(2));
        Thread.sleep(TimeUnit.SECONDS.toMillis(LEASE_GRACE_SECONDS + 2));
        Held before = held();

        long started = System.nanoTime();
        int[] outcome = churn(clients, SESSIONS, Duration.ofMinutes(MINUTES));
        double seconds = (System.nanoTime() - started) / 1e9;
        System.out.printf("churn: %d sessions in %.0f s (%.1f/s), %d leased, %d retried%n", outcome[0], seconds,
                outcome[0] / seconds, outcome[1], outcome[2]);
        assertThat(outcome[0]).as("sessions opened and closed within %d minutes", MINUTES).isEqualTo(SESSIONS);
        assertThat(outcome[1]).as("every session got its lease").isEqualTo(SESSIONS);
        assertThat(outcome[2]).as("handshakes tried twice").isLessThanOrEqualTo(SESSIONS / 100);

        Thread.sleep(TimeUnit.SECONDS.toMillis(LEASE_GRACE_SECONDS + 2));
        Held after = held();
        System.out.println("held before: " + before);
        System.out.println("held after:  " + after);
        assertThat(after.leases()).as("leases went back to the pool").isZero();
        assertThat(after.sessions()).isZero();
        assertThat(after.networks()).isEqualTo(1);
        assertThat(after.natSockets()).isZero();
        assertThat(after.openFiles()).as("open files").isLessThanOrEqualTo(before.openFiles() + 8);
        assertThat(after.heap()).as("live heap").isLessThanOrEqualTo(before.heap() + 32 * 1024 * 1024);
        assertThat(after.directPool()).as("the buffer pool's direct memory")
                .isLessThanOrEqualTo(before.directPool() + 16 * 1024 * 1024);
    }

    /**
     * Runs {@code count} sessions on {@code clients} (one thread each), alternating the transport: open, lease for
     * a fresh MAC, close. Stops at {@code limit}.
     *
     * @return sessions completed, sessions that got a lease, sessions whose first handshake failed
     */
    private static int[] churn(HostileClient[] clients, int count, Duration limit) throws Exception {
        AtomicInteger next = new AtomicInteger();
        AtomicInteger done = new AtomicInteger();
        AtomicInteger leased = new AtomicInteger();
        AtomicInteger retried = new AtomicInteger();
        long deadline = System.nanoTime() + limit.toNanos();
        ExecutorService threads = Executors.newFixedThreadPool(clients.length);
        try {
            List<Future<?>> running = new ArrayList<>();
            for (HostileClient client : clients) {
                running.add(threads.submit(() -> {
                    int n;
                    while ((n = next.getAndIncrement()) < count && System.nanoTime() < deadline) {
                        Transport transport = n % 2 == 0 ? Transport.WEBSOCKET : Transport.WEBTRANSPORT;
                        Session session;
                        try {
                            session = client.open(transport, "/");
                        } catch (Exception e) {
                            // A handshake lost on a loaded 2-core machine: a real client tries again, once.
                            retried.incrementAndGet();
                            System.out.println("churn: session " + n + " over " + transport + " retried: " + e);
                            session = client.open(transport, "/");
                        }
                        try (Session open = session) {
                            if (HostileClient.lease(open, HostileClient.randomMac()) != 0) {
                                leased.incrementAndGet();
                            }
                        }
                        done.incrementAndGet();
                    }
                    return null;
                }));
            }
            for (Future<?> f : running) {
                f.get(limit.toMillis() + 60_000, TimeUnit.MILLISECONDS);
            }
        } finally {
            threads.shutdownNow();
        }
        return new int[] {done.get(), leased.get(), retried.get()};
    }
}

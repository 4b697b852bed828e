package dev.riscvrelay.relay.bench;

import io.netty.channel.IoEventLoop;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The workers part: P1's peak (the same load generator, the same windowed runs, the median of rounds that alternate
 * between the relays) through relays that differ only in {@code --workers}. Each pair of partnered sessions joins a
 * network of its own through its CONNECT path, so the relay has as many LANs as pairs; every relay is up during the
 * whole part, and after its sessions open its admin API says which worker each session's connection landed on.
 */
public final class WorkersBench {

    /**
     * @param workers the {@code --workers} of each relay; the first is the baseline of the ratios
     * @param sessions sessions per relay (even: one network per pair)
     * @param size the Ethernet frame size
     * @param rounds peak runs per relay; the median counts
     */
    public record Plan(List<Integer> workers, int sessions, int size, int rounds, Duration warmUp,
            Duration measure) {
        public Plan {
            workers = List.copyOf(workers);
            if (sessions < 2 || sessions % 2 != 0) {
                throw new IllegalArgumentException("sessions come in pairs: " + sessions);
            }
        }

        public static Plan quick() {
            return new Plan(List.of(1, 2, 4), 16, 1200, 2, Duration.ofMillis(300), Duration.ofMillis(1000));
        }

        public static Plan full() {
            return new Plan(List.of(1, 2, 4), 16, 1200, 3, Duration.ofMillis(500), Duration.ofSeconds(2));
        }

        public int networks() {
            return sessions / 2;
        }
    }

    /**
     * Where one session's connection landed: its network, the worker that carries the connection, and the worker
     * that runs the network (they differ when its frames cross between loops).
     */
    public record Landing(int session, String network, int worker, int networkWorker) {
    }

    /** One relay's peak (its median round) and where its sessions landed (empty when the API did not say). */
    public record Run(int workers, SwitchBench.PeakRow peak, List<Landing> landings) {
        public Run {
            landings = List.copyOf(landings);
        }
    }

    public record Results(Plan plan, List<Run> runs, int cores) {
        public Results {
            runs = List.copyOf(runs);
        }
    }

    private final Plan plan;
    private final IoEventLoop loadLoop;
    private final PrintWriter log;

    public WorkersBench(Plan plan, IoEventLoop loadLoop, PrintWriter log) {
        this.plan = plan;
        this.loadLoop = loadLoop;
        this.log = log;
    }

    /** The fixture's name for the relay with {@code workers} workers. */
    static String relayName(int workers) {
        return "relay --workers " + workers;
    }

    public Results run() throws Exception {
        SwitchBench.Plan peakPlan = new SwitchBench.Plan(List.of(plan.size()), List.of(plan.sessions()), List.of(),
                List.of(), plan.rounds(), plan.warmUp(), plan.measure(), Duration.ZERO, Duration.ZERO);
        List<SwitchBench.FixtureFactory> factories = new ArrayList<>();
        for (int workers : plan.workers()) {
            factories.add(() -> new RelayProcessFixture(relayName(workers), plan.sessions() + 8, workers, true));
        }
        Map<String, List<Landing>> landings = new HashMap<>();
        SwitchBench.Results results = new SwitchBench(peakPlan, loadLoop, log).run(factories, null,
                (fixture, sessions) -> {
                    if (fixture instanceof RelayProcessFixture relay) {
                        landings.put(relay.name(), WorkersReport.landings(relay.networksJson(), sessions));
                    }
                });
        List<Run> runs = new ArrayList<>();
        for (int workers : plan.workers()) {
            String name = relayName(workers);
            SwitchBench.PeakRow peak = results.peaks().stream().filter(row -> row.fixture().equals(name))
                    .findFirst().orElseThrow(() -> new IllegalStateException("no peak of " + name));
            Run run = new Run(workers, peak, landings.getOrDefault(name, List.of()));
            runs.add(run);
            log.printf(Locale.ROOT, "  %-18s %s; sessions per worker %s%n", name,
                    WorkersReport.threadCores(peak), WorkersReport.sessionsPerWorker(run));
        }
        log.flush();
        return new Results(plan, runs, Runtime.getRuntime().availableProcessors());
    }
}

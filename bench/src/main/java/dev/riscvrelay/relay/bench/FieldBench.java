package dev.riscvrelay.relay.bench;

import dev.riscvrelay.relay.metrics.Counter;
import dev.riscvrelay.relay.testbed.CommandResult;
import dev.riscvrelay.relay.testbed.FieldBed;
import dev.riscvrelay.relay.testbed.ImpairedLink;
import dev.riscvrelay.relay.testbed.ImpairedLink.LinkProfile;
import dev.riscvrelay.relay.testbed.NetnsTestBed;
import dev.riscvrelay.relay.testbed.PingTimes;
import dev.riscvrelay.relay.transport.tap.TapDevice;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.function.Supplier;
import java.util.regex.Pattern;

/**
 * The field part: the relay where users meet it, in its own namespace across 1500-MTU veths, each connected host
 * in its own namespace with its own {@code relay connect}; the same transfers with everything on loopback as the
 * baseline, and behind the {@link ImpairedLink} profiles.
 *
 * <pre>
 *  client namespaces (relay connect + TAP eth0)     link namespace                   relay namespace
 *   ca, cb  up0 198.18.0.1x ---veth 1500--- br0 198.18.0.1 (bridge, ip_forward)
 *   ia, ib  (internet profile)              ImpairedLink :4434 internet ----+
 *   xa, xb  (lossy profile)                 ImpairedLink :4435 lossy -------+
 *                                           relay0 198.19.0.1 ---veth 1500--- eth0 198.19.0.2  relay :4433
 *   la, lb  TAP eth0 only: their connectors run in the relay namespace on 127.0.0.1   inet0 --veth-- inet
 *                                                                              203.0.113.10: HTTP, iperf3
 * </pre>
 *
 * Hosts a and b of each setup are on the one LAN of the one relay (addresses 10.0.2.x), so the clean link and
 * loopback are measured against the same warm relay, interleaved. Host a serves HTTP on its LAN address; host b
 * GETs (a to b) and PUTs (b to a) through both connectors; every transfer is sha256-exact. Bounded: every command
 * has a timeout, everything is torn down at the end.
 */
public final class FieldBench {

    /** The tools the field part runs. */
    public static final List<String> TOOLS = List.of("ip", "curl", "iperf3", "python3", "ping", "taskset",
            "dumpcap", "tshark", NatBench.SLIRP);

    static final String SERVER = "203.0.113.10";
    private static final String RELAY_ADDRESS = "198.19.0.2";
    private static final String LINK_ADDRESS = "198.18.0.1";
    private static final int RELAY_PORT = 4433;
    private static final int RELAY_ADMIN_PORT = 9466;
    private static final int MTU = 1500;
    /** The ping floor's gateway, on the relay's address, and its host on the bridge. */
    private static final int FLOOR_PORT = 4440;
    private static final String FLOOR_HOST_ADDRESS = "198.18.0.99";
    private static final Duration LINK_LIFETIME = Duration.ofMinutes(30);
    /** Flood pings to the gateway before the measured ones, and the most time they may take. */
    private static final int WARM_UP_PINGS = 20_000;
    private static final int WARM_UP_PING_SECONDS = 30;
    /** How long {@link MachineStalls} watches each CPU before the pings. */
    private static final double STALL_PROBE_SECONDS = 10;

    /**
     * What one run measures: sizes per link, rounds of the clean-vs-loopback comparison, rounds of each transfer behind
     * the impaired links (their median is the verdict: one transfer across loss moved by a third from run to run),
     * pings per series. Five rounds each: with three, one slow round on a busy 2-core machine decided a verdict
     * (loopback host a → host b ranged 418 to 788 Mbit/s in one run, and the clean link's ratio to it 0.77 to 1.10
     * across runs of the same code).
     */
    public record Plan(long hostBytes, int rounds, long internetBytes, long lossyBytes, int impairedRounds, int pings,
            double pingIntervalSeconds) {
        public static Plan full() {
            return new Plan(50L << 20, 5, 50L << 20, 2L << 20, 5, 1000, PingTimes.SLEEPING_INTERVAL_SECONDS);
        }

        public static Plan quick() {
            return new Plan(10L << 20, 1, 2L << 20, 512L << 10, 1, 200, PingTimes.SLEEPING_INTERVAL_SECONDS);
        }

        /** The size of the transfers over {@code setup}. */
        public long bytes(Setup setup) {
            return switch (setup) {
                case LOOPBACK, CLEAN -> hostBytes;
                case INTERNET -> internetBytes;
                case LOSSY -> lossyBytes;
            };
        }
    }

    /** Where the connectors reach the relay. */
    public enum Setup {
        LOOPBACK("all on loopback", null), CLEAN("clean link", LinkProfile.CLEAN),
        INTERNET("internet profile", LinkProfile.INTERNET), LOSSY("lossy profile", LinkProfile.LOSSY);

        public final String label;
        /** The link profile between connectors and relay; null for loopback. */
        public final LinkProfile profile;

        Setup(String label, LinkProfile profile) {
            this.label = label;
            this.profile = profile;
        }

        /** The profile's rate cap in Mbit/s, NaN when it has none. */
        public double capMegabits() {
            long bits = profile == null ? 0 : profile.impairment().bitsPerSecond();
            return bits == 0 ? Double.NaN : bits / 1e6;
        }
    }

    /** The transfers of the part; each host's TAP is behind its own connector. */
    public enum Transfer {
        INTERNET_DOWN("host ← internet (GET)"), INTERNET_UP("host → internet (PUT)"), A_TO_B("host a → host b (GET)"),
        B_TO_A("host b → host a (PUT)");

        public final String label;

        Transfer(String label) {
            this.label = label;
        }
    }

    /** What runs beside a ping series: nothing, or iperf3 through the same connector, one way or the other. */
    public enum Load {
        IDLE("idle", true), DOWNLOAD("during a download", true), UPLOAD("during an upload", true),
        /** The upload again with the TAP's transmit queue at Linux's 1000 frames: what the connector's queue saves. */
        UPLOAD_TAP_QUEUE_1000("during an upload, TAP queue 1000 (Linux's default)", false);

        public final String label;
        /** Whether the series is held to the latency target; the others are baselines. */
        public final boolean target;

        Load(String label, boolean target) {
            this.label = label;
            this.target = target;
        }
    }

    /** What a busy loop on each CPU lost: on the quiet machine, and with the bed idle just before the pings. */
    public record Stalls(MachineStalls quiet, MachineStalls bedIdle) {
    }

    /** One ping series: where to, under which load, the times. */
    public record PingRow(String target, Load load, PingTimes times) {
    }

    /** One more idle series to {@code target}, captured: its times and where they went ({@link PingLegs}). */
    public record LegsRow(String target, PingTimes times, PingLegs legs) {
    }

    /** @param linkCounters per impaired profile, the link's last counter lines (up and down) after its transfers */
    public record Results(Plan plan, Map<Setup, Map<Transfer, NatBench.Stat>> transfers, Map<Setup, Integer> tapMtus,
            List<PingRow> pings, List<LegsRow> legs, String method, List<String> notes,
            Map<Setup, List<String>> linkCounters, List<String> relayCounters, Stalls stalls) {
        public NatBench.Stat stat(Setup setup, Transfer transfer) {
            return transfers.getOrDefault(setup, Map.of()).getOrDefault(transfer, new NatBench.Stat(List.of()));
        }

        /** The clean link's median over loopback's for one host-to-host direction; NaN when one is missing. */
        public double cleanOverLoopback(Transfer transfer) {
            return stat(Setup.CLEAN, transfer).median() / stat(Setup.LOOPBACK, transfer).median();
        }

        /** The median as a share of the setup's rate cap (0.6 = 60%); NaN without a cap or a successful run. */
        public double shareOfCap(Setup setup, Transfer transfer) {
            return stat(setup, transfer).median() / setup.capMegabits();
        }

        public Optional<PingRow> ping(String target, Load load) {
            return pings.stream().filter(p -> p.target().equals(target) && p.load() == load).findFirst();
        }
    }

    /** The ping targets of {@link Results#pings}. */
    public static final String GATEWAY = "10.0.2.2 through the relay";
    public static final String PLAIN_VETH = "the relay's address, plain veth";
    /** The same ping through the {@link PingFloor}: the path's shape with plain UDP and no event loop, in Java. */
    public static final String FLOOR_GATEWAY = "10.0.2.2 through the ping floor";
    /** The same ping from a namespace whose only way out is slirp4netns, beside the relay (its own NAT, one process). */
    public static final String SLIRP_GATEWAY = "10.0.2.2 through slirp4netns";

    /** A LAN host: its namespace, LAN address, and the connector's process. */
    private record Host(String namespace, String address, Namespaces.Background connector) {
    }

    /** Linux's default congestion control, which the hosts' TCP runs unless told otherwise. */
    public static final String DEFAULT_HOST_TCP = "cubic";

    private final Plan plan;
    private final String hostTcp;
    private final PrintWriter log;

    public FieldBench(Plan plan, PrintWriter log) {
        this(plan, DEFAULT_HOST_TCP, log);
    }

    /**
     * @param hostTcp the congestion control of the hosts' and the internet server's TCP ({@code cubic},
     *     {@code bbr}, {@code reno}), set on their routes: what the machine's own default is does not matter
     */
    public FieldBench(Plan plan, String hostTcp, PrintWriter log) {
        this.plan = plan;
        this.hostTcp = hostTcp;
        this.log = log;
    }

    public Results run() throws Exception {
        List<String> missing = Namespaces.missingTools(TOOLS.toArray(String[]::new));
        if (!missing.isEmpty()) {
            throw new IllegalStateException("the field part needs " + String.join(", ", missing)
                    + " (scripts/install-test-deps.sh installs them)");
        }
        // First, before anything of the bed runs: what the machine itself takes from a process now and then.
        MachineStalls quietStalls = MachineStalls.measure(STALL_PROBE_SECONDS);
        log.println("  stalls of this machine's CPUs, quiet: " + quietStalls.summary());
        log.flush();
        List<String> notes = new ArrayList<>();
        Path work = HttpTransfers.workDirectory("rrb-field-");
        try (Namespaces ns = Namespaces.create()) {
            Path site = Files.createDirectories(work.resolve("site"));
            Map<Long, String> downloadSha = new java.util.HashMap<>();
            Map<Long, String> uploadSha = new java.util.HashMap<>();
            for (Setup setup : Setup.values()) {
                long bytes = plan.bytes(setup);
                if (!downloadSha.containsKey(bytes)) {
                    downloadSha.put(bytes, HttpTransfers.writeRandom(site.resolve("d" + bytes + ".bin"), bytes, 3));
                    uploadSha.put(bytes, HttpTransfers.writeRandom(work.resolve("u" + bytes + ".bin"), bytes, 4));
                }
            }

            String relayNs = ns.add("relay");
            String link = ns.add("link");
            String inet = ns.add("inet");
            wire(ns, relayNs, link, inet);
            HttpTransfers.startServer(ns, "http inet", inet, SERVER, site, work);
            Namespaces.Background iperf = ns.start("iperf3", inet, List.of("iperf3", "-s", "-B", SERVER));
            HttpTransfers.awaitListening(ns, inet, SERVER + ":5201", iperf);

            RelayProcesses.Relay relay = RelayProcesses.startRelay(ns, relayNs, List.of(), List.of("--bind",
                    "0.0.0.0", "--port", Integer.toString(RELAY_PORT), "--admin", "127.0.0.1:" + RELAY_ADMIN_PORT,
                    "--allow", "203.0.113.0/24", "--dns", SERVER));
            Map<Setup, Namespaces.Background> links = new EnumMap<>(Setup.class);
            for (Setup setup : List.of(Setup.INTERNET, Setup.LOSSY)) {
                links.put(setup, RelayProcesses.startLink(ns, link, LINK_ADDRESS + ":" + port(setup),
                        RELAY_ADDRESS + ":" + RELAY_PORT, setup.profile, LINK_LIFETIME));
            }
            // Every connector starts at once (their JVMs' start-up and handshakes overlap), then each is awaited.
            Map<Setup, String[]> namespaces = new EnumMap<>(Setup.class);
            Map<Setup, Namespaces.Background[]> launched = new EnumMap<>(Setup.class);
            int clients = 0;
            for (Setup setup : Setup.values()) {
                String[] pair = new String[2];
                Namespaces.Background[] connectors = new Namespaces.Background[2];
                for (int i = 0; i < 2; i++) {
                    String role = switch (setup) {
                        case LOOPBACK -> "l";
                        case CLEAN -> "c";
                        case INTERNET -> "i";
                        case LOSSY -> "x";
                    } + (i == 0 ? "a" : "b");
                    pair[i] = ns.add(role);
                    connectors[i] = setup == Setup.LOOPBACK
                            ? launchLoopbackConnector(ns, relayNs, pair[i], relay.certificateHash())
                            : launchLinkedConnector(ns, link, pair[i], clients++, setup, relay.certificateHash());
                }
                namespaces.put(setup, pair);
                launched.put(setup, connectors);
            }
            Map<Setup, Host[]> hosts = new EnumMap<>(Setup.class);
            Map<Setup, Integer> mtus = new EnumMap<>(Setup.class);
            for (Setup setup : Setup.values()) {
                Host[] pair = new Host[2];
                for (int i = 0; i < 2; i++) {
                    RelayProcesses.Connector connector = RelayProcesses.awaitConnector(launched.get(setup)[i]);
                    String host = namespaces.get(setup)[i];
                    String lanAddress = "10.0.2." + (21 + 10 * setup.ordinal() + i);
                    ns.exec(host, "ip", "address", "add", lanAddress + "/24", "dev", "eth0").orThrow();
                    ns.exec(host, "ip", "route", "replace", "10.0.2.0/24", "dev", "eth0", "proto", "kernel", "scope",
                            "link", "src", lanAddress, "congctl", hostTcp).orThrow();
                    ns.exec(host, "ip", "route", "add", "default", "via", "10.0.2.2", "congctl", hostTcp).orThrow();
                    mtus.put(setup, connector.tapMtu());
                    pair[i] = new Host(host, lanAddress, connector.process());
                }
                HttpTransfers.startServer(ns, "http " + pair[0].namespace(), pair[0].namespace(), pair[0].address(),
                        site, work);
                awaitReachable(ns, pair[1], pair[0].address(), setup);
                hosts.put(setup, pair);
                log.printf("  %s: hosts %s and %s up, TAP MTU %d%n", setup.label, pair[0].address(),
                        pair[1].address(), mtus.get(setup));
                log.flush();
            }

            Map<Setup, Map<Transfer, List<NatBench.Sample>>> samples = new EnumMap<>(Setup.class);
            // One unmeasured round: the relay's and connectors' JIT compiles their data paths first.
            for (Setup setup : List.of(Setup.LOOPBACK, Setup.CLEAN)) {
                for (Transfer transfer : List.of(Transfer.A_TO_B, Transfer.B_TO_A)) {
                    NatBench.Sample warmUp = measure(ns, hosts.get(setup), setup, transfer, work, downloadSha,
                            uploadSha);
                    print("warm-up", setup, transfer, warmUp);
                }
            }
            for (int round = 1; round <= plan.rounds(); round++) {
                // Alternate which goes first, so a drift in the machine's load falls on both alike.
                List<Setup> order = round % 2 == 1 ? List.of(Setup.LOOPBACK, Setup.CLEAN)
                        : List.of(Setup.CLEAN, Setup.LOOPBACK);
                for (Setup setup : order) {
                    for (Transfer transfer : List.of(Transfer.A_TO_B, Transfer.B_TO_A)) {
                        record(samples, setup, transfer, "round " + round,
                                measure(ns, hosts.get(setup), setup, transfer, work, downloadSha, uploadSha));
                    }
                }
            }
            Map<Setup, List<String>> linkCounters = new EnumMap<>(Setup.class);
            for (Setup setup : List.of(Setup.CLEAN, Setup.INTERNET, Setup.LOSSY)) {
                // Host to host one way (a to b): both ends are Linux TCP over the same kind of path either way.
                List<Transfer> transfers = setup == Setup.CLEAN
                        ? List.of(Transfer.INTERNET_DOWN, Transfer.INTERNET_UP)
                        : List.of(Transfer.INTERNET_DOWN, Transfer.INTERNET_UP, Transfer.A_TO_B);
                int rounds = setup == Setup.CLEAN ? 1 : plan.impairedRounds();
                List<String> relayDrops = new ArrayList<>();
                for (int round = 1; round <= rounds; round++) {
                    String label = rounds == 1 ? "once" : "round " + round;
                    for (Transfer transfer : transfers) {
                        List<String> before = NatBench.relayCounters(ns, relayNs, RELAY_ADMIN_PORT);
                        record(samples, setup, transfer, label,
                                measure(ns, hosts.get(setup), setup, transfer, work, downloadSha, uploadSha));
                        List<String> after = NatBench.relayCounters(ns, relayNs, RELAY_ADMIN_PORT);
                        relayDrops.add("relay dropped during " + transfer.label + (rounds == 1 ? "" : " (" + label
                                + ")") + ": " + dropsBetween(before, after));
                    }
                }
                if (links.containsKey(setup)) {
                    List<String> lines = new ArrayList<>(lastCounters(links.get(setup)));
                    lines.addAll(relayDrops);
                    for (Host host : hosts.get(setup)) {
                        lines.addAll(connectorEvents(host));
                        lines.add(host.namespace() + ": " + tapDrops(ns, host));
                    }
                    linkCounters.put(setup, lines);
                }
            }
            stopOffPath(ns, hosts, links.values(), hosts.get(Setup.CLEAN)[0]);
            warmUpPingPath(ns, hosts.get(Setup.CLEAN)[0]);
            // Before the pings: what the machine and the idle bed (relay, host a's connector, servers) take.
            MachineStalls bedStalls = MachineStalls.measure(STALL_PROBE_SECONDS);
            log.println("  stalls of this machine's CPUs, the bed idle: " + bedStalls.summary());
            log.flush();
            List<PingRow> pings = new ArrayList<>(latency(ns, hosts.get(Setup.CLEAN)[0]));
            List<LegsRow> legs = new ArrayList<>(List.of(capturedLegs(ns, hosts.get(Setup.CLEAN)[0], GATEWAY)));
            pings.addAll(floorLatency(ns, relayNs, link, hosts.get(Setup.CLEAN)[0], legs));
            pings.addAll(slirpLatency(ns, relayNs));
            List<String> relayCounters = NatBench.relayCounters(ns, relayNs, RELAY_ADMIN_PORT);

            Map<Setup, Map<Transfer, NatBench.Stat>> stats = new EnumMap<>(Setup.class);
            samples.forEach((setup, byTransfer) -> {
                Map<Transfer, NatBench.Stat> mine = new EnumMap<>(Transfer.class);
                byTransfer.forEach((transfer, list) -> mine.put(transfer, new NatBench.Stat(List.copyOf(list))));
                stats.put(setup, mine);
            });
            return new Results(plan, stats, mtus, pings, legs, method(), notes, linkCounters, relayCounters,
                    new Stalls(quietStalls, bedStalls));
        } finally {
            HttpTransfers.deleteTree(work);
        }
    }

    /**
     * What a host's connector said about its session beyond the routine: reconnects, black holes, refused packets
     * (up to five lines), and its last link recovery report.
     */
    private static List<String> connectorEvents(Host host) {
        List<String> events = new ArrayList<>();
        String recovery = null;
        for (String line : host.connector().output().split(" \\| ")) {
            if (line.startsWith("link recovery in this session")) {
                recovery = line;
            } else if (events.size() < 5 && (line.startsWith("reconnected") || line.startsWith("relay unreachable")
                    || line.contains("black hole") || line.startsWith("the kernel refused"))) {
                events.add(host.namespace() + ": " + line);
            }
        }
        if (recovery != null) {
            events.add(host.namespace() + ": " + recovery);
        }
        return events;
    }

    /**
     * What the host's kernel dropped at its TAP because the queue to the connector was full (TX dropped): a loss
     * the host's TCP sees that link recovery cannot repair.
     */
    private static String tapDrops(Namespaces ns, Host host) {
        CommandResult read = ns.exec(host.namespace(), "cat", "/sys/class/net/eth0/statistics/tx_packets",
                "/sys/class/net/eth0/statistics/tx_dropped", "/sys/class/net/eth0/tx_queue_len");
        String[] counts = read.stdout().strip().split("\\s+");
        return read.succeeded() && counts.length == 3
                ? "TAP eth0 sent " + counts[0] + " frames to the connector, dropped " + counts[1]
                        + " with its queue full (its queue now " + counts[2] + " frames)"
                : "TAP eth0 counters unreadable";
    }

    /**
     * What the relay's drop counters gained from {@code before} to {@code after} (its {@code /metrics} lines), by
     * reason in alphabetical order: {@code reason N, ...}, or "nothing".
     */
    static String dropsBetween(List<String> before, List<String> after) {
        Map<Counter, Long> was = MetricsText.parse(String.join("\n", before));
        Map<Counter, Long> now = MetricsText.parse(String.join("\n", after));
        Map<String, Long> grown = new java.util.TreeMap<>();
        now.forEach((counter, count) -> {
            long more = count - was.get(counter);
            if (more > 0 && counter.isDrop()) {
                grown.put(counter.dropReason(), more);
            }
        });
        StringBuilder text = new StringBuilder();
        grown.forEach((reason, more) -> text.append(text.isEmpty() ? "" : ", ").append(reason).append(' ')
                .append(more));
        return text.isEmpty() ? "nothing" : text.toString();
    }

    private static int port(Setup setup) {
        return RELAY_PORT + setup.profile.ordinal(); // internet 4434, lossy 4435
    }

    /** relay — link (bridge for the clients, forwarding) — and the internet namespace behind the relay. */
    private void wire(Namespaces ns, String relay, String link, String inet) {
        ns.exec(link, "sysctl", "-q", "-w", "net.ipv4.ip_forward=1").orThrow();
        // A fixed MAC: a bridge without one takes its lowest port's, and changes it under the clients' neighbour
        // caches as ports join.
        ns.exec(link, "ip", "link", "add", "br0", "address", FieldBed.ROUTER_MAC, "mtu", Integer.toString(MTU),
                "type", "bridge").orThrow();
        ns.exec(link, "ip", "address", "add", LINK_ADDRESS + "/24", "dev", "br0").orThrow();
        ns.exec(link, "ip", "link", "set", "br0", "up").orThrow();
        ns.veth(link, "relay0", relay, "eth0", MTU);
        ns.exec(link, "ip", "address", "add", "198.19.0.1/24", "dev", "relay0").orThrow();
        ns.exec(relay, "ip", "address", "add", RELAY_ADDRESS + "/24", "dev", "eth0").orThrow();
        ns.exec(relay, "ip", "route", "add", "198.18.0.0/24", "via", "198.19.0.1").orThrow();
        ns.veth(relay, "inet0", inet, "eth0", MTU);
        ns.exec(relay, "ip", "address", "add", "198.51.100.1/24", "dev", "inet0").orThrow();
        ns.exec(inet, "ip", "address", "add", "198.51.100.10/24", "dev", "eth0").orThrow();
        ns.exec(inet, "ip", "address", "add", SERVER + "/32", "dev", "lo").orThrow();
        ns.exec(inet, "ip", "route", "add", "default", "via", "198.51.100.1", "congctl", hostTcp).orThrow();
        ns.exec(relay, "ip", "route", "add", "203.0.113.0/24", "via", "198.51.100.10").orThrow();
    }

    /** A connector in the relay's namespace that talks to 127.0.0.1, its TAP in {@code host}: the loopback baseline. */
    private static Namespaces.Background launchLoopbackConnector(Namespaces ns, String relayNs, String host,
            String hash) {
        return RelayProcesses.launchConnector(ns, "relay connect " + host, relayNs, List.of(),
                "https://127.0.0.1:" + RELAY_PORT + "/", hash,
                List.of("--tap", "eth0", "--tap-netns", Namespaces.path(host).toString()));
    }

    /**
     * {@code host} on the link's bridge (198.18.0.(10+n), a 1500-MTU veth), its connector in its own namespace
     * reaching the relay through {@code setup}'s link: the relay's address (clean) or the impaired link's.
     */
    private static Namespaces.Background launchLinkedConnector(Namespaces ns, String link, String host, int n,
            Setup setup, String hash) {
        ns.veth(link, "c" + n, host, "up0", MTU);
        ns.exec(link, "ip", "link", "set", "c" + n, "master", "br0").orThrow();
        ns.exec(host, "ip", "address", "add", "198.18.0." + (10 + n) + "/24", "dev", "up0").orThrow();
        ns.exec(host, "ip", "route", "add", "198.19.0.0/24", "via", LINK_ADDRESS).orThrow();
        String url = setup == Setup.CLEAN ? "https://" + RELAY_ADDRESS + ":" + RELAY_PORT + "/"
                : "https://" + LINK_ADDRESS + ":" + port(setup) + "/";
        return RelayProcesses.launchConnector(ns, "relay connect " + host, host, List.of(), url, hash,
                List.of("--tap", "eth0", "--tap-netns", Namespaces.path(host).toString()));
    }

    /** Waits (bounded) until host b fetches a page from host a and from the internet server. */
    private static void awaitReachable(Namespaces ns, Host b, String aAddress, Setup setup) {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        CommandResult last = null;
        for (String url : List.of("http://" + aAddress + "/", "http://" + SERVER + "/")) {
            while (System.nanoTime() < deadline) {
                last = ns.exec(b.namespace(), Duration.ofSeconds(10), "curl", "-sS", "--fail", "--max-time", "5",
                        "-o", "/dev/null", url);
                if (last.succeeded()) {
                    break;
                }
                HttpTransfers.sleep(200);
            }
            if (last == null || !last.succeeded()) {
                throw new IllegalStateException(setup.label + ": " + b.address() + " cannot fetch " + url
                        + " within 30 s: " + (last == null ? "" : last.describeInOneLine()));
            }
        }
    }

    /**
     * How long a transfer over {@code setup} may take: 30 s plus time for 2.5 MB/s, or for 1/40 of the profile's
     * cap (TCP behind 1-3% loss reaches a few Mbit/s; a stall still ends in minutes, not hours).
     */
    private static Duration timeout(Setup setup, long bytes) {
        double cap = setup.capMegabits();
        return HttpTransfers.timeout(bytes, Double.isNaN(cap) ? 2_500_000 : (long) (cap * 1e6 / 8 / 40));
    }

    private NatBench.Sample measure(Namespaces ns, Host[] pair, Setup setup, Transfer transfer, Path work,
            Map<Long, String> downloadSha, Map<Long, String> uploadSha) {
        long bytes = plan.bytes(setup);
        Duration timeout = timeout(setup, bytes);
        Host a = pair[0];
        Host b = pair[1];
        try {
            ToolOutput.Transfer done = switch (transfer) {
                case INTERNET_DOWN -> HttpTransfers.download(ns, a.namespace(), "http://" + SERVER + "/d" + bytes
                        + ".bin", work.resolve("got-" + a.namespace()), bytes, downloadSha.get(bytes), timeout);
                case INTERNET_UP -> HttpTransfers.upload(ns, a.namespace(), "http://" + SERVER + "/up",
                        work.resolve("u" + bytes + ".bin"), bytes, uploadSha.get(bytes),
                        work.resolve("answer-" + a.namespace()), timeout);
                case A_TO_B -> HttpTransfers.download(ns, b.namespace(), "http://" + a.address() + "/d" + bytes
                        + ".bin", work.resolve("got-" + b.namespace()), bytes, downloadSha.get(bytes), timeout);
                case B_TO_A -> HttpTransfers.upload(ns, b.namespace(), "http://" + a.address() + "/up",
                        work.resolve("u" + bytes + ".bin"), bytes, uploadSha.get(bytes),
                        work.resolve("answer-" + b.namespace()), timeout);
            };
            return new NatBench.Sample(done.megabitsPerSecond(), Double.NaN, Double.NaN, null);
        } catch (IOException | RuntimeException e) {
            return NatBench.Sample.failed(e.getMessage());
        }
    }

    private void record(Map<Setup, Map<Transfer, List<NatBench.Sample>>> samples, Setup setup, Transfer transfer,
            String when, NatBench.Sample sample) {
        samples.computeIfAbsent(setup, s -> new EnumMap<>(Transfer.class))
                .computeIfAbsent(transfer, t -> new ArrayList<>()).add(sample);
        print(when, setup, transfer, sample);
    }

    private void print(String when, Setup setup, Transfer transfer, NatBench.Sample sample) {
        log.printf(Locale.ROOT, "  %-8s %-17s %-24s %6.1f MB %s%n", when, setup.label, transfer.label,
                plan.bytes(setup) / 1048576.0, sample.ok()
                        ? String.format(Locale.ROOT, "%,8.1f Mbit/s, sha256 ok", sample.megabitsPerSecond())
                        : "FAILED: " + sample.error());
        log.flush();
    }

    /**
     * Stops every connector but {@code pinger}'s, and the impaired links, before the pings: off the pings' path, on a
     * machine of their own in the field, here they are idle JVMs whose housekeeping threads wake on the same two CPUs
     * as the relay and the pinging host's connector.
     */
    private void stopOffPath(Namespaces ns, Map<Setup, Host[]> hosts, Collection<Namespaces.Background> links,
            Host pinger) {
        int connectors = 0;
        for (Host[] pair : hosts.values()) {
            for (Host host : pair) {
                if (host != pinger) {
                    ns.stop(host.connector());
                    connectors++;
                }
            }
        }
        links.forEach(ns::stop);
        log.printf("  before the pings: stopped %d connectors and %d impaired links off their path%n", connectors,
                links.size());
        log.flush();
    }

    /**
     * Pings from host a (clean link) to the gateway through the relay, and to the relay's own address over the
     * plain veths its QUIC packets cross, idle and while host a downloads, then uploads, with iperf3 through its
     * connector; then the upload once more with the TAP's queue at Linux's default, as the baseline of the
     * connector's shorter one.
     */
    private List<PingRow> latency(Namespaces ns, Host a) {
        List<PingRow> rows = new ArrayList<>();
        rows.add(ping(ns, a, GATEWAY, "10.0.2.2", Load.IDLE));
        rows.add(ping(ns, a, PLAIN_VETH, RELAY_ADDRESS, Load.IDLE));
        long seconds = loadSeconds(2);
        for (Load load : List.of(Load.DOWNLOAD, Load.UPLOAD, Load.UPLOAD_TAP_QUEUE_1000)) {
            boolean defaultQueue = load == Load.UPLOAD_TAP_QUEUE_1000;
            if (defaultQueue) {
                ns.exec(a.namespace(), "ip", "link", "set", "eth0", "txqueuelen", "1000").orThrow();
            }
            try {
                rows.addAll(underLoad(ns, a.namespace(), "", load, seconds, () -> {
                    List<PingRow> loaded = new ArrayList<>(List.of(ping(ns, a, GATEWAY, "10.0.2.2", load)));
                    if (!defaultQueue) {
                        loaded.add(ping(ns, a, PLAIN_VETH, RELAY_ADDRESS, load));
                    }
                    return loaded;
                }));
            } finally {
                if (defaultQueue) {
                    ns.exec(a.namespace(), "ip", "link", "set", "eth0", "txqueuelen",
                            Integer.toString(TapDevice.TX_QUEUE_FRAMES)).orThrow();
                }
            }
        }
        return rows;
    }

    /**
     * How long an iperf3 load runs to outlast {@code series} ping series pinged one after another under it: half as
     * long again as the pings take, and 6 s for iperf3 to start.
     */
    private long loadSeconds(int series) {
        return (long) Math.ceil(series * plan.pings() * plan.pingIntervalSeconds() * 1.5) + 6;
    }

    /**
     * Runs {@code pings} while {@code namespace} downloads from or uploads to the internet server with iperf3 for
     * {@code seconds} ({@code via} names the way out, for the log and the error); fails when the load ended before the
     * pings did, since they were then not under load.
     */
    private static List<PingRow> underLoad(Namespaces ns, String namespace, String via, Load load, long seconds,
            Supplier<List<PingRow>> pings) {
        List<String> iperf = new ArrayList<>(List.of("iperf3", "-c", SERVER, "-t", Long.toString(seconds),
                "--connect-timeout", "5000"));
        if (load == Load.DOWNLOAD) {
            iperf.add("-R");
        }
        Namespaces.Background running = Iperf3Client.startLoad(ns, "iperf3 load" + via, namespace, iperf, 1500);
        try {
            List<PingRow> rows = pings.get();
            if (!running.isAlive()) {
                throw new IllegalStateException("the iperf3 " + load.label + " load" + via
                        + " ended before its pings: " + running.output());
            }
            return rows;
        } finally {
            ns.stop(running);
        }
    }

    /**
     * The floor of the ping through the relay ({@link PingFloor}): its gateway on the relay's address, its pump and TAP
     * in a host of its own on the bridge, so its datagrams cross the clean link as the relay's do; pinged after a
     * warm-up flood of its own, with the relay's bed idle; then once more, captured, into {@code legs}; then while
     * {@code a} downloads, then uploads, through the relay: the same load on the machine's CPUs as the relay's own
     * loaded pings meet, with none of it queued on the floor's path.
     */
    private List<PingRow> floorLatency(Namespaces ns, String relayNs, String link, Host a, List<LegsRow> legs) {
        String host = ns.add("floor");
        ns.veth(link, "f0", host, "up0", MTU);
        ns.exec(link, "ip", "link", "set", "f0", "master", "br0").orThrow();
        ns.exec(host, "ip", "address", "add", FLOOR_HOST_ADDRESS + "/24", "dev", "up0").orThrow();
        ns.exec(host, "ip", "route", "add", "198.19.0.0/24", "via", LINK_ADDRESS).orThrow();
        String gatewayAddress = RELAY_ADDRESS + ":" + FLOOR_PORT;
        Namespaces.Background gateway = RelayProcesses.startPingFloor(ns, "ping floor gateway", relayNs,
                List.of("gateway", gatewayAddress));
        Namespaces.Background pump = null;
        try {
            pump = RelayProcesses.startPingFloor(ns, "ping floor pump", host, List.of("pump", "eth0",
                    gatewayAddress));
            ns.exec(host, "ip", "address", "add", "10.0.2.99/24", "dev", "eth0").orThrow();
            Host floor = new Host(host, "10.0.2.99", pump);
            warmUpPingPath(ns, floor);
            List<PingRow> rows = new ArrayList<>(List.of(ping(ns, floor, FLOOR_GATEWAY, "10.0.2.2", Load.IDLE)));
            legs.add(capturedLegs(ns, floor, FLOOR_GATEWAY));
            long seconds = loadSeconds(1);
            for (Load load : List.of(Load.DOWNLOAD, Load.UPLOAD)) {
                rows.addAll(underLoad(ns, a.namespace(), " through the relay beside the ping floor", load, seconds,
                        () -> List.of(ping(ns, floor, FLOOR_GATEWAY, "10.0.2.2", load))));
            }
            return rows;
        } finally {
            if (pump != null) {
                ns.stop(pump);
            }
            ns.stop(gateway);
        }
    }

    /**
     * The baseline of the pings through the relay: a namespace whose only way out is slirp4netns (running in the
     * relay's namespace, the same route to the internet server), its gateway pinged idle and while it downloads, then
     * uploads, with iperf3 through slirp4netns. The relay's bed is idle meanwhile.
     */
    private List<PingRow> slirpLatency(Namespaces ns, String relayNs) {
        String vm = ns.add("slirp");
        Namespaces.Background slirp = ns.start("slirp4netns", relayNs, List.of("slirp4netns", "--configure",
                "--disable-host-loopback", "--mtu", Integer.toString(MTU), "--netns-type=path",
                Namespaces.path(vm).toString(), "tap0"));
        try {
            Host host = new Host(vm, "10.0.2.100", slirp);
            NatBench.awaitReachable(ns, vm);
            ns.exec(vm, "ip", "route", "replace", "default", "via", "10.0.2.2", "congctl", hostTcp).orThrow();
            List<PingRow> rows = new ArrayList<>();
            rows.add(ping(ns, host, SLIRP_GATEWAY, "10.0.2.2", Load.IDLE));
            long seconds = loadSeconds(1);
            for (Load load : List.of(Load.DOWNLOAD, Load.UPLOAD)) {
                rows.addAll(underLoad(ns, vm, " through slirp4netns", load, seconds,
                        () -> List.of(ping(ns, host, SLIRP_GATEWAY, "10.0.2.2", load))));
            }
            return rows;
        } finally {
            ns.stop(slirp);
        }
    }

    /**
     * Flood-pings the gateway from {@code host}, unmeasured: the transfers before ran the relay's and the connector's
     * bulk paths hot, but a fresh JVM's echo path is still interpreted or lightly compiled, and a relay that has run
     * for a while answers from compiled code. Without it the first series measured the JIT as much as the path.
     */
    private void warmUpPingPath(Namespaces ns, Host host) {
        CommandResult flood = ns.exec(host.namespace(), Duration.ofSeconds(WARM_UP_PING_SECONDS + 15), "ping", "-n",
                "-q", "-f", "-c", Integer.toString(WARM_UP_PINGS), "-w", Integer.toString(WARM_UP_PING_SECONDS),
                "10.0.2.2");
        String summary = flood.stdout().lines().filter(line -> line.contains("packets transmitted")).findFirst()
                .orElse(flood.describe());
        log.println("  ping path warm-up from " + host.namespace() + " (unmeasured flood to 10.0.2.2): " + summary);
        log.flush();
    }

    /**
     * One more idle series from {@code host} to 10.0.2.2, captured with dumpcap on its TAP (eth0) and its uplink
     * (up0), split into legs ({@link PingLegs}). A series of its own: the capture costs each packet a copy.
     */
    private LegsRow capturedLegs(Namespaces ns, Host host, String target) {
        Path dir;
        try {
            dir = Files.createTempDirectory("field-legs-");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        Path capture = dir.resolve("legs.pcapng");
        try {
            // -s and -f before the interfaces apply to both.
            Namespaces.Background dumpcap = ns.start("dumpcap " + host.namespace(), host.namespace(), List.of(
                    "dumpcap", "-s", "128", "-f", "icmp or host " + RELAY_ADDRESS, "-i", "eth0", "-i", "up0", "-w",
                    capture.toString()));
            PingRow row;
            try {
                dumpcap.awaitLine(Pattern.compile("^Capturing on"), Duration.ofSeconds(20));
                row = ping(ns, host, target + ", captured", "10.0.2.2", Load.IDLE);
            } finally {
                ns.stop(dumpcap);
            }
            CommandResult fields = NetnsTestBed.run(Duration.ofSeconds(60), "tshark",
                    "-n", "-r", capture.toString(), "-T", "fields", "-e", "frame.time_epoch", "-e",
                    "frame.interface_id", "-e", "ip.src", "-e", "ip.dst", "-e", "icmp.type").orThrow();
            PingLegs legs = PingLegs.parse(fields.stdout(), RELAY_ADDRESS);
            log.printf(Locale.ROOT, "  legs of %d captured pings %s: TAP to uplink %s, uplink out to in %s, uplink to"
                    + " TAP %s%n", legs.pings(), target, PingLegs.summary(legs.toWire()),
                    PingLegs.summary(legs.farEnd()), PingLegs.summary(legs.toTap()));
            log.flush();
            return new LegsRow(target, row.times(), legs);
        } finally {
            try {
                HttpTransfers.deleteTree(dir);
            } catch (IOException e) {
                log.println("  could not delete " + dir + ": " + e);
            }
        }
    }

    private PingRow ping(Namespaces ns, Host host, String target, String address, Load load) {
        Duration timeout = Duration.ofSeconds((long) (plan.pings() * plan.pingIntervalSeconds() * 3) + 15);
        CommandResult ping = ns.exec(host.namespace(), timeout, "ping", "-n", "-c",
                Integer.toString(plan.pings()), "-i", String.format(Locale.ROOT, "%.3f", plan.pingIntervalSeconds()),
                "-W", "2", address);
        PingTimes times = PingTimes.parse(ping.stdout(), plan.pings());
        log.printf(Locale.ROOT, "  ping %-32s %-17s %d/%d answered, p50 %.3f ms, p99 %.3f ms, max %.3f ms%n",
                target, load.label, times.answered(), times.sent(), times.percentile(50),
                times.percentile(99), times.max());
        log.flush();
        return new PingRow(target, load, times);
    }

    /** The link's last "up" and "down" counter lines (it prints them every second). */
    private static List<String> lastCounters(Namespaces.Background link) {
        String[] lines = link.output().split(" \\| ");
        List<String> last = new ArrayList<>();
        for (String direction : List.of("up", "down")) {
            for (int i = lines.length - 1; i >= 0; i--) {
                if (lines[i].startsWith("ImpairedLink counters " + direction + " ")) {
                    last.add(lines[i].substring("ImpairedLink counters ".length()));
                    break;
                }
            }
        }
        return last;
    }

    private String method() {
        return String.format(Locale.ROOT, "The relay runs in its own namespace; each connected host is a namespace "
                + "with its own `relay connect` and TAP, on a bridge in a \"link\" namespace that forwards to the "
                + "relay's veth (every veth and the bridge MTU 1500). The *clean link* crosses the kernel's "
                + "forwarding; the *internet* and *lossy* profiles cross an ImpairedLink process in the link "
                + "namespace (%s; %s; each direction); *all on loopback* runs the connectors in the relay's "
                + "namespace against 127.0.0.1, their TAPs moved into the hosts' namespaces. All hosts are on one "
                + "LAN of one relay. Host a serves HTTP; host b GETs a file from it (a → b) and PUTs one to it "
                + "(b → a); host a GETs from and PUTs to the internet server %s behind the relay's NAT; every "
                + "transfer is sha256-checked (curl's rate of the HTTP body). The hosts' and the server's TCP run "
                + "%s (set on their routes; `--host-tcp`). Loopback and the clean link: "
                + "one unmeasured warm-up round, then %d round(s) of %d MB each way, alternating which goes first; "
                + "median with min..max. Impaired profiles: %d round(s) of each transfer (host to host a → b "
                + "only) of %d MB (internet) and %s (lossy); median with min..max. Latency: first every other host's "
                + "connector and the impaired links are stopped (on one machine their idle JVMs would wake on the "
                + "same two CPUs; in the field each runs on a machine of its own), then an unmeasured "
                + "flood of %,d pings to 10.0.2.2 (a fresh "
                + "JVM's echo path is not compiled yet; a relay that has run a while answers from compiled code), "
                + "then %d pings %.0f ms apart (closer, ping busy-waits and takes a "
                + "core) from clean host a, to 10.0.2.2 (answered by the relay's gateway: TAP, connector, QUIC, "
                + "relay and back) and to the relay's address (the plain veths and "
                + "bridge the QUIC packets cross), idle and during an iperf3 download, then upload, through the same "
                + "connector, and once more during an upload with the TAP's transmit queue at Linux's default of 1000 "
                + "frames instead of the " + TapDevice.TX_QUEUE_FRAMES + " the connector keeps on a short path, "
                + "and once more idle with a capture on host a's TAP and uplink, to split each ping into its legs; "
                + "then, as the floor of that path, idle, the same ping after a warm-up flood of its own through "
                + "the *ping floor*: a host of its own on the bridge whose TAP a Java thread reads and sends, one "
                + "frame a plain UDP datagram (no QUIC, no crypto, no event loop), to a Java process on the relay's "
                + "address that answers ARP and ICMP echo for 10.0.2.2 in place, back to a second thread that writes "
                + "the TAP: the same links and three wake-ups a ping makes through the relay (and once more, "
                + "captured), and again while host a downloads, then uploads, with iperf3 through the relay: the "
                + "machine as loaded as for the relay's loaded pings, with nothing of the load queued on the floor's "
                + "path; "
                + "then, as the baseline of a user-space NAT, from a namespace whose only way out is slirp4netns "
                + "(`--configure --mtu 1500`, run in the relay's namespace) to its gateway 10.0.2.2, idle and during "
                + "an iperf3 download, then upload, through slirp4netns, the relay's bed idle meanwhile; "
                + "percentiles by nearest rank of the per-ping times. Stalls: one busy loop per CPU (pinned with "
                + "taskset) reads the clock for %.0f s, once before the bed starts and once with the bed idle just "
                + "before the pings; its gaps over %.1f ms are time the machine, or other work on it, took from a "
                + "process on that CPU. All on one machine with 2 cores.",
                describe(LinkProfile.INTERNET), describe(LinkProfile.LOSSY), SERVER,
                hostTcp.equals(DEFAULT_HOST_TCP) ? hostTcp + ", Linux's default" : hostTcp, plan.rounds(),
                plan.hostBytes() >> 20, plan.impairedRounds(), plan.internetBytes() >> 20,
                megabytes(plan.lossyBytes()), WARM_UP_PINGS,
                plan.pings(),
                plan.pingIntervalSeconds() * 1000, STALL_PROBE_SECONDS, MachineStalls.GAP_MILLIS);
    }

    /** "2 MB", or "0.5 MB" below one. */
    static String megabytes(long bytes) {
        return bytes >= 1L << 20 && bytes % (1L << 20) == 0 ? (bytes >> 20) + " MB"
                : String.format(Locale.ROOT, "%.1f MB", bytes / 1048576.0);
    }

    private static String describe(LinkProfile profile) {
        ImpairedLink.Impairment i = profile.impairment();
        return String.format(Locale.ROOT, "%s: %d ms%s one way, %.0f%% loss, %d Mbit/s, %d KiB queue",
                profile.cliName(), i.delay().toMillis(), i.jitter().isZero() ? "" : " ± " + i.jitter().toMillis()
                        + " ms", i.loss() * 100, i.bitsPerSecond() / 1_000_000, i.queueBytes() / 1024);
    }
}

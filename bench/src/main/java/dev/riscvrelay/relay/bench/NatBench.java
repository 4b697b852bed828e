package dev.riscvrelay.relay.bench;

import dev.riscvrelay.relay.testbed.CommandResult;
import dev.riscvrelay.relay.testbed.NetnsTestBed;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * P2: bulk TCP and UDP from a namespace "VM" through a NAT to a test internet, the relay beside the NATs a user
 * would pick instead, all in one run, peers interleaved per round.
 *
 * <pre>
 *   vm-relay --TAP-- relay connect ==QUIC, veth MTU 1500==> relay ---+
 *   vm-slirp --TAP-- slirp4netns --------------------------------------+-- host 198.51.100.1 ---- inet 198.51.100.10
 *   vm-pasta --TAP-- pasta --------------------------------------------+   (default route)   203.0.113.10: HTTP, iperf3
 *   vm-pasta1500 --TAP-- pasta -m 1500 --------------------------------+
 * </pre>
 *
 * Every NAT runs in the "host" namespace, whose default route leads to the "internet" namespace; so all of them
 * reach the server the same way. {@code relay connect} runs in the relay VM's namespace and reaches the relay across
 * a 1500-MTU veth (198.18.0.2 -> 198.18.0.1), as a user's connector reaches a relay on another machine. Each VM downloads a file with curl (sha256-checked), uploads half as much (HTTP
 * PUT, the server hashes it), runs iperf3 TCP both ways and UDP at a fixed offered rate. The CPU time of each
 * NAT's processes (the relay and its connector together) is read from /proc around each transfer. Bounded: every
 * command has a timeout; everything is torn down at the end.
 */
public final class NatBench {

    public static final String SERVER = "203.0.113.10";
    public static final String RELAY = "relay";
    public static final String SLIRP = "slirp4netns";
    public static final String PASTA = "pasta";
    public static final String PASTA_1500 = "pasta -m 1500";
    /** The tools P2 runs; a missing one is named in the report. */
    public static final List<String> TOOLS = List.of("ip", "curl", "iperf3", "python3", "slirp4netns", "pasta");

    private static final String HOST_ADDRESS = "198.51.100.1";
    private static final String INET_ADDRESS = "198.51.100.10";
    /** The relay's and the VM's ends of the veth between them (the VM namespace's own link, not the TAP). */
    private static final String RELAY_ADDRESS = "198.18.0.1";
    private static final String CONNECTOR_ADDRESS = "198.18.0.2";
    private static final int LINK_MTU_BYTES = 1500;
    private static final int RELAY_PORT = 4433;
    private static final int RELAY_ADMIN_PORT = 9466;
    private static final int UDP_DATAGRAM = 1100;
    /**
     * Counter series of the relay worth showing beside its throughput: drops by reason, the TCP NAT's counters, link
     * recovery, datagrams copied, and answers sent past a waiting bulk.
     */
    private static final Pattern TELLING_SERIES = Pattern.compile(
            "^relay_(?:drops_total|nat_tcp_\\w+|recovery_\\w+|datagrams\\w*|answers_\\w+)\\S*\\s+([0-9.eE+]+)$");
    private static final Pattern LINK_MTU = Pattern.compile("\\bmtu (\\d+)");
    private static final Pattern ROUTE_DEV = Pattern.compile("\\bdev (\\S+)");

    /** What one run measures. */
    public record Plan(long downloadBytes, int rounds, int iperfSeconds, long udpBitsPerSecond, Path jfrDir) {
        public static Plan full() {
            return new Plan(200L << 20, 3, 5, 200_000_000L, null);
        }

        public static Plan quick() {
            return new Plan(20L << 20, 1, 2, 100_000_000L, null);
        }

        public long uploadBytes() {
            return downloadBytes / 2;
        }

        public Plan withJfr(Path dir) {
            return new Plan(downloadBytes, rounds, iperfSeconds, udpBitsPerSecond, dir);
        }
    }

    /** The measurements of P2, in report order. */
    public enum Test {
        DOWNLOAD("curl download"), UPLOAD("curl upload"), IPERF_DOWN("iperf3 TCP down"),
        IPERF_UP("iperf3 TCP up"), UDP_UP("iperf3 UDP up");

        public final String label;

        Test(String label) {
            this.label = label;
        }
    }

    /** One transfer: its rate, the NAT's CPU (100 = one core busy) and, for UDP, the loss; or why it failed. */
    public record Sample(double megabitsPerSecond, double peerCpuPercent, double lossPercent, String error) {
        public static Sample failed(String error) {
            return new Sample(Double.NaN, Double.NaN, Double.NaN, error);
        }

        public boolean ok() {
            return error == null;
        }
    }

    /** The samples of one measurement on one peer: median, min and max of those that succeeded. */
    public record Stat(List<Sample> samples) {
        public List<Sample> succeeded() {
            return samples.stream().filter(Sample::ok).toList();
        }

        public double median() {
            return median(succeeded().stream().mapToDouble(Sample::megabitsPerSecond).toArray());
        }

        public double min() {
            return succeeded().stream().mapToDouble(Sample::megabitsPerSecond).min().orElse(Double.NaN);
        }

        public double max() {
            return succeeded().stream().mapToDouble(Sample::megabitsPerSecond).max().orElse(Double.NaN);
        }

        public double cpuMedian() {
            return median(succeeded().stream().mapToDouble(Sample::peerCpuPercent).toArray());
        }

        public double lossMedian() {
            return median(succeeded().stream().mapToDouble(Sample::lossPercent).toArray());
        }

        public List<String> errors() {
            return samples.stream().filter(s -> !s.ok()).map(Sample::error).toList();
        }

        /** The median; of an even count, the mean of the middle two; NaN of none. */
        static double median(double[] values) {
            double[] sorted = java.util.Arrays.stream(values).filter(v -> !Double.isNaN(v)).sorted().toArray();
            if (sorted.length == 0) {
                return Double.NaN;
            }
            int mid = sorted.length / 2;
            return sorted.length % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
        }
    }

    /** One NAT: what it is, the MTU its VM got, and its measurements. */
    public record PeerResult(String peer, String description, int vmMtu, Map<Test, Stat> stats) {
        public Stat stat(Test test) {
            return stats.getOrDefault(test, new Stat(List.of()));
        }
    }

    /** @param notes peers that could not run, and why */
    public record Results(Plan plan, List<PeerResult> peers, String method, List<String> notes,
            List<Path> recordings, List<String> relayCounters) {
        public java.util.Optional<PeerResult> peer(String name) {
            return peers.stream().filter(p -> p.peer().equals(name)).findFirst();
        }
    }

    /** The ratio of the relay's median to a baseline's for one measurement; NaN when either is missing. */
    public static double ratio(Results results, Test test, String baseline) {
        double relay = results.peer(RELAY).map(p -> p.stat(test).median()).orElse(Double.NaN);
        double base = results.peer(baseline).map(p -> p.stat(test).median()).orElse(Double.NaN);
        return relay / base;
    }

    /** What one tool reported: its rate, how long the transfer took by its own clock, the loss (NaN for TCP). */
    private record Measured(double megabitsPerSecond, double seconds, double lossPercent) {
    }

    /** A running NAT and the VM namespace behind it. */
    private record Peer(String name, String description, String vm, List<Namespaces.Background> processes) {
        long cpuTicks() {
            long ticks = 0;
            for (Namespaces.Background process : processes) {
                ticks += process.cpuTicks();
            }
            return ticks;
        }
    }

    private final Plan plan;
    private final PrintWriter log;

    public NatBench(Plan plan, PrintWriter log) {
        this.plan = plan;
        this.log = log;
    }

    public Results run() throws Exception {
        List<String> missing = Namespaces.missingTools(TOOLS.toArray(String[]::new));
        List<String> essential = missing.stream().filter(t -> !t.equals("slirp4netns") && !t.equals("pasta")).toList();
        if (!essential.isEmpty()) {
            throw new IllegalStateException("P2 needs " + String.join(", ", essential)
                    + " (scripts/install-test-deps.sh installs them)");
        }
        List<String> notes = new ArrayList<>();
        Path work = HttpTransfers.workDirectory("rrb-p2-");
        try (Namespaces ns = Namespaces.create()) {
            Path site = Files.createDirectories(work.resolve("site"));
            Path downloadFile = site.resolve("down.bin");
            Path uploadFile = work.resolve("up.bin");
            String downloadSha = HttpTransfers.writeRandom(downloadFile, plan.downloadBytes(), 1);
            String uploadSha = HttpTransfers.writeRandom(uploadFile, plan.uploadBytes(), 2);

            String host = ns.add("host");
            String inet = ns.add("inet");
            ns.veth(host, "up0", inet, "eth0");
            ns.exec(host, "ip", "address", "add", HOST_ADDRESS + "/24", "dev", "up0").orThrow();
            ns.exec(host, "ip", "route", "add", "default", "via", INET_ADDRESS).orThrow();
            ns.exec(inet, "ip", "address", "add", INET_ADDRESS + "/24", "dev", "eth0").orThrow();
            ns.exec(inet, "ip", "address", "add", SERVER + "/32", "dev", "lo").orThrow();
            HttpTransfers.startServer(ns, "http", inet, SERVER, site, work);
            Namespaces.Background iperf = ns.start("iperf3", inet, List.of("iperf3", "-s", "-B", SERVER));
            HttpTransfers.awaitListening(ns, inet, SERVER + ":5201", iperf);

            List<Peer> peers = new ArrayList<>();
            List<Path> recordings = new ArrayList<>();
            startPeer(notes, peers, () -> startRelay(ns, host, recordings));
            if (missing.contains("slirp4netns")) {
                notes.add("slirp4netns not measured: not installed (apt-get install slirp4netns)");
            } else {
                startPeer(notes, peers, () -> startSlirp(ns, host));
            }
            if (missing.contains("pasta")) {
                notes.add("pasta not measured: not installed (apt-get install passt)");
            } else {
                startPeer(notes, peers, () -> startPasta(ns, host, PASTA, "pasta", List.of()));
                startPeer(notes, peers, () -> startPasta(ns, host, PASTA_1500, "pasta1500", List.of("-m", "1500")));
            }

            Map<String, Map<Test, List<Sample>>> samples = new LinkedHashMap<>();
            Map<String, Integer> mtus = new LinkedHashMap<>();
            for (Peer peer : peers) {
                samples.put(peer.name(), new EnumMap<>(Test.class));
                mtus.put(peer.name(), vmMtu(ns, peer.vm()));
                log.printf("  %s: VM MTU %d%n", peer.name(), mtus.get(peer.name()));
            }
            for (Peer peer : peers) {
                // One unmeasured round each: the relay's JIT compiles its data paths during the first transfers
                // (a long-running relay is past that), and every peer gets the same start.
                for (Test test : Test.values()) {
                    Sample warmUp = measure(ns, peer, test, work, downloadSha, uploadSha, uploadFile);
                    log.printf(Locale.ROOT, "  warm-up %-14s %-16s %s%n", peer.name(), test.label, warmUp.ok()
                            ? String.format(Locale.ROOT, "%,8.0f Mbit/s (not counted)", warmUp.megabitsPerSecond())
                            : "FAILED: " + warmUp.error());
                }
            }
            for (int round = 1; round <= plan.rounds(); round++) {
                for (Peer peer : peers) {
                    Map<Test, List<Sample>> mine = samples.get(peer.name());
                    for (Test test : Test.values()) {
                        Sample sample = measure(ns, peer, test, work, downloadSha, uploadSha, uploadFile);
                        mine.computeIfAbsent(test, t -> new ArrayList<>()).add(sample);
                        log.printf(Locale.ROOT, "  round %d %-14s %-16s %s%n", round, peer.name(), test.label,
                                sample.ok() ? String.format(Locale.ROOT, "%,8.0f Mbit/s, CPU %3.0f%%%s",
                                        sample.megabitsPerSecond(), sample.peerCpuPercent(),
                                        Double.isNaN(sample.lossPercent()) ? ""
                                                : String.format(Locale.ROOT, ", loss %.2f%%", sample.lossPercent()))
                                        : "FAILED: " + sample.error());
                        log.flush();
                    }
                }
            }
            List<PeerResult> results = new ArrayList<>();
            for (Peer peer : peers) {
                Map<Test, Stat> stats = new EnumMap<>(Test.class);
                samples.get(peer.name()).forEach((test, list) -> stats.put(test, new Stat(List.copyOf(list))));
                results.add(new PeerResult(peer.name(), peer.description(), mtus.get(peer.name()), stats));
            }
            List<String> relayCounters = relayCounters(ns, host, RELAY_ADMIN_PORT);
            // Stop the relay and its connector first, so their flight recordings are written (on SIGTERM).
            for (Peer peer : peers) {
                for (Namespaces.Background process : peer.processes()) {
                    ns.stop(process);
                }
            }
            return new Results(plan, results, method(), notes, recordings.stream().filter(Files::exists).toList(),
                    relayCounters);
        } finally {
            HttpTransfers.deleteTree(work);
        }
    }

    /** The relay's non-zero drop, TCP NAT recovery and link recovery counters after the run (its /metrics), for the report. */
    static List<String> relayCounters(Namespaces ns, String namespace, int adminPort) {
        CommandResult scrape = ns.exec(namespace, Duration.ofSeconds(10), "curl", "-sS", "--fail", "--max-time",
                "5", "http://127.0.0.1:" + adminPort + "/metrics");
        if (!scrape.succeeded()) {
            return List.of("(the relay's /metrics could not be read: " + scrape.describeInOneLine() + ")");
        }
        List<String> telling = new ArrayList<>();
        for (String line : scrape.stdout().split("\n")) {
            Matcher m = TELLING_SERIES.matcher(line.strip());
            if (m.matches() && Double.parseDouble(m.group(1)) != 0) {
                telling.add(line.strip());
            }
        }
        return telling;
    }

    private interface PeerStarter {
        Peer start() throws Exception;
    }

    private void startPeer(List<String> notes, List<Peer> peers, PeerStarter starter) {
        try {
            Peer peer = starter.start();
            peers.add(peer);
            log.println("  " + peer.name() + " up: " + peer.description());
        } catch (Exception e) {
            notes.add("a peer did not start: " + e.getMessage());
            log.println("  a peer did not start: " + e.getMessage());
        }
        log.flush();
    }

    /**
     * The relay in the "host" namespace, bound to its end of a 1500-MTU veth; {@code relay connect} in the VM
     * namespace at the other end of it, bridging the VM's TAP: the connector crosses a real link, as on a user's
     * machine, and not loopback (MTU 65536) inside one namespace.
     */
    private Peer startRelay(Namespaces ns, String host, List<Path> recordings) {
        String vm = ns.add("vmrelay");
        ns.veth(host, "vm0", vm, "up0", LINK_MTU_BYTES);
        ns.exec(host, "ip", "address", "add", RELAY_ADDRESS + "/24", "dev", "vm0").orThrow();
        ns.exec(vm, "ip", "address", "add", CONNECTOR_ADDRESS + "/24", "dev", "up0").orThrow();
        RelayProcesses.Relay relay = RelayProcesses.startRelay(ns, host, jfr("relay", recordings), List.of("--bind",
                RELAY_ADDRESS, "--port", Integer.toString(RELAY_PORT), "--admin", "127.0.0.1:" + RELAY_ADMIN_PORT,
                "--allow", "203.0.113.0/24", "--dns", SERVER));
        RelayProcesses.Connector connector = RelayProcesses.startConnector(ns, "relay connect", vm,
                jfr("connector", recordings), "https://" + RELAY_ADDRESS + ":" + RELAY_PORT + "/",
                relay.certificateHash(), List.of("--tap", "eth0", "--tap-netns", Namespaces.path(vm).toString()));
        ns.exec(vm, "ip", "address", "add", "10.0.2.15/24", "dev", "eth0").orThrow();
        ns.exec(vm, "ip", "route", "add", "default", "via", "10.0.2.2").orThrow();
        awaitReachable(ns, vm);
        return new Peer(RELAY, "the relay (WebTransport over QUIC) in the host namespace and `relay connect` in "
                + "the VM's namespace, joined by a 1500-MTU veth; a TAP of MTU " + connector.tapMtu()
                + " (what one datagram carries), `--allow 203.0.113.0/24`", vm,
                List.of(connector.process(), relay.process()));
    }

    private List<String> jfr(String name, List<Path> recordings) {
        if (plan.jfrDir() == null) {
            return List.of();
        }
        Path file = plan.jfrDir().resolve("p2-" + name + ".jfr");
        recordings.add(file);
        return List.of("-XX:StartFlightRecording=filename=" + file + ",settings=profile,dumponexit=true");
    }

    private Peer startSlirp(Namespaces ns, String host) {
        String vm = ns.add("vmslirp");
        Namespaces.Background slirp = ns.start("slirp4netns", host, List.of("slirp4netns", "--configure",
                "--disable-host-loopback", "--mtu", "1500", "--netns-type=path", Namespaces.path(vm).toString(),
                "tap0"));
        awaitReachable(ns, vm);
        return new Peer(SLIRP, "slirp4netns `--configure --disable-host-loopback --mtu 1500` (its default MTU), "
                + slirpVersion(), vm, List.of(slirp));
    }

    private Peer startPasta(Namespaces ns, String host, String name, String role, List<String> extra) {
        String vm = ns.add("vm" + role);
        List<String> command = new ArrayList<>(List.of("pasta", "-f", "-q", "--runas", "0"));
        command.addAll(extra);
        command.addAll(List.of("--config-net", "--netns", Namespaces.path(vm).toString()));
        Namespaces.Background pasta = ns.start(name, host, command);
        awaitReachable(ns, vm);
        return new Peer(name, "pasta `" + String.join(" ", command.subList(1, command.size()))
                .replace(Namespaces.path(vm).toString(), "VM") + "` (" + passtVersion() + ")", vm, List.of(pasta));
    }

    /** Waits (bounded) until the VM reaches the server through its NAT: a short HTTP request that succeeds. */
    static void awaitReachable(Namespaces ns, String vm) {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        CommandResult last = null;
        while (System.nanoTime() < deadline) {
            last = ns.exec(vm, Duration.ofSeconds(5), "curl", "-sS", "--fail", "--max-time", "2", "-o", "/dev/null",
                    "http://" + SERVER + "/");
            if (last.succeeded()) {
                return;
            }
            HttpTransfers.sleep(200);
        }
        throw new IllegalStateException(vm + " cannot reach " + SERVER + " within 30 s: "
                + (last == null ? "" : last.describeInOneLine()));
    }

    private static int vmMtu(Namespaces ns, String vm) {
        Matcher dev = ROUTE_DEV.matcher(ns.exec(vm, "ip", "-o", "route", "show", "default").stdout());
        if (!dev.find()) {
            return -1;
        }
        Matcher mtu = LINK_MTU.matcher(ns.exec(vm, "ip", "-o", "link", "show", "dev", dev.group(1)).stdout());
        return mtu.find() ? Integer.parseInt(mtu.group(1)) : -1;
    }

    private Sample measure(Namespaces ns, Peer peer, Test test, Path work, String downloadSha, String uploadSha,
            Path uploadFile) {
        long ticksBefore = peer.cpuTicks();
        Measured measured;
        try {
            measured = switch (test) {
                case DOWNLOAD -> download(ns, peer, work, downloadSha);
                case UPLOAD -> upload(ns, peer, work, uploadFile, uploadSha);
                case IPERF_DOWN -> iperf(ns, peer, List.of("-R"));
                case IPERF_UP -> iperf(ns, peer, List.of());
                case UDP_UP -> iperf(ns, peer, List.of("-u", "-b", Long.toString(plan.udpBitsPerSecond()), "-l",
                        Integer.toString(UDP_DATAGRAM)));
            };
        } catch (RuntimeException | IOException e) {
            return Sample.failed(e.getMessage());
        }
        // Clock ticks are 1/100 s on Linux (USER_HZ). Divided by the transfer's own duration (the tool's clock, not
        // the command's, which includes starting curl and hashing): the NAT idles outside the transfer.
        double cpu = (peer.cpuTicks() - ticksBefore) / 100.0 / measured.seconds() * 100;
        return new Sample(measured.megabitsPerSecond(), cpu, measured.lossPercent(), null);
    }

    private Duration transferTimeout(long bytes) {
        // At least 30 s, and time for 2.5 MB/s: a stalled transfer ends as a failure, not a hung bench.
        return HttpTransfers.timeout(bytes, 2_500_000);
    }

    private Measured download(Namespaces ns, Peer peer, Path work, String expectedSha) throws IOException {
        ToolOutput.Transfer transfer = HttpTransfers.download(ns, peer.vm(), "http://" + SERVER + "/down.bin",
                work.resolve("got-" + peer.vm() + ".bin"), plan.downloadBytes(), expectedSha,
                transferTimeout(plan.downloadBytes()));
        return new Measured(transfer.megabitsPerSecond(), transfer.seconds(), Double.NaN);
    }

    private Measured upload(Namespaces ns, Peer peer, Path work, Path file, String expectedSha) throws IOException {
        ToolOutput.Transfer transfer = HttpTransfers.upload(ns, peer.vm(), "http://" + SERVER + "/up.bin", file,
                plan.uploadBytes(), expectedSha, work.resolve("answer-" + peer.vm() + ".txt"),
                transferTimeout(plan.uploadBytes()));
        return new Measured(transfer.megabitsPerSecond(), transfer.seconds(), Double.NaN);
    }

    private Measured iperf(Namespaces ns, Peer peer, List<String> extra) {
        List<String> command = new ArrayList<>(List.of("iperf3", "-c", SERVER, "-t",
                Integer.toString(plan.iperfSeconds()), "-J", "--connect-timeout", "5000"));
        command.addAll(extra);
        CommandResult result = Iperf3Client.run(ns, peer.vm(), Duration.ofSeconds(plan.iperfSeconds() + 25L),
                command);
        if (result.timedOut()) {
            throw new IllegalStateException(String.join(" ", command) + " timed out");
        }
        ToolOutput.Iperf iperf = ToolOutput.iperf3(result.stdout());
        return new Measured(iperf.megabitsPerSecond(), iperf.seconds(), iperf.lossPercent());
    }

    private String method() {
        return String.format(Locale.ROOT, "Each VM is a network namespace whose only way out is its NAT; every NAT "
                + "runs in one \"host\" namespace whose default route is a veth to an \"internet\" namespace with "
                + "an HTTP server (Python) and an iperf3 server at %s; `relay connect` runs in the relay VM's own "
                + "namespace and reaches the relay across a 1500-MTU veth (not loopback). Each peer first runs one unmeasured round (a "
                + "warm-up: the relay's JIT compiles its data paths; every peer gets the same). Per round and peer, "
                + "interleaved: curl downloads %d MB (sha256-checked), uploads %d MB by HTTP PUT (the server hashes "
                + "it), iperf3 TCP %d s towards the VM (-R) and from it, iperf3 UDP from the VM at %d Mbit/s "
                + "offered in %d-byte datagrams (the server's loss). %d round(s); median with min..max, since "
                + "slirp4netns and pasta stall now and then. *CPU* is the NAT's processes' CPU time (utime + stime "
                + "from /proc, the relay and its connector summed; 100 = one core) per wall second of the "
                + "transfer. All on one machine with 2 cores shared with the load (curl, the servers).", SERVER,
                plan.downloadBytes() >> 20, plan.uploadBytes() >> 20, plan.iperfSeconds(),
                plan.udpBitsPerSecond() / 1_000_000, UDP_DATAGRAM, plan.rounds());
    }

    private static String slirpVersion() {
        CommandResult version = NetnsTestBed.run(Duration.ofSeconds(5), List.of("slirp4netns", "--version"));
        return version.stdout().lines().map(String::strip)
                .filter(l -> l.startsWith("slirp4netns version") || l.startsWith("libslirp"))
                .reduce((a, b) -> a + ", " + b).orElse("version unknown");
    }

    /** pasta says "unknown version" when built from a snapshot (as Debian's is): ask the package then. */
    private static String passtVersion() {
        CommandResult version = NetnsTestBed.run(Duration.ofSeconds(5), List.of("pasta", "--version"));
        String line = (version.stdout() + version.stderr()).lines().map(String::strip).filter(l -> !l.isEmpty())
                .findFirst().orElse("");
        if (line.isEmpty() || line.contains("unknown")) {
            CommandResult dpkg = NetnsTestBed.run(Duration.ofSeconds(5),
                    List.of("dpkg-query", "-W", "-f", "${Version}", "passt"));
            return dpkg.succeeded() ? "passt " + dpkg.stdout().strip() : "version unknown";
        }
        return line;
    }
}

package dev.riscvrelay.relay.bench;

import dev.riscvrelay.relay.testbed.CommandResult;
import dev.riscvrelay.relay.testbed.FieldBed;
import dev.riscvrelay.relay.testbed.PingTimes;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The cluster part: host to host across two relays joined through NATS, against the same kind of hosts on one
 * relay, in the same run.
 *
 * <pre>
 *  link namespace: bridge br0 198.18.0.1/24 (every veth MTU 1500)
 *    relay r1 198.18.0.2  --cluster nats://198.18.0.4:4222 --relay-id r1
 *    relay r2 198.18.0.3  --cluster nats://198.18.0.4:4222 --relay-id r2
 *    nats     198.18.0.4  nats-server
 *    host a   198.18.0.10 relay connect to r1, TAP 10.0.2.21 (serves HTTP)
 *    host b   198.18.0.11 relay connect to r1, TAP 10.0.2.22   (one relay: a and b)
 *    host c   198.18.0.12 relay connect to r2, TAP 10.0.2.23   (two relays: a and c)
 * </pre>
 *
 * Each transfer is sha256-exact; the two paths alternate which goes first each round. The trunk's rate is each
 * relay's trunk frames (out plus in) per second of the cross-relay transfers, from its /metrics.
 */
public final class ClusterBench {

    /** The tools the cluster part runs. */
    public static final List<String> TOOLS = List.of("ip", "curl", "python3", "ping", "nats-server");

    private static final String NATS = "198.18.0.4";
    private static final int RELAY_PORT = 4433;
    private static final int RELAY_ADMIN_PORT = 9466;
    private static final int MTU = 1500;

    /** What one run measures: the transfer size, the rounds, pings per series. */
    public record Plan(long bytes, int rounds, int pings, double pingIntervalSeconds) {
        public static Plan full() {
            return new Plan(50L << 20, 3, 1000, PingTimes.SLEEPING_INTERVAL_SECONDS);
        }

        public static Plan quick() {
            return new Plan(10L << 20, 1, 200, PingTimes.SLEEPING_INTERVAL_SECONDS);
        }
    }

    /** The two ways hosts meet. */
    public enum Placement {
        ONE_RELAY("hosts on one relay"), TWO_RELAYS("hosts on two relays");

        public final String label;

        Placement(String label) {
            this.label = label;
        }
    }

    /** The transfers between host a (HTTP server) and the other host of the path. */
    public enum Transfer {
        GET("host a → other host (GET)"), PUT("other host → host a (PUT)");

        public final String label;

        Transfer(String label) {
            this.label = label;
        }
    }

    /** One relay's trunk during the cross-relay transfers: frames per second out and in, and messages out. */
    public record TrunkRate(String relay, double framesOutPerSecond, double framesInPerSecond,
            double framesPerMessage) {
    }

    public record Results(Plan plan, Map<Placement, Map<Transfer, NatBench.Stat>> transfers, Map<Placement, PingTimes> pings,
            List<TrunkRate> trunk, List<String> relayCounters, String method) {
        public NatBench.Stat stat(Placement path, Transfer transfer) {
            return transfers.getOrDefault(path, Map.of()).getOrDefault(transfer, new NatBench.Stat(List.of()));
        }

        /** Two relays' median over one relay's, for one direction; NaN when one is missing. */
        public double twoOverOne(Transfer transfer) {
            return stat(Placement.TWO_RELAYS, transfer).median() / stat(Placement.ONE_RELAY, transfer).median();
        }

        /** What the trunk adds to the ping time at {@code percentile}, in ms; NaN when a series is missing. */
        public double addedMillis(double percentile) {
            PingTimes one = pings.get(Placement.ONE_RELAY);
            PingTimes two = pings.get(Placement.TWO_RELAYS);
            return one == null || two == null ? Double.NaN : two.percentile(percentile) - one.percentile(percentile);
        }
    }

    /** A LAN host: its namespace, LAN address, the relay it is connected to. */
    private record Host(String namespace, String address, String relay) {
    }

    private final Plan plan;
    private final PrintWriter log;

    public ClusterBench(Plan plan, PrintWriter log) {
        this.plan = plan;
        this.log = log;
    }

    public Results run() throws Exception {
        List<String> missing = Namespaces.missingTools(TOOLS.toArray(String[]::new));
        if (!missing.isEmpty()) {
            throw new IllegalStateException("the cluster part needs " + String.join(", ", missing)
                    + " (scripts/install-test-deps.sh installs them)");
        }
        Path work = HttpTransfers.workDirectory("rrb-cluster-");
        try (Namespaces ns = Namespaces.create()) {
            Path site = Files.createDirectories(work.resolve("site"));
            String downloadSha = HttpTransfers.writeRandom(site.resolve("d.bin"), plan.bytes(), 5);
            String uploadSha = HttpTransfers.writeRandom(work.resolve("u.bin"), plan.bytes(), 6);

            String link = ns.add("link");
            // A fixed MAC: a bridge without one takes its lowest port's, and changes it as ports join.
            ns.exec(link, "ip", "link", "add", "br0", "address", FieldBed.ROUTER_MAC, "mtu", Integer.toString(MTU),
                    "type", "bridge").orThrow();
            ns.exec(link, "ip", "address", "add", "198.18.0.1/24", "dev", "br0").orThrow();
            ns.exec(link, "ip", "link", "set", "br0", "up").orThrow();
            String nats = join(ns, link, "nats", NATS);
            Namespaces.Background natsServer = ns.start("nats-server", nats, List.of("nats-server", "-a", NATS,
                    "-p", "4222", "-n", "bench"));
            HttpTransfers.awaitListening(ns, nats, NATS + ":4222", natsServer);

            Map<String, String> relays = new java.util.LinkedHashMap<>();
            Map<String, String> hashes = new java.util.HashMap<>();
            for (String id : List.of("r1", "r2")) {
                String address = "198.18.0." + (id.equals("r1") ? 2 : 3);
                String namespace = join(ns, link, id, address);
                RelayProcesses.Relay relay = RelayProcesses.startRelay(ns, namespace, List.of(), List.of("--bind",
                        "0.0.0.0", "--port", Integer.toString(RELAY_PORT), "--admin", "127.0.0.1:" + RELAY_ADMIN_PORT,
                        "--cluster", "nats://" + NATS + ":4222", "--relay-id", id));
                relay.process().awaitLine(java.util.regex.Pattern.compile("Cluster: relay " + id + " joined"),
                        Duration.ofSeconds(30));
                relays.put(id, namespace);
                hashes.put(id, relay.certificateHash());
            }

            List<Host> hosts = new ArrayList<>();
            List<Namespaces.Background> launched = new ArrayList<>();
            String[][] roles = {{"a", "r1"}, {"b", "r1"}, {"c", "r2"}};
            for (int i = 0; i < roles.length; i++) {
                String id = roles[i][1];
                String host = join(ns, link, roles[i][0], "198.18.0." + (10 + i));
                String relayAddress = "198.18.0." + (id.equals("r1") ? 2 : 3);
                launched.add(RelayProcesses.launchConnector(ns, "relay connect " + host, host, List.of(),
                        "https://" + relayAddress + ":" + RELAY_PORT + "/", hashes.get(id),
                        List.of("--tap", "eth0", "--tap-netns", Namespaces.path(host).toString())));
                hosts.add(new Host(host, "10.0.2." + (21 + i), id));
            }
            for (int i = 0; i < hosts.size(); i++) {
                RelayProcesses.awaitConnector(launched.get(i));
                Host host = hosts.get(i);
                ns.exec(host.namespace(), "ip", "address", "add", host.address() + "/24", "dev", "eth0").orThrow();
            }
            Host a = hosts.get(0);
            Map<Placement, Host> other = new EnumMap<>(Map.of(Placement.ONE_RELAY, hosts.get(1), Placement.TWO_RELAYS,
                    hosts.get(2)));
            HttpTransfers.startServer(ns, "http " + a.namespace(), a.namespace(), a.address(), site, work);
            for (Host host : other.values()) {
                awaitReachable(ns, host, a.address());
            }
            log.printf("  hosts up: a %s and b %s on r1, c %s on r2%n", a.address(), hosts.get(1).address(),
                    hosts.get(2).address());
            log.flush();

            Map<Placement, Map<Transfer, List<NatBench.Sample>>> samples = new EnumMap<>(Placement.class);
            for (Placement path : Placement.values()) {
                for (Transfer transfer : Transfer.values()) {
                    print("warm-up", path, transfer, measure(ns, a, other.get(path), transfer, work, downloadSha,
                            uploadSha));
                }
            }
            long[] trunkBefore = trunkCounters(ns, relays);
            double crossSeconds = 0;
            for (int round = 1; round <= plan.rounds(); round++) {
                List<Placement> order = round % 2 == 1 ? List.of(Placement.ONE_RELAY, Placement.TWO_RELAYS)
                        : List.of(Placement.TWO_RELAYS, Placement.ONE_RELAY);
                for (Placement path : order) {
                    for (Transfer transfer : Transfer.values()) {
                        long start = System.nanoTime();
                        NatBench.Sample sample = measure(ns, a, other.get(path), transfer, work, downloadSha,
                                uploadSha);
                        if (path == Placement.TWO_RELAYS) {
                            crossSeconds += (System.nanoTime() - start) / 1e9;
                        }
                        samples.computeIfAbsent(path, p -> new EnumMap<>(Transfer.class))
                                .computeIfAbsent(transfer, t -> new ArrayList<>()).add(sample);
                        print("round " + round, path, transfer, sample);
                    }
                }
            }
            long[] trunkAfter = trunkCounters(ns, relays);
            List<TrunkRate> trunk = new ArrayList<>();
            int r = 0;
            for (String id : relays.keySet()) {
                long out = trunkAfter[3 * r] - trunkBefore[3 * r];
                long messages = trunkAfter[3 * r + 1] - trunkBefore[3 * r + 1];
                long in = trunkAfter[3 * r + 2] - trunkBefore[3 * r + 2];
                trunk.add(new TrunkRate(id, out / crossSeconds, in / crossSeconds,
                        messages == 0 ? Double.NaN : (double) out / messages));
                log.printf(Locale.ROOT, "  trunk %s: %,.0f frames/s out, %,.0f frames/s in, %.1f frames a message%n",
                        id, out / crossSeconds, in / crossSeconds, messages == 0 ? Double.NaN : (double) out / messages);
                r++;
            }

            Map<Placement, PingTimes> pings = new EnumMap<>(Placement.class);
            for (Placement path : Placement.values()) {
                pings.put(path, ping(ns, a, other.get(path), path));
            }
            List<String> relayCounters = new ArrayList<>();
            for (Map.Entry<String, String> relay : relays.entrySet()) {
                for (String line : NatBench.relayCounters(ns, relay.getValue(), RELAY_ADMIN_PORT)) {
                    relayCounters.add(relay.getKey() + ": " + line);
                }
            }
            Map<Placement, Map<Transfer, NatBench.Stat>> stats = new EnumMap<>(Placement.class);
            samples.forEach((path, byTransfer) -> {
                Map<Transfer, NatBench.Stat> mine = new EnumMap<>(Transfer.class);
                byTransfer.forEach((transfer, list) -> mine.put(transfer, new NatBench.Stat(List.copyOf(list))));
                stats.put(path, mine);
            });
            return new Results(plan, stats, pings, trunk, relayCounters, method());
        } finally {
            HttpTransfers.deleteTree(work);
        }
    }

    /** A namespace for {@code role} on the link's bridge at {@code address}/24. */
    private static String join(Namespaces ns, String link, String role, String address) {
        String namespace = ns.add(role);
        ns.veth(link, "v" + role, namespace, "up0", MTU);
        ns.exec(link, "ip", "link", "set", "v" + role, "master", "br0").orThrow();
        ns.exec(namespace, "ip", "address", "add", address + "/24", "dev", "up0").orThrow();
        return namespace;
    }

    /** Each relay's trunk frames out, messages out and frames in, three longs a relay. */
    private static long[] trunkCounters(Namespaces ns, Map<String, String> relays) {
        long[] values = new long[3 * relays.size()];
        int r = 0;
        for (String namespace : relays.values()) {
            CommandResult scrape = ns.exec(namespace, Duration.ofSeconds(10), "curl", "-sS", "--fail", "--max-time",
                    "5", "http://127.0.0.1:" + RELAY_ADMIN_PORT + "/metrics").orThrow();
            values[3 * r] = sample(scrape.stdout(), "relay_trunk_frames_out_total");
            values[3 * r + 1] = sample(scrape.stdout(), "relay_trunk_messages_out_total");
            values[3 * r + 2] = sample(scrape.stdout(), "relay_trunk_frames_in_total");
            r++;
        }
        return values;
    }

    static long sample(String metrics, String series) {
        for (String line : metrics.split("\n")) {
            if (line.startsWith(series + " ")) {
                return (long) Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
            }
        }
        throw new IllegalStateException("no " + series + " in the relay's /metrics");
    }

    private static void awaitReachable(Namespaces ns, Host host, String address) {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        CommandResult last = null;
        while (System.nanoTime() < deadline) {
            last = ns.exec(host.namespace(), Duration.ofSeconds(10), "curl", "-sS", "--fail", "--max-time", "5",
                    "-o", "/dev/null", "http://" + address + "/");
            if (last.succeeded()) {
                return;
            }
            HttpTransfers.sleep(200);
        }
        throw new IllegalStateException(host.address() + " (on " + host.relay() + ") cannot fetch from " + address
                + " within 30 s: " + (last == null ? "" : last.describeInOneLine()));
    }

    private NatBench.Sample measure(Namespaces ns, Host a, Host other, Transfer transfer, Path work,
            String downloadSha, String uploadSha) {
        Duration timeout = HttpTransfers.timeout(plan.bytes(), 1_000_000);
        try {
            ToolOutput.Transfer done = switch (transfer) {
                case GET -> HttpTransfers.download(ns, other.namespace(), "http://" + a.address() + "/d.bin",
                        work.resolve("got-" + other.namespace()), plan.bytes(), downloadSha, timeout);
                case PUT -> HttpTransfers.upload(ns, other.namespace(), "http://" + a.address() + "/up",
                        work.resolve("u.bin"), plan.bytes(), uploadSha, work.resolve("answer-" + other.namespace()),
                        timeout);
            };
            return new NatBench.Sample(done.megabitsPerSecond(), Double.NaN, Double.NaN, null);
        } catch (IOException | RuntimeException e) {
            return NatBench.Sample.failed(e.getMessage());
        }
    }

    private void print(String when, Placement path, Transfer transfer, NatBench.Sample sample) {
        log.printf(Locale.ROOT, "  %-8s %-19s %-28s %s%n", when, path.label, transfer.label, sample.ok()
                ? String.format(Locale.ROOT, "%,8.1f Mbit/s, sha256 ok", sample.megabitsPerSecond())
                : "FAILED: " + sample.error());
        log.flush();
    }

    private PingTimes ping(Namespaces ns, Host from, Host to, Placement path) {
        Duration timeout = Duration.ofSeconds((long) (plan.pings() * plan.pingIntervalSeconds() * 3) + 15);
        CommandResult ping = ns.exec(from.namespace(), timeout, "ping", "-n", "-c", Integer.toString(plan.pings()),
                "-i", String.format(Locale.ROOT, "%.3f", plan.pingIntervalSeconds()), "-W", "2", to.address());
        PingTimes times = PingTimes.parse(ping.stdout(), plan.pings());
        log.printf(Locale.ROOT, "  ping %-19s %d/%d answered, p50 %.3f ms, p99 %.3f ms, max %.3f ms%n", path.label,
                times.answered(), times.sent(), times.percentile(50), times.percentile(99), times.max());
        log.flush();
        return times;
    }

    private String method() {
        return String.format(Locale.ROOT, "Two relays in their own namespaces, joined with `--cluster` through one "
                + "`nats-server` in a third; three hosts, each a namespace with its own `relay connect` and TAP: "
                + "hosts a and b connected to relay r1, host c to relay r2. Every namespace hangs off one bridge "
                + "(veths and bridge MTU 1500). *One relay* is a with b; *two relays* is a with c, every frame "
                + "crossing r1's trunk, NATS and r2's trunk. Host a serves HTTP; the other host GETs %d MB from it "
                + "and PUTs %d MB to it, sha256-checked; one unmeasured warm-up each, then %d round(s) alternating "
                + "which path goes first; median with min..max. Trunk rate: each relay's trunk frames out and in "
                + "(its /metrics) over the wall time of the two-relay transfers. Latency: %d pings %.0f ms apart "
                + "(closer, ping busy-waits and takes a core) from host a to the other host, idle; the added "
                + "latency is two relays' percentile minus one relay's. All on one machine with 2 cores.",
                plan.bytes() >> 20, plan.bytes() >> 20, plan.rounds(),
                plan.pings(), plan.pingIntervalSeconds() * 1000);
    }
}

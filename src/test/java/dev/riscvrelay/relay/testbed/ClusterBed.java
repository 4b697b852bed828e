package dev.riscvrelay.relay.testbed;

import dev.riscvrelay.relay.testbed.ImpairedLink.LinkProfile;
import dev.riscvrelay.relay.testbed.NetnsTestBed.Namespace;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BiFunction;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Three relays, each on its own field bed (its own namespace, clients across 1500-MTU veths, its own "internet"),
 * joined with {@code --cluster} through a three-node NATS cluster (Debian's nats-server, each node in its own
 * namespace on a 1500-MTU bridge with the relays). One host connects to each relay with {@code relay connect}
 * (static addresses 10.0.2.11, .12, .13: outside the DHCP pool, which in a cluster starts each client's search at
 * a place given by its MAC, so a lease could otherwise land on a host's address), and each relay's internet serves
 * {@code /who} on {@value FieldBed#INTERNET_HOST}:8080 ("internet of relay a", ...).
 *
 * <pre>
 *  bed a: host a -- relay a --+                       +-- nats1 198.18.Y.1
 *  bed b: host b -- relay b --+-- cluster bridge ------+-- nats2 198.18.Y.2
 *  bed c: host c -- relay c --+   (198.18.Y.0/24)      +-- nats3 198.18.Y.3
 *                  .10 .11 .12
 * </pre>
 *
 * Relays are reached from the root namespace (the test JVM, browsers) at their bed's {@link FieldBed#relayAddress},
 * and from the cluster bridge at 198.18.Y.(10+i). close() removes all of it, also after a failed start.
 */
public final class ClusterBed implements AutoCloseable {

    /** The NATS node configuration of the README's cluster recipe. */
    static final Path NATS_CONF = Path.of("deploy", "cluster", "nats.conf");


    public static final List<String> IDS = List.of("a", "b", "c");
    /** The last byte of host a's static address; b and c follow. Below the pool's first address, 10.0.2.15. */
    private static final int FIRST_HOST_ADDRESS = 11;
    private static final Pattern JOINED = Pattern.compile("Cluster: relay (\\S+) joined through nats://([0-9.]+):");

    private final List<FieldBed> beds = new ArrayList<>();
    private final List<LanHost> hosts = new ArrayList<>();
    private final List<Namespace> natsNodes = new ArrayList<>();
    private final List<Process> natsProcesses = new ArrayList<>();
    private Namespace clusterNet;
    private int y = -1;
    private int clusterPorts;
    private String servers;
    private Path scratch;

    private ClusterBed() {}

    /**
     * Builds the three beds and the NATS cluster, starts the relays ({@code --cluster ... --relay-id a|b|c --allow
     * 203.0.113.0/24}, then {@code extraRelayArgs.apply(i, bed)}, which may read every bed's addresses) and a host on
     * each, and waits until every relay has joined.
     */
    public static ClusterBed start(BiFunction<Integer, ClusterBed, List<String>> extraRelayArgs) throws Exception {
        ClusterBed cluster = new ClusterBed();
        try {
            cluster.build(extraRelayArgs);
            return cluster;
        } catch (Exception | Error e) {
            try {
                cluster.close();
            } catch (RuntimeException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
    }

    private void build(BiFunction<Integer, ClusterBed, List<String>> extraRelayArgs) throws Exception {
        NetnsTestBed.requireTools("ip", "socat", "curl", "python3", "busybox", "nats-server");
        for (int i = 0; i < 3; i++) {
            beds.add(FieldBed.create());
        }
        y = FieldBed.reserveSubnet();
        NetnsTestBed bed = beds.get(0).bed();
        clusterNet = bed.addNamespace("cnet");
        clusterNet.exec("ip", "link", "add", "br0", "mtu", "1500", "type", "bridge").orThrow();
        clusterNet.exec("ip", "link", "set", "br0", "up").orThrow();

        List<String> urls = new ArrayList<>();
        for (int n = 1; n <= 3; n++) {
            Namespace node = bed.addNamespace("nats" + n);
            joinClusterNet(node, natsAddress(n));
            natsNodes.add(node);
            urls.add("nats://" + natsAddress(n) + ":4222");
        }
        servers = String.join(",", urls);
        scratch = Files.createTempDirectory("cluster-nats-");
        for (int n = 1; n <= 3; n++) {
            natsProcesses.add(startNats(n));
        }
        for (int n = 1; n <= 3; n++) {
            natsNodes.get(n - 1).awaitListening("-ltn", natsAddress(n) + ":4222");
        }
        awaitJetStream();

        for (int i = 0; i < 3; i++) {
            FieldBed field = beds.get(i);
            joinClusterNet(field.relayNamespace(), clusterAddress(10 + i));
            Namespace internet = field.addInternet();
            Path site = Files.createTempDirectory(scratch, "site-" + IDS.get(i) + "-");
            Files.writeString(site.resolve("who"), "internet of relay " + IDS.get(i) + "\n");
            field.bed().startInBackground(internet, "python3", "-m", "http.server", "--bind", FieldBed.INTERNET_HOST,
                    "--directory", site.toString(), "8080");
            List<String> args = new ArrayList<>(List.of("--cluster", servers, "--relay-id", IDS.get(i),
                    "--allow", "203.0.113.0/24"));
            args.addAll(extraRelayArgs.apply(i, this));
            field.startRelay("cluster-" + IDS.get(i), args.toArray(String[]::new));
            internet.awaitListening("-ltn", FieldBed.INTERNET_HOST + ":8080");
            hosts.add(field.addLanHost("h" + IDS.get(i), "10.0.2." + (FIRST_HOST_ADDRESS + i), LinkProfile.CLEAN));
        }
        for (int i = 0; i < 3; i++) {
            if (joinedThrough(beds.get(i).relay()) == null) {
                throw new AssertionError("relay " + IDS.get(i) + " did not join; output:\n"
                        + String.join("\n", beds.get(i).relay().output()));
            }
        }
    }

    /** Field bed {@code i} (0: relay a, 1: relay b, 2: relay c). */
    public FieldBed bed(int i) {
        return beds.get(i);
    }

    /** The host connected to relay {@code i}, at 10.0.2.(11+i). */
    public LanHost host(int i) {
        return hosts.get(i);
    }

    /** The NATS URLs the relays were given, comma-separated. */
    public String servers() {
        return servers;
    }

    /** A temporary directory of this bed (NATS stores, scripts). */
    public Path scratch() {
        return scratch;
    }

    /** 198.18.Y.n on the cluster bridge: NATS node n for 1..3, relay i at 10+i. */
    public String clusterAddress(int n) {
        return "198.18." + y + "." + n;
    }

    /** NATS node {@code n} (1..3)'s address. */
    public String natsAddress(int n) {
        return clusterAddress(n);
    }

    /** NATS node {@code n} (1..3)'s namespace. */
    public Namespace natsNode(int n) {
        return natsNodes.get(n - 1);
    }

    /** Kills NATS node {@code n} (1..3) at once, as a crash would. */
    public void killNats(int n) throws InterruptedException {
        natsProcesses.get(n - 1).destroyForcibly().waitFor();
    }

    /** Starts NATS node {@code n} (1..3) again with its store. */
    public void restartNats(int n) {
        natsProcesses.set(n - 1, startNats(n));
    }

    /** A 1500-MTU veth from the cluster bridge into {@code namespace}, addressed {@code address}/24 there. */
    public void joinClusterNet(Namespace namespace, String address) {
        String port = "p" + (clusterPorts++);
        clusterNet.exec("ip", "link", "add", port, "mtu", "1500", "type", "veth", "peer", "name", "clu0", "mtu",
                "1500", "netns", namespace.name()).orThrow();
        clusterNet.exec("ip", "link", "set", port, "master", "br0", "up").orThrow();
        namespace.exec("ip", "address", "add", address + "/24", "dev", "clu0").orThrow();
        namespace.exec("ip", "link", "set", "clu0", "up").orThrow();
    }

    /**
     * NATS node {@code n} of the three, in its own namespace, started as the README's recipe starts one: from
     * deploy/cluster/nats.conf with its environment (its name, store directory and the three routes), only the
     * address it listens on given on the command line.
     */
    private Process startNats(int n) {
        List<String> command = new ArrayList<>(List.of("env", "NATS_NAME=nats" + n,
                "NATS_STORE_DIR=" + scratch.resolve("nats" + n)));
        for (int node = 1; node <= 3; node++) {
            command.add("NATS_ROUTE_" + node + "=nats-route://" + natsAddress(node) + ":6222");
        }
        command.addAll(List.of("nats-server", "-c", NATS_CONF.toAbsolutePath().toString(), "-a", natsAddress(n)));
        return beds.get(0).bed().startInBackground(natsNodes.get(n - 1), command.toArray(String[]::new));
    }

    /**
     * Waits until every node's JetStream is ready (its leader elected, which takes the new cluster a few seconds):
     * the relays then find their buckets at once, as in a cluster that has been up for a while.
     */
    private void awaitJetStream() throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        for (int n = 1; n <= 3; n++) {
            String url = "http://127.0.0.1:8222/healthz"; // nats.conf keeps monitoring local
            while (!natsNodes.get(n - 1).exec(Duration.ofSeconds(10), "curl", "-s", "--max-time", "5", url).stdout()
                    .contains("\"ok\"")) {
                if (System.nanoTime() > deadline) {
                    throw new AssertionError("JetStream of nats" + n + " not ready within 60 s");
                }
                Thread.sleep(250);
            }
        }
    }

    /** The NATS server address the relay said it joined through, or null. */
    public static String joinedThrough(RelayProcess relay) {
        for (String line : relay.output()) {
            Matcher m = JOINED.matcher(line);
            if (m.find()) {
                return m.group(2);
            }
        }
        return null;
    }

    public static long countLines(RelayProcess relay, Pattern pattern) {
        return relay.output().stream().filter(line -> pattern.matcher(line).find()).count();
    }

    public static void awaitLine(RelayProcess relay, Pattern pattern, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (countLines(relay, pattern) == 0) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("no line " + pattern + " within " + timeout + "; output:\n"
                        + String.join("\n", relay.output()));
            }
            Thread.sleep(100);
        }
    }

    /** A sample of the relay's /metrics; a series the relay does not export fails the test. */
    public static long metric(FieldBed field, String series) throws Exception {
        HttpResponse<String> response = HttpClient.newHttpClient().send(
                HttpRequest.newBuilder(URI.create(field.adminUrl("/metrics"))).timeout(Duration.ofSeconds(10))
                        .build(), HttpResponse.BodyHandlers.ofString());
        for (String line : response.body().split("\n")) {
            if (line.startsWith(series + " ") || line.startsWith(series + "{")) {
                String value = line.substring(line.lastIndexOf(' ') + 1);
                return (long) Double.parseDouble(value);
            }
        }
        throw new AssertionError("no " + series + " in /metrics");
    }

    private static void deleteRecursively(Path dir) {
        try (java.util.stream.Stream<Path> paths = Files.walk(dir)) {
            paths.sorted(java.util.Comparator.reverseOrder()).forEach(path -> path.toFile().delete());
        } catch (java.io.IOException | java.io.UncheckedIOException e) {
            // Best effort: a temporary directory.
        }
    }

    /** Ends every process and removes every namespace of the three beds (the NATS nodes live in bed a's). */
    @Override
    public void close() {
        RuntimeException first = null;
        for (FieldBed field : beds) {
            try {
                field.close();
            } catch (RuntimeException e) {
                if (first == null) {
                    first = e;
                } else {
                    first.addSuppressed(e);
                }
            }
        }
        if (y >= 0) {
            FieldBed.releaseSubnet(y);
            y = -1;
        }
        if (scratch != null) {
            deleteRecursively(scratch);
        }
        if (first != null) {
            throw first;
        }
    }
}

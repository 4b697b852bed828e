package dev.riscvrelay.relay.testbed;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Deque;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * Network namespaces, veth pairs and TAP devices for integration tests, torn down in {@link #close()} even after
 * a failure.
 *
 * <p>Every object this bed creates carries its run id: namespaces are {@code rr-<id>-<role>}, root-namespace
 * interface names {@code rr<id><suffix>} (≤ 15 bytes). Parallel runs do not collide, and leftovers of a crashed
 * run are recognisable: each run records its JVM's pid in {@code /run/rr-testbed/<id>}, and {@link #create()}
 * deletes {@code rr-*} namespaces whose run has no live pid any more.
 *
 * <p>Address plan: the virtual LAN is {@link #LAN} (gateway .2, guests from .15), the "internet" namespaces use
 * the documentation ranges {@link #INTERNET_A} and {@link #INTERNET_B} (RFC 5737), so no test traffic can leave
 * the machine.
 *
 * <p>Joining a host to the LAN through a TAP: the connector (this JVM, in the root namespace) creates and opens
 * the TAP, then {@link #moveLink} puts it into the host's namespace; the descriptor stays valid, but the move sets
 * the link down, so the host brings it up and addresses it there ({@link #configureLink}). The alternative,
 * {@code TapDevice.openInNamespace}, creates it inside the namespace directly.
 */
public final class NetnsTestBed implements AutoCloseable {

    public static final String LAN = "10.0.2.0/24";
    public static final String INTERNET_A = "198.51.100.0/24";
    public static final String INTERNET_B = "203.0.113.0/24";

    public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(20);

    private static final Path RUN_DIR = Path.of("/run/rr-testbed");
    private static final Path NETNS_DIR = Path.of("/run/netns");
    private static final String PREFIX = "rr-";

    private final String id;
    private final Path marker;
    private final List<Namespace> namespaces = new ArrayList<>();
    private final Deque<Process> background = new ArrayDeque<>();
    private final Deque<AutoCloseable> owned = new ArrayDeque<>();
    private final List<String> rootLinks = new ArrayList<>();
    private int nextLink;
    private boolean closed;
    /** Tears the bed down when the JVM is stopped (Ctrl-C on a bench, a killed test run) before {@link #close}. */
    private final Thread onExit;

    private NetnsTestBed(String id, Path marker) {
        this.id = id;
        this.marker = marker;
        this.onExit = new Thread(() -> {
            try {
                close();
            } catch (RuntimeException e) {
                System.err.println("test bed " + id + ": " + e.getMessage());
            }
        }, "testbed-" + id + "-teardown");
        Runtime.getRuntime().addShutdownHook(onExit);
    }

    /**
     * Starts a test bed: checks that we are root and {@code ip} exists (fails with a clear message otherwise),
     * removes leftovers of crashed runs, and records this run.
     */
    public static NetnsTestBed create() {
        if (!"root".equals(System.getProperty("user.name")) && !isRoot()) {
            throw new IllegalStateException("the namespace test bed needs root (ip netns, veth, TAP)");
        }
        requireTools("ip");
        removeStaleNamespaces();
        byte[] random = new byte[3];
        new SecureRandom().nextBytes(random);
        String id = HexFormat.of().formatHex(random);
        try {
            Files.createDirectories(RUN_DIR);
            Path marker = RUN_DIR.resolve(id);
            Files.writeString(marker, Long.toString(ProcessHandle.current().pid()));
            return new NetnsTestBed(id, marker);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot record the test bed run in " + RUN_DIR, e);
        }
    }

    /** Whether this process runs as root (uid 0), which namespaces, veths and TAPs need. */
    public static boolean isRoot() {
        try {
            return Files.readString(Path.of("/proc/self/status")).lines()
                    .filter(l -> l.startsWith("Uid:")).anyMatch(l -> l.split("\\s+")[2].equals("0"));
        } catch (IOException e) {
            return false;
        }
    }

    /** Fails with the package to install when a tool a test needs is missing. */
    public static void requireTools(String... tools) {
        List<String> missing = missingTools(tools);
        if (!missing.isEmpty()) {
            String tool = missing.getFirst();
            throw new IllegalStateException("test needs '" + tool + "' on PATH; install it: apt-get install -y "
                    + packageOf(tool));
        }
    }

    /** The tools of {@code tools} that are not on PATH (nor in /usr/sbin, /sbin). */
    public static List<String> missingTools(String... tools) {
        List<String> missing = new ArrayList<>();
        for (String tool : tools) {
            boolean found = Stream.of(System.getenv().getOrDefault("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
                            .split(":"), new String[] {"/usr/sbin", "/sbin"})
                    .flatMap(Arrays::stream)
                    .anyMatch(dir -> Files.isExecutable(Path.of(dir, tool)));
            if (!found) {
                missing.add(tool);
            }
        }
        return missing;
    }

    private static String packageOf(String tool) {
        return switch (tool) {
            case "ip", "tc", "bridge" -> "iproute2";
            case "ping" -> "iputils-ping";
            case "qemu-system-x86_64" -> "qemu-system-x86";
            default -> tool;
        };
    }

    /** Deletes {@code rr-*} namespaces whose run's JVM is gone (or never recorded itself). */
    public static void removeStaleNamespaces() {
        if (!Files.isDirectory(NETNS_DIR)) {
            return;
        }
        try (Stream<Path> entries = Files.list(NETNS_DIR)) {
            for (Path entry : entries.toList()) {
                String name = entry.getFileName().toString();
                if (!name.startsWith(PREFIX)) {
                    continue;
                }
                String[] parts = name.split("-", 3);
                if (parts.length < 2 || !runIsAlive(parts[1])) {
                    run(Duration.ofSeconds(10), "ip", "netns", "delete", name);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + NETNS_DIR, e);
        }
        try (Stream<Path> markers = Files.isDirectory(RUN_DIR) ? Files.list(RUN_DIR) : Stream.empty()) {
            for (Path stale : markers.filter(m -> !runIsAlive(m.getFileName().toString())).toList()) {
                Files.deleteIfExists(stale);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot clean " + RUN_DIR, e);
        }
    }

    private static boolean runIsAlive(String runId) {
        try {
            long pid = Long.parseLong(Files.readString(RUN_DIR.resolve(runId)).trim());
            return ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false);
        } catch (IOException | NumberFormatException e) {
            return false;
        }
    }

    public String id() {
        return id;
    }

    /** Creates namespace {@code rr-<id>-<role>} with its loopback up. */
    public Namespace addNamespace(String role) {
        if (!role.matches("[a-z0-9]{1,12}")) {
            throw new IllegalArgumentException("role must be 1-12 of [a-z0-9]: " + role);
        }
        Namespace namespace = new Namespace(this, PREFIX + id + "-" + role);
        run(DEFAULT_TIMEOUT, "ip", "netns", "add", namespace.name()).orThrow();
        namespaces.add(namespace);
        namespace.exec("ip", "link", "set", "lo", "up").orThrow();
        return namespace;
    }

    /** A fresh root-namespace interface name {@code rr<id><letter><n>}, unique within this run. */
    public String newLinkName(char kind) {
        String name = "rr" + id + kind + nextLink++;
        rootLinks.add(name);
        return name;
    }

    /**
     * Connects two namespaces with a veth pair: {@code nameA} in {@code a}, {@code nameB} in {@code b}; both up.
     * Interface names are per namespace, so {@code "eth0"} may be used in each.
     */
    public void addVethPair(Namespace a, String nameA, Namespace b, String nameB) {
        a.exec("ip", "link", "add", nameA, "type", "veth", "peer", "name", nameB, "netns", b.name()).orThrow();
        a.exec("ip", "link", "set", nameA, "up").orThrow();
        b.exec("ip", "link", "set", nameB, "up").orThrow();
    }

    /** Creates a persistent TAP inside {@code namespace} (for peers that open it themselves, e.g. QEMU). */
    public void addTap(Namespace namespace, String name) {
        namespace.exec("ip", "tuntap", "add", "dev", name, "mode", "tap").orThrow();
    }

    /** Moves a root-namespace link (e.g. a TAP this JVM holds open) into {@code namespace}, renaming it. */
    public void moveLink(String rootName, Namespace namespace, String newName) {
        run(DEFAULT_TIMEOUT, "ip", "link", "set", "dev", rootName, "netns", namespace.name(), "name", newName)
                .orThrow();
    }

    /** Sets MTU, address (CIDR) and brings the link up inside {@code namespace}. */
    public void configureLink(Namespace namespace, String link, int mtu, String addressCidr) {
        namespace.exec("ip", "link", "set", "dev", link, "mtu", Integer.toString(mtu), "up").orThrow();
        namespace.exec("ip", "address", "add", addressCidr, "dev", link).orThrow();
    }

    /**
     * A host on the relay's LAN: namespace {@code rr-<id>-<role>} whose {@code eth0} is a TAP that a
     * {@code relay connect} process bridges to {@code relay}, addressed {@code address}/24 (static until the
     * gateway has DHCP) with a default route via the gateway 10.0.2.2. close() ends the connector before the
     * namespace goes.
     */
    public LanHost addLanHost(String role, String address, ConnectorProcess.RelayEndpoint relay, String... extraArgs)
            throws IOException {
        Namespace namespace = addNamespace(role);
        ConnectorProcess connector = ConnectorProcess.tapInNamespace(role, relay, namespace.path(), "eth0",
                extraArgs);
        owned.push(connector);
        namespace.exec("ip", "address", "add", address + "/24", "dev", "eth0").orThrow();
        namespace.exec("ip", "route", "add", "default", "via", "10.0.2.2").orThrow();
        return new LanHost(namespace, address, connector);
    }

    /** Closes {@code resource} in close(), before background processes end and namespaces go. */
    public <T extends AutoCloseable> T own(T resource) {
        owned.push(resource);
        return resource;
    }

    /** Starts a long-running command inside {@code namespace}; close() ends it. */
    public Process startInBackground(Namespace namespace, String... command) {
        List<String> full = new ArrayList<>(List.of("ip", "netns", "exec", namespace.name()));
        full.addAll(List.of(command));
        try {
            Process process = new ProcessBuilder(full).redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            background.push(process);
            return process;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start " + full, e);
        }
    }

    /** Runs a command in the root namespace, killing it after {@code timeout}. */
    public static CommandResult run(Duration timeout, String... command) {
        return run(timeout, List.of(command));
    }

    /** Runs a command in the root namespace, killing it (and its children) after {@code timeout}. */
    public static CommandResult run(Duration timeout, List<String> command) {
        Path out = null;
        Path err = null;
        try {
            out = Files.createTempFile("rr-cmd", ".out");
            err = Files.createTempFile("rr-cmd", ".err");
            // Output goes to files, not pipes, so a chatty command cannot block on a full pipe.
            Process process = new ProcessBuilder(command).redirectOutput(out.toFile()).redirectError(err.toFile())
                    .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
            boolean finished = process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
            if (!finished) {
                process.descendants().forEach(ProcessHandle::destroyForcibly);
                process.destroyForcibly();
                process.waitFor(5, TimeUnit.SECONDS);
            }
            return new CommandResult(command, finished ? process.exitValue() : -1, !finished,
                    Files.readString(out, StandardCharsets.UTF_8), Files.readString(err, StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot run " + command, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while running " + command, e);
        } finally {
            deleteQuietly(out);
            deleteQuietly(err);
        }
    }

    private static void deleteQuietly(Path path) {
        if (path != null) {
            try {
                Files.deleteIfExists(path);
            } catch (IOException ignored) {
                // a temp file left behind is harmless
            }
        }
    }

    /**
     * Ends background processes, deletes every namespace (which destroys the veths and TAPs inside) and any
     * root-namespace link of this run that is left, and forgets the run. Runs every step even if one fails.
     */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        if (Thread.currentThread() != onExit) {
            try {
                Runtime.getRuntime().removeShutdownHook(onExit);
            } catch (IllegalStateException e) {
                // The JVM is stopping: the hook runs next and finds the bed closed.
            }
        }
        List<String> problems = new ArrayList<>();
        while (!owned.isEmpty()) {
            try {
                owned.pop().close();
            } catch (Exception e) {
                problems.add("closing a resource failed: " + e);
            }
        }
        while (!background.isEmpty()) {
            Process process = background.pop();
            process.descendants().forEach(ProcessHandle::destroy);
            process.destroy();
            try {
                if (!process.waitFor(5, TimeUnit.SECONDS)) {
                    process.descendants().forEach(ProcessHandle::destroyForcibly);
                    process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        for (Namespace namespace : namespaces.reversed()) {
            CommandResult result = run(Duration.ofSeconds(10), "ip", "netns", "delete", namespace.name());
            if (!result.succeeded()) {
                problems.add(result.describe());
            }
        }
        for (String link : rootLinks) {
            // Links still in the root namespace (a TAP not moved, whose owner leaked it persistent) are removed.
            if (run(Duration.ofSeconds(5), "ip", "link", "show", "dev", link).succeeded()) {
                run(Duration.ofSeconds(5), "ip", "link", "delete", "dev", link);
            }
        }
        for (Namespace namespace : namespaces) {
            Path etc = Path.of("/etc/netns", namespace.name());
            deleteQuietly(etc.resolve("resolv.conf"));
            deleteQuietly(etc);
        }
        deleteQuietly(marker);
        if (!problems.isEmpty()) {
            throw new IllegalStateException("test bed teardown incomplete:\n" + String.join("\n", problems));
        }
    }

    /** One network namespace of the bed. */
    public static final class Namespace {
        private final NetnsTestBed bed;
        private final String name;

        private Namespace(NetnsTestBed bed, String name) {
            this.bed = bed;
            this.name = name;
        }

        public String name() {
            return name;
        }

        /** The namespace's bind-mounted file, for setns(2) or tools that take a path. */
        public Path path() {
            return NETNS_DIR.resolve(name);
        }

        public CommandResult exec(String... command) {
            return exec(DEFAULT_TIMEOUT, command);
        }

        /** Runs {@code command} inside this namespace ({@code ip netns exec}), killing it after {@code timeout}. */
        public CommandResult exec(Duration timeout, String... command) {
            List<String> full = new ArrayList<>(List.of("ip", "netns", "exec", name));
            full.addAll(List.of(command));
            return run(timeout, full);
        }

        /**
         * Polls until {@code device} holds a global IPv6 address (e.g. from SLAAC) that passed duplicate address
         * detection; returns it with its prefix length.
         */
        public String awaitGlobalIpv6(String device, Duration timeout) throws InterruptedException {
            return awaitIpv6(device, "global", timeout);
        }

        /**
         * Waits (bounded) until {@code device} has an IPv6 address of {@code scope} ("global", "link") that duplicate
         * address detection is done with; returns it (ADDR/LEN).
         */
        public String awaitIpv6(String device, String scope, Duration timeout) throws InterruptedException {
            long deadline = System.nanoTime() + timeout.toNanos();
            String shown = "";
            java.util.regex.Pattern address = java.util.regex.Pattern.compile("inet6 (\\S+) scope " + scope);
            while (System.nanoTime() < deadline) {
                shown = exec("ip", "-6", "-o", "addr", "show", "dev", device, "scope", scope).orThrow().stdout();
                java.util.regex.Matcher matcher = address.matcher(shown);
                if (matcher.find() && !shown.contains("tentative")) {
                    return matcher.group(1);
                }
                Thread.sleep(200);
            }
            throw new AssertionError("no " + scope + " IPv6 address on " + device + " within " + timeout + ": "
                    + shown);
        }

        /**
         * Gives the namespace its own, empty /etc/resolv.conf ({@code ip netns exec} bind-mounts
         * /etc/netns/NAME/resolv.conf over the host's), so DHCP client scripts write there and not to the host's.
         * Removed with the bed.
         */
        public Namespace privateResolvConf() {
            try {
                Path dir = Files.createDirectories(Path.of("/etc/netns", name));
                Files.writeString(dir.resolve("resolv.conf"), "");
            } catch (IOException e) {
                throw new UncheckedIOException("cannot give " + name + " its own resolv.conf", e);
            }
            return this;
        }

        public NetnsTestBed bed() {
            return bed;
        }

        /**
         * Waits (bounded, 20 s) until {@code ss -H ssFlags} in this namespace shows a socket on
         * {@code addressAndPort} (e.g. {@code "-ltn", "203.0.113.10:80"}).
         */
        public void awaitListening(String ssFlags, String addressAndPort) throws InterruptedException {
            long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
            while (System.nanoTime() < deadline) {
                if (exec("ss", "-H", ssFlags).stdout().contains(addressAndPort)) {
                    return;
                }
                Thread.sleep(100); // a server starting in another process; bounded by the deadline
            }
            throw new AssertionError("nothing listens on " + addressAndPort + " in " + this);
        }

        @Override
        public String toString() {
            return name;
        }
    }
}

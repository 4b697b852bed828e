package dev.riscvrelay.relay.testbed;

import dev.riscvrelay.relay.testbed.ImpairedLink.LinkProfile;
import dev.riscvrelay.relay.testbed.NetnsTestBed.Namespace;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;

/**
 * The relay where users meet it: in its own namespace, across 1500-MTU links, optionally behind an impaired link.
 * Loopback (MTU 65536) hides what a real path does to full-size QUIC packets; this bed does not.
 *
 * <pre>
 *  root namespace (test JVM, browsers)        link namespace                       relay namespace
 *   rr&lt;id&gt;f0 198.18.X.2/24 ---veth---  br0 198.18.X.1/24  (bridge)
 *                                          relay0 198.19.X.1/24 -------veth------- eth0 198.19.X.2/24
 *  client namespace cN (relay connect)      ip_forward=1 (clean)                    relay :4433, admin :N
 *   up0 198.18.X.(10+n)/24 ----veth---- br0 port                                  inet0 198.51.100.1/24 --+
 *   eth0 (TAP) 10.0.2.x/24, default via 10.0.2.2  ImpairedLink 198.18.X.1:4434 (internet)     internet ns |
 *                                              ImpairedLink 198.18.X.1:4435 (lossy)   198.51.100.10/24 ---+
 *                                                                                     203.0.113.10, .53 on lo
 * </pre>
 *
 * IPv6 beside it: the clients' side is 2001:db8:18:X::/64 (bridge ::1, root ::2, client n ::(10+n) in decimal
 * digits), the relay's 2001:db8:19:X::/64 (link ::1, relay ::2), routed by the link namespace like IPv4, addresses
 * added without duplicate address detection so they work at once; {@link #startRelayOnIpv6} binds the relay there.
 *
 * <p>Every veth end and the bridge have MTU 1500, set explicitly. The root namespace and client namespaces route
 * 198.19.X.0/24 via the link namespace; the relay routes 198.18.X.0/24 back, and has no default route, so a VM
 * reaches nothing outside the bed. {@link LinkProfile#CLEAN} clients talk to the relay's own address through the
 * kernel's forwarding; {@link LinkProfile#INTERNET} and {@link LinkProfile#LOSSY} clients talk to an
 * {@link LinkProxyProcess} in the link namespace, which gives each client its own socket toward the relay.
 *
 * <p>X is picked per bed (random, not used by any root-namespace address or route, nor by another bed of this JVM),
 * all within 198.18.0.0/15 (RFC 2544 benchmarking): this host's eth0 may sit in 192.0.2.0/24, so never that.
 * Namespaces and root links follow {@link NetnsTestBed}'s run-id naming, so a crashed run's leftovers go with its
 * namespaces (deleting the link namespace deletes the root veth end and its routes with it).
 */
public final class FieldBed implements AutoCloseable {

    public static final int MTU = 1500;
    /** The link namespace's bridge (the clients' router), locally administered. */
    public static final String ROUTER_MAC = "02:72:72:00:00:01";
    public static final int RELAY_PORT = 4433;
    /** Where the relay reaches the "internet" namespace ({@link #addInternet}). */
    public static final String INTERNET_PEER = "198.51.100.10";
    public static final String INTERNET_HOST = "203.0.113.10";
    public static final String INTERNET_RESOLVER = "203.0.113.53";
    /** The IPv6 "internet" ({@link #addInternet6}): its peer on the link to the relay, and a host behind it. */
    public static final String INTERNET6_PEER = "2001:db8:ff::10";
    public static final String INTERNET6_HOST = "2001:db8:1::10";
    /** The prefix {@link #INTERNET6_HOST} is routed in: start the relay with {@code --allow} for it. */
    public static final String INTERNET6_PREFIX = "2001:db8:1::/48";
    /** An ImpairedLink process ends by itself after this even if the bed never closes it (a killed JVM). */
    private static final long PROXY_MAX_SECONDS = 3600;

    private static final Set<Integer> SUBNETS_IN_USE = ConcurrentHashMap.newKeySet();

    private final NetnsTestBed bed;
    private final int x;
    private final Namespace link;
    private final Namespace relayNamespace;
    private final Map<LinkProfile, LinkProxyProcess> proxies = new EnumMap<>(LinkProfile.class);
    private String rootLink;
    private RelayProcess relay;
    private RelayProcess stoppedRelay;
    private RelayProcess.Binding relayBinding;
    private List<String> relayWrapper = List.of();
    private List<String> relayArgs = List.of();
    private Namespace internet;
    private Namespace internet6;
    private int clients;
    private boolean closed;

    private FieldBed(NetnsTestBed bed, int x) {
        this.bed = bed;
        this.x = x;
        this.link = bed.addNamespace("link");
        this.relayNamespace = bed.addNamespace("relay");
    }

    /** Builds root — link — relay with 1500-MTU veths; close() removes all of it, also after a failure here. */
    public static FieldBed create() {
        NetnsTestBed bed = NetnsTestBed.create();
        int x = -1;
        try {
            x = pickSubnet();
            FieldBed field = new FieldBed(bed, x);
            field.wire();
            return field;
        } catch (RuntimeException | Error e) {
            SUBNETS_IN_USE.remove(x);
            try {
                bed.close();
            } catch (RuntimeException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
    }

    /**
     * Reserves one more free {@code 198.18.X.0/24} (with its {@code 198.19.X.0/24}) for a network of the test's own
     * beside the beds (e.g. the link between clustered relays); {@link #releaseSubnet} gives it back.
     */
    public static int reserveSubnet() {
        return pickSubnet();
    }

    public static void releaseSubnet(int x) {
        SUBNETS_IN_USE.remove(x);
    }

    private static int pickSubnet() {
        for (int attempt = 0; attempt < 50; attempt++) {
            int candidate = ThreadLocalRandom.current().nextInt(1, 255);
            if (!SUBNETS_IN_USE.add(candidate)) {
                continue;
            }
            boolean addressUsed = !NetnsTestBed.run(NetnsTestBed.DEFAULT_TIMEOUT, "ip", "-4", "-o", "address",
                    "show", "to", "198.18." + candidate + ".0/24").orThrow().stdout().isBlank();
            boolean routeUsed = !NetnsTestBed.run(NetnsTestBed.DEFAULT_TIMEOUT, "ip", "-4", "route", "show", "to",
                    "root", "198.19." + candidate + ".0/24").orThrow().stdout().isBlank();
            if (!addressUsed && !routeUsed) {
                return candidate;
            }
            SUBNETS_IN_USE.remove(candidate);
        }
        throw new IllegalStateException("no free 198.18.X.0/24 + 198.19.X.0/24 pair for a field bed");
    }

    private void wire() {
        link.exec("sysctl", "-q", "-w", "net.ipv4.ip_forward=1").orThrow();
        // A bridge takes the lowest MAC among its ports unless given one: each new client's port could change the
        // router's MAC under the clients' neighbour caches, and a host that cached the old one is cut off for the
        // half minute its entry stays reachable (IPv6 most of all).
        link.exec("ip", "link", "add", "br0", "address", ROUTER_MAC, "mtu", Integer.toString(MTU), "type", "bridge")
                .orThrow();
        link.exec("ip", "address", "add", linkAddress() + "/24", "dev", "br0").orThrow();
        link.exec("ip", "link", "set", "br0", "up").orThrow();

        String root = bed.newLinkName('f');
        rootLink = root;
        NetnsTestBed.run(NetnsTestBed.DEFAULT_TIMEOUT, "ip", "link", "add", root, "mtu", Integer.toString(MTU),
                "type", "veth", "peer", "name", "root0", "mtu", Integer.toString(MTU), "netns", link.name())
                .orThrow();
        link.exec("ip", "link", "set", "root0", "master", "br0", "up").orThrow();
        NetnsTestBed.run(NetnsTestBed.DEFAULT_TIMEOUT, "ip", "address", "add", rootAddress() + "/24", "dev", root)
                .orThrow();
        NetnsTestBed.run(NetnsTestBed.DEFAULT_TIMEOUT, "ip", "link", "set", root, "up").orThrow();
        NetnsTestBed.run(NetnsTestBed.DEFAULT_TIMEOUT, "ip", "route", "add", relaySubnet(), "via", linkAddress(),
                "dev", root).orThrow();

        link.exec("ip", "link", "add", "relay0", "mtu", Integer.toString(MTU), "type", "veth", "peer", "name",
                "eth0", "mtu", Integer.toString(MTU), "netns", relayNamespace.name()).orThrow();
        link.exec("ip", "address", "add", "198.19." + x + ".1/24", "dev", "relay0").orThrow();
        link.exec("ip", "link", "set", "relay0", "up").orThrow();
        relayNamespace.exec("ip", "address", "add", relayAddress() + "/24", "dev", "eth0").orThrow();
        relayNamespace.exec("ip", "link", "set", "eth0", "up").orThrow();
        relayNamespace.exec("ip", "route", "add", clientSubnet(), "via", "198.19." + x + ".1").orThrow();
        link.exec("sysctl", "-q", "-w", "net.ipv6.conf.all.forwarding=1").orThrow();
        link.exec("ip", "-6", "address", "add", clientIpv6Prefix() + "1/64", "dev", "br0", "nodad").orThrow();
        link.exec("ip", "-6", "address", "add", relayIpv6Prefix() + "1/64", "dev", "relay0", "nodad").orThrow();
        relayNamespace.exec("ip", "-6", "address", "add", relayIpv6Address() + "/64", "dev", "eth0", "nodad")
                .orThrow();
        relayNamespace.exec("ip", "-6", "route", "add", clientIpv6Prefix() + "/64", "via", relayIpv6Prefix() + "1")
                .orThrow();
        NetnsTestBed.run(NetnsTestBed.DEFAULT_TIMEOUT, "ip", "-6", "address", "add", clientIpv6Prefix() + "2/64",
                "dev", root, "nodad").orThrow();
        NetnsTestBed.run(NetnsTestBed.DEFAULT_TIMEOUT, "ip", "-6", "route", "add", relayIpv6Prefix() + "/64", "via",
                clientIpv6Prefix() + "1", "dev", root).orThrow();
        // What Docker sets in every container: the relay's unprivileged ICMP echo sockets work.
        relayNamespace.exec("sysctl", "-q", "-w", "net.ipv4.ping_group_range=0 2147483647").orThrow();
    }

    public NetnsTestBed bed() {
        return bed;
    }

    public Namespace linkNamespace() {
        return link;
    }

    public Namespace relayNamespace() {
        return relayNamespace;
    }

    /** The root namespace's end of the veth toward the link namespace, {@code rr<id>f0}. */
    public String rootLink() {
        return rootLink;
    }

    /** The relay's address on its veth, e.g. 198.19.X.2; its admin server listens there too. */
    public String relayAddress() {
        return "198.19." + x + ".2";
    }

    /** The link namespace's address on the clients' side (the bridge); impaired links listen there. */
    public String linkAddress() {
        return "198.18." + x + ".1";
    }

    /** The root namespace's address on its veth toward the link namespace. */
    public String rootAddress() {
        return "198.18." + x + ".2";
    }

    /** {@code 2001:db8:18:X::}: the clients' IPv6 /64 (bridge ::1, root namespace ::2). */
    public String clientIpv6Prefix() {
        return "2001:db8:18:" + x + "::";
    }

    /** {@code 2001:db8:19:X::}: the relay's IPv6 /64 (link namespace ::1, relay ::2). */
    public String relayIpv6Prefix() {
        return "2001:db8:19:" + x + "::";
    }

    /** The relay's IPv6 address on its veth, {@code 2001:db8:19:X::2}. */
    public String relayIpv6Address() {
        return relayIpv6Prefix() + "2";
    }

    /** {@code https://[2001:db8:19:X::2]:4433/}: the relay over IPv6, clean (no impaired link). */
    public String relayIpv6Url() {
        return "https://[" + relayIpv6Address() + "]:" + RELAY_PORT + "/";
    }

    public String clientSubnet() {
        return "198.18." + x + ".0/24";
    }

    public String relaySubnet() {
        return "198.19." + x + ".0/24";
    }

    /**
     * Starts the relay jar inside the relay namespace: {@code --bind 0.0.0.0 --port 4433 --admin RELAY_ADDRESS:0},
     * after {@code extraArgs} (e.g. {@code --allow 203.0.113.0/24}). close() ends it.
     */
    public RelayProcess startRelay(String label, String... extraArgs) throws IOException, InterruptedException {
        return startRelay(label, List.of(), extraArgs);
    }

    /**
     * As {@link #startRelay(String, String...)}, the java command run behind {@code wrapper} inside the relay
     * namespace (e.g. {@code setpriv --reuid=65534 ...} to run it unprivileged, as the Docker image does); behind a
     * wrapper the relay runs from a copy of the jar that every user may read.
     */
    public RelayProcess startRelay(String label, List<String> wrapper, String... extraArgs)
            throws IOException, InterruptedException {
        if (relay != null) {
            throw new IllegalStateException("this bed runs one relay");
        }
        relayWrapper = List.copyOf(wrapper);
        relayArgs = List.of(extraArgs);
        relayBinding = new RelayProcess.Binding("0.0.0.0", RELAY_PORT, relayAddress(), relayAddress());
        return launchRelay(label);
    }

    /**
     * As {@link #startRelay(String, String...)} with {@code --bind bind} (an IPv6 literal: {@code ::} for dual
     * stack, or {@link #relayIpv6Address()}); the admin server stays on {@link #relayAddress()}, and
     * {@link RelayProcess#url()} names the relay's IPv6 address.
     */
    public RelayProcess startRelayOnIpv6(String label, String bind, String... extraArgs)
            throws IOException, InterruptedException {
        if (relay != null) {
            throw new IllegalStateException("this bed runs one relay");
        }
        relayWrapper = List.of();
        relayArgs = List.of(extraArgs);
        relayBinding = new RelayProcess.Binding(bind, RELAY_PORT, relayAddress(), "[" + relayIpv6Address() + "]");
        return launchRelay(label);
    }

    private RelayProcess launchRelay(String label) throws IOException, InterruptedException {
        Path jar = relayWrapper.isEmpty() ? Path.of("target", "riscv-relay.jar") : ConnectorProcess.worldReadableJar();
        List<String> command = new ArrayList<>(List.of("ip", "netns", "exec", relayNamespace.name()));
        command.addAll(relayWrapper);
        command.addAll(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED", "-jar", jar.toString()));
        command.addAll(relayArgs);
        relay = bed.own(RelayProcess.start(label, command, jar, relayBinding));
        return relay;
    }

    /**
     * Stops the relay as an operator would (SIGTERM, bounded), keeping the namespace, its links and every client
     * and impaired link as they are; {@link #restartRelay} brings it back.
     *
     * @return the relay's exit status
     */
    public int stopRelay() throws InterruptedException {
        int status = relay().terminate(20);
        stoppedRelay = relay;
        relay = null;
        return status;
    }

    /**
     * Starts the relay again in its namespace, on the same port with the same wrapper and arguments (give it
     * {@code --state-dir DIR} so it keeps its self-signed certificate, and so the hash the connectors pinned).
     */
    public RelayProcess restartRelay(String label) throws IOException, InterruptedException {
        if (relay != null || stoppedRelay == null) {
            throw new IllegalStateException("stopRelay first");
        }
        return launchRelay(label);
    }

    public RelayProcess relay() {
        if (relay == null) {
            throw new IllegalStateException("startRelay first");
        }
        return relay;
    }

    /**
     * The URL a client in the root namespace or a client namespace uses through {@code profile}: the relay's own
     * address for {@link LinkProfile#CLEAN}, else the impaired link's, which is started on first use.
     */
    public String relayUrl(LinkProfile profile) throws IOException {
        if (profile == LinkProfile.CLEAN) {
            return "https://" + relayAddress() + ":" + RELAY_PORT + "/";
        }
        linkProxy(profile);
        return "https://" + linkAddress() + ":" + proxyPort(profile) + "/";
    }

    /** Where connectors find the relay through {@code profile}, with its certificate hash. */
    public ConnectorProcess.RelayEndpoint endpoint(LinkProfile profile) throws IOException {
        return new ConnectorProcess.RelayEndpoint(relayUrl(profile), relay().certificateHash());
    }

    /** {@code http://RELAY_ADDRESS:ADMIN_PORT/path}, reachable from the root namespace. */
    public String adminUrl(String path) {
        return relay().adminUrl(path);
    }

    /**
     * The impaired link of {@code profile} in the link namespace (started on first use, seed 1): listens on
     * {@link #linkAddress()}, port 4434 (internet), 4435 (lossy) or 4436 (far), forwards to the relay.
     */
    public LinkProxyProcess linkProxy(LinkProfile profile) throws IOException {
        if (profile == LinkProfile.CLEAN) {
            throw new IllegalArgumentException("the clean profile is the kernel's forwarding, no proxy");
        }
        LinkProxyProcess proxy = proxies.get(profile);
        if (proxy == null) {
            proxy = bed.own(LinkProxyProcess.start(profile.cliName(), link,
                    linkAddress() + ":" + proxyPort(profile), relayAddress() + ":" + RELAY_PORT, profile, 1,
                    PROXY_MAX_SECONDS));
            proxies.put(profile, proxy);
        }
        return proxy;
    }

    private static int proxyPort(LinkProfile profile) {
        return RELAY_PORT + profile.ordinal(); // internet 4434, lossy 4435, far 4436
    }

    /**
     * An "internet" namespace behind the relay namespace, where the NAT's host sockets live: the relay has
     * 198.51.100.1/24 on {@code inet0}, the internet namespace {@value #INTERNET_PEER}/24 and, on its loopback,
     * {@value #INTERNET_HOST} and {@value #INTERNET_RESOLVER}; the relay routes 203.0.113.0/24 there. The relay's
     * egress policy denies these documentation ranges: start it with {@code --allow 203.0.113.0/24}. Call before
     * {@link #startRelay}, so the relay knows its own addresses from the start. Servers are the test's: e.g.
     * {@code bed().startInBackground(internet, "python3", ...)}.
     */
    public Namespace addInternet() {
        if (internet != null) {
            return internet;
        }
        internet = bed.addNamespace("inet");
        relayNamespace.exec("ip", "link", "add", "inet0", "mtu", Integer.toString(MTU), "type", "veth", "peer",
                "name", "eth0", "mtu", Integer.toString(MTU), "netns", internet.name()).orThrow();
        relayNamespace.exec("ip", "address", "add", "198.51.100.1/24", "dev", "inet0").orThrow();
        relayNamespace.exec("ip", "link", "set", "inet0", "up").orThrow();
        internet.exec("ip", "address", "add", INTERNET_PEER + "/24", "dev", "eth0").orThrow();
        internet.exec("ip", "link", "set", "eth0", "up").orThrow();
        internet.exec("ip", "address", "add", INTERNET_HOST + "/32", "dev", "lo").orThrow();
        internet.exec("ip", "address", "add", INTERNET_RESOLVER + "/32", "dev", "lo").orThrow();
        relayNamespace.exec("ip", "route", "add", "203.0.113.0/24", "via", INTERNET_PEER).orThrow();
        return internet;
    }

    /**
     * The IPv6 "internet" beside the relay: a namespace {@code rr-<id>-inet6} joined to the relay's namespace by a
     * 1500-MTU veth in 2001:db8:ff::/64 (the relay's end ::1, the peer {@link #INTERNET6_PEER}), with
     * {@link #INTERNET6_HOST} on its loopback and the relay's namespace routing {@link #INTERNET6_PREFIX} to it. The
     * relay's namespace gets no default IPv6 route: anything else is unroutable from there. Call before the tests'
     * traffic; idempotent.
     */
    public Namespace addInternet6() {
        if (internet6 != null) {
            return internet6;
        }
        internet6 = bed.addNamespace("inet6");
        relayNamespace.exec("ip", "link", "add", "inet6", "mtu", Integer.toString(MTU), "type", "veth", "peer",
                "name", "eth0", "mtu", Integer.toString(MTU), "netns", internet6.name()).orThrow();
        // nodad: the addresses work at once, no duplicate address detection to wait for.
        relayNamespace.exec("ip", "-6", "address", "add", "2001:db8:ff::1/64", "dev", "inet6", "nodad").orThrow();
        relayNamespace.exec("ip", "link", "set", "inet6", "up").orThrow();
        internet6.exec("ip", "-6", "address", "add", INTERNET6_PEER + "/64", "dev", "eth0", "nodad").orThrow();
        internet6.exec("ip", "link", "set", "eth0", "up").orThrow();
        internet6.exec("ip", "link", "set", "lo", "up").orThrow();
        internet6.exec("ip", "-6", "address", "add", INTERNET6_HOST + "/128", "dev", "lo").orThrow();
        relayNamespace.exec("ip", "-6", "route", "add", INTERNET6_PREFIX, "via", INTERNET6_PEER).orThrow();
        return internet6;
    }

    /**
     * A client namespace {@code rr-<id>-<role>} on the clients' side: {@code up0} (a veth onto the link namespace's
     * bridge, 198.18.X.(10+n)/24, MTU 1500) with a route to the relay's subnet via the link namespace. Tests run
     * their client there (a browser, a tool).
     */
    public Namespace addClientNamespace(String role) {
        int n = clients++;
        if (n >= 200) {
            throw new IllegalStateException("a field bed has room for 200 client namespaces");
        }
        Namespace client = bed.addNamespace(role);
        String port = "c" + n;
        link.exec("ip", "link", "add", port, "mtu", Integer.toString(MTU), "type", "veth", "peer", "name", "up0",
                "mtu", Integer.toString(MTU), "netns", client.name()).orThrow();
        link.exec("ip", "link", "set", port, "master", "br0", "up").orThrow();
        client.exec("ip", "address", "add", "198.18." + x + "." + (10 + n) + "/24", "dev", "up0").orThrow();
        client.exec("ip", "link", "set", "up0", "up").orThrow();
        client.exec("ip", "route", "add", relaySubnet(), "via", linkAddress()).orThrow();
        client.exec("ip", "-6", "address", "add", clientIpv6Prefix() + (10 + n) + "/64", "dev", "up0", "nodad")
                .orThrow();
        client.exec("ip", "-6", "route", "add", relayIpv6Prefix() + "/64", "via", clientIpv6Prefix() + "1")
                .orThrow();
        return client;
    }

    /**
     * A host on the relay's LAN in its own client namespace ({@link #addClientNamespace}): {@code relay connect}
     * runs inside it ({@code ip netns exec}), its UDP socket crossing {@code up0} and the link toward the relay
     * through {@code profile}, and bridges the namespace's TAP {@code eth0}, addressed {@code lanAddress}/24 with a
     * default route via the gateway 10.0.2.2. {@code connectorArgs} go to {@code relay connect} (e.g.
     * {@code --mtu 1300}). close() ends the connector before the namespace goes.
     */
    public LanHost addLanHost(String role, String lanAddress, LinkProfile profile, String... connectorArgs)
            throws IOException {
        return addLanHost(role, lanAddress, endpoint(profile), connectorArgs);
    }

    /** As {@link #addLanHost(String, String, LinkProfile, String...)}, reaching the relay at {@code endpoint}. */
    public LanHost addLanHost(String role, String lanAddress, ConnectorProcess.RelayEndpoint endpoint,
            String... connectorArgs) throws IOException {
        LanHost host = addConnectedHost(role, endpoint, connectorArgs);
        host.exec("ip", "address", "add", lanAddress + "/24", "dev", "eth0").orThrow();
        host.exec("ip", "route", "add", "default", "via", "10.0.2.2").orThrow();
        return new LanHost(host.namespace(), lanAddress, host.connector());
    }

    /**
     * As {@link #addLanHost}, but {@code eth0} is left up and unaddressed (address null), e.g. for a DHCP client.
     * Give the namespace its own resolv.conf ({@code namespace().privateResolvConf()}) before a DHCP client runs.
     */
    public LanHost addConnectedHost(String role, LinkProfile profile, String... connectorArgs) throws IOException {
        return addConnectedHost(role, endpoint(profile), connectorArgs);
    }

    /** As {@link #addConnectedHost(String, LinkProfile, String...)}, reaching the relay at {@code endpoint}. */
    public LanHost addConnectedHost(String role, ConnectorProcess.RelayEndpoint endpoint, String... connectorArgs)
            throws IOException {
        Namespace host = addClientNamespace(role);
        ConnectorProcess connector = bed.own(ConnectorProcess.tapInNamespace(role, inNamespace(host), endpoint,
                host.path(), "eth0", connectorArgs));
        return new LanHost(host, null, connector);
    }

    /**
     * Starts {@code relay connect ARGS} inside {@code namespace} (does not wait for it; e.g. {@code --qemu-dgram}
     * with QEMU beside it, or a connector expected to fail); close() ends it.
     */
    public ConnectorProcess startConnector(String label, Namespace namespace, List<String> args) throws IOException {
        return bed.own(ConnectorProcess.start(label, inNamespace(namespace), args));
    }

    private static List<String> inNamespace(Namespace namespace) {
        return List.of("ip", "netns", "exec", namespace.name());
    }

    /** The MTU of {@code device} in {@code namespace} ({@code null}: the root namespace). */
    public static int mtuOf(Namespace namespace, String device) {
        return linkNumber(namespace, device, "mtu");
    }

    /** The transmit queue length (txqueuelen) of {@code device} in {@code namespace}. */
    public static int txQueueOf(Namespace namespace, String device) {
        return linkNumber(namespace, device, "qlen");
    }

    /** The number after {@code name} in {@code ip -o link show dev DEVICE}. */
    private static int linkNumber(Namespace namespace, String device, String name) {
        List<String> command = List.of("ip", "-o", "link", "show", "dev", device);
        CommandResult result = namespace == null
                ? NetnsTestBed.run(Duration.ofSeconds(10), command.toArray(String[]::new))
                : namespace.exec(command.toArray(String[]::new));
        java.util.regex.Matcher m = java.util.regex.Pattern.compile(" " + name + " (\\d+)")
                .matcher(result.orThrow().stdout());
        if (!m.find()) {
            throw new IllegalStateException("no " + name + " in " + result.stdout());
        }
        return Integer.parseInt(m.group(1));
    }

    /** Ends every process (connectors, proxies, relay, background), deletes every namespace and root link. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            bed.close();
        } finally {
            SUBNETS_IN_USE.remove(x);
        }
    }
}

package dev.riscvrelay.relay.cli;

import dev.riscvrelay.relay.HostBudgets;
import dev.riscvrelay.relay.Relay;
import dev.riscvrelay.relay.RelayConfig;
import dev.riscvrelay.relay.WebOptions;
import dev.riscvrelay.relay.access.AccessConfig;
import dev.riscvrelay.relay.access.AccessTokens;
import dev.riscvrelay.relay.access.ClaimLimits;
import dev.riscvrelay.relay.access.SessionLimits;
import dev.riscvrelay.relay.cluster.ClusterOptions;
import dev.riscvrelay.relay.connect.Connector;
import dev.riscvrelay.relay.forward.ForwardSpec;
import dev.riscvrelay.relay.lan.NetworkConfig;
import dev.riscvrelay.relay.nat.Cidr;
import dev.riscvrelay.relay.nat.EgressPolicy;
import dev.riscvrelay.relay.nat.EgressRules;
import dev.riscvrelay.relay.nat.HostBudget;
import dev.riscvrelay.relay.nat.Ipv6Cidr;
import dev.riscvrelay.relay.nat.Ipv6EgressPolicy;
import dev.riscvrelay.relay.ops.JsonLogFormatter;
import dev.riscvrelay.relay.ops.OperationsConfig;
import dev.riscvrelay.relay.tls.CertificateManager;
import dev.riscvrelay.relay.tls.RelayCertificate.InvalidCertificateException;
import dev.riscvrelay.relay.tls.RelayCertificate;
import dev.riscvrelay.relay.wire.Ipv4Address;
import dev.riscvrelay.relay.wire.Ipv6Address;
import java.io.PrintWriter;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.logging.Handler;
import java.util.logging.LogManager;
import java.util.logging.Logger;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine;

/**
 * {@code relay}: runs the relay (the default command). Flags become one immutable {@link RelayConfig}.
 * Operator mistakes end in one line on stderr and a non-zero exit code, never a stack trace.
 */
@Command(
        name = "relay",
        mixinStandardHelpOptions = true,
        versionProvider = RelayCommand.Version.class,
        sortOptions = false,
        usageHelpAutoWidth = true,
        description = {
            "Puts browser VMs on one virtual Ethernet LAN over WebTransport (HTTP/3, UDP) and gives them a",
            "user-space gateway at 10.0.2.2 (ARP, ping, DHCP, DNS at 10.0.2.3, and NAT for UDP, ICMP echo and TCP).",
            "`relay connect` joins a TAP device or a QEMU VM to that LAN.",
        },
        footer = {"", "Without --cert-pem/--key-pem a self-signed certificate valid for 14 days is made at start",
            "(or reused from --state-dir) and renewed, without a restart, when a third of its validity is left;",
            "browsers trust it through serverCertificateHashes with the printed hash, which pages can fetch",
            "from GET /cert-hash on the admin port. CA-issued PEM files are read again when they change.",
            "SIGTERM closes every session with a reason and exits with status 0.",
            "", "Benchmarks: `./relay bench --help` in a source checkout (built from bench/ on first use)."})
public final class RelayCommand implements Callable<Integer> {

    static final int EXIT_USAGE = 2;
    static final int EXIT_FAILURE = 1;

    @Option(names = "--bind", paramLabel = "ADDR", description = "Address to listen on, IPv4 or IPv6 (:: listens on"
            + " both where the host allows; default: ${DEFAULT-VALUE}).")
    String bind = "0.0.0.0";

    @Option(names = "--port", paramLabel = "PORT", description = "UDP port to listen on (default: ${DEFAULT-VALUE}).")
    int port = 4433;

    @Option(names = "--cert-pem", paramLabel = "FILE",
            description = "PEM certificate chain (leaf first) of a CA-issued certificate; needs --key-pem.")
    Path certPem;

    @Option(names = "--key-pem", paramLabel = "FILE", description = "PEM private key for --cert-pem (unencrypted).")
    Path keyPem;

    @Option(names = "--max-sessions", paramLabel = "N",
            description = "Most WebTransport sessions at once (default: ${DEFAULT-VALUE}).")
    int maxSessions = RelayConfig.DEFAULT_MAX_SESSIONS;

    @Option(names = "--workers", paramLabel = "N",
            description = "Event loops, each with a UDP socket on the relay's port (SO_REUSEPORT): QUIC connections"
                    + " and networks spread over them (default: the cores but one, at least"
                    + " one: ${DEFAULT-VALUE} here).")
    int workers = RelayConfig.defaultWorkers();

    @Option(names = "--port-queue", paramLabel = "FRAMES",
            description = "Outbound queue per session, in frames; overflow is dropped and counted (default: ${DEFAULT-VALUE}).")
    int portQueue = RelayConfig.DEFAULT_PORT_QUEUE;

    @Option(names = "--mac-table-size", paramLabel = "N",
            description = "Most MAC addresses the switch remembers (default: ${DEFAULT-VALUE}).")
    int macTableSize = NetworkConfig.DEFAULT_MAC_TABLE_CAPACITY;

    @Option(names = "--mac-aging", paramLabel = "SECONDS",
            description = "Seconds after which an unused MAC entry is forgotten (default: ${DEFAULT-VALUE}).")
    int macAgingSeconds = (int) NetworkConfig.DEFAULT_MAC_AGING_TIME.toSeconds();

    @Option(names = "--idle-timeout", paramLabel = "SECONDS",
            description = "Close a QUIC connection silent for this long; live browsers keep it open (default: ${DEFAULT-VALUE}).")
    int idleTimeoutSeconds = RelayConfig.DEFAULT_IDLE_TIMEOUT_SECONDS;

    @picocli.CommandLine.Mixin
    CongestionOption congestion = new CongestionOption();

    @Option(names = "--mtu", paramLabel = "BYTES",
            description = "IP MTU of the LAN, told to VMs by DHCP; 1185 fits one browser datagram (default: ${DEFAULT-VALUE}).")
    int lanMtu = NetworkConfig.DEFAULT_MTU;

    @Option(names = "--subnet", paramLabel = "CIDR",
            description = {"Every network's IPv4 subnet, /8../27: router at host 2, DNS at host 3, leases from host 15"
                    + " to the last (default: 10.0.2.0/24, 240 VMs;", "10.0.0.0/16 holds 65,520)."})
    String subnet;

    @Option(names = "--ipv6-prefix", paramLabel = "PREFIX/64",
            description = {"Every network's IPv6 /64, announced to VMs for SLAAC: router at ::2, DNS at ::3"
                    + " (default: fd00:10:0:2::/64, a unique local prefix)."})
    String ipv6Prefix;

    @Option(names = "--dns", paramLabel = "ADDR[:PORT]",
            description = "DNS resolver for the forwarder at 10.0.2.3 (UDP tries them in order; DNS over TCP goes to "
                    + "the first); repeatable (default: the host's /etc/resolv.conf).")
    List<String> dnsResolvers = new ArrayList<>();

    @Option(names = "--allow", paramLabel = "CIDR",
            description = "Let VMs reach this IPv4 or IPv6 range although the default egress policy denies it; repeatable.")
    List<String> allow = new ArrayList<>();

    @Option(names = "--deny", paramLabel = "CIDR",
            description = "Keep VMs from reaching this range; repeatable. The most specific rule wins.")
    List<String> deny = new ArrayList<>();

    @Option(names = "--admin", paramLabel = "ADDR:PORT",
            description = "Admin HTTP server (the dashboard at /, /metrics, /healthz, /cert-hash, /api/networks,"
                    + " POST /pcap/start|stop), or 'off'."
                    + " It can start captures: keep it on loopback or a private network (default: ${DEFAULT-VALUE}).")
    String admin = "127.0.0.1:" + OperationsConfig.DEFAULT_ADMIN_PORT;

    @Option(names = "--state-dir", paramLabel = "DIR",
            description = "Keep the self-signed key and certificate here, so a restart keeps the hash while it is"
                    + " valid (default: none, a new one each start).")
    Path stateDir;

    @Option(names = "--pcap", paramLabel = "FILE",
            description = "Capture every frame the switch forwards to this pcap file (also where POST /pcap/start"
                    + " writes).")
    Path pcapFile;

    @Option(names = "--log-format", paramLabel = "FORMAT",
            description = "Log records as 'text' lines or 'json' objects, one per line (default: ${DEFAULT-VALUE}).")
    String logFormat = "text";

    /** For testing renewal: a short self-signed validity. Browsers accept at most the default. */
    @Option(names = "--cert-validity", paramLabel = "DURATION", hidden = true)
    String certValidity = "14d";

    /** For testing the summary line. */
    @Option(names = "--summary-interval", paramLabel = "SECONDS", hidden = true)
    int summaryIntervalSeconds = (int) OperationsConfig.DEFAULT_SUMMARY_INTERVAL.toSeconds();

    @Option(names = "--websocket", paramLabel = "MODE",
            description = {"WebSocket on TCP at the same port number: auto (plain ws:// on a loopback address,",
                "wss:// with the relay's certificate otherwise), tls, plain or off (default: ${DEFAULT-VALUE})."})
    String webSocket = "auto";

    @Option(names = "--web", paramLabel = "ADDR:PORT",
            description = "Also serve the demo page over plain HTTP here, e.g. 127.0.0.1:8080 (a secure context only"
                    + " on localhost).")
    String web;

    @Option(names = "--v86-dir", paramLabel = "DIR",
            description = "Emulator and VM image files served under /v86/ (built by scripts/build-v86-image.sh;"
                    + " default: ${DEFAULT-VALUE}).")
    Path v86Dir = Path.of("target", "v86");

    @Option(names = "--page-relays", paramLabel = "URLS",
            description = {"Relays the demo page tries after its own when a session ends or fails, in turn",
                "(https://HOST:PORT, comma-separated; e.g. the other relays of a --cluster; default: none)."})
    String pageRelays;

    @Option(names = "--token-file", paramLabel = "FILE",
            description = {"Sessions need a token: lines '<network> <token>' or '* <token>' (every network);",
                "clients add ?token=... to the URL. Missing: 401, wrong: 403 (default: no tokens)."})
    Path tokenFile;

    @Option(names = "--max-networks", paramLabel = "N",
            description = "Most networks at once, the default one included; /net/<name> makes one on its first"
                    + " session (default: ${DEFAULT-VALUE}).")
    int maxNetworks = AccessConfig.DEFAULT_MAX_NETWORKS;

    @Option(names = "--session-frame-rate", paramLabel = "FRAMES",
            description = "Frames per second one session may send; more are dropped and counted (default: ${DEFAULT-VALUE}).")
    long sessionFrameRate = SessionLimits.DEFAULT_FRAMES_PER_SECOND;

    @Option(names = "--session-byte-rate", paramLabel = "BYTES",
            description = "Bytes per second one session may send (default: ${DEFAULT-VALUE}, 100 Mbit/s).")
    long sessionByteRate = SessionLimits.DEFAULT_BYTES_PER_SECOND;

    @Option(names = "--macs-per-session", paramLabel = "N",
            description = "Source MACs bound to a session (its first ones); frames from others are dropped"
                    + " (default: ${DEFAULT-VALUE}).")
    int macsPerSession = SessionLimits.DEFAULT_MACS_PER_SESSION;

    @Option(names = "--max-sessions-per-ip", paramLabel = "N",
            description = "Sessions one source address may hold, WebTransport and WebSocket together (default:"
                    + " ${DEFAULT-VALUE}).")
    int maxSessionsPerIp = SessionLimits.DEFAULT_SESSIONS_PER_ADDRESS;

    @Option(names = "--network-idle", paramLabel = "SECONDS",
            description = "A network other than the default one is freed after standing this long without members"
                    + " (or at once, the longest empty first, when --max-networks is reached; default: ${DEFAULT-VALUE}).")
    long networkIdleSeconds = ClaimLimits.DEFAULT_NETWORK_IDLE.toSeconds();

    @Option(names = "--network-creations-per-ip", paramLabel = "N",
            description = "Networks one client address may create per minute; more get 429 (default: ${DEFAULT-VALUE}).")
    int networkCreationsPerIp = ClaimLimits.DEFAULT_NETWORK_CREATIONS_PER_MINUTE;

    @Option(names = "--lease-grace", paramLabel = "SECONDS",
            description = "A departed session's DHCP leases stay reserved this long for it to reconnect, then return"
                    + " to the pool (default: ${DEFAULT-VALUE}).")
    long leaseGraceSeconds = ClaimLimits.DEFAULT_LEASE_GRACE.toSeconds();

    @Option(names = "--max-leases-per-ip", paramLabel = "N",
            description = "DHCP addresses the sessions of one client address may hold in one network (each session"
                    + " at most --macs-per-session; default: ${DEFAULT-VALUE}).")
    int maxLeasesPerIp = ClaimLimits.DEFAULT_LEASES_PER_ADDRESS;

    @Option(names = "--max-nat-sockets", paramLabel = "N",
            description = {"Host sockets the NATs of all networks may hold together (one network at most half, the VMs"
                    + " of one client address an eighth)", "(default: the open-file limit less what --max-sessions"
                    + " needs, at most 65536)."})
    Integer maxNatSockets;

    @Option(names = "--nat-buffer-memory", paramLabel = "MIB",
            description = {"TCP data read from hosts and not yet taken by VMs, all networks together, with the same"
                    + " shares (default: a quarter", "of the JVM's direct memory limit, -XX:MaxDirectMemorySize)."})
    Long natBufferMib;

    @Option(names = "--forward", paramLabel = "SPEC",
            description = "Forward an outside port to a VM: tcp:[ADDR:]PORT=[NETWORK/]VMADDR:PORT or udp:... ADDR"
                    + " defaults to every address, NETWORK to the default network. Repeatable.")
    List<String> forwards = new ArrayList<>();

    @Option(names = "--cluster", paramLabel = "URLS",
            description = "Join a cluster of relays through NATS (nats://HOST:PORT or tls://HOST:PORT, comma-separated):"
                    + " every network is one LAN across the relays (default: alone).")
    String cluster;

    @Option(names = "--cluster-credentials", paramLabel = "FILE",
            description = "A NATS credentials file (JWT and NKey seed) for --cluster.")
    Path clusterCredentials;

    @Option(names = "--cluster-ca", paramLabel = "FILE",
            description = "PEM certificates of the CAs that sign the NATS servers' TLS certificates, for --cluster"
                    + " (default: the JVM's trusted CAs).")
    Path clusterCa;

    @Option(names = "--relay-id", paramLabel = "ID",
            description = "This relay's id in the cluster, unique among its relays (default: random at each start).")
    String relayId;

    private final PrintWriter out;
    private final PrintWriter err;

    public RelayCommand(PrintWriter out, PrintWriter err) {
        this.out = out;
        this.err = err;
    }

    @Override
    public Integer call() throws Exception {
        RelayConfig config = toConfig();
        OperationsConfig operations = toOperationsConfig();
        installLogFormat();
        CertificateManager certificates = loadCertificates();
        ClusterOptions clusterOptions = toClusterOptions();
        try (Relay relay = Relay.start(config, certificates, operations, clusterOptions, out::println)) {
            // Before the ready lines, so a stop right after them is already handled: SIGTERM and SIGINT close the
            // relay and end with status 0 (a stop, not a failure); the hook covers other ways the JVM ends.
            onStopSignal(new Thread(() -> closeAndExit(relay), "relay-shutdown"));
            Runtime.getRuntime().addShutdownHook(new Thread(relay::close, "relay-shutdown-hook"));
            printCertificate(certificates.current());
            certificates.onChange(this::printCertificate);
            out.println("Listening on https://" + hostForUrl(bind) + ":" + relay.port());
            InetSocketAddress adminAddress = relay.adminAddress();
            if (adminAddress != null) {
                out.println("Admin on http://" + hostForUrl(adminAddress.getAddress().getHostAddress()) + ":"
                        + adminAddress.getPort() + " (dashboard at /, /metrics, /healthz, /cert-hash, /api/networks, /forwards)");
            }
            if (relay.webSocket() != null) {
                out.println("WebSocket on " + (relay.webSocket().config().tls() ? "wss://" : "ws://")
                        + hostForUrl(bind) + ":" + relay.webSocket().localAddress().getPort() + "/");
            }
            if (relay.demoAddress() != null) {
                out.println("Demo page on http://" + hostForUrl(relay.demoAddress().getAddress().getHostAddress())
                        + ":" + relay.demoAddress().getPort() + "/");
            }
            out.println(egressLine(config.egress()));
            out.println(Ipv6EgressPolicy.forThisHost(config.egress()).summary());
            out.println(lanLine(config.network()));
            out.println(HostBudgets.describe(config.hostBudget(), HostBudgets.openFileLimit(), config.maxSessions()));
            relay.forwards().list().forEach(forward -> out.println("Forwarding " + forward.describe()));
            out.flush();
            relay.awaitClose();
        }
        return 0;
    }

    /**
     * What VMs may not reach, from the policy each network's NAT builds the same way: an operator whose pings to a
     * documentation or private address fail sees why at start.
     */
    static String egressLine(EgressRules rules) {
        return EgressPolicy.forThisHost(rules).summary();
    }

    /** Where every network's VMs live, so an operator who chose --subnet sees what VMs will be told. */
    static String lanLine(NetworkConfig lan) {
        int last = lan.dhcpFirstAddress() + lan.dhcpPoolSize() - 1;
        return "LAN " + Ipv4Address.format(lan.network()) + "/" + lan.prefixLength() + ": gateway "
                + Ipv4Address.format(lan.gatewayAddress()) + ", DNS " + Ipv4Address.format(lan.dnsAddress())
                + ", leases " + Ipv4Address.format(lan.dhcpFirstAddress()) + ".." + Ipv4Address.format(last) + " ("
                + lan.dhcpPoolSize() + "), MTU " + lan.mtu() + "; IPv6 " + Ipv6Address.format(lan.ipv6Prefix(), 0)
                + "/64: gateway " + Ipv6Address.format(lan.ipv6Prefix(), lan.gatewayIpv6Low()) + " (SLAAC)";
    }

    private void printCertificate(RelayCertificate certificate) {
        if (certificate.selfSigned()) {
            out.println("Certificate Hash (use this in client): " + certificate.sha256Hex());
        } else {
            out.println("Certificate: " + certificate.leaf().getSubjectX500Principal().getName()
                    + " (issuer " + certificate.leaf().getIssuerX500Principal().getName()
                    + ", valid until " + certificate.leaf().getNotAfter().toInstant() + ")");
        }
        out.flush();
    }

    /**
     * What a stop signal does: closes the relay, then ends the JVM itself rather than rely on the main thread, which
     * may not get that far: when the jar was overwritten while the relay ran, classes the main thread still needs
     * no longer load, and the relay's loops would keep the JVM alive. Status 1 when the close itself threw.
     */
    private static void closeAndExit(Relay relay) {
        int status = 0;
        try {
            relay.close();
        } catch (Throwable failure) {
            failure.printStackTrace();
            status = 1;
        }
        System.exit(status);
    }

    @SuppressWarnings("removal")
    private static void onStopSignal(Thread closer) {
        sun.misc.SignalHandler handler = signal -> {
            if (closer.getState() == Thread.State.NEW) {
                closer.start();
            }
        };
        for (String name : List.of("TERM", "INT")) {
            try {
                sun.misc.Signal.handle(new sun.misc.Signal(name), handler);
            } catch (IllegalArgumentException e) {
                // The JVM keeps this signal (e.g. -Xrs): the shutdown hook still closes the relay.
            }
        }
    }

    /** {@code --cluster} and its options, or null to run alone. */
    ClusterOptions toClusterOptions() {
        if (cluster == null) {
            if (clusterCredentials != null || clusterCa != null || relayId != null) {
                throw new UsageError("--cluster-credentials, --cluster-ca and --relay-id need --cluster");
            }
            return null;
        }
        try {
            return ClusterOptions.parse(cluster, clusterCredentials, clusterCa, relayId);
        } catch (IllegalArgumentException e) {
            throw new UsageError(e.getMessage());
        }
    }

    OperationsConfig toOperationsConfig() {
        InetSocketAddress adminAddress = admin.equalsIgnoreCase("off") ? null : adminAddress(admin);
        if (summaryIntervalSeconds < 0) {
            throw new UsageError("--summary-interval must be 0 (off) or positive, not " + summaryIntervalSeconds);
        }
        if (!logFormat.equals("text") && !logFormat.equals("json")) {
            throw new UsageError("--log-format is 'text' or 'json', not '" + logFormat + "'");
        }
        return new OperationsConfig(adminAddress, pcapFile, stateDir,
                summaryIntervalSeconds == 0 ? null : Duration.ofSeconds(summaryIntervalSeconds));
    }

    static InetSocketAddress adminAddress(String text) {
        return socketAddress("--admin", text, "127.0.0.1:9433) or 'off'");
    }

    /** {@code ADDR:PORT} with an IP literal ({@code [v6]:port} too) and a port 0..65535, or a usage error. */
    private static InetSocketAddress socketAddress(String flag, String text, String example) {
        String wanted = flag + " wants ADDR:PORT with an IP address and a port (e.g. " + example + ", not '" + text
                + "'";
        int colon = text.lastIndexOf(':');
        if (colon <= 0) {
            throw new UsageError(wanted);
        }
        String host = text.substring(0, colon);
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        }
        try {
            int port = Integer.parseInt(text.substring(colon + 1));
            if (port < 0 || port > 65535) {
                throw new NumberFormatException();
            }
            return new InetSocketAddress(InetAddress.ofLiteral(host), port);
        } catch (IllegalArgumentException e) {
            throw new UsageError(wanted);
        }
    }

    /** {@code 10s}, {@code 30m}, {@code 2h}, {@code 14d}; between 5 seconds and the 14 days browsers accept. */
    static Duration certificateValidity(String text) {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("(\\d{1,9})([smhd])").matcher(text);
        if (!m.matches()) {
            throw new UsageError("--cert-validity wants a duration like 10s, 30m, 2h or 14d, not '" + text + "'");
        }
        long amount = Long.parseLong(m.group(1));
        Duration validity = switch (m.group(2)) {
            case "s" -> Duration.ofSeconds(amount);
            case "m" -> Duration.ofMinutes(amount);
            case "h" -> Duration.ofHours(amount);
            default -> Duration.ofDays(amount);
        };
        if (validity.compareTo(Duration.ofSeconds(5)) < 0
                || validity.compareTo(RelayCertificate.MAX_HASH_PINNED_VALIDITY) > 0) {
            throw new UsageError("--cert-validity must be between 5s and 14d, not " + text);
        }
        return validity;
    }

    private void installLogFormat() {
        if (!logFormat.equals("json")) {
            return;
        }
        Logger root = LogManager.getLogManager().getLogger("");
        for (Handler handler : root.getHandlers()) {
            handler.setFormatter(new JsonLogFormatter());
        }
    }

    private List<ForwardSpec> forwardSpecs() {
        List<ForwardSpec> specs = new ArrayList<>();
        for (String text : forwards) {
            try {
                specs.add(ForwardSpec.parse(text));
            } catch (IllegalArgumentException e) {
                throw new UsageError("--forward: " + e.getMessage());
            }
        }
        return specs;
    }

    RelayConfig toConfig() {
        InetAddress address;
        try {
            address = bindAddress(bind);
        } catch (IllegalArgumentException e) {
            throw new UsageError("--bind wants an IP address, not '" + bind + "'");
        }
        if (port < 0 || port > 65535) {
            throw new UsageError("--port must be between 0 and 65535, not " + port);
        }
        if ((certPem == null) != (keyPem == null)) {
            throw new UsageError("--cert-pem and --key-pem go together: give both or neither");
        }
        requirePositive("--max-sessions", maxSessions);
        requirePositive("--port-queue", portQueue);
        if (workers < 1 || workers > RelayConfig.MAX_WORKERS) {
            throw new UsageError("--workers must be between 1 and " + RelayConfig.MAX_WORKERS + ", not " + workers);
        }
        requirePositive("--mac-table-size", macTableSize);
        requirePositive("--mac-aging", macAgingSeconds);
        requirePositive("--idle-timeout", idleTimeoutSeconds);
        if (lanMtu < MIN_LAN_MTU || lanMtu > MAX_LAN_MTU) {
            throw new UsageError("--mtu must be between " + MIN_LAN_MTU + " and " + MAX_LAN_MTU + ", not " + lanMtu);
        }
        NetworkConfig network = ipv6Prefix(subnet(NetworkConfig.defaults())).withMtu(lanMtu)
                .withMacTable(macTableSize, Duration.ofSeconds(macAgingSeconds));
        return new RelayConfig(address, port, maxSessions, portQueue, network, Duration.ofSeconds(idleTimeoutSeconds),
                dnsResolvers.stream().map(RelayCommand::resolver).toList(),
                new EgressRules(ipv4(allow).map(c -> cidr("--allow", c)).toList(),
                        ipv4(deny).map(c -> cidr("--deny", c)).toList(),
                        ipv6(allow).map(c -> ipv6Cidr("--allow", c)).toList(),
                        ipv6(deny).map(c -> ipv6Cidr("--deny", c)).toList()),
                new WebOptions(webSocketMode(), demoAddress(), v86Dir, pageRelays()), accessConfig(), congestion.algorithm(),
                hostBudget(), forwardSpecs(), workers);
    }

    private HostBudget.Limits hostBudget() {
        HostBudget.Limits derived = HostBudgets.forThisHost(maxSessions);
        if (maxNatSockets != null) {
            requirePositive("--max-nat-sockets", maxNatSockets);
        }
        if (natBufferMib != null && natBufferMib < 1) {
            throw new UsageError("--nat-buffer-memory must be at least 1 MiB, not " + natBufferMib);
        }
        return new HostBudget.Limits(maxNatSockets != null ? maxNatSockets : derived.sockets(),
                natBufferMib != null ? natBufferMib << 20 : derived.bufferBytes(), derived.networkShare(),
                derived.addressShare());
    }

    private AccessConfig accessConfig() {
        requirePositive("--max-networks", maxNetworks);
        requirePositive("--macs-per-session", macsPerSession);
        requirePositive("--max-sessions-per-ip", maxSessionsPerIp);
        if (sessionFrameRate < 1 || sessionFrameRate > SessionLimits.MAX_RATE) {
            throw new UsageError("--session-frame-rate must be 1.." + SessionLimits.MAX_RATE + ", not "
                    + sessionFrameRate);
        }
        if (sessionByteRate < 1 || sessionByteRate > SessionLimits.MAX_RATE) {
            throw new UsageError("--session-byte-rate must be 1.." + SessionLimits.MAX_RATE + ", not "
                    + sessionByteRate);
        }
        AccessTokens tokens = AccessTokens.NONE;
        if (tokenFile != null) {
            try {
                tokens = AccessTokens.read(tokenFile);
            } catch (java.io.IOException e) {
                throw new UsageError("--token-file " + tokenFile + " cannot be read: " + e.getMessage());
            } catch (IllegalArgumentException e) {
                throw new UsageError("--token-file " + e.getMessage());
            }
        }
        return new AccessConfig(maxNetworks, tokens,
                new SessionLimits(sessionFrameRate, sessionByteRate, macsPerSession, maxSessionsPerIp), claimLimits());
    }

    private ClaimLimits claimLimits() {
        if (networkIdleSeconds < 0 || leaseGraceSeconds < 0) {
            throw new UsageError("--network-idle and --lease-grace must not be negative");
        }
        requirePositive("--network-creations-per-ip", networkCreationsPerIp);
        requirePositive("--max-leases-per-ip", maxLeasesPerIp);
        return new ClaimLimits(Duration.ofSeconds(networkIdleSeconds), networkCreationsPerIp,
                Duration.ofSeconds(leaseGraceSeconds), maxLeasesPerIp);
    }

    private NetworkConfig subnet(NetworkConfig defaults) {
        if (subnet == null) {
            return defaults;
        }
        if (subnet.indexOf('/') < 0) {
            throw new UsageError("--subnet wants a prefix like 10.0.0.0/16, not '" + subnet + "'");
        }
        Cidr prefix = cidr("--subnet", subnet);
        if (!subnet.startsWith(Ipv4Address.format(prefix.network()) + "/")) {
            throw new UsageError("--subnet " + subnet + " has host bits set; did you mean "
                    + Ipv4Address.format(prefix.network()) + "/" + prefix.prefixLength() + "?");
        }
        try {
            return defaults.withSubnet(prefix.network(), prefix.prefixLength());
        } catch (IllegalArgumentException e) {
            throw new UsageError("--subnet " + e.getMessage());
        }
    }

    private NetworkConfig ipv6Prefix(NetworkConfig defaults) {
        if (ipv6Prefix == null) {
            return defaults;
        }
        int slash = ipv6Prefix.indexOf('/');
        if (slash < 0 || !ipv6Prefix.substring(slash + 1).equals("64")) {
            throw new UsageError("--ipv6-prefix wants a /64 like fd00:10:0:2::/64, not '" + ipv6Prefix + "'");
        }
        long[] address;
        try {
            address = Ipv6Address.parse(ipv6Prefix.substring(0, slash));
        } catch (IllegalArgumentException e) {
            throw new UsageError("--ipv6-prefix " + e.getMessage());
        }
        if (address[1] != 0) {
            throw new UsageError("--ipv6-prefix " + ipv6Prefix + " has host bits set; did you mean "
                    + Ipv6Address.format(address[0], 0) + "/64?");
        }
        try {
            return defaults.withIpv6Prefix(address[0]);
        } catch (IllegalArgumentException e) {
            throw new UsageError("--ipv6-prefix " + e.getMessage());
        }
    }

    /** The network's least (every IPv4 host must take 576, RFC 791); 1433: one QUIC datagram's frame, less 14. */
    static final int MIN_LAN_MTU = NetworkConfig.MIN_MTU;
    static final int MAX_LAN_MTU = 1433;

    private static InetSocketAddress resolver(String text) {
        int colon = text.lastIndexOf(':');
        String host = colon > 0 && text.indexOf(':') == colon ? text.substring(0, colon) : text;
        int resolverPort = 53;
        if (colon > 0 && text.indexOf(':') == colon) {
            try {
                resolverPort = Integer.parseInt(text.substring(colon + 1));
            } catch (NumberFormatException e) {
                throw new UsageError("--dns wants ADDR or ADDR:PORT, not '" + text + "'");
            }
        }
        try {
            if (resolverPort < 1 || resolverPort > 65535) {
                throw new IllegalArgumentException();
            }
            return new InetSocketAddress(InetAddress.ofLiteral(host), resolverPort);
        } catch (IllegalArgumentException e) {
            throw new UsageError("--dns wants ADDR or ADDR:PORT, not '" + text + "'");
        }
    }

    private WebOptions.WebSocketMode webSocketMode() {
        try {
            return WebOptions.WebSocketMode.valueOf(webSocket.toUpperCase(java.util.Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new UsageError("--websocket wants auto, tls, plain or off, not '" + webSocket + "'");
        }
    }

    /** {@code --page-relays}: absolute https URLs with a host, as the page hands them to WebTransport. */
    private List<URI> pageRelays() {
        if (pageRelays == null) {
            return List.of();
        }
        List<URI> relays = new ArrayList<>();
        for (String text : pageRelays.split(",", -1)) {
            String trimmed = text.strip();
            URI uri;
            try {
                uri = new URI(trimmed);
            } catch (java.net.URISyntaxException e) {
                uri = null;
            }
            if (uri == null || !"https".equalsIgnoreCase(uri.getScheme()) || uri.getHost() == null
                    || uri.getRawQuery() != null || uri.getRawFragment() != null || uri.getRawUserInfo() != null) {
                throw new UsageError("--page-relays wants https://HOST:PORT URLs, comma-separated, not '" + trimmed
                        + "'");
            }
            relays.add(uri.getRawPath() == null || uri.getRawPath().isEmpty() ? uri.resolve("/") : uri);
        }
        return relays;
    }

    private InetSocketAddress demoAddress() {
        return web == null ? null : socketAddress("--web", web, "127.0.0.1:8080)");
    }

    private static Cidr cidr(String flag, String text) {
        try {
            return Cidr.parse(text);
        } catch (IllegalArgumentException e) {
            throw new UsageError(flag + " wants an IPv4 prefix like 203.0.113.0/24 or an IPv6 one like"
                    + " 2001:db8::/32, not '" + text + "'");
        }
    }

    private static Ipv6Cidr ipv6Cidr(String flag, String text) {
        try {
            return Ipv6Cidr.parse(text);
        } catch (IllegalArgumentException e) {
            throw new UsageError(flag + " wants an IPv6 prefix like 2001:db8::/32, not '" + text + "'");
        }
    }

    /** The --allow/--deny values that are IPv6 prefixes: they hold a colon, as IPv4 ones never do. */
    private static java.util.stream.Stream<String> ipv6(List<String> prefixes) {
        return prefixes.stream().filter(p -> p.indexOf(':') >= 0);
    }

    private static java.util.stream.Stream<String> ipv4(List<String> prefixes) {
        return prefixes.stream().filter(p -> p.indexOf(':') < 0);
    }

    private CertificateManager loadCertificates() throws InvalidCertificateException {
        if (certPem == null) {
            return CertificateManager.selfSigned(stateDir, certificateValidity(certValidity), InstantSource.system());
        }
        return CertificateManager.fromPem(certPem, keyPem, InstantSource.system());
    }

    private static void requirePositive(String flag, int value) {
        if (value <= 0) {
            throw new UsageError(flag + " must be positive, not " + value);
        }
    }

    /** An IP literal for {@code --bind}: IPv4, IPv6, or IPv6 in brackets as in a URL ({@code [::]}). */
    static InetAddress bindAddress(String text) {
        String literal = text.length() > 2 && text.startsWith("[") && text.endsWith("]")
                ? text.substring(1, text.length() - 1) : text;
        if (literal.indexOf('%') >= 0) {
            // A scoped address (fe80::1%eth0) means nothing to a browser's URL; refused with the rest.
            throw new IllegalArgumentException("scoped address");
        }
        return InetAddress.ofLiteral(literal);
    }

    /** The host part of a URL for a listening address: IPv6 in brackets (RFC 3986 section 3.2.2), as typed. */
    static String hostForUrl(String bind) {
        String literal = bind.startsWith("[") && bind.endsWith("]") ? bind.substring(1, bind.length() - 1) : bind;
        return literal.contains(":") ? "[" + literal + "]" : literal;
    }

    /** A flag combination that makes no sense; reported like a parse error. */
    static final class UsageError extends RuntimeException {
        UsageError(String message) {
            super(message);
        }
    }

    public static void main(String[] args) {
        useProcessDefaults();
        System.exit(run(args, new PrintWriter(System.out, true), new PrintWriter(System.err, true)));
    }

    /** The JVM-wide settings of a relay process, for every entry point (the relay, {@code relay bench}). */
    public static void useProcessDefaults() {
        // One line per log record ("WARNING: ..."), like the rest of what the relay prints.
        if (System.getProperty("java.util.logging.SimpleFormatter.format") == null) {
            System.setProperty("java.util.logging.SimpleFormatter.format", "%4$s: %5$s%6$s%n");
        }
        // Netty's default leak detection records a stack trace for one buffer in 128: a cost on every frame path
        // that a running relay does not need (the tests keep it on). -Dio.netty.leakDetection.level=... restores it.
        if (System.getProperty("io.netty.leakDetection.level") == null) {
            io.netty.util.ResourceLeakDetector.setLevel(io.netty.util.ResourceLeakDetector.Level.DISABLED);
        }
    }

    /**
     * Runs the command line and returns the exit code; the entry point for tests. {@code moreSubcommands} (picocli
     * commands with a name) join {@code connect}: {@code relay bench} adds itself this way from its own jar.
     */
    public static int run(String[] args, PrintWriter out, PrintWriter err, Object... moreSubcommands) {
        CommandLine commandLine = new CommandLine(new RelayCommand(out, err));
        commandLine.addSubcommand("connect", new ConnectCommand(out));
        commandLine.addSubcommand("doctor", new DoctorCommand(out));
        for (Object subcommand : moreSubcommands) {
            commandLine.addSubcommand(subcommand);
        }
        commandLine.setOut(out);
        commandLine.setErr(err);
        commandLine.setParameterExceptionHandler((e, ignored) -> {
            err.println("relay: " + e.getMessage() + " (see " + e.getCommandLine().getCommandSpec().qualifiedName()
                    + " --help)");
            return EXIT_USAGE;
        });
        commandLine.setExecutionExceptionHandler((e, cmd, parsed) -> {
            if (e instanceof UsageError) {
                err.println("relay: " + e.getMessage() + " (see " + cmd.getCommandSpec().qualifiedName() + " --help)");
                return EXIT_USAGE;
            }
            err.println("relay: " + oneLine(e));
            return EXIT_FAILURE;
        });
        return commandLine.execute(args);
    }

    /** The operator-facing line for a failure: our own messages as they are, others with their cause. */
    static String oneLine(Throwable e) {
        if (e instanceof InvalidCertificateException || e instanceof Relay.StartException
                || e instanceof Connector.ConnectException) {
            return e.getMessage();
        }
        Throwable root = e;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        String message = root.getMessage() == null ? root.getClass().getSimpleName() : root.getMessage();
        return "unexpected error: " + message.lines().findFirst().orElse(message);
    }

    /** {@code --version}: the jar's implementation version. */
    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String version = RelayCommand.class.getPackage().getImplementationVersion();
            return new String[] {"riscv-relay " + (version == null ? "development build" : version)};
        }
    }
}

package dev.riscvrelay.relay.cli;

import dev.riscvrelay.relay.Relay;
import dev.riscvrelay.relay.RelayConfig;
import dev.riscvrelay.relay.WebOptions;
import dev.riscvrelay.relay.tls.RelayCertificate;
import dev.riscvrelay.relay.tls.RelayCertificate.InvalidCertificateException;
import java.io.PrintWriter;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

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
            "user-space gateway at 10.0.2.2.",
        },
        footer = {"", "Without --cert-pem/--key-pem a self-signed certificate valid for 14 days is made at start;",
            "browsers trust it through serverCertificateHashes with the printed hash."})
public final class RelayCommand implements Callable<Integer> {

    static final int EXIT_USAGE = 2;
    static final int EXIT_FAILURE = 1;

    @Option(names = "--bind", paramLabel = "ADDR", description = "Address to listen on (default: ${DEFAULT-VALUE}).")
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

    @Option(names = "--port-queue", paramLabel = "FRAMES",
            description = "Outbound queue per session, in frames; overflow is dropped and counted (default: ${DEFAULT-VALUE}).")
    int portQueue = RelayConfig.DEFAULT_PORT_QUEUE;

    @Option(names = "--mac-table-size", paramLabel = "N",
            description = "Most MAC addresses the switch remembers (default: ${DEFAULT-VALUE}).")
    int macTableSize = RelayConfig.DEFAULT_MAC_TABLE_SIZE;

    @Option(names = "--mac-aging", paramLabel = "SECONDS",
            description = "Seconds after which an unused MAC entry is forgotten (default: ${DEFAULT-VALUE}).")
    int macAgingSeconds = RelayConfig.DEFAULT_MAC_AGING_SECONDS;

    @Option(names = "--idle-timeout", paramLabel = "SECONDS",
            description = "Close a QUIC connection silent for this long; live browsers keep it open (default: ${DEFAULT-VALUE}).")
    int idleTimeoutSeconds = RelayConfig.DEFAULT_IDLE_TIMEOUT_SECONDS;

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

    private final PrintWriter out;
    private final PrintWriter err;

    public RelayCommand(PrintWriter out, PrintWriter err) {
        this.out = out;
        this.err = err;
    }

    @Override
    public Integer call() throws Exception {
        RelayConfig config = toConfig();
        RelayCertificate certificate = loadCertificate();
        try (Relay relay = Relay.start(config, certificate)) {
            if (certificate.selfSigned()) {
                out.println("Certificate Hash (use this in client): " + certificate.sha256Hex());
            } else {
                out.println("Certificate: " + certificate.leaf().getSubjectX500Principal().getName()
                        + " (issuer " + certificate.leaf().getIssuerX500Principal().getName()
                        + ", valid until " + certificate.leaf().getNotAfter().toInstant() + ")");
            }
            out.println("Listening on https://" + hostForUrl(bind) + ":" + relay.port());
            if (relay.webSocket() != null) {
                out.println("WebSocket on " + (relay.webSocket().config().tls() ? "wss://" : "ws://")
                        + hostForUrl(bind) + ":" + relay.webSocket().localAddress().getPort() + "/");
            }
            if (relay.demoAddress() != null) {
                out.println("Demo page on http://" + hostForUrl(relay.demoAddress().getAddress().getHostAddress())
                        + ":" + relay.demoAddress().getPort() + "/");
            }
            out.flush();
            Runtime.getRuntime().addShutdownHook(new Thread(relay::close, "relay-shutdown"));
            relay.awaitClose();
        }
        return 0;
    }

    RelayConfig toConfig() {
        InetAddress address;
        try {
            address = InetAddress.ofLiteral(bind);
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
        requirePositive("--mac-table-size", macTableSize);
        requirePositive("--mac-aging", macAgingSeconds);
        requirePositive("--idle-timeout", idleTimeoutSeconds);
        return new RelayConfig(address, port, maxSessions, portQueue, macTableSize,
                java.time.Duration.ofSeconds(macAgingSeconds), java.time.Duration.ofSeconds(idleTimeoutSeconds),
                new WebOptions(webSocketMode(), demoAddress(), v86Dir));
    }

    private WebOptions.WebSocketMode webSocketMode() {
        try {
            return WebOptions.WebSocketMode.valueOf(webSocket.toUpperCase(java.util.Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new UsageError("--websocket wants auto, tls, plain or off, not '" + webSocket + "'");
        }
    }

    private InetSocketAddress demoAddress() {
        if (web == null) {
            return null;
        }
        int colon = web.lastIndexOf(':');
        if (colon < 0) {
            throw new UsageError("--web wants ADDR:PORT, e.g. 127.0.0.1:8080, not '" + web + "'");
        }
        String host = web.substring(0, colon);
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        }
        try {
            int webPort = Integer.parseInt(web.substring(colon + 1));
            if (webPort < 0 || webPort > 65535) {
                throw new NumberFormatException();
            }
            return new InetSocketAddress(InetAddress.ofLiteral(host), webPort);
        } catch (IllegalArgumentException e) {
            throw new UsageError("--web wants ADDR:PORT with an IP address and a port, not '" + web + "'");
        }
    }

    private RelayCertificate loadCertificate() throws InvalidCertificateException {
        if (certPem == null) {
            return RelayCertificate.selfSignedForLocalhost();
        }
        return RelayCertificate.fromPem(certPem, keyPem);
    }

    private static void requirePositive(String flag, int value) {
        if (value <= 0) {
            throw new UsageError(flag + " must be positive, not " + value);
        }
    }

    private static String hostForUrl(String bind) {
        return bind.contains(":") ? "[" + bind + "]" : bind;
    }

    /** A flag combination that makes no sense; reported like a parse error. */
    static final class UsageError extends RuntimeException {
        UsageError(String message) {
            super(message);
        }
    }

    public static void main(String[] args) {
        System.exit(run(args, new PrintWriter(System.out, true), new PrintWriter(System.err, true)));
    }

    /** Runs the command line and returns the exit code; the entry point for tests. */
    public static int run(String[] args, PrintWriter out, PrintWriter err) {
        CommandLine commandLine = new CommandLine(new RelayCommand(out, err));
        commandLine.setOut(out);
        commandLine.setErr(err);
        commandLine.setParameterExceptionHandler((e, ignored) -> {
            err.println("relay: " + e.getMessage() + " (see relay --help)");
            return EXIT_USAGE;
        });
        commandLine.setExecutionExceptionHandler((e, cmd, parsed) -> {
            if (e instanceof UsageError) {
                err.println("relay: " + e.getMessage() + " (see relay --help)");
                return EXIT_USAGE;
            }
            err.println("relay: " + oneLine(e));
            return EXIT_FAILURE;
        });
        return commandLine.execute(args);
    }

    /** The operator-facing line for a failure: our own messages as they are, others with their cause. */
    static String oneLine(Throwable e) {
        if (e instanceof InvalidCertificateException || e instanceof Relay.StartException) {
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

package dev.riscvrelay.relay.cli;

import dev.riscvrelay.relay.cli.RelayCommand.UsageError;
import dev.riscvrelay.relay.connect.Connector;
import dev.riscvrelay.relay.connect.ConnectorConfig;
import dev.riscvrelay.relay.transport.tap.TapDevice;
import dev.riscvrelay.relay.transport.webtransport.WebTransportClientConfig;
import java.io.PrintWriter;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code relay connect}: puts a local machine on the relay's LAN, through a TAP device or QEMU's socket
 * networking. Runs until interrupted; reconnects by itself when the relay goes away.
 */
@Command(
        name = "connect",
        mixinStandardHelpOptions = true,
        versionProvider = RelayCommand.Version.class,
        sortOptions = false,
        usageHelpAutoWidth = true,
        description = {
            "Bridges Ethernet frames between the relay (WebTransport, one frame per datagram) and a local TAP"
                + " device or a QEMU VM's socket network backend. The MTU is what one datagram carries minus the"
                + " 14-byte Ethernet header; it is printed at start. Reconnects with backoff when the relay"
                + " restarts; the TAP stays up meanwhile.",
        },
        footer = {"",
            "Examples:",
            "  relay connect --url https://relay.example:4433/ --cert-hash HEX --tap rr0",
            "  relay connect --url https://127.0.0.1:4433/ --cert-hash HEX \\",
            "      --qemu-dgram 127.0.0.1:10001 --qemu-remote 127.0.0.1:10002",
            "  qemu-system-x86_64 ... -device e1000,netdev=n0 -netdev dgram,id=n0,\\",
            "      local.type=inet,local.host=127.0.0.1,local.port=10002,\\",
            "      remote.type=inet,remote.host=127.0.0.1,remote.port=10001",
            "",
            "A TAP needs root or CAP_NET_ADMIN; the QEMU mode needs no privileges. Set the guest's MTU to the"
                + " printed value. A relay restarted with a new self-signed certificate has a new hash: give the"
                + " relay a fixed certificate (--cert-pem/--key-pem) and pin its hash, or use a CA-issued one"
                + " and omit --cert-hash."})
final class ConnectCommand implements Callable<Integer> {

    @Option(names = "--url", required = true, paramLabel = "URL",
            description = {"The relay's WebTransport URL, https://HOST:PORT[/path]. Repeatable: the relays of a"
                    + " cluster,", "tried in turn when a session ends or an attempt fails."})
    List<String> urls = new ArrayList<>();

    @Option(names = "--cert-hash", paramLabel = "HEX",
            description = {"SHA-256 of the relay's certificate (printed by the relay at start). Without it the"
                    + " JDK's certificate authorities", "and the host name are checked. One for every --url, or one"
                    + " per --url in the same order."})
    List<String> certHashes = new ArrayList<>();

    @ArgGroup(exclusive = true, multiplicity = "1", heading = "%nLocal end (one of):%n")
    LocalEnd localEnd;

    static final class LocalEnd {
        @Option(names = "--tap", paramLabel = "NAME",
                description = "A TAP device, created when missing (needs CAP_NET_ADMIN).")
        String tap;

        @ArgGroup(exclusive = false)
        Qemu qemu;
    }

    static final class Qemu {
        @Option(names = "--qemu-dgram", required = true, paramLabel = "HOST:PORT",
                description = "Where to receive QEMU's datagrams: its -netdev dgram remote.host/remote.port.")
        String listen;

        @Option(names = "--qemu-remote", required = true, paramLabel = "HOST:PORT",
                description = "Where QEMU receives: its -netdev dgram local.host/local.port.")
        String remote;
    }

    @Option(names = "--tap-netns", paramLabel = "FILE",
            description = "Create the TAP inside this network namespace, e.g. /run/netns/NAME (needs CAP_SYS_ADMIN).")
    Path tapNetns;

    @Option(names = "--tap-queue", paramLabel = "FRAMES",
            description = "Frames the kernel queues on the TAP for the connector (its txqueuelen). Default: "
                    + TapDevice.TX_QUEUE_FRAMES + " while the path to the relay is short, "
                    + TapDevice.LONG_PATH_TX_QUEUE_FRAMES + " once it shows a round trip of 10 ms or more. Longer"
                    + " queues let a host's CUBIC upload faster across a lossy, long path; shorter ones keep the"
                    + " host's other traffic from waiting behind a bulk transfer (see README). A value fixes it.")
    Integer tapQueue;

    @Option(names = "--mtu", paramLabel = "BYTES",
            description = "MTU of the TAP (or the guest) instead of what one datagram carries minus 14. Frames"
                    + " larger than a datagram are dropped and counted, never split.")
    int mtu;

    @picocli.CommandLine.Mixin
    CongestionOption congestion = new CongestionOption();

    @Option(names = "--no-link-recovery", negatable = true,
            description = {"Link recovery (on unless --no-link-recovery): the relay and this connector send a lost"
                    + " frame once more,", "so the hosts' TCP keeps its rate across a lossy path. Costs 5 bytes of"
                    + " each frame (the MTU is 5 less)", "and about 1.5 MB of memory on each end."})
    boolean linkRecovery = true;

    private final PrintWriter out;

    ConnectCommand(PrintWriter out) {
        this.out = out;
    }

    @Override
    public Integer call() throws Exception {
        ConnectorConfig config = toConfig();
        Connector connector = Connector.start(config, line -> {
            out.println(line);
            out.flush();
        });
        Thread hook = new Thread(connector::close, "connect-shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
        try {
            connector.ready().get();
            connector.terminated().get();
        } catch (ExecutionException e) {
            throw e.getCause() instanceof Exception cause ? cause : e;
        }
        return 0;
    }

    ConnectorConfig toConfig() {
        if (certHashes.size() > 1 && certHashes.size() != urls.size()) {
            throw new UsageError("--cert-hash: give one for every --url, or one per --url (" + urls.size()
                    + "), not " + certHashes.size());
        }
        List<ConnectorConfig.RelayEndpoint> relays = new ArrayList<>();
        for (int i = 0; i < urls.size(); i++) {
            String hash = certHashes.isEmpty() ? null : certHashes.get(certHashes.size() == 1 ? 0 : i);
            relays.add(new ConnectorConfig.RelayEndpoint(relayUrl(urls.get(i)), clientConfig(hash)));
        }
        ConnectorConfig.Local local;
        if (localEnd.tap != null) {
            int queue = tapQueue == null ? ConnectorConfig.Tap.ADAPTIVE_TX_QUEUE : tapQueue;
            if (tapQueue != null && (queue < 1 || queue > TapDevice.MAX_TX_QUEUE_FRAMES)) {
                throw new UsageError("--tap-queue: give 1.." + TapDevice.MAX_TX_QUEUE_FRAMES + " frames, not "
                        + queue);
            }
            try {
                TapDevice.checkName(localEnd.tap);
            } catch (IllegalArgumentException e) {
                throw new UsageError("--tap: " + e.getMessage());
            }
            try {
                ConnectorConfig.Tap.checkNetns(tapNetns);
            } catch (IllegalArgumentException e) {
                throw new UsageError("--tap-netns: " + e.getMessage());
            }
            local = new ConnectorConfig.Tap(localEnd.tap, tapNetns, queue);
        } else {
            if (tapNetns != null) {
                throw new UsageError("--tap-netns goes with --tap");
            }
            if (tapQueue != null) {
                throw new UsageError("--tap-queue goes with --tap");
            }
            local = new ConnectorConfig.QemuDgram(hostPort("--qemu-dgram", localEnd.qemu.listen),
                    hostPort("--qemu-remote", localEnd.qemu.remote));
        }
        try {
            return new ConnectorConfig(relays.get(0).url(), relays.get(0).client(), local, mtu,
                    ConnectorConfig.DEFAULT_BACKOFF_INITIAL, ConnectorConfig.DEFAULT_BACKOFF_CAP,
                    relays.subList(1, relays.size()));
        } catch (IllegalArgumentException e) {
            throw new UsageError(e.getMessage());
        }
    }

    private static URI relayUrl(String url) {
        URI uri;
        try {
            uri = new URI(url);
        } catch (URISyntaxException e) {
            throw new UsageError("--url is no URL: " + e.getMessage());
        }
        if (!"https".equalsIgnoreCase(uri.getScheme()) || uri.getHost() == null) {
            throw new UsageError("--url wants https://HOST:PORT[/path], not '" + url + "'");
        }
        return uri;
    }

    private WebTransportClientConfig clientConfig(String certHash) {
        try {
            WebTransportClientConfig defaults = WebTransportClientConfig.pinned(certHash);
            // A connector should notice a vanished relay within seconds, not the browser-like 30 s.
            return new WebTransportClientConfig(defaults.certificateSha256Hex(), defaults.origin(),
                    Duration.ofSeconds(3), Duration.ofSeconds(10), Duration.ofSeconds(3), defaults.udpPayloadSize(),
                    defaults.datagramQueueLength(), defaults.maxPendingHandoffs(), congestion.algorithm(),
                    linkRecovery, WebTransportClientConfig.CONNECTOR_FLUSH_EVERY_DATAGRAMS);
        } catch (IllegalArgumentException e) {
            throw new UsageError("--cert-hash: " + e.getMessage());
        }
    }

    static InetSocketAddress hostPort(String flag, String value) {
        int colon = value.lastIndexOf(':');
        if (colon <= 0 || colon == value.length() - 1) {
            throw new UsageError(flag + " wants HOST:PORT, not '" + value + "'");
        }
        String host = value.substring(0, colon);
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        }
        int port;
        try {
            port = Integer.parseInt(value.substring(colon + 1));
        } catch (NumberFormatException e) {
            throw new UsageError(flag + " wants a numeric port, not '" + value + "'");
        }
        if (port < 0 || port > 65535) {
            throw new UsageError(flag + " port must be 0..65535, not " + port);
        }
        InetSocketAddress address = new InetSocketAddress(host, port);
        if (address.isUnresolved()) {
            throw new UsageError(flag + ": cannot resolve " + host);
        }
        return address;
    }
}

package dev.riscvrelay.relay.cli;

import dev.riscvrelay.relay.HostBudgets;

import dev.riscvrelay.relay.RelayConfig;
import dev.riscvrelay.relay.ops.OperationsConfig;
import dev.riscvrelay.relay.ops.doctor.CertificateCheck;
import dev.riscvrelay.relay.ops.doctor.Check;
import dev.riscvrelay.relay.ops.doctor.Doctor;
import dev.riscvrelay.relay.ops.doctor.HostFacts;
import dev.riscvrelay.relay.ops.doctor.OpenFilesCheck;
import dev.riscvrelay.relay.ops.doctor.PingGroupCheck;
import dev.riscvrelay.relay.ops.doctor.RouteMtuCheck;
import dev.riscvrelay.relay.ops.doctor.SystemHostFacts;
import dev.riscvrelay.relay.ops.doctor.UdpBufferCheck;
import dev.riscvrelay.relay.ops.doctor.UdpOffloadCheck;
import dev.riscvrelay.relay.ops.doctor.UdpPortCheck;
import dev.riscvrelay.relay.transport.webtransport.PathMtu;
import dev.riscvrelay.relay.transport.webtransport.WebTransportServerConfig;
import java.io.PrintWriter;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code relay doctor}: checks this host for the relay, with the flags the relay would run with. */
@Command(
        name = "doctor",
        mixinStandardHelpOptions = true,
        versionProvider = RelayCommand.Version.class,
        sortOptions = false,
        usageHelpAutoWidth = true,
        description = {
            "Checks what makes this host good for the relay and says what to change: ping sockets"
                + " (net.ipv4.ping_group_range), UDP buffer limits, UDP GSO/GRO, the open-file limit against"
                + " --max-sessions, the certificate, whether the port is free or already served, and the MTU of"
                + " the default route. Run it as the user and with the flags the relay will have.",
        },
        footer = {"", "Each line is OK, WARN or FAIL. Exit code: 0 all OK, 1 a warning (the relay runs, something"
                + " works worse), 2 a failure (the relay will not start or not serve as asked)."})
final class DoctorCommand implements Callable<Integer> {

    @Option(names = "--bind", paramLabel = "ADDR", description = "Address the relay will listen on (default: ${DEFAULT-VALUE}).")
    String bind = "0.0.0.0";

    @Option(names = "--port", paramLabel = "PORT", description = "Its UDP port (default: ${DEFAULT-VALUE}).")
    int port = 4433;

    @Option(names = "--max-sessions", paramLabel = "N", description = "Its --max-sessions (default: ${DEFAULT-VALUE}).")
    int maxSessions = RelayConfig.DEFAULT_MAX_SESSIONS;

    @Option(names = "--cert-pem", paramLabel = "FILE", description = "Its CA-issued certificate chain; needs --key-pem.")
    Path certPem;

    @Option(names = "--key-pem", paramLabel = "FILE", description = "The key for --cert-pem.")
    Path keyPem;

    @Option(names = "--state-dir", paramLabel = "DIR", description = "Its --state-dir, where a self-signed certificate is kept.")
    Path stateDir;

    @Option(names = "--admin", paramLabel = "ADDR:PORT",
            description = "Where a relay already running answers /healthz (default: ${DEFAULT-VALUE}).")
    String admin = "127.0.0.1:" + OperationsConfig.DEFAULT_ADMIN_PORT;

    private final PrintWriter out;
    private final HostFacts host;

    DoctorCommand(PrintWriter out) {
        this(out, new SystemHostFacts());
    }

    DoctorCommand(PrintWriter out, HostFacts host) {
        this.out = out;
        this.host = host;
    }

    @Override
    public Integer call() {
        InetAddress address;
        try {
            address = InetAddress.ofLiteral(bind);
        } catch (IllegalArgumentException e) {
            throw new RelayCommand.UsageError("--bind wants an IP address, not '" + bind + "'");
        }
        if ((certPem == null) != (keyPem == null)) {
            throw new RelayCommand.UsageError("--cert-pem and --key-pem go together: give both or neither");
        }
        InetSocketAddress adminAddress = admin.equalsIgnoreCase("off") ? null : RelayCommand.adminAddress(admin);
        int natSockets = HostBudgets.oneNetworkAtItsLimits();
        List<Check> checks = List.of(
                new PingGroupCheck(),
                new UdpBufferCheck(WebTransportServerConfig.defaults().receiveBufferBytes()),
                new UdpOffloadCheck(),
                new OpenFilesCheck(maxSessions, natSockets),
                new CertificateCheck(certPem, keyPem, stateDir),
                new UdpPortCheck(address, port, adminAddress),
                new RouteMtuCheck(PathMtu.QUIC_MIN_UDP_PAYLOAD, PathMtu.MAX_UDP_PAYLOAD));
        return Doctor.report(new Doctor(checks).examine(host), out);
    }
}

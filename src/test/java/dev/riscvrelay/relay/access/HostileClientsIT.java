package dev.riscvrelay.relay.access;

import static org.assertj.core.api.Assertions.assertThat;

import dev.riscvrelay.relay.access.HostileClient.Refused;
import dev.riscvrelay.relay.access.HostileClient.Session;
import dev.riscvrelay.relay.access.HostileClient.Transport;
import dev.riscvrelay.relay.testbed.CommandResult;
import dev.riscvrelay.relay.testbed.ConnectorProcess;
import dev.riscvrelay.relay.testbed.DhcpClients;
import dev.riscvrelay.relay.testbed.FieldBed;
import dev.riscvrelay.relay.testbed.LanHost;
import dev.riscvrelay.relay.testbed.NetnsTestBed;
import io.netty.channel.IoEventLoop;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.EpollIoHandler;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The attacks a hostile client can make on a relay with its defaults, each over WebSocket and WebTransport, from one
 * address in the root namespace across the field bed's 1500-MTU link; after each, an honest VM (a Linux namespace
 * behind {@code relay connect}, from another address) must get its own network and a DHCP lease at once.
 */
class HostileClientsIT {

    @TempDir
    static Path work;

    private FieldBed field;
    private MultiThreadIoEventLoopGroup clientLoop;
    private HostileClient attacker;
    private final HttpClient admin = HttpClient.newHttpClient();

    @BeforeAll
    static void tools() {
        NetnsTestBed.requireTools("ip", "busybox");
    }

    private void start(String... relayArgs) throws Exception {
        field = FieldBed.create();
        field.startRelay("hostile", relayArgs);
        clientLoop = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
        attacker = new HostileClient(field.relayAddress(), FieldBed.RELAY_PORT, field.relay().certificateHash(),
                (IoEventLoop) clientLoop.next());
    }

    @AfterEach
    void stop() throws Exception {
        if (clientLoop != null) {
            clientLoop.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
        }
        if (field != null) {
            field.close();
        }
        admin.close();
    }

    private double metric(String name) throws Exception {
        String metrics = admin.send(HttpRequest.newBuilder(URI.create(field.adminUrl("/metrics"))).build(),
                HttpResponse.BodyHandlers.ofString()).body();
        Matcher m = Pattern.compile("(?m)^" + Pattern.quote(name) + " (\\S+)$").matcher(metrics);
        assertThat(m.find()).as("%s in /metrics", name).isTrue();
        return Double.parseDouble(m.group(1));
    }

    /** An honest VM on {@code path}: a connector from its own namespace (its own address), then udhcpc. */
    private String honestVmLeases(String role, String path) throws Exception {
        ConnectorProcess.RelayEndpoint endpoint = new ConnectorProcess.RelayEndpoint(
                "https://" + field.relayAddress() + ":" + FieldBed.RELAY_PORT + path, field.relay().certificateHash());
        LanHost vm = field.addConnectedHost(role, endpoint);
        vm.namespace().privateResolvConf();
        Path script = DhcpClients.writeUdhcpcScript(Files.createTempDirectory(work, role));
        long started = System.nanoTime();
        CommandResult udhcpc = vm.exec(Duration.ofSeconds(30), "busybox", "udhcpc", "-i", "eth0", "-n", "-q", "-t",
                "5", "-T", "1", "-s", script.toString());
        long seconds = TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - started);
        assertThat(udhcpc.succeeded()).as("the honest VM's lease: %s", udhcpc.describe()).isTrue();
        assertThat(seconds).as("at once, not after the attacker's claims time out").isLessThan(15);
        String address = vm.exec("ip", "-4", "-o", "addr", "show", "dev", "eth0").orThrow().stdout();
        Matcher inet = Pattern.compile("inet (10\\.0\\.2\\.\\d+)/24").matcher(address);
        assertThat(inet.find()).as(address).isTrue();
        assertThat(vm.ping("10.0.2.2", 1, 0.2).succeeded()).as("the gateway answers the honest VM").isTrue();
        return inet.group(1);
    }

    @ParameterizedTest
    @EnumSource(Transport.class)
    void networksOpenedAndAbandonedDoNotKeepAnHonestNetworkOut(Transport transport) throws Exception {
        start("--max-networks", "4");
        int admitted = 0;
        int rateLimited = 0;
        for (int i = 0; i < 15; i++) {
            try (Session session = attacker.open(transport, "/net/hog" + i)) {
                admitted++;
            } catch (Refused refused) {
                assertThat(refused.status).as("refused only for the creation rate").isEqualTo(429);
                rateLimited++;
            }
            assertThat(metric("relay_networks_open")).isLessThanOrEqualTo(4);
        }
        assertThat(admitted).as("ten creations a minute by default").isEqualTo(10);
        assertThat(rateLimited).isEqualTo(5);
        assertThat(metric("relay_sessions_refused_network_rate_total")).isEqualTo(5);
        assertThat(metric("relay_networks_reclaimed_total")).as("each new one took the longest-empty slot")
                .isGreaterThanOrEqualTo(7);

        honestVmLeases("honest", "/net/honest");
        assertThat(metric("relay_networks_open")).isLessThanOrEqualTo(4);
    }

    @ParameterizedTest
    @EnumSource(Transport.class)
    void sessionsThatLeaseAndLeaveInALoopDoNotEmptyThePool(Transport transport) throws Exception {
        start();
        Set<Integer> leased = new HashSet<>();
        for (int cycle = 0; cycle < 70; cycle++) {
            try (Session session = attacker.open(transport, "/")) {
                for (int mac = 0; mac < 4; mac++) {
                    int address = HostileClient.lease(session, HostileClient.randomMac());
                    if (address != 0) {
                        leased.add(address);
                    }
                }
            }
        }
        assertThat(leased.size()).as("the attacker went through the whole pool").isEqualTo(240);
        assertThat(metric("relay_dhcp_leases_reclaimed_total")).as("departed leases taken for new clients")
                .isGreaterThanOrEqualTo(280 - 240);
        assertThat(metric("relay_dhcp_pool_exhausted_total")).isZero();

        honestVmLeases("honest", "/");
    }

    @ParameterizedTest
    @EnumSource(Transport.class)
    void sessionsHeldOpenGetOnlyTheirAddressShareAndEachItsMacsWorth(Transport transport) throws Exception {
        start("--max-leases-per-ip", "32");
        List<Session> held = new ArrayList<>();
        try {
            int leases = 0;
            for (int s = 0; s < 12; s++) {
                Session session = attacker.open(transport, "/");
                held.add(session);
                long mac = HostileClient.randomMac();
                // One source MAC, many chaddrs: the session still holds at most --macs-per-session (4) addresses.
                for (int i = 0; i < 5; i++) {
                    if (leaseForChaddr(session, mac, HostileClient.randomMac()) != 0) {
                        leases++;
                    }
                }
            }
            assertThat(leases).as("the client address's share").isEqualTo(32);
            assertThat(metric("relay_dhcp_leases")).isEqualTo(32);
            assertThat(metric("relay_dhcp_refused_over_limit_total")).isEqualTo(12 * 5 - 32);
            assertThat(metric("relay_drops_total{reason=\"spoofed_mac\"}")).isZero();

            honestVmLeases("honest", "/");
        } finally {
            held.forEach(Session::close);
        }
    }

    /** A lease for {@code chaddr} asked in frames from {@code source}: what a client writing chaddr freely does. */
    private static int leaseForChaddr(Session session, long source, long chaddr) throws Exception {
        Session spoofing = new Session() {
            @Override
            public void send(byte[] frame) throws Exception {
                for (int i = 0; i < 6; i++) {
                    frame[6 + i] = (byte) (source >>> (40 - 8 * i));
                }
                session.send(frame);
            }

            @Override
            public byte[] poll(long millis) throws InterruptedException {
                return session.poll(millis);
            }

            @Override
            public void close() {
                session.close();
            }
        };
        return HostileClient.lease(spoofing, chaddr);
    }
}

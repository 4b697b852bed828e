package dev.riscvrelay.relay;

import static org.assertj.core.api.Assertions.assertThat;

import dev.riscvrelay.relay.access.AccessConfig;
import dev.riscvrelay.relay.access.AddressAssignment;
import dev.riscvrelay.relay.access.AccessTokens;
import dev.riscvrelay.relay.access.Admission;
import dev.riscvrelay.relay.access.ClaimLimits;
import dev.riscvrelay.relay.access.SessionLimits;
import dev.riscvrelay.relay.metrics.Counter;
import dev.riscvrelay.relay.metrics.Counters;
import dev.riscvrelay.relay.wire.Ipv4Address;
import io.netty.channel.IoEventLoop;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import java.net.InetAddress;
import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Networks are freed when they stand empty, and one client address creates them only so fast. */
class NetworksTest {

    private static final long MINUTE = TimeUnit.MINUTES.toNanos(1);

    private final MultiThreadIoEventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    private final IoEventLoop loop = (IoEventLoop) group.next();
    private final Counters counters = new Counters();
    private final long[] now = {1_000_000_000L};
    private Networks networks;

    @AfterEach
    void stop() throws Exception {
        if (networks != null) {
            onLoop(() -> {
                networks.close();
                return null;
            });
        }
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
    }

    private void start(int maxNetworks, ClaimLimits claims) throws Exception {
        AccessConfig access = new AccessConfig(maxNetworks, AccessTokens.NONE, SessionLimits.defaults(), claims);
        RelayConfig config = RelayConfig.defaults(InetAddress.getLoopbackAddress(), 0).withAccess(access);
        networks = onLoop(() -> new Networks(config, loop, counters, () -> now[0]));
    }

    private static InetAddress address(int last) throws Exception {
        return InetAddress.getByAddress(new byte[] {(byte) 198, 51, 100, (byte) last});
    }

    private Admission admit(String path, InetAddress peer) throws Exception {
        return onLoop(() -> networks.admit(path, peer));
    }

    private void leave(Admission admission) throws Exception {
        onLoop(() -> {
            ((Admission.Admitted) admission).release().run();
            return null;
        });
    }

    private <T> T onLoop(Callable<T> task) throws Exception {
        return loop.submit(task).get(10, TimeUnit.SECONDS);
    }

    @Test
    void networksOpenedAndLeftAtOnceDoNotKeepANewNetworkOut() throws Exception {
        start(16, ClaimLimits.defaults().withNetworkCreationsPerMinute(100));
        InetAddress hog = address(66);
        for (int i = 0; i < 15; i++) {
            leave(admit("/net/hog" + i, hog));
        }
        assertThat(onLoop(networks::count)).isEqualTo(16);

        now[0] += 1_000;
        Admission honest = admit("/net/honest", address(7));
        assertThat(honest).isInstanceOf(Admission.Admitted.class);
        assertThat(onLoop(() -> networks.network("hog0"))).as("the longest empty one went").isNull();
        assertThat(onLoop(() -> networks.network("hog1"))).isNotNull();
        assertThat(counters.get(Counter.NETWORKS_RECLAIMED)).isEqualTo(1);
    }

    @Test
    void aFullRelayWhoseNetworksAllHaveMembersRefusesANewOne() throws Exception {
        start(2, ClaimLimits.defaults());
        assertThat(admit("/net/busy", address(1))).isInstanceOf(Admission.Admitted.class);
        Admission refused = admit("/net/other", address(2));
        assertThat(refused).isEqualTo(new Admission.Refused(503, Counter.SESSIONS_REFUSED_NO_NETWORK));
        assertThat(onLoop(networks::count)).isEqualTo(2);
    }

    @Test
    void anEmptyNetworkIsFreedAfterItsIdleTimeButNotBeforeAndNeverTheDefaultOne() throws Exception {
        start(16, ClaimLimits.defaults().withNetworkIdle(Duration.ofMinutes(5)));
        Admission member = admit("/net/class", address(1));
        Admission onDefault = admit("/", address(1));
        leave(onDefault);
        now[0] += 10 * MINUTE;
        onLoop(() -> {
            networks.sweep(now[0]);
            return null;
        });
        assertThat(onLoop(() -> networks.network("class"))).as("it has a member").isNotNull();

        leave(member);
        now[0] += 5 * MINUTE - 1;
        onLoop(() -> {
            networks.sweep(now[0]);
            return null;
        });
        assertThat(onLoop(() -> networks.network("class"))).isNotNull();
        now[0] += 1;
        onLoop(() -> {
            networks.sweep(now[0]);
            return null;
        });
        assertThat(onLoop(() -> networks.network("class"))).isNull();
        assertThat(onLoop(networks::defaultNetwork)).isNotNull();
        assertThat(counters.get(Counter.NETWORKS_RECLAIMED)).isEqualTo(1);

        // Asked for again, it is made anew.
        assertThat(admit("/net/class", address(1))).isInstanceOf(Admission.Admitted.class);
    }

    @Test
    void oneAddressCreatesOnlySoManyNetworksAMinute() throws Exception {
        start(64, ClaimLimits.defaults().withNetworkCreationsPerMinute(3));
        InetAddress hog = address(66);
        for (int i = 0; i < 3; i++) {
            assertThat(admit("/net/n" + i, hog)).isInstanceOf(Admission.Admitted.class);
        }
        assertThat(admit("/net/n3", hog)).isEqualTo(new Admission.Refused(429, Counter.SESSIONS_REFUSED_NETWORK_RATE));
        assertThat(admit("/net/n0", hog)).as("joining an existing one is no creation")
                .isInstanceOf(Admission.Admitted.class);
        assertThat(admit("/net/mine", address(7))).isInstanceOf(Admission.Admitted.class);

        now[0] += MINUTE;
        assertThat(admit("/net/n3", hog)).isInstanceOf(Admission.Admitted.class);
    }

    private AddressAssignment.Outcome assign(Admission admission, long mac) throws Exception {
        return onLoop(() -> ((Admission.Admitted) admission).addresses().assign(mac));
    }

    @Test
    void aRegisteredMacIsAssignedItsDhcpLeaseBoundToItsSessionAndKeptAcrossAReconnect() throws Exception {
        start(16, ClaimLimits.defaults());
        long mac = 0x52_54_00_ab_cd_efL;
        Admission first = admit("/", address(1));
        AddressAssignment.Outcome outcome = assign(first, mac);
        assertThat(outcome).isEqualTo(new AddressAssignment.Assigned(Ipv4Address.parse("10.0.2.15"),
                Ipv4Address.parse("10.0.2.2"), Ipv4Address.parse("255.255.255.0"), Ipv4Address.parse("10.0.2.3")));
        Admission.Admitted admitted = (Admission.Admitted) first;
        assertThat(admitted.guard().boundMacCount()).isEqualTo(1);
        assertThat(admitted.guard().boundMac(0)).isEqualTo(mac);
        assertThat(onLoop(() -> networks.network("default").dhcp().leasedAddressOf(mac)))
                .isEqualTo(Ipv4Address.parse("10.0.2.15"));

        // Another live session may not take the MAC (nor its address).
        Admission thief = admit("/", address(2));
        assertThat(assign(thief, mac)).isInstanceOf(AddressAssignment.Refused.class)
                .extracting(r -> ((AddressAssignment.Refused) r).message()).asString().contains("in use");
        assertThat(((Admission.Admitted) thief).guard().boundMacCount()).isZero();

        // The VM reconnects within the grace time: its new session gets the same address.
        leave(first);
        Admission again = admit("/", address(1));
        assertThat(assign(again, mac)).extracting(o -> ((AddressAssignment.Assigned) o).address())
                .isEqualTo(Ipv4Address.parse("10.0.2.15"));
        assertThat(assign(again, 0x01_00_5e_00_00_01L)).as("a multicast MAC")
                .isInstanceOf(AddressAssignment.Refused.class);
    }
}

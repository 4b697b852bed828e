package dev.riscvrelay.relay.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import dev.riscvrelay.relay.gateway.dhcp.SharedLeases;
import dev.riscvrelay.relay.metrics.Counters;
import dev.riscvrelay.relay.wire.Ipv4Address;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The relay's copy of the cluster's lease bucket, as its watcher fills it (no NATS here). */
class ClusterLeasesTest {

    private static final int ADDRESS = Ipv4Address.parse("10.0.2.40");
    private static final long VM = 0x5255_0a00_0201L;
    private static final long OTHER_VM = 0x5255_0a00_0299L;
    private static final Duration LEASE = Duration.ofMinutes(10);

    private final long[] now = {1_000_000L};
    private final ClusterLeases leases = new ClusterLeases("a", LEASE, new Counters(), line -> { }, () -> now[0]);
    private final SharedLeases lan = leases.forNetwork("default");

    @AfterEach
    void close() {
        leases.close();
    }

    @Test
    void anotherRelaysLeaseIsHeldUntilTheBucketWouldHaveDroppedIt() {
        leases.seen(ClusterLeases.key("default.", ADDRESS), ClusterLeases.macHex(OTHER_VM) + " b", now[0]);
        assertThat(lan.heldByOther(ADDRESS, VM)).isTrue();
        assertThat(lan.heldByOther(ADDRESS, OTHER_VM)).as("not by another MAC than its own").isFalse();
        assertThat(lan.addressOf(OTHER_VM)).isEqualTo(ADDRESS);

        // JetStream expires the entry after two lease times without telling the watchers: the copy lets it go too.
        now[0] += LEASE.multipliedBy(ClusterLeases.ENTRY_TTL_FACTOR).toMillis() - 1;
        assertThat(lan.heldByOther(ADDRESS, VM)).isTrue();
        now[0] += 1;
        assertThat(lan.heldByOther(ADDRESS, VM)).isFalse();
        assertThat(lan.addressOf(OTHER_VM)).isZero();
    }

    @Test
    void aRenewalSeenByTheWatcherKeepsTheLeaseAlive() {
        String key = ClusterLeases.key("default.", ADDRESS);
        leases.seen(key, ClusterLeases.macHex(OTHER_VM) + " b", now[0]);
        now[0] += LEASE.toMillis();
        leases.seen(key, ClusterLeases.macHex(OTHER_VM) + " b", now[0]);
        now[0] += LEASE.toMillis() + 1;
        assertThat(lan.heldByOther(ADDRESS, VM)).isTrue();
    }

    @Test
    void aDeleteFreesTheAddressAndOwnOffersDoNotTakeAnotherMacsAddress() {
        String key = ClusterLeases.key("default.", ADDRESS);
        leases.seen(key, ClusterLeases.macHex(OTHER_VM) + " b", now[0]);
        lan.held(ADDRESS, VM); // this relay's DHCP server would NAK; the copy keeps the other relay's holder
        assertThat(lan.heldByOther(ADDRESS, VM)).isTrue();
        leases.seen(key, null, now[0]);
        assertThat(lan.heldByOther(ADDRESS, VM)).isFalse();

        lan.held(ADDRESS, VM);
        assertThat(lan.heldByOther(ADDRESS, OTHER_VM)).isTrue();
        assertThat(lan.addressOf(VM)).isEqualTo(ADDRESS);
        lan.freed(ADDRESS, VM);
        assertThat(lan.heldByOther(ADDRESS, OTHER_VM)).isFalse();
    }
}

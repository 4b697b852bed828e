package dev.riscvrelay.relay.gateway.dhcp;

import static dev.riscvrelay.relay.gateway.dhcp.DhcpFrames.clientFrame;
import static dev.riscvrelay.relay.gateway.dhcp.DhcpFrames.options;
import static dev.riscvrelay.relay.gateway.dhcp.DhcpFrames.parseReply;
import static dev.riscvrelay.relay.wire.DhcpMessage.DISCOVER;
import static dev.riscvrelay.relay.wire.DhcpMessage.OPTION_MESSAGE_TYPE;
import static dev.riscvrelay.relay.wire.DhcpMessage.OPTION_REQUESTED_ADDRESS;
import static dev.riscvrelay.relay.wire.DhcpMessage.REQUEST;
import static org.assertj.core.api.Assertions.assertThat;

import dev.riscvrelay.relay.gateway.GuestLan;
import dev.riscvrelay.relay.lan.NetworkConfig;
import dev.riscvrelay.relay.metrics.Counter;
import dev.riscvrelay.relay.wire.Ipv4Address;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Leases held by sessions: limits per holder, a grace time after the session ends, and reclaiming when full. */
class DhcpLeaseHoldersTest {

    private static final int ADDRESS_15 = Ipv4Address.parse("10.0.2.15");
    private static final int ADDRESS_16 = Ipv4Address.parse("10.0.2.16");
    private static final Duration GRACE = Duration.ofSeconds(60);
    private static final long MAC_A = 0x0200_0000_00A1L;
    private static final long MAC_B = 0x0200_0000_00B1L;
    private static final long MAC_C = 0x0200_0000_00C1L;

    /** A session as the server sees it: a limit of leases, and whether (and when) it left. */
    private static final class Session implements LeaseHolder {
        final int max;
        int leases;
        boolean departed;
        long departedAt;

        Session(int max) {
            this.max = max;
        }

        int asksLeft = Integer.MAX_VALUE;

        @Override
        public boolean mayAsk(long now) {
            return asksLeft-- > 0;
        }

        @Override
        public boolean mayTakeLease() {
            return !departed && leases < max;
        }

        @Override
        public void leaseTaken() {
            leases++;
        }

        @Override
        public void leaseReturned() {
            leases--;
        }

        @Override
        public boolean departed() {
            return departed;
        }

        @Override
        public long departedAt() {
            return departedAt;
        }

        void leave(long now) {
            departed = true;
            departedAt = now;
        }
    }

    private final Map<Long, LeaseHolder> holders = new HashMap<>();
    private GuestLan lan;
    private DhcpServer server;

    private void start(int poolSize) {
        NetworkConfig config = NetworkConfig.defaults().withPool(ADDRESS_15, poolSize);
        server = new DhcpServer(config, () -> lan.nanoTime[0], mac -> holders.get(mac), GRACE);
        lan = new GuestLan(config, server);
    }

    /** A DHCP message whose chaddr is {@code chaddr} but whose frame comes from {@code source}. */
    private static byte[] from(long source, byte[] frame) {
        for (int i = 0; i < 6; i++) {
            frame[6 + i] = (byte) (source >>> (40 - 8 * i));
        }
        return frame;
    }

    private static byte[] discover(long chaddr) {
        return clientFrame(chaddr, 0, -1, 0x1234, 0, 0, options(OPTION_MESSAGE_TYPE, DISCOVER));
    }

    private static byte[] request(long chaddr, int address) {
        return clientFrame(chaddr, 0, -1, 0x5678, 0, 0,
                options(OPTION_MESSAGE_TYPE, REQUEST, OPTION_REQUESTED_ADDRESS, address));
    }

    private int offered() {
        List<byte[]> frames = lan.takeReceived();
        assertThat(frames).hasSize(1);
        return parseReply(frames.get(0)).yiaddr();
    }

    @Test
    void aSessionGetsNoMoreAddressesThanItsLimitWhateverChaddrItWrites() {
        start(16);
        Session session = new Session(2);
        holders.put(MAC_A, session);
        lan.sendFromGuest(from(MAC_A, discover(0x0200_0000_0001L)));
        lan.sendFromGuest(from(MAC_A, discover(0x0200_0000_0002L)));
        assertThat(lan.takeReceived()).hasSize(2);
        assertThat(session.leases).isEqualTo(2);

        lan.sendFromGuest(from(MAC_A, discover(0x0200_0000_0003L)));
        assertThat(lan.takeReceived()).isEmpty();
        assertThat(lan.counters.get(Counter.DHCP_REFUSED_OVER_LIMIT)).isEqualTo(1);

        // What it already holds it keeps asking for freely: the same chaddr gets its offer again.
        lan.sendFromGuest(from(MAC_A, discover(0x0200_0000_0001L)));
        assertThat(offered()).isEqualTo(ADDRESS_15);
        assertThat(session.leases).isEqualTo(2);
    }

    @Test
    void aDepartedSessionsLeaseReturnsToThePoolAfterTheGraceTime() {
        start(16);
        Session session = new Session(4);
        holders.put(MAC_A, session);
        lan.sendFromGuest(request(MAC_A, ADDRESS_15));
        offered();
        assertThat(server.boundLeases()).isEqualTo(1);

        session.leave(lan.nanoTime[0]);
        lan.nanoTime[0] += GRACE.toNanos() - 1;
        server.expire(lan.counters);
        assertThat(server.boundLeases()).isEqualTo(1);
        assertThat(server.leasedAddressOf(MAC_A)).isEqualTo(ADDRESS_15);

        lan.nanoTime[0] += 1;
        server.expire(lan.counters);
        assertThat(server.boundLeases()).isZero();
        assertThat(session.leases).isZero();
        assertThat(lan.counters.get(Counter.DHCP_LEASES_RECLAIMED)).isEqualTo(1);
    }

    @Test
    void aFullPoolGivesANewClientTheAddressOfTheLongestDepartedSession() {
        start(2);
        Session first = new Session(4);
        Session second = new Session(4);
        holders.put(MAC_A, first);
        holders.put(MAC_B, second);
        lan.sendFromGuest(request(MAC_A, ADDRESS_15));
        lan.sendFromGuest(request(MAC_B, ADDRESS_16));
        assertThat(lan.takeReceived()).hasSize(2);

        // A full pool with both holders live: nothing for a third client.
        holders.put(MAC_C, new Session(4));
        lan.sendFromGuest(discover(MAC_C));
        assertThat(lan.takeReceived()).isEmpty();
        assertThat(lan.counters.get(Counter.DHCP_POOL_EXHAUSTED)).isEqualTo(1);

        second.leave(lan.nanoTime[0]);
        lan.nanoTime[0] += 1_000;
        first.leave(lan.nanoTime[0]);
        lan.sendFromGuest(discover(MAC_C));
        assertThat(offered()).isEqualTo(ADDRESS_16);
        assertThat(second.leases).isZero();
        assertThat(first.leases).isEqualTo(1);
        assertThat(lan.counters.get(Counter.DHCP_LEASES_RECLAIMED)).isEqualTo(1);
    }

    @Test
    void aVmThatReconnectsWithinTheGraceTimeKeepsItsAddressUnderItsNewSession() {
        start(16);
        Session before = new Session(4);
        holders.put(MAC_A, before);
        lan.sendFromGuest(request(MAC_A, ADDRESS_16));
        offered();
        before.leave(lan.nanoTime[0]);

        lan.nanoTime[0] += GRACE.toNanos() / 2;
        Session after = new Session(4);
        holders.put(MAC_A, after);
        server.adopt(MAC_A, after);
        assertThat(after.leases).isEqualTo(1);
        assertThat(before.leases).isZero();

        lan.nanoTime[0] += GRACE.toNanos();
        server.expire(lan.counters);
        assertThat(server.leasedAddressOf(MAC_A)).isEqualTo(ADDRESS_16);
        lan.sendFromGuest(discover(MAC_A));
        assertThat(offered()).isEqualTo(ADDRESS_16);
    }

    @Test
    void aHolderPastItsMessageRateIsNotAnsweredAndItIsCounted() {
        start(16);
        Session session = new Session(4);
        session.asksLeft = 1;
        holders.put(MAC_A, session);
        lan.sendFromGuest(discover(MAC_A));
        assertThat(offered()).isEqualTo(ADDRESS_15);
        lan.sendFromGuest(discover(MAC_A));
        assertThat(lan.takeReceived()).isEmpty();
        assertThat(lan.counters.get(Counter.DROP_DHCP_RATE_LIMITED)).isEqualTo(1);
    }

    @Test
    void anOfferChangesNoLeaseButAnAckDoesSoCachedAnswersStayValidUntilThen() {
        start(16);
        holders.put(MAC_A, new Session(4));
        long before = server.leaseGeneration();
        lan.sendFromGuest(discover(MAC_A));
        offered();
        assertThat(server.leaseGeneration()).isEqualTo(before);
        lan.sendFromGuest(request(MAC_A, ADDRESS_15));
        offered();
        assertThat(server.leaseGeneration()).isNotEqualTo(before);
    }

    @Test
    void withoutHoldersNothingIsLimited() {
        start(16);
        for (int i = 1; i <= 10; i++) {
            lan.sendFromGuest(from(MAC_A, discover(0x0200_0000_0100L + i)));
        }
        assertThat(lan.takeReceived()).hasSize(10);
        assertThat(lan.counters.get(Counter.DHCP_REFUSED_OVER_LIMIT)).isZero();
    }

    @Test
    void anAssignedAddressIsTheLeaseADhcpClientWithThatMacGetsAndRenewsAndHolds() {
        start(16);
        Session dhcpSession = new Session(4);
        holders.put(MAC_A, dhcpSession);
        lan.sendFromGuest(discover(MAC_A));
        assertThat(offered()).isEqualTo(ADDRESS_15);

        // The MAC told its address without DHCP gets the next one, leased (so anti-spoofing knows it) and held.
        Session told = new Session(4);
        assertThat(server.assign(MAC_B, told, lan.counters)).isEqualTo(ADDRESS_16);
        assertThat(server.leasedAddressOf(MAC_B)).isEqualTo(ADDRESS_16);
        assertThat(told.leases).isEqualTo(1);
        // Again (a heartbeat): the same lease, renewed, not a second one.
        assertThat(server.assign(MAC_B, told, lan.counters)).isEqualTo(ADDRESS_16);
        assertThat(told.leases).isEqualTo(1);
        // A DHCP client with that MAC is offered exactly that address.
        holders.put(MAC_B, told);
        lan.sendFromGuest(discover(MAC_B));
        assertThat(offered()).isEqualTo(ADDRESS_16);

        // The lease lasts its lease time unless renewed.
        lan.nanoTime[0] += NetworkConfig.defaults().leaseTime().toNanos() - 1;
        assertThat(server.assign(MAC_B, told, lan.counters)).isEqualTo(ADDRESS_16);
        lan.nanoTime[0] += NetworkConfig.defaults().leaseTime().toNanos() - 1;
        server.expire(lan.counters);
        assertThat(server.leasedAddressOf(MAC_B)).as("renewed").isEqualTo(ADDRESS_16);
    }

    @Test
    void assigningRespectsTheHoldersLimitAndThePoolAndCountsRefusals() {
        start(1);
        Session full = new Session(0);
        assertThat(server.assign(MAC_A, full, lan.counters)).isEqualTo(DhcpServer.ASSIGN_OVER_LIMIT);
        assertThat(lan.counters.get(Counter.DHCP_REFUSED_OVER_LIMIT)).isEqualTo(1);

        Session first = new Session(4);
        assertThat(server.assign(MAC_A, first, lan.counters)).isEqualTo(ADDRESS_15);
        assertThat(server.assign(MAC_B, new Session(4), lan.counters)).isEqualTo(DhcpServer.ASSIGN_POOL_EXHAUSTED);
        assertThat(lan.counters.get(Counter.DHCP_POOL_EXHAUSTED)).isEqualTo(1);

        // The holder leaves: within its grace time its address is the first taken when the pool is empty.
        first.leave(lan.nanoTime[0]);
        assertThat(server.assign(MAC_B, new Session(4), lan.counters)).isEqualTo(ADDRESS_15);
        assertThat(first.leases).isZero();
    }
}

package dev.riscvrelay.relay.access;

import static org.assertj.core.api.Assertions.assertThat;

import dev.riscvrelay.relay.metrics.Counter;
import dev.riscvrelay.relay.metrics.Counters;
import dev.riscvrelay.relay.wire.ArpPacket;
import dev.riscvrelay.relay.wire.EthernetFrame;
import dev.riscvrelay.relay.wire.Ipv4Address;
import dev.riscvrelay.relay.wire.MacAddress;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import org.junit.jupiter.api.Test;

class IngressGuardTest {

    private static final long MAC_1 = 0x02_00_00_00_00_01L;
    private static final long MAC_2 = 0x02_00_00_00_00_02L;
    private static final long MAC_3 = 0x02_00_00_00_00_03L;

    private final Counters counters = new Counters();
    private long now = 1_000_000_000L;

    /** Leases as the DHCP server would hand them: one MAC, one address, a generation bumped on change. */
    private final class TestLeases implements IngressGuard.Leases {
        long mac;
        int address;
        long generation;
        int lookups;

        void lease(long leasedMac, String leasedAddress) {
            mac = leasedMac;
            address = Ipv4Address.parse(leasedAddress);
            generation++;
        }

        @Override
        public int leasedAddressOf(long queried) {
            lookups++;
            return queried == mac ? address : 0;
        }

        @Override
        public long generation() {
            return generation;
        }
    }

    private IngressGuard guard(SessionLimits limits, IngressGuard.Leases leases) {
        return new IngressGuard(limits, leases, counters, () -> now);
    }

    private static ByteBuf arp(long mac, String senderIp) {
        ByteBuf frame = Unpooled.buffer(42);
        EthernetFrame.writeHeader(frame, 0, MacAddress.BROADCAST, mac, EthernetFrame.TYPE_ARP);
        ArpPacket.write(frame, 14, ArpPacket.OPERATION_REQUEST, mac, Ipv4Address.parse(senderIp), 0,
                Ipv4Address.parse("10.0.2.2"));
        return frame.writerIndex(42);
    }

    @Test
    void theFirstMacsAreBoundAndOthersDropped() {
        IngressGuard guard = guard(new SessionLimits(1000, 1_000_000, 2, 1), IngressGuard.Leases.NONE);
        assertThat(guard.admit(arp(MAC_1, "10.0.2.15"))).isTrue();
        assertThat(guard.admit(arp(MAC_2, "10.0.2.16"))).isTrue();
        assertThat(guard.admit(arp(MAC_3, "10.0.2.17"))).isFalse();
        assertThat(guard.admit(arp(MAC_1, "10.0.2.15"))).isTrue();
        assertThat(counters.get(Counter.DROP_SPOOFED_MAC)).isEqualTo(1);
    }

    @Test
    void onceLeasedOnlyTheLeasedAddressOrZeroPassesAndLookupsAreCached() {
        TestLeases leases = new TestLeases();
        IngressGuard guard = guard(SessionLimits.defaults(), leases);
        assertThat(guard.admit(arp(MAC_1, "10.0.2.99"))).as("no lease yet: static addresses pass").isTrue();
        leases.lease(MAC_1, "10.0.2.15");
        assertThat(guard.admit(arp(MAC_1, "10.0.2.99"))).isFalse();
        assertThat(guard.admit(arp(MAC_1, "10.0.2.15"))).isTrue();
        assertThat(guard.admit(arp(MAC_1, "0.0.0.0"))).isTrue();
        int lookups = leases.lookups;
        for (int i = 0; i < 100; i++) {
            guard.admit(arp(MAC_1, "10.0.2.15"));
        }
        assertThat(leases.lookups).as("cached until the leases change").isEqualTo(lookups);
        assertThat(counters.get(Counter.DROP_SPOOFED_IP)).isEqualTo(1);

        // Behind an 802.1Q tag the same rule holds.
        ByteBuf untagged = arp(MAC_1, "10.0.2.99");
        ByteBuf tagged = Unpooled.buffer(46);
        tagged.writeBytes(untagged, 0, 12).writeShort(EthernetFrame.TYPE_VLAN).writeShort(5)
                .writeBytes(untagged, 12, 30);
        assertThat(guard.admit(tagged)).isFalse();
        assertThat(counters.get(Counter.DROP_SPOOFED_IP)).isEqualTo(2);
    }

    @Test
    void framesAndBytesAreRateLimitedWithOneSecondOfBurst() {
        IngressGuard guard = guard(new SessionLimits(100, 1_000_000, 4, 1), IngressGuard.Leases.NONE);
        int passed = 0;
        for (int i = 0; i < 300; i++) {
            passed += guard.admit(arp(MAC_1, "10.0.2.15")) ? 1 : 0;
        }
        assertThat(passed).isEqualTo(100);
        now += 500_000_000L; // half a second refills half the bucket
        passed = 0;
        for (int i = 0; i < 300; i++) {
            passed += guard.admit(arp(MAC_1, "10.0.2.15")) ? 1 : 0;
        }
        assertThat(passed).isEqualTo(50);
        assertThat(counters.get(Counter.DROP_RATE_LIMITED)).isEqualTo(450);

        IngressGuard bytes = guard(new SessionLimits(1_000_000, 420, 4, 1), IngressGuard.Leases.NONE);
        passed = 0;
        for (int i = 0; i < 20; i++) {
            passed += bytes.admit(arp(MAC_1, "10.0.2.15")) ? 1 : 0;
        }
        assertThat(passed).as("420 bytes a second of 42-byte frames").isEqualTo(10);
    }
}

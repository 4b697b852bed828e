package dev.riscvrelay.relay.nat;

import static org.assertj.core.api.Assertions.assertThat;

import dev.riscvrelay.relay.metrics.Counter;
import dev.riscvrelay.relay.metrics.Counters;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

class FlowSetTest {

    private static final long VM_A = 0x0252_5400_000AL;
    private static final long VM_B = 0x0252_5400_000BL;
    private static final long IDLE = 1_000;

    private final Counters counters = new Counters();
    private final FlowSet<Flow> flows = new FlowSet<>(2, 3, counters, Counter.DROP_NAT_UDP_VM_LIMIT,
            Counter.DROP_NAT_UDP_TABLE_FULL, Counter.NAT_UDP_FLOWS_EXPIRED);

    /** The smallest flow: ending it takes it out of the set, as every protocol's end does. */
    private final class Flow extends NatFlow {
        Flow(long low, long vmMac, long now) {
            this(1, low, vmMac, now);
        }

        Flow(long high, long low, long vmMac, long now) {
            super(high, low, vmMac, IDLE, now);
        }

        Flow(long high, long low, long high6, long low6, long vmMac, long now) {
            super(high, low, high6, low6, vmMac, IDLE, now);
        }
    }

    private Flow open(long low, long vmMac, long now) {
        assertThat(flows.admit(vmMac)).isTrue();
        Flow flow = new Flow(low, vmMac, now);
        flows.add(flow);
        return flow;
    }

    @Test
    void refusalsPastThePerVmAndTotalLimitsAreCountedByReason() {
        open(1, VM_A, 0);
        open(2, VM_A, 0);
        assertThat(flows.admit(VM_A)).isFalse();
        assertThat(counters.get(Counter.DROP_NAT_UDP_VM_LIMIT)).isEqualTo(1);
        open(3, VM_B, 0);
        assertThat(flows.admit(VM_B)).isFalse();
        assertThat(counters.get(Counter.DROP_NAT_UDP_TABLE_FULL)).isEqualTo(1);
        assertThat(flows.size()).isEqualTo(3);
        assertThat(flows.size(VM_A)).isEqualTo(2);
    }

    @Test
    void aCancelledAdmissionGivesItsRoomBack() {
        open(1, VM_A, 0);
        assertThat(flows.admit(VM_A)).isTrue();
        flows.cancel(VM_A);
        assertThat(flows.size(VM_A)).isEqualTo(1);
        open(2, VM_A, 0);
        assertThat(flows.size(VM_A)).isEqualTo(2);
    }

    @Test
    void expiryEndsAndCountsOnlyFlowsIdleForTheirTimeout() {
        Flow old = open(1, VM_A, 0);
        Flow used = open(2, VM_A, 0);
        used.touch(IDLE / 2);
        List<Flow> ended = new ArrayList<>();
        flows.expireIdle(IDLE, flow -> {
            ended.add(flow);
            flows.remove(flow);
        });
        assertThat(ended).containsExactly(old);
        assertThat(counters.get(Counter.NAT_UDP_FLOWS_EXPIRED)).isEqualTo(1);
        assertThat(flows.get(1, 1)).isNull();
        assertThat(flows.get(1, 2)).isSameAs(used);
        assertThat(flows.size(VM_A)).isEqualTo(1);
    }

    @Test
    void endAllEndsEveryFlowWithoutCountingExpiry() {
        open(1, VM_A, 0);
        open(2, VM_B, 0);
        flows.endAll(flows::remove);
        assertThat(flows.size()).isZero();
        assertThat(flows.size(VM_A)).isZero();
        assertThat(counters.get(Counter.NAT_UDP_FLOWS_EXPIRED)).isZero();
        open(3, VM_A, 0);
    }

    @Test
    void keysDifferingInEitherHalfAreDistinct() {
        FlowSet<Flow> set = new FlowSet<>(8, 8, counters, Counter.DROP_NAT_UDP_VM_LIMIT,
                Counter.DROP_NAT_UDP_TABLE_FULL, Counter.NAT_UDP_FLOWS_EXPIRED);
        Flow a = add(set, 1, 2);
        Flow b = add(set, 2, 1);
        Flow c = add(set, 1, 3);
        assertThat(set.get(1, 2)).isSameAs(a);
        assertThat(set.get(2, 1)).isSameAs(b);
        assertThat(set.get(1, 3)).isSameAs(c);
        assertThat(set.get(3, 1)).isNull();
        assertThat(set.size()).isEqualTo(3);
    }

    @Test
    void ipv4AndIpv6FlowsShareASetWithoutMeetingAndIpv6KeysDifferInEveryWord() {
        FlowSet<Flow> set = new FlowSet<>(8, 8, counters, Counter.DROP_NAT_UDP_VM_LIMIT,
                Counter.DROP_NAT_UDP_TABLE_FULL, Counter.NAT_UDP_FLOWS_EXPIRED);
        long vmIid = 0x5055_0aff_fe00_020fL;
        long ports = FlowKey.low(40000, 53);
        Flow v4 = new Flow(vmIid, ports, VM_A, 0);
        long destinationHigh = 0x2001_0db8_0001_0000L;
        Flow v6 = new Flow(vmIid, FlowKey.low6(40000, 53), destinationHigh, 0x10, VM_A, 0);
        Flow otherDestination = new Flow(vmIid, FlowKey.low6(40000, 53), destinationHigh, 0x11, VM_A, 0);
        Flow otherNetwork = new Flow(vmIid, FlowKey.low6(40000, 53), destinationHigh + 1, 0x10, VM_A, 0);
        for (Flow flow : List.of(v4, v6, otherDestination, otherNetwork)) {
            assertThat(set.admit(VM_A)).isTrue();
            set.add(flow);
        }
        assertThat(set.get(vmIid, ports)).isSameAs(v4);
        assertThat(set.get(vmIid, ports, 0, 0)).isSameAs(v4);
        assertThat(set.get(vmIid, FlowKey.low6(40000, 53), destinationHigh, 0x10)).isSameAs(v6);
        assertThat(set.get(vmIid, FlowKey.low6(40000, 53), destinationHigh, 0x11)).isSameAs(otherDestination);
        assertThat(set.get(vmIid, FlowKey.low6(40000, 53), destinationHigh + 1, 0x10)).isSameAs(otherNetwork);
        assertThat(set.get(vmIid, ports, destinationHigh, 0x10)).as("the IPv6 flag is part of the key").isNull();
        assertThat(set.get(vmIid, FlowKey.low6(40000, 54), destinationHigh, 0x10)).isNull();
        assertThat(set.size(VM_A)).as("one per-VM limit for both families").isEqualTo(4);
        set.remove(v6);
        assertThat(set.get(vmIid, FlowKey.low6(40000, 53), destinationHigh, 0x10)).isNull();
        assertThat(set.get(vmIid, ports)).isSameAs(v4);
        assertThat(set.fold(1, 2, 0, 0)).as("IPv4 keys fold as before").isEqualTo(set.fold(1, 2));
    }

    @Test
    void flowsWhoseKeysFoldAlikeAreAllFoundAndRemovedInAnyOrder() {
        long seed = 0x5EED;
        FlowSet<Flow> set = new FlowSet<>(8, 8, counters, Counter.DROP_NAT_UDP_VM_LIMIT,
                Counter.DROP_NAT_UDP_TABLE_FULL, Counter.NAT_UDP_FLOWS_EXPIRED, seed);
        // For another high half, the low half that folds to the same long as (1, 7): fold = mix(mix(high ^ seed) ^ low).
        long[] highs = {1, 2, 3};
        long[] lows = new long[3];
        for (int i = 0; i < 3; i++) {
            lows[i] = FlowSet.mix(1 ^ seed) ^ 7 ^ FlowSet.mix(highs[i] ^ seed);
            assertThat(set.fold(highs[i], lows[i])).isEqualTo(set.fold(1, 7));
        }
        Flow[] flows = new Flow[3];
        for (int i = 0; i < 3; i++) {
            flows[i] = add(set, highs[i], lows[i]);
        }
        for (int i = 0; i < 3; i++) {
            assertThat(set.get(highs[i], lows[i])).isSameAs(flows[i]);
        }
        assertThat(set.get(4, lows[0])).isNull();
        set.remove(flows[1]); // the middle of the chain
        assertThat(set.get(highs[1], lows[1])).isNull();
        assertThat(set.get(highs[0], lows[0])).isSameAs(flows[0]);
        assertThat(set.get(highs[2], lows[2])).isSameAs(flows[2]);
        set.remove(flows[0]); // its head
        assertThat(set.get(highs[2], lows[2])).isSameAs(flows[2]);
        List<Flow> all = new ArrayList<>();
        set.endAll(all::add);
        assertThat(all).containsExactly(flows[2]);
        set.remove(flows[2]);
        assertThat(set.size()).isZero();
        assertThat(set.get(highs[2], lows[2])).isNull();
    }

    @Test
    void agreesWithAHashMapThroughRandomChurn() {
        FlowSet<Flow> set = new FlowSet<>(64, 64, counters, Counter.DROP_NAT_UDP_VM_LIMIT,
                Counter.DROP_NAT_UDP_TABLE_FULL, Counter.NAT_UDP_FLOWS_EXPIRED);
        Map<List<Long>, Flow> reference = new HashMap<>();
        Random random = new Random(42);
        for (int step = 0; step < 100_000; step++) {
            long high = random.nextInt(40);
            long low = random.nextInt(4);
            List<Long> key = List.of(high, low);
            Flow present = set.get(high, low);
            assertThat(present).isSameAs(reference.get(key));
            if (present == null && random.nextBoolean()) {
                if (set.admit(VM_A)) {
                    Flow flow = new Flow(high, low, VM_A, step);
                    set.add(flow);
                    reference.put(key, flow);
                } else {
                    assertThat(reference).hasSize(64);
                }
            } else if (present != null) {
                set.remove(present);
                reference.remove(key);
            }
            assertThat(set.size()).isEqualTo(reference.size());
        }
        List<Flow> all = new ArrayList<>();
        set.endAll(all::add);
        assertThat(all).containsExactlyInAnyOrderElementsOf(reference.values());
    }

    @Test
    void packedFlowKeysOfManyVmsAndPortsAreAllFound() {
        FlowSet<Flow> set = new FlowSet<>(4096, 4096, counters, Counter.DROP_NAT_UDP_VM_LIMIT,
                Counter.DROP_NAT_UDP_TABLE_FULL, Counter.NAT_UDP_FLOWS_EXPIRED);
        Map<List<Long>, Flow> added = new HashMap<>();
        for (int vm = 15; vm < 31; vm++) {
            for (int port = 40000; port < 40256; port++) {
                long high = FlowKey.high(0x0A00_0200 | vm, 0xCB00_710A);
                long low = FlowKey.low(port, 53);
                added.put(List.of(high, low), add(set, high, low));
            }
        }
        assertThat(set.size()).isEqualTo(4096);
        added.forEach((key, flow) -> assertThat(set.get(key.get(0), key.get(1))).isSameAs(flow));
    }

    private Flow add(FlowSet<Flow> set, long high, long low) {
        assertThat(set.admit(VM_A)).isTrue();
        Flow flow = new Flow(high, low, VM_A, 0);
        set.add(flow);
        return flow;
    }
}

package dev.riscvrelay.relay.nat;

import static org.assertj.core.api.Assertions.assertThat;

import dev.riscvrelay.relay.metrics.Counter;
import dev.riscvrelay.relay.metrics.Counters;
import java.util.ArrayList;
import java.util.List;
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
            super(1, low, vmMac, IDLE, now);
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
}

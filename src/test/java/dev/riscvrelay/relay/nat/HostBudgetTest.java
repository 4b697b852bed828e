package dev.riscvrelay.relay.nat;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.riscvrelay.relay.metrics.Counter;
import dev.riscvrelay.relay.metrics.Counters;
import org.junit.jupiter.api.Test;

/** One budget of sockets and buffer memory for every network, with a network's and a client's share of it. */
class HostBudgetTest {

    private static final long VM_OF_A = 0x0200_0000_000AL;
    private static final long OTHER_VM_OF_A = 0x0200_0000_001AL;
    private static final long VM_OF_B = 0x0200_0000_000BL;
    private static final long VM_OF_NOBODY = 0x0200_0000_0000L;

    private static Object clientOf(long mac) {
        if (mac == VM_OF_A || mac == OTHER_VM_OF_A) {
            return "client A";
        }
        return mac == VM_OF_B ? "client B" : null;
    }

    @Test
    void aClientTakesAtMostItsShareOfSocketsAcrossItsVms() {
        HostBudget budget = new HostBudget(new HostBudget.Limits(16, 1 << 20, 0.5, 0.25));
        FlowLimits flows = new FlowLimits(100, 100, budget.share(HostBudgetTest::clientOf));
        for (int i = 0; i < 2; i++) {
            assertThat(flows.tryAcquire(VM_OF_A)).isEqualTo(FlowLimits.Admission.ADMITTED);
            assertThat(flows.tryAcquire(OTHER_VM_OF_A)).isEqualTo(FlowLimits.Admission.ADMITTED);
        }
        assertThat(flows.tryAcquire(OTHER_VM_OF_A)).as("a quarter of 16").isEqualTo(
                FlowLimits.Admission.BUDGET_LIMIT);
        assertThat(flows.tryAcquire(VM_OF_B)).isEqualTo(FlowLimits.Admission.ADMITTED);

        flows.release(VM_OF_A);
        assertThat(flows.tryAcquire(OTHER_VM_OF_A)).isEqualTo(FlowLimits.Admission.ADMITTED);
        assertThat(budget.sockets()).isEqualTo(5);
    }

    @Test
    void aNetworkTakesAtMostItsShareAndAllNetworksAtMostTheWhole() {
        HostBudget budget = new HostBudget(new HostBudget.Limits(8, 1 << 20, 0.5, 1));
        FlowLimits first = new FlowLimits(100, 100, budget.share(mac -> null));
        FlowLimits second = new FlowLimits(100, 100, budget.share(mac -> null));
        FlowLimits third = new FlowLimits(100, 100, budget.share(mac -> null));
        for (int i = 0; i < 4; i++) {
            assertThat(first.tryAcquire(VM_OF_NOBODY)).isEqualTo(FlowLimits.Admission.ADMITTED);
        }
        assertThat(first.tryAcquire(VM_OF_NOBODY)).isEqualTo(FlowLimits.Admission.BUDGET_LIMIT);
        for (int i = 0; i < 4; i++) {
            assertThat(second.tryAcquire(VM_OF_NOBODY)).isEqualTo(FlowLimits.Admission.ADMITTED);
        }
        assertThat(third.tryAcquire(VM_OF_NOBODY)).as("the whole is used").isEqualTo(
                FlowLimits.Admission.BUDGET_LIMIT);
        second.release(VM_OF_NOBODY);
        assertThat(third.tryAcquire(VM_OF_NOBODY)).isEqualTo(FlowLimits.Admission.ADMITTED);
    }

    @Test
    void aRefusalForTheBudgetIsCountedByItsOwnReason() {
        Counters counters = new Counters();
        HostBudget budget = new HostBudget(new HostBudget.Limits(1, 1 << 20, 1, 1));
        FlowSet<NatFlow> flows = new FlowSet<>(10, 10, budget.share(mac -> null), counters,
                Counter.DROP_NAT_UDP_VM_LIMIT, Counter.DROP_NAT_UDP_TABLE_FULL, Counter.NAT_UDP_FLOWS_EXPIRED);
        assertThat(flows.admit(VM_OF_B)).isTrue();
        assertThat(flows.admit(VM_OF_B)).isFalse();
        assertThat(counters.get(Counter.DROP_NAT_HOST_BUDGET)).isEqualTo(1);
        assertThat(counters.get(Counter.DROP_NAT_UDP_TABLE_FULL)).isZero();
        flows.cancel(VM_OF_B);
        assertThat(budget.sockets()).isZero();
    }

    @Test
    void bufferMemoryIsFullWhenTheWholeTheNetworkOrTheClientPartIsUsed() {
        HostBudget budget = new HostBudget(new HostBudget.Limits(100, 1000 * 1024, 0.5, 0.25));
        HostBudget.Share network = budget.share(HostBudgetTest::clientOf);
        HostBudget.Share.Account a = network.accountOf(VM_OF_A);
        HostBudget.Share.Account b = network.accountOf(VM_OF_B);
        a.charge(250 * 1024 - 1);
        assertThat(a.buffersFull()).isFalse();
        a.charge(1);
        assertThat(a.buffersFull()).as("a quarter").isTrue();
        assertThat(b.buffersFull()).isFalse();
        b.charge(250 * 1024);
        assertThat(network.accountOf(VM_OF_NOBODY).buffersFull()).as("the network's half").isTrue();
        a.charge(-250 * 1024);
        b.charge(-250 * 1024);
        assertThat(budget.bufferBytes()).isZero();
        assertThat(network.bufferBytes()).isZero();
    }

    @Test
    void limitsAreChecked() {
        assertThatThrownBy(() -> new HostBudget.Limits(0, 1 << 20, 0.5, 0.5)).hasMessageContaining("socket");
        assertThatThrownBy(() -> new HostBudget.Limits(10, 1 << 20, 0, 0.5)).hasMessageContaining("shares");
    }
}

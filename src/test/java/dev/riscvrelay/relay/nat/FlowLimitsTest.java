package dev.riscvrelay.relay.nat;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.riscvrelay.relay.nat.FlowLimits.Admission;
import org.junit.jupiter.api.Test;

class FlowLimitsTest {

    private static final long VM_A = 0x0252_5400_000AL;
    private static final long VM_B = 0x0252_5400_000BL;
    private static final long VM_C = 0x0252_5400_000CL;

    @Test
    void aVmIsRefusedPastItsOwnLimitWhileOthersGoOn() {
        FlowLimits limits = new FlowLimits(2, 10);
        assertThat(limits.tryAcquire(VM_A)).isEqualTo(Admission.ADMITTED);
        assertThat(limits.tryAcquire(VM_A)).isEqualTo(Admission.ADMITTED);
        assertThat(limits.tryAcquire(VM_A)).isEqualTo(Admission.VM_LIMIT);
        assertThat(limits.tryAcquire(VM_B)).isEqualTo(Admission.ADMITTED);
        assertThat(limits.inUse(VM_A)).isEqualTo(2);
        assertThat(limits.inUse()).isEqualTo(3);
        limits.release(VM_A);
        assertThat(limits.tryAcquire(VM_A)).isEqualTo(Admission.ADMITTED);
    }

    @Test
    void theTotalLimitHoldsAcrossVms() {
        FlowLimits limits = new FlowLimits(2, 3);
        limits.tryAcquire(VM_A);
        limits.tryAcquire(VM_A);
        limits.tryAcquire(VM_B);
        assertThat(limits.tryAcquire(VM_C)).isEqualTo(Admission.TOTAL_LIMIT);
        limits.release(VM_B);
        assertThat(limits.inUse(VM_B)).isZero();
        assertThat(limits.tryAcquire(VM_C)).isEqualTo(Admission.ADMITTED);
    }

    @Test
    void releasingWhatWasNeverAcquiredIsABug() {
        assertThatThrownBy(() -> new FlowLimits(1, 1).release(VM_A)).isInstanceOf(IllegalStateException.class);
    }
}

package dev.riscvrelay.relay;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** Loop threads carry names that /proc keeps whole, so top -H and profilers tell the loops apart. */
class LoopThreadsTest {

    @Test
    void aPrefixEndingInADashNumbersTheThreadsInTheOrderTheyStart() {
        LoopThreads workers = new LoopThreads("relay-worker-");
        assertThat(workers.newThread(() -> { }).getName()).isEqualTo("relay-worker-0");
        assertThat(workers.newThread(() -> { }).getName()).isEqualTo("relay-worker-1");
    }

    @Test
    void anyOtherNameIsTheThreadsNameItselfAndFitsInProc() {
        Thread connect = new LoopThreads("relay-connect").newThread(() -> { });
        assertThat(connect.getName()).isEqualTo("relay-connect").hasSizeLessThanOrEqualTo(15);
    }
}

package dev.riscvrelay.relay;

import static org.assertj.core.api.Assertions.assertThat;

import dev.riscvrelay.relay.nat.HostBudget;
import org.junit.jupiter.api.Test;

class HostBudgetsTest {

    @Test
    void theBudgetIsTheOpenFileLimitLessSessionsAndAQuarterOfDirectMemory() {
        HostBudget.Limits limits = HostBudgets.of(50_000, 2L << 30, 1024);
        assertThat(limits.sockets()).isEqualTo(50_000 - 1024 - HostBudgets.RESERVED_DESCRIPTORS);
        assertThat(limits.bufferBytes()).isEqualTo(512L << 20);
        assertThat(HostBudgets.of(1 << 20, 2L << 30, 1024).sockets()).as("capped")
                .isEqualTo(HostBudgets.MAX_SOCKETS);
        assertThat(HostBudgets.of(1024, 2L << 30, 1024).sockets()).as("a floor, and a warning")
                .isEqualTo(HostBudgets.MIN_SOCKETS);
    }

    @Test
    void theStartLineWarnsWhenTheOpenFileLimitIsTooLowForTheRelaysLimits() {
        HostBudget.Limits roomy = HostBudgets.of(1 << 20, 2L << 30, 1024);
        assertThat(HostBudgets.describe(roomy, 1 << 20, 1024))
                .startsWith("Host budget: 65536 sockets for NAT flows, 512 MiB for TCP data held for VMs;")
                .contains("(open files: 1048576)").doesNotContain("Warning");
        HostBudget.Limits tight = HostBudgets.of(4096, 2L << 30, 1024);
        assertThat(HostBudgets.describe(tight, 4096, 1024))
                .contains("Warning: the open-file limit 4096 is below the 14080 that 1024 sessions and one"
                        + " network's NAT at its limits may use", "ulimit -n");
    }
}

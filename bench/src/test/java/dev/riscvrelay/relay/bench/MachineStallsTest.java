package dev.riscvrelay.relay.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;

/** Reading the stall probe's output, and what the report says of it. */
class MachineStallsTest {

    @Test
    void readsTheGapsAndIgnoresOtherLines() {
        MachineStalls.Cpu cpu = MachineStalls.Cpu.parse(1, """
                0.250000 1.7000
                a warning from somewhere
                0.762000 2.6500
                1.274000 0.5100

                1.786000 1.6000
                """);
        assertThat(cpu.cpu()).isEqualTo(1);
        assertThat(cpu.count()).isEqualTo(4);
        assertThat(cpu.maxMillis()).isEqualTo(2.65);
        assertThat(cpu.startSeconds()).containsExactly(0.25, 0.762, 1.274, 1.786);
    }

    @Test
    void theSummaryNamesEachCpu() {
        MachineStalls two = new MachineStalls(10, List.of(MachineStalls.Cpu.parse(0, "0.1 1.5\n0.3 0.6\n"),
                MachineStalls.Cpu.parse(1, "2.0 9.25\n")));
        assertThat(two.maxMillis()).isEqualTo(9.25);
        assertThat(two.summary()).isEqualTo(
                "in 10 s, CPU 0: 2 over 0.5 ms, the largest 1.50 ms; CPU 1: 1 over 0.5 ms, the largest 9.25 ms");
        MachineStalls none = new MachineStalls(10, List.of(MachineStalls.Cpu.parse(0, "")));
        assertThat(none.maxMillis()).isZero();
        assertThat(none.summary()).isEqualTo("in 10 s, CPU 0: 0 over 0.5 ms, the largest 0.00 ms");
    }

    @Test
    void readsTheCpusAProcessMayUse() {
        assertThat(MachineStalls.cpuList("0-1\n")).containsExactly(0, 1);
        assertThat(MachineStalls.cpuList(" 2-3,6,8-9")).containsExactly(2, 3, 6, 8, 9);
        assertThat(MachineStalls.cpuList("5")).containsExactly(5);
        assertThatThrownBy(() -> MachineStalls.cpuList("3-1")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> MachineStalls.cpuList("a")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("not a CPU list");
    }
}

package dev.riscvrelay.relay.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;

class ProcStatTest {

    @Test
    void readsNameAndUserPlusSystemTicks() {
        ProcStat stat = ProcStat.parse("15959 (java) S 15955 15955 13858 0 -1 4194304 99 0 0 0 250 37 0 0 20 0 41 0"
                + " 2098435 3133440 414 18446744073709551615 0 0 0 0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 0\n");

        assertThat(stat.name()).isEqualTo("java");
        assertThat(stat.ticks()).isEqualTo(287);
        assertThat(stat.nanos()).isEqualTo(2_870_000_000L);
    }

    @Test
    void aNameWithSpacesAndParenthesesDoesNotShiftTheFields() {
        ProcStat stat = ProcStat.parse("7 (a b) (c)) R 1 1 1 0 -1 0 0 0 0 0 5 6 0 0 20 0 1 0 1 1 1");

        assertThat(stat.name()).isEqualTo("a b) (c)");
        assertThat(stat.ticks()).isEqualTo(11);
    }

    @Test
    void sumsOnlyTheNamedThreads() {
        List<ProcStat> threads = List.of(new ProcStat("relay-worker-0", 300), new ProcStat("GC Thread#0", 40),
                new ProcStat("C2 CompilerThre", 25), new ProcStat("relay-worker-1", 5));

        assertThat(ProcStat.sum(threads, name -> name.startsWith(RelayProcessFixture.LOOP_THREAD), "loops").ticks())
                .isEqualTo(305);
    }

    @Test
    void eachWorkerThreadKeepsItsOwnTime() {
        List<ProcStat> threads = List.of(new ProcStat("relay-worker-0", 300), new ProcStat("GC Thread#0", 40),
                new ProcStat("relay-worker-10", 7), new ProcStat("relay-worker-1", 5));

        assertThat(ProcStat.byName(threads, name -> name.startsWith(RelayProcessFixture.LOOP_THREAD)))
                .containsOnlyKeys("relay-worker-0", "relay-worker-1", "relay-worker-10")
                .containsEntry("relay-worker-0", 3_000_000_000L)
                .containsEntry("relay-worker-10", 70_000_000L);
    }

    @Test
    void thisProcessHasCpuTimeAndItsThreadsAddUpToAtMostIt() throws Exception {
        long pid = ProcessHandle.current().pid();
        // Burn some CPU so the counts cannot all be zero.
        long x = 0;
        long until = System.nanoTime() + 50_000_000;
        while (System.nanoTime() < until) {
            x += 1 + Long.numberOfTrailingZeros(x);
        }
        ProcStat threadsBefore = ProcStat.sum(ProcStat.threadsOf(pid), name -> true, "all");
        ProcStat process = ProcStat.ofProcess(pid);

        assertThat(x).isPositive();
        assertThat(process.ticks()).isPositive();
        // Ended threads count in the process but not among the live ones.
        assertThat(threadsBefore.ticks()).isPositive().isLessThanOrEqualTo(process.ticks());
        assertThat(ProcStat.threadsOf(pid)).extracting(ProcStat::name).contains("java");
    }

    @Test
    void refusesWhatIsNoStatLine() {
        assertThatThrownBy(() -> ProcStat.parse("no parentheses here")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> ProcStat.parse("1 (short) R 1 2")).isInstanceOf(IllegalArgumentException.class);
    }
}

package dev.riscvrelay.relay.nat;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

class FlowTableTest {

    @Test
    void keysDifferingInEitherHalfAreDistinct() {
        FlowTable<String> table = new FlowTable<>(8);
        assertThat(table.put(1, 2, "a")).isTrue();
        assertThat(table.put(2, 1, "b")).isTrue();
        assertThat(table.put(1, 3, "c")).isTrue();
        assertThat(table.get(1, 2)).isEqualTo("a");
        assertThat(table.get(2, 1)).isEqualTo("b");
        assertThat(table.get(1, 3)).isEqualTo("c");
        assertThat(table.get(3, 1)).isNull();
        assertThat(table.size()).isEqualTo(3);
    }

    @Test
    void putReplacesAndRemoveReturnsTheValue() {
        FlowTable<String> table = new FlowTable<>(4);
        table.put(7, 7, "old");
        table.put(7, 7, "new");
        assertThat(table.size()).isEqualTo(1);
        assertThat(table.remove(7, 7)).isEqualTo("new");
        assertThat(table.remove(7, 7)).isNull();
        assertThat(table.size()).isZero();
    }

    @Test
    void refusesNewKeysWhenFullButStillReplacesExistingOnes() {
        FlowTable<String> table = new FlowTable<>(3);
        for (int i = 0; i < 3; i++) {
            assertThat(table.put(i, i, "v" + i)).isTrue();
        }
        assertThat(table.isFull()).isTrue();
        assertThat(table.put(99, 99, "x")).isFalse();
        assertThat(table.get(99, 99)).isNull();
        assertThat(table.put(1, 1, "replaced")).isTrue();
        assertThat(table.get(1, 1)).isEqualTo("replaced");
        table.remove(0, 0);
        assertThat(table.put(99, 99, "x")).isTrue();
    }

    @Test
    void agreesWithAHashMapThroughRandomChurn() {
        // Backward-shift deletion must keep every remaining key reachable, also across the wrap-around.
        FlowTable<Long> table = new FlowTable<>(64);
        Map<List<Long>, Long> reference = new HashMap<>();
        Random random = new Random(42);
        for (int step = 0; step < 200_000; step++) {
            long high = random.nextInt(40);
            long low = random.nextInt(4);
            List<Long> key = List.of(high, low);
            if (random.nextBoolean()) {
                boolean put = table.put(high, low, (long) step);
                if (put) {
                    reference.put(key, (long) step);
                } else {
                    assertThat(reference).hasSize(64).doesNotContainKey(key);
                }
            } else {
                assertThat(table.remove(high, low)).isEqualTo(reference.remove(key));
            }
            assertThat(table.size()).isEqualTo(reference.size());
        }
        for (var entry : reference.entrySet()) {
            assertThat(table.get(entry.getKey().get(0), entry.getKey().get(1))).isEqualTo(entry.getValue());
        }
        List<Long> values = new ArrayList<>();
        table.forEach(values::add);
        assertThat(values).containsExactlyInAnyOrderElementsOf(reference.values());
    }

    @Test
    void packedFlowKeysOfManyVmsAndPortsDoNotCollide() {
        FlowTable<Integer> table = new FlowTable<>(4096);
        int n = 0;
        for (int vm = 15; vm < 31; vm++) {
            for (int port = 40000; port < 40256; port++) {
                long high = (0x0A00_0200L | vm) << 32 | 0xCB00_710AL;
                long low = (long) port << 16 | 53;
                assertThat(table.put(high, low, n++)).isTrue();
            }
        }
        assertThat(table.size()).isEqualTo(4096);
        assertThat(table.get((0x0A00_0200L | 20) << 32 | 0xCB00_710AL, 40100L << 16 | 53))
                .isEqualTo(5 * 256 + 100);
    }
}

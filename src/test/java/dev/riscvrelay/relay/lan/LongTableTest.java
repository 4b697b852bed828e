package dev.riscvrelay.relay.lan;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

class LongTableTest {

    @Test
    void everyLongIsAKey() {
        LongTable<String> table = new LongTable<>(8);
        long[] keys = {0, -1, 1, Long.MIN_VALUE, Long.MAX_VALUE, 0x0000_FFFF_FFFF_FFFFL};
        for (long key : keys) {
            assertThat(table.put(key, "v" + key)).isTrue();
        }
        for (long key : keys) {
            assertThat(table.get(key)).isEqualTo("v" + key);
        }
        assertThat(table.get(2)).isNull();
        assertThat(table.size()).isEqualTo(keys.length);
    }

    @Test
    void putReplacesAndRemoveReturnsTheValue() {
        LongTable<String> table = new LongTable<>(4);
        table.put(7, "old");
        table.put(7, "new");
        assertThat(table.size()).isEqualTo(1);
        assertThat(table.remove(7)).isEqualTo("new");
        assertThat(table.remove(7)).isNull();
        assertThat(table.size()).isZero();
        assertThatThrownBy(() -> table.put(1, null)).isInstanceOf(NullPointerException.class);
    }

    @Test
    void refusesNewKeysWhenFullButStillReplacesExistingOnes() {
        LongTable<String> table = new LongTable<>(3);
        for (int i = 0; i < 3; i++) {
            assertThat(table.put(i, "v" + i)).isTrue();
        }
        assertThat(table.isFull()).isTrue();
        assertThat(table.put(99, "x")).isFalse();
        assertThat(table.get(99)).isNull();
        assertThat(table.put(1, "replaced")).isTrue();
        assertThat(table.get(1)).isEqualTo("replaced");
        table.remove(0);
        assertThat(table.put(99, "x")).isTrue();
    }

    @Test
    void agreesWithAHashMapThroughRandomChurn() {
        // Backward-shift deletion must keep every remaining key reachable, also across the wrap-around.
        LongTable<Long> table = new LongTable<>(64);
        Map<Long, Long> reference = new HashMap<>();
        Random random = new Random(42);
        for (int step = 0; step < 200_000; step++) {
            long key = random.nextInt(160) * 0x1_0000_0001L;
            if (random.nextBoolean()) {
                boolean put = table.put(key, (long) step);
                if (put) {
                    reference.put(key, (long) step);
                } else {
                    assertThat(reference).hasSize(64).doesNotContainKey(key);
                }
            } else {
                assertThat(table.remove(key)).isEqualTo(reference.remove(key));
            }
            assertThat(table.size()).isEqualTo(reference.size());
        }
        for (var entry : reference.entrySet()) {
            assertThat(table.get(entry.getKey())).isEqualTo(entry.getValue());
        }
        List<Long> values = new ArrayList<>();
        table.forEach(values::add);
        assertThat(values).containsExactlyInAnyOrderElementsOf(reference.values());
    }

    @Test
    void keysSharingAHomeAtTheEndOfTheArraySurviveRemovalsThatWrap() {
        LongTable<Long> table = new LongTable<>(16);
        List<Long> atEnd = keysWithHome(table, table.slotCount() - 1, 6);
        List<Long> atStart = keysWithHome(table, 0, 3);
        atEnd.forEach(key -> table.put(key, key));
        atStart.forEach(key -> table.put(key, key));
        for (int i = 0; i < atEnd.size(); i += 2) {
            assertThat(table.remove(atEnd.get(i))).isEqualTo(atEnd.get(i));
        }
        for (int i = 0; i < atEnd.size(); i++) {
            assertThat(table.get(atEnd.get(i))).isEqualTo(i % 2 == 0 ? null : atEnd.get(i));
        }
        atStart.forEach(key -> assertThat(table.get(key)).isEqualTo(key));
        assertThat(table.size()).isEqualTo(6);
    }

    @Test
    void removeIfTakesOutExactlyThePickedValuesAndHandsThemOver() {
        LongTable<Long> table = new LongTable<>(64);
        List<Long> collided = keysWithHome(table, 5, 20);
        collided.forEach(key -> table.put(key, key));
        for (long key = 1000; key < 1030; key++) {
            table.put(key, key);
        }
        List<Long> removed = new ArrayList<>();
        int count = table.removeIf(value -> value % 2 == 0, removed::add);
        assertThat(count).isEqualTo(removed.size());
        assertThat(removed).allMatch(value -> value % 2 == 0);
        List<Long> left = new ArrayList<>();
        table.forEach(left::add);
        assertThat(left).allMatch(value -> value % 2 != 0).hasSize(50 - count);
        left.forEach(key -> assertThat(table.get(key)).isEqualTo(key));
    }

    @Test
    void keepsTheSlotArrayAtLeastTwiceTheCapacityAndRefusesBadSizes() {
        assertThat(new LongTable<>(1).slotCount()).isEqualTo(2);
        assertThat(new LongTable<>(4096).slotCount()).isEqualTo(8192);
        assertThat(new LongTable<>(4097).slotCount()).isEqualTo(16384);
        assertThatThrownBy(() -> new LongTable<>(0)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new LongTable<>(LongTable.MAX_CAPACITY + 1))
                .isInstanceOf(IllegalArgumentException.class);
    }

    private static List<Long> keysWithHome(LongTable<?> table, int slot, int count) {
        List<Long> found = new ArrayList<>();
        for (long key = 0; found.size() < count; key++) {
            if (table.home(key) == slot) {
                found.add(key);
            }
        }
        return found;
    }
}

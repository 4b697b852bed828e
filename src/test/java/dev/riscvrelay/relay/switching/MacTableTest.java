package dev.riscvrelay.relay.switching;

import dev.riscvrelay.relay.wire.MacAddress;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.riscvrelay.relay.switching.MacTable.Learned;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class MacTableTest {

    private static final long AGING = 300_000_000_000L; // 300 s in ns
    private static final long ALICE = MacAddress.parse("52:54:00:00:00:0a");
    private static final long BOB = MacAddress.parse("52:54:00:00:00:0b");

    @Test
    void learnsLooksUpAndRemoves() {
        MacTable table = new MacTable(16, AGING);

        assertThat(table.lookup(ALICE, 0)).isEqualTo(MacTable.NO_PORT);
        assertThat(table.learn(ALICE, 3, 0)).isEqualTo(Learned.NEW);
        assertThat(table.learn(BOB, 4, 0)).isEqualTo(Learned.NEW);

        assertThat(table.lookup(ALICE, 1)).isEqualTo(3);
        assertThat(table.lookup(BOB, 1)).isEqualTo(4);
        assertThat(table.size()).isEqualTo(2);

        assertThat(table.remove(ALICE)).isTrue();
        assertThat(table.remove(ALICE)).isFalse();
        assertThat(table.lookup(ALICE, 1)).isEqualTo(MacTable.NO_PORT);
        assertThat(table.lookup(BOB, 1)).isEqualTo(4);
        assertThat(table.size()).isEqualTo(1);
    }

    @Test
    void reportsRefreshAndMove() {
        MacTable table = new MacTable(4, AGING);
        assertThat(table.learn(ALICE, 1, 0)).isEqualTo(Learned.NEW);
        assertThat(table.learn(ALICE, 1, 10)).isEqualTo(Learned.REFRESHED);
        assertThat(table.learn(ALICE, 2, 20)).isEqualTo(Learned.MOVED);
        assertThat(table.lookup(ALICE, 30)).isEqualTo(2);
        assertThat(table.size()).isEqualTo(1);
    }

    @Test
    void refreshingResetsTheAge() {
        MacTable table = new MacTable(4, AGING);
        table.learn(ALICE, 1, 0);
        table.learn(ALICE, 1, AGING - 1);
        assertThat(table.lookup(ALICE, 2 * AGING - 2)).isEqualTo(1);
        assertThat(table.lookup(ALICE, 2 * AGING - 1)).isEqualTo(MacTable.NO_PORT);
    }

    @Test
    void lookupDropsAnEntryThatAgedOut() {
        MacTable table = new MacTable(4, AGING);
        table.learn(ALICE, 1, 1_000);
        assertThat(table.lookup(ALICE, 1_000 + AGING - 1)).isEqualTo(1);
        assertThat(table.lookup(ALICE, 1_000 + AGING)).isEqualTo(MacTable.NO_PORT);
        assertThat(table.size()).isZero();
    }

    @Test
    void relearningAnAgedEntryCountsAsNew() {
        MacTable table = new MacTable(4, AGING);
        table.learn(ALICE, 1, 0);
        assertThat(table.learn(ALICE, 2, AGING)).isEqualTo(Learned.NEW);
        assertThat(table.lookup(ALICE, AGING)).isEqualTo(2);
        assertThat(table.size()).isEqualTo(1);
    }

    @Test
    void agingSurvivesNanoTimeWrapAround() {
        MacTable table = new MacTable(4, AGING);
        long nearWrap = Long.MAX_VALUE - 10;
        table.learn(ALICE, 1, nearWrap);
        assertThat(table.lookup(ALICE, nearWrap + 100)).isEqualTo(1); // overflowed to negative
        assertThat(table.lookup(ALICE, nearWrap + AGING)).isEqualTo(MacTable.NO_PORT);
    }

    @Test
    void sweepRemovesOnlyExpiredEntries() {
        MacTable table = new MacTable(64, AGING);
        for (int i = 0; i < 40; i++) {
            table.learn(mac(i), i % 5, i < 20 ? 0 : AGING / 2);
        }
        assertThat(table.expire(AGING - 1)).isZero();
        assertThat(table.expire(AGING)).isEqualTo(20);
        assertThat(table.size()).isEqualTo(20);
        for (int i = 0; i < 40; i++) {
            assertThat(table.lookup(mac(i), AGING)).isEqualTo(i < 20 ? MacTable.NO_PORT : i % 5);
        }
    }

    @Test
    void fullTableRefusesNewMacsButStillRefreshesAndMovesKnownOnes() {
        MacTable table = new MacTable(3, AGING);
        assertThat(table.learn(mac(1), 0, 0)).isEqualTo(Learned.NEW);
        assertThat(table.learn(mac(2), 0, 0)).isEqualTo(Learned.NEW);
        assertThat(table.learn(mac(3), 0, 0)).isEqualTo(Learned.NEW);
        assertThat(table.isFull()).isTrue();

        assertThat(table.learn(mac(4), 1, 0)).isEqualTo(Learned.TABLE_FULL);
        assertThat(table.lookup(mac(4), 0)).isEqualTo(MacTable.NO_PORT);
        assertThat(table.learn(mac(2), 0, 5)).isEqualTo(Learned.REFRESHED);
        assertThat(table.learn(mac(3), 7, 5)).isEqualTo(Learned.MOVED);
        assertThat(table.size()).isEqualTo(3);

        table.remove(mac(1));
        assertThat(table.learn(mac(4), 1, 0)).isEqualTo(Learned.NEW);
        assertThat(table.lookup(mac(4), 0)).isEqualTo(1);
    }

    @Test
    void aFullTableFreesRoomOnlyOnceEntriesAreSwept() {
        MacTable table = new MacTable(2, AGING);
        table.learn(mac(1), 0, 0);
        table.learn(mac(2), 0, 0);
        assertThat(table.learn(mac(3), 0, AGING)).isEqualTo(Learned.TABLE_FULL);
        assertThat(table.expire(AGING)).isEqualTo(2);
        assertThat(table.learn(mac(3), 0, AGING)).isEqualTo(Learned.NEW);
    }

    @Test
    void collidingMacsAreAllFoundAndSurviveRemovalsInTheMiddleOfTheirProbeRun() {
        MacTable table = new MacTable(64, AGING);
        int slot = table.home(ALICE);
        List<Long> colliding = macsWithHome(table, slot, 40);

        for (int i = 0; i < colliding.size(); i++) {
            assertThat(table.learn(colliding.get(i), i, 0)).isEqualTo(Learned.NEW);
        }
        for (int i = 0; i < colliding.size(); i++) {
            assertThat(table.lookup(colliding.get(i), 0)).isEqualTo(i);
        }
        // Remove every third one, starting at the head of the run: the rest must still be reachable.
        for (int i = 0; i < colliding.size(); i += 3) {
            assertThat(table.remove(colliding.get(i))).isTrue();
        }
        for (int i = 0; i < colliding.size(); i++) {
            assertThat(table.lookup(colliding.get(i), 0)).isEqualTo(i % 3 == 0 ? MacTable.NO_PORT : i);
        }
        assertThat(table.size()).isEqualTo(colliding.size() - (colliding.size() + 2) / 3);
    }

    @Test
    void probeRunsThatWrapPastTheEndOfTheArrayWork() {
        MacTable table = new MacTable(16, AGING);
        int last = table.slotCount() - 1;
        List<Long> atEnd = macsWithHome(table, last, 6);
        List<Long> atStart = macsWithHome(table, 0, 3);
        for (int i = 0; i < atEnd.size(); i++) {
            table.learn(atEnd.get(i), i % 2, 0); // ports 0 and 1, wrapping into slots 0..4
        }
        for (long mac : atStart) {
            table.learn(mac, 2, 0);
        }
        assertThat(table.removePort(0)).isEqualTo(3);
        for (int i = 0; i < atEnd.size(); i++) {
            assertThat(table.lookup(atEnd.get(i), 0)).isEqualTo(i % 2 == 0 ? MacTable.NO_PORT : 1);
        }
        for (long mac : atStart) {
            assertThat(table.lookup(mac, 0)).isEqualTo(2);
        }
        assertThat(table.removePort(1)).isEqualTo(3);
        assertThat(table.removePort(2)).isEqualTo(3);
        assertThat(table.size()).isZero();
    }

    @Test
    void removePortForgetsExactlyThatPortsMacs() {
        MacTable table = new MacTable(256, AGING);
        for (int i = 0; i < 256; i++) {
            table.learn(mac(i * 7919L), i % 4, 0);
        }
        assertThat(table.removePort(2)).isEqualTo(64);
        for (int i = 0; i < 256; i++) {
            assertThat(table.lookup(mac(i * 7919L), 0)).isEqualTo(i % 4 == 2 ? MacTable.NO_PORT : i % 4);
        }
    }

    /** Thousands of random operations on a small, collision-heavy table, checked against a HashMap. */
    @Test
    void behavesLikeAMapUnderRandomOperations() {
        SplittableRandom random = new SplittableRandom(42);
        int capacity = 50;
        long aging = 1_000;
        MacTable table = new MacTable(capacity, aging);
        Map<Long, long[]> model = new HashMap<>(); // mac -> {port, lastSeen}
        long now = 0;
        for (int step = 0; step < 200_000; step++) {
            now += random.nextInt(20);
            long mac = mac(random.nextInt(120)); // more MACs than capacity: the table fills up
            int op = random.nextInt(100);
            if (op < 55) {
                int port = random.nextInt(6);
                long[] entry = model.get(mac);
                boolean live = entry != null && now - entry[1] < aging;
                Learned expected;
                if (entry == null) {
                    expected = model.size() == capacity ? Learned.TABLE_FULL : Learned.NEW;
                } else if (!live) {
                    expected = Learned.NEW;
                } else {
                    expected = entry[0] == port ? Learned.REFRESHED : Learned.MOVED;
                }
                assertThat(table.learn(mac, port, now)).as("learn at step %d", step).isEqualTo(expected);
                if (expected != Learned.TABLE_FULL) {
                    model.put(mac, new long[] {port, now});
                }
            } else if (op < 85) {
                long[] entry = model.get(mac);
                int expected = MacTable.NO_PORT;
                if (entry != null) {
                    if (now - entry[1] < aging) {
                        expected = (int) entry[0];
                    } else {
                        model.remove(mac);
                    }
                }
                assertThat(table.lookup(mac, now)).as("lookup at step %d", step).isEqualTo(expected);
            } else if (op < 93) {
                assertThat(table.remove(mac)).isEqualTo(model.remove(mac) != null);
            } else if (op < 97) {
                long sweepAt = now;
                int expected = (int) model.values().stream().filter(e -> sweepAt - e[1] >= aging).count();
                model.values().removeIf(e -> sweepAt - e[1] >= aging);
                assertThat(table.expire(now)).isEqualTo(expected);
            } else {
                int port = random.nextInt(6);
                int expected = (int) model.values().stream().filter(e -> e[0] == port).count();
                model.values().removeIf(e -> e[0] == port);
                assertThat(table.removePort(port)).isEqualTo(expected);
            }
            assertThat(table.size()).as("size at step %d", step).isEqualTo(model.size());
        }
    }

    @Test
    void rejectsKeysThatAreNoMacAndBadSizes() {
        MacTable table = new MacTable(4, AGING);
        assertThatThrownBy(() -> table.learn(1L << 48, 0, 0)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> table.lookup(-1L, 0)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> table.learn(ALICE, -1, 0)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new MacTable(0, AGING)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new MacTable(MacTable.MAX_CAPACITY + 1, AGING))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new MacTable(4, 0)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void keepsTheSlotArrayAtLeastTwiceTheCapacity() {
        assertThat(new MacTable(1, AGING).slotCount()).isEqualTo(2);
        assertThat(new MacTable(4096, AGING).slotCount()).isEqualTo(8192);
        assertThat(new MacTable(4097, AGING).slotCount()).isEqualTo(16384);
    }

    /** Locally administered unicast MACs 02:00:xx:xx:xx:xx. */
    private static long mac(long n) {
        return 0x0200_0000_0000L | (n & 0xFFFF_FFFFL);
    }

    private static List<Long> macsWithHome(MacTable table, int slot, int count) {
        List<Long> found = new ArrayList<>();
        for (long n = 0; found.size() < count; n++) {
            if (table.home(mac(n)) == slot) {
                found.add(mac(n));
            }
        }
        return found;
    }
}

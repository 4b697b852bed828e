package dev.riscvrelay.relay.nat.tcp;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class SackScoreboardTest {

    /** Near the wrap of the sequence space, so every comparison must be modulo 2^32. */
    private static final int BASE = -5000;

    private final SackScoreboard board = new SackScoreboard();

    @Test
    void rangesMergeWhenTheyTouchOrOverlapAndTheHolesLieBetween() {
        board.add(BASE + 3000, BASE + 4000);
        board.add(BASE + 1000, BASE + 2000);
        board.add(BASE + 4000, BASE + 5000); // touches the first
        board.add(BASE + 1500, BASE + 2500); // overlaps the second
        assertThat(board.ranges()).isEqualTo(2);
        assertThat(board.findHole(BASE)).isTrue();
        assertThat(board.holeStart()).isEqualTo(BASE);
        assertThat(board.holeEnd()).isEqualTo(BASE + 1000);
        assertThat(board.findHole(BASE + 1200)).as("from inside a range: the hole after it").isTrue();
        assertThat(board.holeStart()).isEqualTo(BASE + 2500);
        assertThat(board.holeEnd()).isEqualTo(BASE + 3000);
        assertThat(board.findHole(BASE + 5000)).as("nothing SACKed above").isFalse();
        assertThat(board.heldAbove(BASE)).isEqualTo(1500 + 2000);
        assertThat(board.heldAbove(BASE + 3500)).isEqualTo(1500);
    }

    @Test
    void aRangeSpanningSeveralSwallowsThem() {
        for (int i = 0; i < 5; i++) {
            board.add(BASE + 1000 * (2 * i + 1), BASE + 1000 * (2 * i + 2));
        }
        board.add(BASE + 500, BASE + 9500);
        assertThat(board.ranges()).isEqualTo(1);
        assertThat(board.heldAbove(BASE)).isEqualTo(9500);
    }

    @Test
    void anAdvancingAckDropsAndTrimsWhatItCovers() {
        board.add(BASE + 1000, BASE + 2000);
        board.add(BASE + 3000, BASE + 4000);
        board.discardBelow(BASE + 3500);
        assertThat(board.ranges()).isEqualTo(1);
        assertThat(board.heldAbove(BASE)).isEqualTo(500);
        assertThat(board.findHole(BASE + 3500)).isFalse();
        board.discardBelow(BASE + 4000);
        assertThat(board.isEmpty()).isTrue();
    }

    @Test
    void whenFullTheHighestRangeGivesWayToALowerOne() {
        for (int i = 0; i < SackScoreboard.CAPACITY; i++) {
            board.add(BASE + 1000 * (2 * i + 2), BASE + 1000 * (2 * i + 3));
        }
        board.add(BASE + 1000 * 100, BASE + 1000 * 101); // above all: forgotten
        assertThat(board.ranges()).isEqualTo(SackScoreboard.CAPACITY);
        assertThat(board.heldAbove(BASE + 1000 * 99)).isZero();
        board.add(BASE, BASE + 500); // below all: the highest goes
        assertThat(board.ranges()).isEqualTo(SackScoreboard.CAPACITY);
        assertThat(board.findHole(BASE)).isTrue();
        assertThat(board.holeStart()).isEqualTo(BASE + 500);
        int highest = BASE + 1000 * (2 * (SackScoreboard.CAPACITY - 1) + 2);
        assertThat(board.heldAbove(highest)).isZero();
        assertThat(board.heldAbove(highest - 1000)).isEqualTo(0);
        assertThat(board.heldAbove(highest - 1500)).isEqualTo(500);
    }
}

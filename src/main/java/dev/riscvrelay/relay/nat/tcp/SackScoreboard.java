package dev.riscvrelay.relay.nat.tcp;

import static dev.riscvrelay.relay.nat.tcp.SequenceNumbers.after;

/**
 * The ranges of sent data the VM reported holding above SND.UNA (its SACK blocks, RFC 2018), merged and in
 * sequence order: the holes between them are what fast recovery resends (RFC 6675's scoreboard, without its pipe).
 * Bounded: past {@value #CAPACITY} separate ranges the highest is given up, since the lowest holes are resent first
 * and a range forgotten only costs a resend the retransmission timer would make anyway.
 */
final class SackScoreboard {

    static final int CAPACITY = 16;

    private final int[] left = new int[CAPACITY];
    private final int[] right = new int[CAPACITY];
    private int count;
    private int holeStart;
    private int holeEnd;

    /** Adds {@code [from, to)}, merging with the ranges it touches. */
    void add(int from, int to) {
        int i = 0;
        while (i < count && after(from, right[i])) {
            i++; // ranges wholly below, not touching
        }
        int j = i;
        while (j < count && !after(left[j], to)) {
            // touching or overlapping: absorb
            if (after(from, left[j])) {
                from = left[j];
            }
            if (after(right[j], to)) {
                to = right[j];
            }
            j++;
        }
        int absorbed = j - i;
        if (absorbed == 0 && count == CAPACITY) {
            if (i == count) {
                return; // above everything and no room: forget it
            }
            count--; // give up the highest range for this lower one
        }
        int shift = 1 - absorbed;
        if (shift != 0) {
            System.arraycopy(left, j, left, j + shift, count - j);
            System.arraycopy(right, j, right, j + shift, count - j);
            count += shift;
        }
        left[i] = from;
        right[i] = to;
    }

    /** SND.UNA moved to {@code una}: what lies below is acknowledged, no longer SACKed. */
    void discardBelow(int una) {
        int gone = 0;
        while (gone < count && !after(right[gone], una)) {
            gone++;
        }
        if (gone > 0) {
            System.arraycopy(left, gone, left, 0, count - gone);
            System.arraycopy(right, gone, right, 0, count - gone);
            count -= gone;
        }
        if (count > 0 && after(una, left[0])) {
            left[0] = una;
        }
    }

    void clear() {
        count = 0;
    }

    boolean isEmpty() {
        return count == 0;
    }

    /**
     * Finds the lowest hole at or above {@code from} with a SACKed range above it; then {@link #holeStart()} and
     * {@link #holeEnd()} bound it. False when nothing is SACKed above {@code from}'s hole.
     */
    boolean findHole(int from) {
        int at = from;
        for (int i = 0; i < count; i++) {
            if (!after(right[i], at)) {
                continue;
            }
            if (!after(left[i], at)) {
                at = right[i]; // inside a SACKed range: the hole starts after it
                continue;
            }
            holeStart = at;
            holeEnd = left[i];
            return true;
        }
        return false;
    }

    int holeStart() {
        return holeStart;
    }

    int holeEnd() {
        return holeEnd;
    }

    /** Bytes SACKed above {@code sequence}. */
    int heldAbove(int sequence) {
        int bytes = 0;
        for (int i = 0; i < count; i++) {
            if (after(right[i], sequence)) {
                bytes += right[i] - (after(left[i], sequence) ? left[i] : sequence);
            }
        }
        return bytes;
    }

    /** Bytes in holes from {@code sequence} up to the highest SACKed byte (what SACK shows missing there). */
    int holeBytesAbove(int sequence) {
        if (count == 0 || !after(right[count - 1], sequence)) {
            return 0;
        }
        return right[count - 1] - sequence - heldAbove(sequence);
    }

    /** Ranges held, for tests. */
    int ranges() {
        return count;
    }
}

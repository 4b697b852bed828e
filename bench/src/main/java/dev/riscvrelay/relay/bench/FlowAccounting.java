package dev.riscvrelay.relay.bench;

/**
 * What one receiver saw of one sender's numbered frames: how many arrived, how many sequence numbers were
 * skipped (lost, or still late) and how many came back below the highest seen (late or duplicated). Owned by one
 * thread.
 */
public final class FlowAccounting {

    private long received;
    private long nextExpected;
    private long skipped;
    private long late;

    /** Records the arrival of frame number {@code sequence} (numbers start at 0 and rise by one per frame). */
    public void onReceive(long sequence) {
        received++;
        if (sequence == nextExpected) {
            nextExpected++;
        } else if (sequence > nextExpected) {
            skipped += sequence - nextExpected;
            nextExpected = sequence + 1;
        } else {
            late++;
        }
    }

    public long received() {
        return received;
    }

    /** Sequence numbers passed over by a higher one: lost frames, unless they show up later. */
    public long skipped() {
        return skipped;
    }

    /** Frames below the highest number seen: reordered or duplicated. */
    public long late() {
        return late;
    }

    /** Highest sequence number seen plus one. */
    public long nextExpected() {
        return nextExpected;
    }
}

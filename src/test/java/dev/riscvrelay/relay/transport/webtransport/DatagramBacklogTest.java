package dev.riscvrelay.relay.transport.webtransport;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class DatagramBacklogTest {

    /** quiche's count of bytes sent, as the test moves it; and how often it was read. */
    private long sent = 50_000;
    private int reads;
    private final DatagramBacklog backlog = new DatagramBacklog(1024, () -> {
        reads++;
        return sent;
    });

    @Test
    void whileQuicheSendsEverythingNothingIsHeldBackAndItsCountersAreReadOncePerBoundOfBytes() {
        int datagrams = 0;
        for (int flush = 0; flush < 1000; flush++) {
            backlog.flushStarts();
            for (int i = 0; i < 10; i++) {
                assertThat(backlog.hasRoom()).as("flush %d", flush).isTrue();
                backlog.written(1200);
                datagrams++;
            }
            sent += 10 * 1250; // quiche sends the flush at its end, with its headers
        }

        long bytes = 1200L * datagrams;
        assertThat(reads).as("one read for the first datagram, then one per bound of bytes")
                .isBetween((int) (bytes / DatagramBacklog.MAX_BYTES), (int) (bytes / DatagramBacklog.MAX_BYTES) + 2);
    }

    @Test
    void aClosedWindowHoldsBackAtTheBoundOfBytesUntilQuicheSendsAgain() {
        int written = fill(1000);

        assertThat(1000L * written).isGreaterThanOrEqualTo(DatagramBacklog.MAX_BYTES)
                .isLessThan(DatagramBacklog.MAX_BYTES + 1000);
        backlog.flushStarts();
        assertThat(backlog.hasRoom()).as("nothing was sent").isFalse();

        sent += 100_000;
        backlog.flushStarts();
        assertThat(backlog.hasRoom()).isTrue();
        assertThat(backlog.heldBytes()).isEqualTo(1000L * written - 100_000);
        assertThat(backlog.heldDatagrams()).as("the rest, taken at their average size")
                .isEqualTo((int) Math.ceil(written * (1000.0 * written - 100_000) / (1000.0 * written)));
    }

    @Test
    void smallDatagramsStopAtHalfOfQuichesQueueWhateverTheirBytes() {
        assertThat(fill(60)).isEqualTo(512);
        sent += 512 * 60 + 40; // all of them, and an acknowledgement
        backlog.flushStarts();
        assertThat(backlog.hasRoom()).isTrue();
        assertThat(backlog.heldDatagrams()).isZero();
    }

    @Test
    void quichesCountersAreReadAtMostOncePerFlush() {
        fill(1400);
        int readsWhenFull = reads;

        for (int i = 0; i < 100; i++) {
            assertThat(backlog.hasRoom()).isFalse();
        }
        assertThat(reads).isEqualTo(readsWhenFull);
        backlog.flushStarts();
        backlog.hasRoom();
        assertThat(reads).isEqualTo(readsWhenFull + 1);
    }

    @Test
    void bytesSentBeforeTheFirstDatagramAreNotTakenForItsProgress() {
        sent = 10_000_000; // the handshake, the CONNECT and its answer
        fill(1000);

        backlog.flushStarts();
        assertThat(backlog.hasRoom()).isFalse();
    }

    @Test
    void aConnectionThatGivesNoCountersKeepsItsEstimate() {
        fill(1000);
        long held = backlog.heldBytes();
        sent = -1;

        backlog.flushStarts();
        assertThat(backlog.hasRoom()).isFalse();
        assertThat(backlog.heldBytes()).isEqualTo(held);
    }

    @Test
    void aFlushTheBacklogStoppedWaitsForItsRetryAndAnyOtherOnlyForThePacer() {
        backlog.flushStarts();
        assertThat(backlog.hasRoom()).isTrue();
        assertThat(backlog.flushDelayNanos(0)).as("nothing held: the next turn").isZero();
        assertThat(backlog.flushDelayNanos(5_000_000)).isEqualTo(5_000_000);

        fill(1000);
        assertThat(backlog.flushDelayNanos(0)).isEqualTo(DatagramBacklog.RETRY_NANOS);
        assertThat(backlog.flushDelayNanos(5_000_000)).as("the pacer's longer delay").isEqualTo(5_000_000);

        backlog.flushStarts(); // a flush the pacer stops before it asks the backlog
        assertThat(backlog.flushDelayNanos(0)).isZero();
    }

    /** One flush that writes datagrams of {@code bytes} while the backlog has room; how many it wrote. */
    private int fill(int bytes) {
        backlog.flushStarts();
        int written = 0;
        while (backlog.hasRoom()) {
            backlog.written(bytes);
            written++;
        }
        return written;
    }

    @Test
    void quichesQueueMustHoldAtLeastTwo() {
        assertThatThrownBy(() -> new DatagramBacklog(1, () -> 0)).isInstanceOf(IllegalArgumentException.class);
    }
}

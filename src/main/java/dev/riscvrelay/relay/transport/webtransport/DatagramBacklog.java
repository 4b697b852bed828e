package dev.riscvrelay.relay.transport.webtransport;

import io.netty.handler.codec.quic.QuicChannel;
import io.netty.handler.codec.quic.QuicConnectionStats;
import io.netty.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * An estimate of what waits in quiche's datagram send queue of one QUIC connection, so that its sessions (or the
 * {@link WebTransportClient}) hand quiche only what it will send soon and the rest waits in their own
 * {@link dev.riscvrelay.relay.switching.FrameQueue}s.
 * quiche's queue is a plain FIFO: what is written while the congestion window is closed waits there behind everything
 * written before, and once the queue holds its configured length Netty drops the rest of the flush unseen (see the
 * package notes). In a session's queue instead a sparse flow's frame goes ahead of a flood's, and a full queue's drop
 * is counted: a client too slow for a broadcast flood lost up to 44% of a paced peer's frames in quiche's queue
 * ({@code FairnessIT}); a client that wrote a burst of 500 frames into a fresh connection with a queue of 16 lost
 * 122 of them without a count ({@code WebTransportIT}).
 *
 * <p>quiche tells nothing of its queue, but it counts the bytes it sent: what was written less what was sent since is
 * what waits. The estimate errs a little low, since the bytes sent include packet headers and acknowledgements, so the
 * bound on datagrams is half of quiche's queue. quiche's counters are read only when the estimate reaches a bound,
 * and at most once per flush: while the window is open that is once per {@link #MAX_BYTES} or per half a queue of
 * datagrams. Owned by the connection's event loop.
 */
final class DatagramBacklog {

    /** Bytes quiche may hold: a couple of milliseconds at a gigabit, so a window that opens finds enough waiting. */
    static final long MAX_BYTES = 256 * 1024;
    /** How soon a session held back by a full backlog tries again: the window opens as acknowledgements arrive. */
    static final long RETRY_NANOS = TimeUnit.MILLISECONDS.toNanos(1);

    private final int maxDatagrams;
    /** quiche's count of the bytes it sent on the connection so far, or negative when it gives none (closing). */
    private final LongSupplier sentBytes;
    private long sentAtLastRead = -1;
    private long heldBytes;
    private int heldDatagrams;
    private boolean readThisFlush;
    /** Whether {@link #hasRoom()} said no since the flush started: what waits, waits for quiche, not for the pacer. */
    private boolean refused;

    /** @param quicheQueueLength the length of quiche's datagram send queue (the codec's setting) */
    DatagramBacklog(int quicheQueueLength, LongSupplier sentBytes) {
        if (quicheQueueLength < 2) {
            throw new IllegalArgumentException("quiche's datagram queue must hold at least 2: " + quicheQueueLength);
        }
        this.maxDatagrams = quicheQueueLength / 2;
        this.sentBytes = sentBytes;
    }

    /** For {@code quic}, whose codec was built with a datagram send queue of {@code quicheQueueLength}. */
    static DatagramBacklog of(QuicChannel quic, int quicheQueueLength) {
        return new DatagramBacklog(quicheQueueLength, () -> {
            Future<QuicConnectionStats> stats = quic.collectStats();
            return stats.isSuccess() ? stats.getNow().sentBytes() : -1;
        });
    }

    /** A session starts writing: quiche has sent what the last flush gave it, so its counters are worth a read. */
    void flushStarts() {
        readThisFlush = false;
        refused = false;
    }

    /** Whether another datagram may go to quiche now (it may go past a bound by that one datagram). */
    boolean hasRoom() {
        if (!belowBounds() && !readThisFlush) {
            readThisFlush = true;
            refresh();
        }
        refused = !belowBounds();
        return !refused;
    }

    /**
     * When the frames left waiting should be tried again, given the pacer's delay: when this backlog stopped them, not
     * before {@link #RETRY_NANOS} (a flush at every turn would only read quiche's counters again).
     */
    long flushDelayNanos(long pacerDelayNanos) {
        return refused ? Math.max(RETRY_NANOS, pacerDelayNanos) : pacerDelayNanos;
    }

    private boolean belowBounds() {
        return heldBytes < MAX_BYTES && heldDatagrams < maxDatagrams;
    }

    /** A datagram of {@code bytes} went to quiche (or to the channel, for the end of this flush). */
    void written(int bytes) {
        if (sentAtLastRead < 0) {
            sentAtLastRead = sentBytes.getAsLong(); // what was sent before the first datagram is not ours
        }
        heldBytes += bytes;
        heldDatagrams++;
    }

    private void refresh() {
        long sent = sentBytes.getAsLong();
        if (sent < 0 || sentAtLastRead < 0) {
            return;
        }
        long before = heldBytes;
        heldBytes = Math.max(0, heldBytes - (sent - sentAtLastRead));
        sentAtLastRead = sent;
        // The datagrams that wait are taken to be of the average size of those that waited before.
        heldDatagrams = heldBytes == 0 ? 0 : (int) Math.ceil((double) heldDatagrams * heldBytes / before);
    }

    long heldBytes() {
        return heldBytes;
    }

    int heldDatagrams() {
        return heldDatagrams;
    }
}

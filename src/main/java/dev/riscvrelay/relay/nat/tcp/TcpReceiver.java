package dev.riscvrelay.relay.nat.tcp;

import static dev.riscvrelay.relay.nat.tcp.SequenceNumbers.after;
import static dev.riscvrelay.relay.nat.tcp.SequenceNumbers.before;

import dev.riscvrelay.relay.metrics.Counter;
import dev.riscvrelay.relay.metrics.Counters;
import dev.riscvrelay.relay.wire.TcpPacket;
import io.netty.buffer.ByteBuf;
import java.util.concurrent.TimeUnit;

/**
 * The receive side of a connection, VM to host: RCV.NXT, the window offered to the VM, data in order to the host
 * socket, segments after a gap held in a {@link ReassemblyQueue} and reported with SACK blocks when the VM allows
 * it. The window is what the host socket's outbound buffer still takes, so a slow host stops acknowledging the VM,
 * and at most an {@link InflightBound} (about the bandwidth-delay product from the VM), so a fast host does not let
 * the VM fill the queues on the way; its right edge never moves left (RFC 9293 section 3.8.6.2.2).
 */
final class TcpReceiver {

    /** What the endpoint owes the VM after a segment's data. */
    enum Outcome {
        /** An ACK now: a gap (duplicate ACK with SACK), old data, or data beyond the window. */
        ACK_NOW,
        /** New data in order: one ACK at the end of the turn covers it. */
        ACK_LATER,
        /** The VM's FIN is reached in order (not yet counted in RCV.NXT): see {@link #finReceived}. */
        FIN
    }

    /**
     * The shortest interval a delivery-rate sample covers: the relay takes the VM's datagrams in batches, and over
     * a few milliseconds a batch looked like one and a half times the rate.
     */
    static final long BOUND_INTERVAL_NANOS = TimeUnit.MILLISECONDS.toNanos(10);
    /**
     * The {@link InflightBound}'s gain here. A receiver's round trips are upper bounds and its rates come in
     * batches, so both run high: with twice the product, an upload through {@code relay connect} across a clean link
     * kept 100-220 KB in flight and pings alongside took 1.15 ms at the median. Above 1, the window still grows by a
     * quarter per round trip on a long path.
     */
    static final double BOUND_GAIN = 1.25;
    /**
     * The least window the {@link InflightBound} offers. Uploads through {@code relay connect} across a clean link,
     * in alternating runs, went faster bounded than unbounded (720-757 against 577-631 Mbit/s: fewer of the host's
     * bursts overflow the queues on the way), and pings alongside took 0.45-0.47 ms at the median instead of 3.3-3.9.
     */
    static final int BOUND_FLOOR_BYTES = 64 * 1024;

    private final int initialSequence;
    private int rcvNxt;
    /** The right edge offered so far. */
    private int rcvEdge;
    private final int scale;
    private final int windowLimit;
    private final boolean sackPermitted;
    private final ReassemblyQueue queue;
    private final TcpHost host;
    private final Counters counters;
    /**
     * RFC 2883's D-SACK: the range of data that arrived twice, reported as the first SACK block of the next segment
     * only. It tells the VM that its retransmission was not needed (the first copy was late, not lost: link
     * recovery on a lossy path repairs a frame a round trip later), so it undoes the window reduction.
     */
    private boolean duplicatePending;
    private final int[] blocksLeft = new int[ReassemblyQueue.MAX_SACK_BLOCKS];
    private final int[] blocksRight = new int[ReassemblyQueue.MAX_SACK_BLOCKS];
    private int[] sackLeft;
    private int[] sackRight;
    /** What the window offers at most: about the bandwidth-delay product from the VM. */
    private final InflightBound bound = new InflightBound(BOUND_GAIN, BOUND_FLOOR_BYTES, BOUND_INTERVAL_NANOS);
    /**
     * The right edge before the last offer that moved it, and when that offer left. Data beyond it left the VM after
     * the offer reached it, so its arrival times a round trip: an upper bound, exact while the window is what holds
     * the VM back (as it is once the bound binds, and in the bound's probes).
     */
    private boolean edgeTiming;
    private int timedEdge;
    private long edgeMovedAt;
    /** The time of the segment being received, or of the one about to be sent (the endpoint's clock). */
    private long now;

    TcpReceiver(int initialSequence, int scale, int windowBytes, boolean sackPermitted, int holdSegments,
            TcpHost host, Counters counters) {
        this.initialSequence = initialSequence;
        this.rcvNxt = initialSequence + 1;
        this.rcvEdge = rcvNxt;
        this.scale = scale;
        this.windowLimit = Math.min(windowBytes, 0xFFFF << scale);
        this.sackPermitted = sackPermitted;
        this.queue = new ReassemblyQueue(holdSegments);
        this.host = host;
        this.counters = counters;
        this.sackLeft = queue.sackLeft;
        this.sackRight = queue.sackRight;
    }

    /**
     * The handshake's round trip in nanoseconds (measured by the send side, the only clean sample a receiver gets
     * before the bound binds), taken at {@code now}.
     */
    void onHandshakeRtt(long rtt, long now) {
        bound.onRtt(rtt, now);
    }

    /** The VM's initial sequence number (its SYN's). */
    int initialSequence() {
        return initialSequence;
    }

    int rcvNxt() {
        return rcvNxt;
    }

    /**
     * The window a SYN-ACK offers, which starts the right edge: unscaled (RFC 7323 section 2.2), so at most 65535
     * bytes.
     */
    int offerSynWindow() {
        int window = Math.min(windowLimit, 0xFFFF);
        rcvEdge = rcvNxt + window;
        return window;
    }

    /**
     * Data and FIN of an acceptable segment: to the host in order, after a gap held, else acknowledged again.
     *
     * @param now the segment's arrival (nanoseconds)
     * @param mayHoldMore false while the relay's buffer budget is used up: a segment after a gap is then dropped
     *     (the VM resends it)
     */
    Outcome receive(TcpPacket segment, int sequence, boolean fin, boolean mayHoldMore, long now) {
        this.now = now;
        int dataLength = segment.dataLength();
        int offset = rcvNxt - sequence;
        if (offset < 0) {
            hold(segment, sequence, dataLength, fin, mayHoldMore);
            return Outcome.ACK_NOW; // a duplicate ACK (with SACK blocks): the VM's fast retransmit starts on three
        }
        if (offset > dataLength || (offset == dataLength && !fin)) {
            duplicate(sequence, dataLength);
            return Outcome.ACK_NOW; // all old: our ACK was lost or the VM retransmitted early
        }
        duplicate(sequence, offset); // the part already received, if any (RFC 2883 section 4.1.3's partial case)
        int fresh = dataLength - offset;
        int accepted = deliver(segment.buffer(), segment.dataOffset() + offset, fresh);
        if (accepted < fresh) {
            counters.increment(Counter.DROP_NAT_TCP_OUT_OF_WINDOW);
            return Outcome.ACK_NOW;
        }
        return fin || drainHeld() ? Outcome.FIN : Outcome.ACK_LATER;
    }

    /** The VM's FIN, in order, takes one sequence number. */
    void finReceived() {
        rcvNxt++;
    }

    /** Writes up to {@code length} bytes in order to the host, as far as the window allows; returns how many. */
    private int deliver(ByteBuf buf, int index, int length) {
        int accepted = Math.min(length, window());
        if (accepted > 0) {
            host.write(buf.retainedSlice(index, accepted));
            rcvNxt += accepted;
            bound.onDelivered(accepted, now);
            if (edgeTiming && after(rcvNxt, timedEdge)) {
                edgeTiming = false;
                bound.onRtt(now - edgeMovedAt, now);
            }
            counters.add(Counter.NAT_TCP_BYTES_TO_HOST, accepted);
        }
        return accepted;
    }

    /** Keeps a segment that arrived after a gap (bounded; a full queue drops it, the VM resends). */
    private void hold(TcpPacket segment, int sequence, int dataLength, boolean fin, boolean mayHoldMore) {
        if (dataLength == 0 && !fin) {
            return;
        }
        if (sequence - rcvNxt + dataLength > window()) {
            counters.increment(Counter.DROP_NAT_TCP_OUT_OF_WINDOW);
            return;
        }
        if (!mayHoldMore) {
            counters.increment(Counter.DROP_NAT_TCP_OUT_OF_ORDER);
            return;
        }
        switch (queue.hold(sequence, segment.buffer(), segment.dataOffset(), dataLength, fin)) {
            case HELD -> counters.increment(Counter.NAT_TCP_OUT_OF_ORDER_HELD);
            case FULL -> counters.increment(Counter.DROP_NAT_TCP_OUT_OF_ORDER);
            case ALREADY_HELD -> duplicate(sequence, dataLength);
        }
    }

    /** Delivers held segments the gap no longer separates; returns whether a held FIN was reached. */
    private boolean drainHeld() {
        int taken = 0;
        while (taken < queue.count() && !after(queue.sequence(taken), rcvNxt)) {
            int offset = rcvNxt - queue.sequence(taken);
            int length = queue.length(taken);
            boolean fin = queue.fin(taken);
            ByteBuf data = queue.takeData(taken);
            taken++;
            if (offset < length) {
                int fresh = length - offset;
                int accepted = deliver(data, data.readerIndex() + offset, fresh);
                data.release();
                if (accepted < fresh) {
                    break;
                }
            } else {
                data.release();
            }
            if (fin && offset <= length) {
                queue.releaseFrom(taken); // nothing after the FIN counts
                return true;
            }
        }
        queue.dropFirst(taken);
        return false;
    }

    /** Notes {@code length} bytes from {@code sequence} that arrived again, for the next segment's D-SACK block. */
    private void duplicate(int sequence, int length) {
        if (length > 0 && sackPermitted) {
            duplicatePending = true;
            blocksLeft[0] = sequence;
            blocksRight[0] = sequence + length;
        }
    }

    /**
     * How many SACK blocks the segment about to be sent carries, filled in {@link #sackLeft()} /
     * {@link #sackRight()}: a pending D-SACK block first (then spent), then the held ranges.
     */
    int sackBlocks() {
        if (!sackPermitted) {
            return 0;
        }
        int held = queue.isEmpty() ? 0 : queue.sackBlocks();
        if (!duplicatePending) {
            sackLeft = queue.sackLeft;
            sackRight = queue.sackRight;
            return held;
        }
        duplicatePending = false;
        int blocks = Math.min(held, blocksLeft.length - 1);
        System.arraycopy(queue.sackLeft, 0, blocksLeft, 1, blocks);
        System.arraycopy(queue.sackRight, 0, blocksRight, 1, blocks);
        sackLeft = blocksLeft;
        sackRight = blocksRight;
        return blocks + 1;
    }

    int[] sackLeft() {
        return sackLeft;
    }

    int[] sackRight() {
        return sackRight;
    }

    /**
     * The window field of a segment sent at {@code now}: what the host socket still takes, within the bound, scaled,
     * never moving the right edge left.
     */
    int advertisedWindow(long now) {
        this.now = now;
        return Math.min(window() >>> scale, 0xFFFF);
    }

    /** Bytes the VM may send beyond RCV.NXT; offering more moves the right edge. */
    private int window() {
        int room = (int) Math.max(0, Math.min(windowLimit - host.pendingWriteBytes(), bound.bound(now)));
        int edgeWindow = rcvEdge - rcvNxt;
        if (room > edgeWindow) {
            if (!edgeTiming) {
                edgeTiming = true;
                timedEdge = rcvEdge;
                edgeMovedAt = now;
            }
            rcvEdge = rcvNxt + room;
            return room;
        }
        return Math.max(0, edgeWindow);
    }

    /** Whether {@code sequence} lies in the window offered (at least one byte wide: RFC 5961's RST check). */
    boolean inWindow(int sequence) {
        return !before(sequence, rcvNxt) && before(sequence, rcvNxt + Math.max(1, rcvEdge - rcvNxt));
    }

    /** Bytes held after a gap, charged to the relay's buffer budget with the send side's. */
    int heldBytes() {
        return queue.heldBytes();
    }

    /** Releases every held segment. */
    void release() {
        queue.releaseFrom(0);
    }
}

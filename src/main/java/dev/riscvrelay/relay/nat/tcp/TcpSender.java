package dev.riscvrelay.relay.nat.tcp;

import static dev.riscvrelay.relay.nat.tcp.SequenceNumbers.after;
import static dev.riscvrelay.relay.nat.tcp.SequenceNumbers.before;

import dev.riscvrelay.relay.metrics.Counter;
import dev.riscvrelay.relay.metrics.Counters;
import dev.riscvrelay.relay.wire.TcpPacket;
import io.netty.buffer.ByteBuf;
import java.util.concurrent.TimeUnit;

/**
 * The send side of a connection, host to VM: the send sequence space over a {@link SendBuffer} of what the host
 * sent, our FIN after its last byte, {@link Cubic CUBIC} congestion control (RFC 9438; the window starting at RFC
 * 6928's ten segments) with NewReno's fast recovery (RFC 5681, RFC 6582) and the VM's SACK blocks steering what it
 * resends (a {@link SackScoreboard}), the retransmission timeout (RFC 6298, through {@link RttEstimator}, measured by
 * RFC 7323's timestamps when the VM echoes them) and probes of a closed window (RFC 9293 section 3.8.6.1).
 * Segments leave through {@link Output}, which adds the receive side's ACK, window, timestamps and SACK blocks.
 */
final class TcpSender {

    /**
     * Segments one transmit sends before it yields the loop (as Linux's TCP small queues do): a large window then
     * leaves in bursts the VM's port queue and QUIC take whole, instead of overflowing them in one turn.
     */
    static final int BURST_SEGMENTS = 128;
    private static final int DUPLICATE_ACK_THRESHOLD = 3;
    /** The shortest interval a delivery-rate sample covers: the VM's ACKs of a burst arrive together. */
    static final long BOUND_INTERVAL_NANOS = TimeUnit.MILLISECONDS.toNanos(1);
    /**
     * The least the {@link InflightBound} lets in flight toward the VM. On a machine's own links the round trip is
     * mostly the processes' turns on the CPU, and the relay and its client carry a burst per turn, so a smaller
     * floor costs rate. Downloads through {@code relay connect} across a clean link, in alternating runs: unbounded
     * 1.65-2.11 Gbit/s with pings alongside at 1.6-2.1 ms median (p99 7-10.5 ms); 128 KiB 1.87-1.91 Gbit/s at
     * 0.59-0.70 ms (p99 2.9-3.8); 96 KiB 1.61-1.72 Gbit/s at 0.55 ms; 192 KiB 1.87-2.04 Gbit/s at 0.69-0.80 ms.
     */
    static final int BOUND_FLOOR_BYTES = 128 * 1024;
    /** The {@link InflightBound}'s gain here: BBR's two bandwidth-delay products, room for bursts of ACKs. */
    static final double BOUND_GAIN = 2;

    /** Where the sender's segments go. */
    interface Output {

        /** One segment to the VM: {@code length} bytes of the send buffer from {@code sequence}, with ACK. */
        void sendSegment(int sequence, int length, int flags);

        /** Continue {@link #transmit} after the loop's other pending work. */
        void resumeLater();
    }

    private final int iss;
    private int sndUna;
    private int sndNxt;
    /** The highest sequence number sent so far (SND.NXT before a timeout rewound it). */
    private int sndMax;
    private int sndWnd;
    private int sndWl1;
    private final int scale;
    private final int mss;
    private final SendBuffer buffer = new SendBuffer();
    private boolean hostEof;
    private boolean finSent;
    private int finSequence;

    private int cwnd;
    private int ssthresh = Integer.MAX_VALUE;
    private final Cubic cubic;
    private int duplicateAcks;
    private boolean fastRecovery;
    /**
     * Whether this recovery runs on the VM's SACK blocks (RFC 6675: the window is SSTHRESH against the data still in
     * the network, the "pipe"), else on NewReno's duplicate ACKs and window inflation.
     */
    private boolean sackRecovery;
    /** RFC 6582's "recover": the highest sequence number sent when the last recovery began; ISS at first. */
    private int recover;
    /**
     * What the VM's SACK blocks say it holds above SND.UNA; null until the first block (most connections never
     * lose a segment).
     */
    private SackScoreboard sacked;
    /** RFC 6675's HighRxt: the end of the highest segment resent in this recovery; nothing below it goes twice. */
    private int highRxt;

    /** Consecutive timeouts without progress, and window probes without an answer. */
    private int retransmissions;
    private int unansweredProbes;
    private final RttEstimator rtt;
    private final TcpTimer timer;
    private final Output out;
    private final Counters counters;
    private final int sendBufferBytes;
    private final int maxRetransmissions;
    private final boolean timestamps;
    /** What the window may put in flight: twice the bandwidth-delay product toward the VM. */
    private final InflightBound bound = new InflightBound(BOUND_GAIN, BOUND_FLOOR_BYTES, BOUND_INTERVAL_NANOS);
    /**
     * The segment timed for the bound, to the nanosecond: the end of its data and when it left. The timestamps'
     * clock counts milliseconds, and a clean path's round trip is a fraction of one.
     */
    private boolean boundTiming;
    private int boundTimedEnd;
    private long boundTimedAt;

    /**
     * @param scale the VM's window scale shift (0 without scaling)
     * @param window the window of the VM's SYN (never scaled, RFC 7323 section 2.2)
     * @param windowSequence the SYN's sequence number (the first SND.WL1)
     * @param timestamps whether the VM echoes our timestamps (RFC 7323): then every ACK of new data measures the
     *     round trip through {@link #onTimestampEcho}, and no segment is timed on its own
     */
    TcpSender(TcpConfig config, int iss, int mss, int scale, int window, int windowSequence, boolean timestamps,
            TcpTimer timer, Output out, Counters counters) {
        this.timestamps = timestamps;
        this.iss = iss;
        this.sndUna = iss;
        this.sndNxt = iss;
        this.sndMax = iss;
        this.sndWnd = window;
        this.sndWl1 = windowSequence;
        this.scale = scale;
        this.mss = mss;
        this.cwnd = Math.min(10 * mss, Math.max(2 * mss, 14600)); // RFC 6928
        this.cubic = new Cubic(mss);
        this.recover = iss; // RFC 6582 section 3.2 step 1
        this.rtt = new RttEstimator(config.minRto().toNanos(), config.maxRto().toNanos());
        this.timer = timer;
        this.out = out;
        this.counters = counters;
        this.sendBufferBytes = config.sendBufferBytes();
        this.maxRetransmissions = config.maxRetransmissions();
    }

    int iss() {
        return iss;
    }

    int sndUna() {
        return sndUna;
    }

    int sndNxt() {
        return sndNxt;
    }

    int sndMax() {
        return sndMax;
    }

    long rto() {
        return rtt.rto();
    }

    SendBuffer sendBuffer() {
        return buffer;
    }

    /** Bytes from the host not yet acknowledged by the VM. */
    int buffered() {
        return buffer.size();
    }

    /** Appends data read from the host; takes over its reference. */
    void bufferHostData(ByteBuf data) {
        buffer.add(data);
    }

    /** Whether the host sent FIN: our FIN follows the data still buffered. */
    boolean hostEof() {
        return hostEof;
    }

    void hostFinished() {
        hostEof = true;
    }

    /** Whether our FIN was ever sent. */
    boolean finSent() {
        return finSent;
    }

    /** Whether the VM acknowledged our FIN. */
    boolean finAcknowledged() {
        return finSent && after(sndUna, finSequence);
    }

    // ---- Handshake ----

    /** The SYN-ACK went out: it takes sequence number ISS. */
    void synAckSent() {
        sndNxt = iss + 1;
        sndMax = iss + 1;
    }

    /** Times the first SYN-ACK. */
    void timeSynAck(long now) {
        rtt.startTiming(iss, now);
    }

    /** The SYN-ACK was sent again: its ACK no longer measures the round trip. */
    void cancelTiming() {
        rtt.cancelTiming();
    }

    /** The SYN-ACK's retransmission timer expired: back off; false once the retransmissions ran out. */
    boolean synAckTimedOut() {
        if (++retransmissions > maxRetransmissions) {
            return false;
        }
        counters.increment(Counter.NAT_TCP_TIMEOUTS);
        rtt.cancelTiming();
        rtt.backOff();
        return true;
    }

    /**
     * The VM's ACK of our SYN (ack is ISS + 1): the send sequence space starts, the timer stops. Returns the
     * handshake's round trip in nanoseconds, -1 when the SYN-ACK was sent again.
     */
    long onHandshakeAck(int sequence, int ack, int window, long now) {
        sndWnd = window << scale;
        sndWl1 = sequence;
        return synAcknowledged(ack, now);
    }

    /**
     * The VM's SYN-ACK acknowledged our SYN (an active open): ISS is taken, the send sequence space starts at ISS +
     * 1. The SYN-ACK's window, unscaled, came with the constructor. Returns the handshake's round trip in
     * nanoseconds, -1 when it was not measured.
     */
    long onSynAcknowledged(long now) {
        return synAcknowledged(iss + 1, now);
    }

    private long synAcknowledged(int ack, long now) {
        sndUna = ack;
        sndNxt = ack;
        sndMax = ack;
        long handshakeRtt = rtt.onAck(ack, now);
        bound.onRtt(handshakeRtt, now);
        retransmissions = 0;
        timer.disarm();
        return handshakeRtt;
    }

    // ---- ACKs ----

    /**
     * The round trip an ACK of new data measured by echoing our timestamp (RFC 7323 section 4.1), taken after
     * {@link #onAck}: the retransmission timer, which onAck armed with the backed-off timeout, restarts with the
     * measured one.
     */
    void onTimestampEcho(long roundTrip, long now) {
        rtt.onTimestampSample(roundTrip);
        if (sndUna != sndMax) {
            timer.arm(now + rtt.rto());
        }
    }

    /** Any segment from the VM shows it is there: window probes start counting again. */
    void segmentArrived() {
        unansweredProbes = 0;
    }

    /**
     * Takes the SACK blocks of an acceptable ACK (RFC 2018), before {@link #onAck}: what the VM holds beyond a hole.
     * Blocks outside the data in flight (a D-SACK, a lie) are ignored.
     */
    void onSackBlocks(TcpPacket segment) {
        for (int i = 0; i < segment.sackBlockCount(); i++) {
            int left = segment.sackLeft(i);
            int right = segment.sackRight(i);
            if (!after(right, left) || !after(right, sndUna) || after(right, sndMax)) {
                continue;
            }
            if (sacked == null) {
                sacked = new SackScoreboard();
            }
            sacked.add(after(left, sndUna) ? left : sndUna, right);
        }
    }

    /** Whether anything is in flight: only then do the VM's SACK blocks mean anything. */
    boolean hasDataInFlight() {
        return sndMax != sndUna;
    }

    /** RFC 9293 section 3.10.7.4: an ACK of something never sent is not acceptable (the caller ACKs). */
    boolean acceptsAck(int ack) {
        return !after(ack, sndMax);
    }

    /**
     * The ACK field and window of an acceptable segment: new data acknowledged, or a duplicate ACK; then the
     * window from the newest segment. Returns whether the ACK acknowledged anything new.
     *
     * @param occupiesSequence whether the segment carries data or FIN (then it is no duplicate ACK)
     */
    boolean onAck(int sequence, int ack, int rawWindow, boolean occupiesSequence, long now) {
        int window = rawWindow << scale;
        boolean fresh = after(ack, sndUna);
        if (fresh) {
            onNewAck(ack, now);
        } else if (ack == sndUna && !occupiesSequence && window == sndWnd && sndMax != sndUna) {
            onDuplicateAck(now);
        }
        if (!fastRecovery && firstSegmentSackedLost()) {
            // The VM's SACK blocks show the first segment lost (RFC 6675's IsLost(HighACK + 1)) though three
            // duplicate ACKs never came: a VM whose window grows as it takes data, or whose ACKs a receive offload
            // merged, sends few exact duplicates, and without this a burst of losses waited for the timeout.
            enterFastRecovery(now);
        } else if (fastRecovery && sackRecovery) {
            resendLostWithinWindow(); // RFC 6675 section 5 step (C): whatever the ACK was
        }
        // RFC 9293 section 3.10.7.4: take the window from the newest segment (SND.WL1/WL2 check).
        if (ack == sndUna && !before(sequence, sndWl1)) {
            sndWnd = window;
            sndWl1 = sequence;
        }
        return fresh;
    }

    /** ACK of new data (or of our FIN): free what it covers, grow the window, move the timer. */
    private void onNewAck(int ack, long now) {
        int acknowledged = ack - sndUna;
        int dataAcknowledged = Math.min(acknowledged, buffer.size());
        buffer.discard(dataAcknowledged);
        sndUna = ack;
        if (sacked != null) {
            sacked.discardBelow(ack);
        }
        if (after(ack, sndNxt)) {
            sndNxt = ack; // after a timeout rewound SND.NXT, the VM had more than we thought
        }
        retransmissions = 0;
        rtt.onAck(ack, now);
        if (boundTiming && !before(ack, boundTimedEnd)) {
            boundTiming = false;
            bound.onRtt(now - boundTimedAt, now);
        }
        bound.onDelivered(dataAcknowledged, now);
        if (sndUna == sndMax) {
            bound.idle();
        }
        if (fastRecovery) {
            if (!before(ack, recover)) {
                fastRecovery = false; // RFC 6582 section 3.2 step 3: full acknowledgement
                sackRecovery = false;
                cwnd = ssthresh;
            } else if (sackRecovery) {
                // Partial acknowledgement under RFC 6675: the window stays SSTHRESH; onAck resends what fits.
            } else {
                // Partial acknowledgement (RFC 6582): the next hole, unless SACK already had it resent.
                if (!after(highRxt, sndUna)) {
                    highRxt = sndUna + retransmitFirst();
                } else {
                    retransmitNextHole();
                }
                cwnd = Math.max(cwnd - dataAcknowledged + mss, mss);
            }
        } else if (cwnd < ssthresh) {
            // Slow start with byte counting (RFC 3465) and no per-ACK cap: a VM behind a receive offload (GRO, or
            // relay connect's SegmentCoalescer) acknowledges many segments at once, and a one-MSS cap per ACK
            // would stretch slow start by that factor. ACK division gains nothing: the increase follows bytes.
            cwnd += dataAcknowledged;
        } else {
            // Congestion avoidance: CUBIC's curve, from the bytes acknowledged however they are split into ACKs.
            cwnd = cubic.grow(cwnd, dataAcknowledged, now, rtt.srtt());
        }
        cwnd = Math.min(cwnd, 2 * sendBufferBytes);
        duplicateAcks = 0;
        // RFC 6298 section 5.2/5.3: off when all is acknowledged, else restart.
        if (sndUna == sndMax) {
            timer.disarm();
        } else {
            timer.arm(now + rtt.rto());
        }
    }

    private void onDuplicateAck(long now) {
        duplicateAcks++;
        if (fastRecovery && sackRecovery) {
            return; // onAck resends against the pipe
        }
        if (fastRecovery) {
            // Each further duplicate means a segment left the network (RFC 5681 section 3.2 step 4): it makes room
            // for the next hole the VM's SACK blocks show lost (RFC 6675's NextSeg rule 1), or else for new data.
            // Without SACK, NewReno resends one hole per round trip; a burst of losses then takes as many.
            if (!retransmitNextHole()) {
                cwnd += mss;
            }
        } else if (duplicateAcks == DUPLICATE_ACK_THRESHOLD && after(sndUna, recover - 1)) {
            enterFastRecovery(now);
        }
    }

    /**
     * RFC 5681 section 3.2 steps 2 and 3, RFC 6582 section 3.2 step 2: reduce the window (by CUBIC's factor, RFC 9438
     * section 4.6), resend the first hole.
     */
    private void enterFastRecovery(long now) {
        ssthresh = cubic.onCongestion(cwnd, sndMax - sndUna);
        recover = sndMax;
        fastRecovery = true;
        counters.increment(Counter.NAT_TCP_FAST_RETRANSMITS);
        highRxt = sndUna + retransmitFirst();
        sackRecovery = sacked != null && !sacked.isEmpty();
        if (sackRecovery) {
            // RFC 6675 section 5 step (4.2): the window is SSTHRESH, against the pipe rather than all in flight, so
            // every hole SACK shows lost goes within a round trip as far as half the window allows.
            cwnd = ssthresh;
            resendLostWithinWindow();
        } else {
            cwnd = ssthresh + DUPLICATE_ACK_THRESHOLD * mss;
        }
        timer.arm(now + rtt.rto());
    }

    /**
     * RFC 6675's pipe: bytes sent and still in the network. All outstanding bytes but those SACKed and those in holes
     * above HighRxt (taken as lost and not yet resent); a resent hole counts again.
     */
    private int pipe() {
        int outstanding = sndMax - sndUna;
        if (sacked == null) {
            return outstanding;
        }
        return outstanding - sacked.heldAbove(sndUna) - sacked.holeBytesAbove(notYetResent());
    }

    /** Where the data not resent in this recovery starts: HighRxt, or SND.UNA once the VM acknowledged past it. */
    private int notYetResent() {
        return after(highRxt, sndUna) ? highRxt : sndUna;
    }

    /** RFC 6675 section 5 step (C): while the pipe leaves room in the window, the next lost hole goes. */
    private void resendLostWithinWindow() {
        for (int budget = BURST_SEGMENTS; budget > 0 && pipe() < cwnd; budget--) {
            if (!retransmitNextHole()) {
                return;
            }
        }
    }

    /**
     * Whether SACK shows SND.UNA's segment lost: not SACKed, with more than two segments' worth SACKed above it,
     * and not part of a window whose losses a recovery or timeout already took (RFC 6582's "recover").
     */
    private boolean firstSegmentSackedLost() {
        return sacked != null && hasDataInFlight() && after(sndUna, recover - 1) && sacked.findHole(sndUna)
                && sacked.holeStart() == sndUna
                && sacked.heldAbove(sndUna) > (DUPLICATE_ACK_THRESHOLD - 1) * mss;
    }

    // ---- Sending ----

    /** Sends new data (and our FIN after the last byte) as far as the VM's window and the congestion window let. */
    void transmit(long now) {
        int budget = BURST_SEGMENTS;
        int inFlightBound = bound.bound(now); // nothing in this loop moves it
        while (true) {
            boolean finInFlight = finSent && after(sndNxt, finSequence);
            if (finInFlight) {
                return;
            }
            int inFlight = sndNxt - sndUna;
            int unsent = buffer.size() - inFlight;
            // In SACK recovery new data goes when the pipe leaves room (RFC 6675 NextSeg rule 2).
            int usable = fastRecovery && sackRecovery ? Math.min(sndWnd - inFlight, cwnd - pipe())
                    : Math.min(Math.min(sndWnd, cwnd), inFlightBound) - inFlight;
            if (unsent > 0) {
                int length = Math.min(Math.min(unsent, mss), usable);
                // Sender silly-window avoidance (RFC 9293 section 3.8.6.2.1): no runt while data is in flight.
                if (length <= 0 || (length < mss && length < unsent && inFlight > 0)) {
                    break;
                }
                if (budget-- == 0) {
                    // The rest of the window after this turn's other work: the VM's port queue drains in between.
                    out.resumeLater();
                    break;
                }
                boolean fin = hostEof && length == unsent;
                sendData(sndNxt, length, fin, now);
                continue;
            }
            if (hostEof) {
                sendData(sndNxt, 0, true, now);
            }
            break;
        }
        if (sndWnd == 0 && sndUna == sndMax && buffer.size() > 0 && !timer.armed()) {
            timer.arm(now + rtt.rto()); // persist: probe the closed window
        }
    }

    private void sendData(int sequence, int length, boolean fin, long now) {
        // PSH only on the segment that empties the buffer, as a host stack does: the VM (and a receive offload on
        // the way, see SegmentCoalescer) may hold the segments of one burst together until then.
        boolean lastBuffered = length > 0 && sequence + length - sndUna >= buffer.size();
        int flags = TcpPacket.FLAG_ACK | (fin ? TcpPacket.FLAG_FIN : 0) | (lastBuffered ? TcpPacket.FLAG_PSH : 0);
        out.sendSegment(sequence, length, flags);
        int end = sequence + length;
        if (fin) {
            finSent = true;
            finSequence = end;
            end++;
        }
        if (after(end, sndMax)) {
            int dataEnd = sequence + length;
            if (after(dataEnd, sndMax)) {
                counters.add(Counter.NAT_TCP_BYTES_TO_VM, Math.min(length, dataEnd - sndMax));
            }
            if (!timestamps && !rtt.timing()) {
                rtt.startTiming(sequence, now);
            }
            if (!boundTiming) {
                boundTiming = true;
                boundTimedEnd = end;
                boundTimedAt = now;
            }
            sndMax = end;
        } else {
            counters.increment(Counter.NAT_TCP_RETRANSMITS);
        }
        sndNxt = end;
        if (!timer.armed()) {
            timer.arm(now + rtt.rto());
        }
    }

    /**
     * Resends the first unacknowledged segment (fast retransmit, partial ACK). Karn: no timing across it. Returns
     * the data bytes resent.
     */
    private int retransmitFirst() {
        int outstandingData = Math.min(sndMax - sndUna, buffer.size());
        int length = Math.min(mss, outstandingData);
        boolean fin = finSent && sndUna + length == finSequence;
        if (length == 0 && !fin) {
            return 0;
        }
        rtt.cancelTiming();
        counters.increment(Counter.NAT_TCP_RETRANSMITS);
        out.sendSegment(sndUna, length, TcpPacket.FLAG_ACK | (fin ? TcpPacket.FLAG_FIN : 0)
                | (length > 0 ? TcpPacket.FLAG_PSH : 0));
        return length;
    }

    /**
     * Resends the lowest hole above HighRxt that the VM's SACK blocks show lost: more than two segments' worth held
     * above it (RFC 6675's IsLost with DupThresh 3). Returns whether one went.
     */
    private boolean retransmitNextHole() {
        if (sacked == null) {
            return false;
        }
        if (!sacked.findHole(notYetResent())
                || sacked.heldAbove(sacked.holeStart()) <= (DUPLICATE_ACK_THRESHOLD - 1) * mss) {
            return false;
        }
        int hole = sacked.holeStart();
        int dataEnd = sndUna + Math.min(sndMax - sndUna, buffer.size());
        int length = Math.min(Math.min(mss, sacked.holeEnd() - hole), dataEnd - hole);
        if (length <= 0) {
            return false;
        }
        rtt.cancelTiming();
        counters.increment(Counter.NAT_TCP_RETRANSMITS);
        counters.increment(Counter.NAT_TCP_SACK_RETRANSMITS);
        out.sendSegment(hole, length, TcpPacket.FLAG_ACK | TcpPacket.FLAG_PSH);
        highRxt = hole + length;
        return true;
    }

    // ---- Timer ----

    /**
     * The timer expired with the connection synchronized: retransmit from SND.UNA, or probe a closed window.
     * Returns false once the retransmissions or probes ran out without an answer.
     */
    boolean onTimeout(long now) {
        if (sndMax != sndUna) {
            return onRetransmissionTimeout(now);
        }
        if (buffer.size() > 0 && sndWnd == 0) {
            return onPersistTimeout(now);
        }
        return true;
    }

    /** RFC 6298 section 5.4-5.6 and RFC 5681 section 3.1: back off, collapse the window, resend from SND.UNA. */
    private boolean onRetransmissionTimeout(long now) {
        if (++retransmissions > maxRetransmissions) {
            return false;
        }
        counters.increment(Counter.NAT_TCP_TIMEOUTS);
        if (retransmissions == 1) {
            // The first timeout is the congestion event; a backed-off repeat of it is the same loss.
            ssthresh = cubic.onCongestion(cwnd, sndMax - sndUna);
        }
        cwnd = mss;
        fastRecovery = false;
        sackRecovery = false;
        duplicateAcks = 0;
        recover = sndMax;
        if (sacked != null) {
            sacked.clear(); // RFC 2018 section 8: after a timeout the VM may have dropped what it SACKed
        }
        highRxt = sndUna;
        rtt.cancelTiming();
        rtt.backOff();
        sndNxt = sndUna; // go back: everything after SND.UNA is resent as the window reopens
        transmit(now);
        if (sndNxt == sndUna) {
            // The window closed with data outstanding (a stale zero-window ACK overtook a window update): the
            // first segment goes anyway, as a probe (RFC 9293 section 3.8.6.1), and its ACK restates the window.
            retransmitFirst();
        }
        timer.arm(now + rtt.rto());
        return true;
    }

    /** RFC 9293 section 3.8.6.1: a closed window is probed; an old-sequence ACK makes the VM restate it. */
    private boolean onPersistTimeout(long now) {
        if (++unansweredProbes > maxRetransmissions) {
            return false;
        }
        out.sendSegment(sndUna - 1, 0, TcpPacket.FLAG_ACK);
        rtt.backOff();
        timer.arm(now + rtt.rto());
        return true;
    }

    /** Releases the buffered host data. */
    void release() {
        buffer.releaseAll();
    }
}

package dev.riscvrelay.relay.nat.tcp;

import dev.riscvrelay.relay.metrics.Counter;
import dev.riscvrelay.relay.metrics.Counters;
import dev.riscvrelay.relay.nat.HostBudget;
import dev.riscvrelay.relay.wire.ParseResult;
import dev.riscvrelay.relay.wire.TcpPacket;
import io.netty.buffer.ByteBuf;

/**
 * One TCP connection with a VM, terminated here, as a pure endpoint: toward the VM it plays the destination the VM
 * dialled (RFC 9293, the passive side), or, for a connection forwarded from outside, dials the VM itself
 * ({@link #activeOpen}, from {@link TcpState#SYN_SENT}); toward the host it asks a {@link TcpHost} to write, shut
 * down, pause and close. No clock and no scheduler inside: every event brings the time ({@code now}, nanoseconds from any origin),
 * and {@link #deadline()} says when the endpoint next needs {@link #onTimer}. Segments to the VM leave through
 * {@link VmSegments} during the event that causes them.
 *
 * <p>The events: {@link #onSegment} (from the VM), {@link #onHostConnected} or a failed connect, host data
 * ({@link #onHostData}, then {@link #onHostReadComplete}), {@link #onHostEof}, {@link #onHostWritable},
 * {@link #onHostBroken}, {@link #onTimer}, and the loop's {@link #onTurnEnd} and {@link #onResume}; each is a
 * switch over {@link TcpState}. The send side is a {@link TcpSender}, the receive side a {@link TcpReceiver}.
 *
 * <p>Flow control both ways: the host is read only while the data the VM has not acknowledged fits the send
 * buffer; the window offered to the VM is what the host socket still takes. Owned by one event loop.
 */
final class TcpEndpoint implements TcpSender.Output {

    /** RFC 9293 section 3.7.1: the MSS to assume when the SYN carries none. */
    private static final int DEFAULT_MSS = 536;
    /** Below this a VM's MSS is a trick, not a link: segments would cost more header than data. */
    private static final int MIN_MSS = 64;
    /** RFC 6298 section 2.1: the first retransmission timeout of our SYN, before any round trip was measured. */
    private static final long INITIAL_SYN_RTO_NANOS = 1_000_000_000L;

    private final TcpConfig config;
    private final Counters counters;
    private final VmSegments vm;
    private final TcpHost host;
    private final TcpTimer timer = new TcpTimer();
    /** Both made from the VM's SYN (or SYN-ACK): null only in {@link TcpState#SYN_SENT}. */
    private TcpSender sender;
    private TcpReceiver receiver;
    /** The MSS the SYN-ACK tells the VM: what one frame of the LAN carries. */
    private final int lanMss;
    private final int iss;
    private final int segmentSizeLimit;
    /** RFC 7323 section 2.2: scaling only when both sides offer it in their SYNs; then our shift. */
    private boolean windowScaling;
    private int rcvScale;
    private boolean sackPermitted;
    /**
     * RFC 7323: timestamps on every segment but a RST once the VM's SYN (or SYN-ACK) carried them; then TS.Recent,
     * the VM's timestamp to echo, and Last.ACK.sent, which decides when it is updated (section 4.3).
     */
    private boolean timestamps;
    private int tsRecent;
    private int lastAckSent;
    /** The time of the event being handled: our timestamps read it, in milliseconds offset by ISS. */
    private long clock;
    /** What one segment toward the VM may carry, options and data: the VM's MSS and the frame limit toward it. */
    private int segmentRoom;
    private TcpState state;
    /** In SYN_SENT: the current retransmission timeout of our SYN, and when the VM is given up on. */
    private long synRto;
    private long synGiveUpAt;
    /** An ACK is owed at the end of the turn; any segment sent before carries it. */
    private boolean ackPending;
    private final HostBudget.Share.Account memory;
    /** The bytes of host data charged to {@link #memory}: what the sender held when last looked at. */
    private long charged;

    /**
     * @param syn the VM's SYN (options parsed); read here only
     * @param segmentSizeLimit the largest payload one frame toward the VM carries; the VM's MSS bounds it further
     * @param lanMss the MSS told to the VM
     */
    TcpEndpoint(TcpConfig config, TcpPacket syn, int iss, int segmentSizeLimit, int lanMss, VmSegments vm,
            TcpHost host, Counters counters) {
        this(config, syn, iss, segmentSizeLimit, lanMss, vm, host, counters, unlimitedMemory());
    }

    /** @param memory where the host data this connection holds is charged, against the relay's budget */
    TcpEndpoint(TcpConfig config, TcpPacket syn, int iss, int segmentSizeLimit, int lanMss, VmSegments vm,
            TcpHost host, Counters counters, HostBudget.Share.Account memory) {
        this(config, TcpState.CONNECTING, iss, segmentSizeLimit, lanMss, vm, host, counters, memory);
        synchronize(syn);
    }

    private static HostBudget.Share.Account unlimitedMemory() {
        return HostBudget.unlimitedShare().accountOf(0);
    }

    /** As the other {@code activeOpen}, outside any budget (tests). */
    static TcpEndpoint activeOpen(TcpConfig config, int iss, int segmentSizeLimit, int lanMss, VmSegments vm,
            TcpHost host, Counters counters, long now) {
        return activeOpen(config, iss, segmentSizeLimit, lanMss, vm, host, counters, now, unlimitedMemory());
    }

    /**
     * A connection the relay opens toward the VM (a forward from outside, as slirp's hostfwd): sends our SYN with
     * MSS, window scale and SACK-permitted offered, and waits in {@link TcpState#SYN_SENT} for the VM's SYN-ACK.
     * The SYN is resent with backoff from RFC 6298's one second until {@link TcpConfig#connectTimeout()} has
     * passed; then, or on the VM's RST, the host is told to close with a reset. The host socket is not read before
     * the connection is established.
     *
     * @param segmentSizeLimit the largest payload one frame toward the VM carries; the VM's MSS bounds it further
     * @param lanMss the MSS told to the VM
     * @param memory where the host data this connection holds is charged, against the relay's budget
     */
    static TcpEndpoint activeOpen(TcpConfig config, int iss, int segmentSizeLimit, int lanMss, VmSegments vm,
            TcpHost host, Counters counters, long now, HostBudget.Share.Account memory) {
        TcpEndpoint endpoint = new TcpEndpoint(config, TcpState.SYN_SENT, iss, segmentSizeLimit, lanMss, vm, host,
                counters, memory);
        endpoint.clock = now;
        endpoint.synRto = INITIAL_SYN_RTO_NANOS;
        endpoint.synGiveUpAt = now + config.connectTimeout().toNanos();
        endpoint.sendSyn();
        endpoint.timer.arm(now + endpoint.synRto);
        return endpoint;
    }

    private TcpEndpoint(TcpConfig config, TcpState initial, int iss, int segmentSizeLimit, int lanMss,
            VmSegments vm, TcpHost host, Counters counters, HostBudget.Share.Account memory) {
        this.config = config;
        this.state = initial;
        this.memory = memory;
        this.counters = counters;
        this.vm = vm;
        this.host = host;
        this.lanMss = lanMss;
        this.iss = iss;
        this.segmentSizeLimit = segmentSizeLimit;
    }

    /** Sets up both sequence spaces from the VM's SYN or SYN-ACK (options parsed). */
    private void synchronize(TcpPacket syn) {
        int vmMss = syn.mss() > 0 ? syn.mss() : DEFAULT_MSS;
        this.segmentRoom = Math.max(MIN_MSS, Math.min(vmMss, segmentSizeLimit));
        this.windowScaling = syn.windowScale() >= 0;
        this.rcvScale = windowScaling ? config.receiveWindowScale() : 0;
        this.sackPermitted = syn.sackPermitted();
        this.timestamps = syn.hasTimestamps();
        this.tsRecent = syn.timestampValue();
        // RFC 7323 section 3.2 and RFC 9293 section 3.7.1: the MSS counts data only, so options come out of it.
        int mss = segmentRoom - (timestamps ? TcpPacket.TIMESTAMPS_OPTION_LENGTH : 0);
        int sndScale = windowScaling ? syn.windowScale() : 0;
        this.sender = new TcpSender(config, iss, mss, sndScale, syn.window(), syn.sequenceNumber(), timestamps, timer,
                this, counters);
        this.receiver = new TcpReceiver(syn.sequenceNumber(), rcvScale, config.receiveWindowBytes(),
                sackPermitted, config.outOfOrderSegments(), host, counters);
    }

    TcpState state() {
        return state;
    }

    /** When {@link #onTimer} is next due, or {@link TcpTimer#NONE}. */
    long deadline() {
        return timer.deadline();
    }

    // ---- Events from the host socket ----

    /** The host accepted: now the VM gets its SYN-ACK (RFC 9293 section 3.5, as the passive side). */
    void onHostConnected(long now) {
        if (state != TcpState.CONNECTING) {
            return;
        }
        clock = now;
        state = TcpState.SYN_RECEIVED;
        counters.increment(Counter.NAT_TCP_CONNECTIONS_OPENED);
        sendSynAck();
        sender.timeSynAck(now);
        timer.arm(now + sender.rto());
    }

    /** The host refused: RST to the VM at once, and the connection is over. */
    void onHostRefused() {
        if (state != TcpState.CONNECTING) {
            return;
        }
        vm.control(0, receiver.rcvNxt(), TcpPacket.FLAG_RST | TcpPacket.FLAG_ACK);
        close(false);
    }

    /** The host could not be reached (the caller tells the VM at the IP layer): the connection is over. */
    void onHostUnreachable() {
        if (state == TcpState.CONNECTING) {
            close(false);
        }
    }

    /** Data read from the host; takes over the reference. Returns whether it was taken (not after EOF or close). */
    boolean onHostData(ByteBuf data) {
        if (state == TcpState.CLOSED || state == TcpState.SYN_SENT || sender.hostEof()) {
            data.release();
            return false;
        }
        sender.bufferHostData(data);
        chargeBuffered();
        if (sender.buffered() >= config.sendBufferBytes() || overBudget()) {
            host.reading(false); // the VM has not taken what we hold: stop reading until it acknowledges some
        }
        return true;
    }

    /** Brings the budget's charge for this connection to what it holds now: host data, and VM data after a gap. */
    private void chargeBuffered() {
        if (sender == null) {
            return; // SYN_SENT: nothing read from the host yet
        }
        long buffered = (long) sender.buffered() + receiver.heldBytes();
        if (buffered != charged) {
            memory.charge(buffered - charged);
            charged = buffered;
        }
    }

    /** The relay's buffer budget is used up and this connection holds at least its guaranteed part. */
    private boolean overBudget() {
        return sender != null && sender.buffered() >= HostBudget.GUARANTEED_BUFFER_BYTES && memory.buffersFull();
    }

    /** The host's reads of this turn are in: send what the windows allow. */
    void onHostReadComplete(long now) {
        clock = now;
        if (state != TcpState.CLOSED) {
            transmit(now);
        }
    }

    /** The host sent FIN: ours follows the data still buffered. */
    void onHostEof(long now) {
        clock = now;
        if (state == TcpState.CLOSED || state == TcpState.SYN_SENT || sender.hostEof()) {
            return;
        }
        sender.hostFinished();
        transmit(now);
    }

    /** The host socket drained: tell the VM its window opened. */
    void onHostWritable() {
        if (state.acceptsVmData()) {
            sendAck();
        }
    }

    /** The host reset the connection or the socket failed: reset the VM's side too. */
    void onHostBroken() {
        switch (state) {
            // CONNECTING: the failed connect is reported on its own. TIME_WAIT: both sides are done already.
            case CONNECTING, TIME_WAIT, CLOSED -> {
            }
            // The outside client left before the VM answered: nothing to tell the VM (its SYN-ACK meets a RST).
            case SYN_SENT -> close(false);
            case SYN_RECEIVED, ESTABLISHED, CLOSE_WAIT, LAST_ACK, FIN_WAIT_1, FIN_WAIT_2, CLOSING -> {
                counters.increment(Counter.NAT_TCP_RESETS_FROM_HOST);
                abort(true);
            }
        }
    }

    // ---- Events from the VM ----

    /** One valid segment of this connection from the VM (checksum and flags checked by the NAT). */
    void onSegment(TcpPacket segment, long now) {
        clock = now;
        int flags = segment.flags();
        int sequence = segment.sequenceNumber();
        if (state == TcpState.SYN_SENT) {
            onSegmentInSynSent(segment, now, flags);
            return;
        }
        sender.segmentArrived();
        switch (state) {
            case CONNECTING -> {
                if ((flags & TcpPacket.FLAG_RST) != 0 && sequence == receiver.rcvNxt()) {
                    counters.increment(Counter.NAT_TCP_RESETS_FROM_VM);
                    abort(false);
                }
                // A retransmitted SYN: the SYN-ACK waits for the host.
            }
            case SYN_RECEIVED -> onSegmentInSynReceived(segment, now, flags, sequence);
            case ESTABLISHED, CLOSE_WAIT, LAST_ACK, FIN_WAIT_1, FIN_WAIT_2, CLOSING, TIME_WAIT ->
                    onSegmentSynchronized(segment, now, flags, sequence);
            case SYN_SENT, CLOSED -> {
            }
        }
    }

    /** RFC 9293 section 3.10.7.3, the VM's answer to our SYN; a bare SYN (simultaneous open) is not taken up. */
    private void onSegmentInSynSent(TcpPacket segment, long now, int flags) {
        boolean ack = (flags & TcpPacket.FLAG_ACK) != 0;
        if (ack && segment.acknowledgementNumber() != iss + 1) {
            if ((flags & TcpPacket.FLAG_RST) == 0) {
                vm.control(segment.acknowledgementNumber(), 0, TcpPacket.FLAG_RST);
            }
            return;
        }
        if ((flags & TcpPacket.FLAG_RST) != 0) {
            if (ack) {
                counters.increment(Counter.NAT_TCP_ACTIVE_OPENS_REFUSED);
                close(true);
            }
            return;
        }
        if (!ack || (flags & TcpPacket.FLAG_SYN) == 0) {
            return;
        }
        synchronize(segment);
        long handshakeRtt = sender.onSynAcknowledged(now);
        receiver.offerSynWindow(); // the window our SYN offered starts the right edge
        receiver.onHandshakeRtt(handshakeRtt, now);
        state = TcpState.ESTABLISHED;
        counters.increment(Counter.NAT_TCP_ACTIVE_OPENS);
        host.reading(true);
        sendAck(); // data or FIN on the SYN-ACK is not taken: the VM sends it again after this ACK
    }

    private void onSegmentInSynReceived(TcpPacket segment, long now, int flags, int sequence) {
        if ((flags & TcpPacket.FLAG_RST) != 0) {
            if (sequence == receiver.rcvNxt()) {
                counters.increment(Counter.NAT_TCP_RESETS_FROM_VM);
                abort(false);
            }
            return;
        }
        if ((flags & TcpPacket.FLAG_SYN) != 0) {
            if ((flags & TcpPacket.FLAG_ACK) == 0 && sequence == receiver.initialSequence()) {
                sendSynAck(); // our SYN-ACK was lost
                sender.cancelTiming();
            }
            return;
        }
        if ((flags & TcpPacket.FLAG_ACK) == 0) {
            return;
        }
        int ack = segment.acknowledgementNumber();
        if (ack != sender.iss() + 1) {
            // RFC 9293 section 3.10.7.4: an unacceptable ACK in SYN-RECEIVED is answered with a reset.
            vm.control(ack, 0, TcpPacket.FLAG_RST);
            return;
        }
        readOptions(segment, sequence);
        receiver.onHandshakeRtt(sender.onHandshakeAck(sequence, ack, segment.window(), now), now);
        state = TcpState.ESTABLISHED;
        host.reading(true);
        // The ACK may carry data (and even FIN) already.
        boolean fin = (flags & TcpPacket.FLAG_FIN) != 0;
        if (segment.dataLength() > 0 || fin) {
            receive(segment, sequence, fin, now);
        }
        transmit(now);
    }

    private void onSegmentSynchronized(TcpPacket segment, long now, int flags, int sequence) {
        if ((flags & TcpPacket.FLAG_RST) != 0) {
            // RFC 5961 section 3.2: only an exact match resets; an in-window guess earns a challenge ACK.
            if (sequence == receiver.rcvNxt()) {
                counters.increment(Counter.NAT_TCP_RESETS_FROM_VM);
                abort(false);
            } else if (receiver.inWindow(sequence)) {
                sendAck();
            }
            return;
        }
        if ((flags & TcpPacket.FLAG_SYN) != 0) {
            sendAck(); // RFC 5961 section 4.2: challenge ACK, the connection stays
            return;
        }
        if ((flags & TcpPacket.FLAG_ACK) == 0) {
            counters.increment(Counter.DROP_NAT_TCP_BAD_FLAGS); // RFC 9293: drop segments without ACK
            return;
        }
        boolean fin = (flags & TcpPacket.FLAG_FIN) != 0;
        boolean occupiesSequence = segment.dataLength() > 0 || fin;
        int ack = segment.acknowledgementNumber();
        if (!sender.acceptsAck(ack)) {
            sendAck();
            return;
        }
        boolean options = readOptions(segment, sequence);
        if (options && sackPermitted && sender.hasDataInFlight()) {
            sender.onSackBlocks(segment);
        }
        if (sender.onAck(sequence, ack, segment.window(), occupiesSequence, now)) {
            if (options && timestamps && segment.hasTimestamps() && segment.timestampEcho() != 0) {
                // RFC 7323 section 4.1: an ACK of new data measures the round trip of the segment it echoes.
                sender.onTimestampEcho((long) (tsClock() - segment.timestampEcho()) * 1_000_000L, now);
            }
            onNewAck(now);
            if (state == TcpState.CLOSED) {
                return;
            }
        }
        if (!occupiesSequence && SequenceNumbers.before(sequence, receiver.rcvNxt())) {
            // A keep-alive or a window probe (RCV.NXT - 1, as Linux sends them) is not acceptable, and RFC 9293
            // section 3.10.7.4 answers it with an ACK: without one the VM's keep-alive ends a live connection.
            sendAck();
        } else if (occupiesSequence) {
            if (state == TcpState.TIME_WAIT) {
                sendAck(); // a retransmitted FIN: our ACK was lost; linger on
                timer.arm(now + config.timeWait().toNanos());
                return;
            }
            receive(segment, sequence, fin, now);
        }
        if (state != TcpState.CLOSED) {
            transmit(now);
        }
    }

    /**
     * Parses the segment's options, if any, and takes its timestamp as TS.Recent when RFC 7323 section 4.3 says so:
     * not older than TS.Recent, and the segment starts at or before what we last acknowledged. Returns whether
     * options were read (malformed ones are ignored: the NAT checked the segment, and options only inform).
     */
    private boolean readOptions(TcpPacket segment, int sequence) {
        if (segment.headerLength() <= TcpPacket.MIN_HEADER_LENGTH || segment.parseOptions() != ParseResult.OK) {
            return false;
        }
        if (timestamps && segment.hasTimestamps() && !SequenceNumbers.before(segment.timestampValue(), tsRecent)
                && !SequenceNumbers.after(sequence, lastAckSent)) {
            tsRecent = segment.timestampValue();
        }
        return true;
    }

    /** Our timestamp clock (RFC 7323 section 5.4): milliseconds, offset by ISS so it tells nothing of the host. */
    private int tsClock() {
        return (int) (clock / 1_000_000L) + iss;
    }

    /** The VM acknowledged something new: maybe our FIN, maybe enough to read the host again. */
    private void onNewAck(long now) {
        if (sender.finAcknowledged()) {
            switch (state) {
                case FIN_WAIT_1 -> state = TcpState.FIN_WAIT_2;
                case CLOSING -> enterTimeWait(now);
                case LAST_ACK -> {
                    close(false);
                    return;
                }
                default -> {
                }
            }
        }
        chargeBuffered();
        if (!sender.hostEof() && !host.reading() && sender.buffered() < config.sendBufferBytes() / 2
                && !overBudget()) {
            host.reading(true);
        }
    }

    /** Data and FIN from the VM: in order to the host, after a gap held, else acknowledged again. */
    private void receive(TcpPacket segment, int sequence, boolean fin, long now) {
        if (!state.acceptsVmData()) {
            sendAck(); // after the VM's FIN: a retransmission of it or of data before it
            return;
        }
        // Held segments count against the relay's buffer budget: past its guaranteed part, a connection holds no
        // more while the budget is used up.
        boolean mayHoldMore = receiver.heldBytes() < HostBudget.GUARANTEED_BUFFER_BYTES || !memory.buffersFull();
        TcpReceiver.Outcome outcome = receiver.receive(segment, sequence, fin, mayHoldMore, clock);
        chargeBuffered();
        switch (outcome) {
            case ACK_NOW -> sendAck();
            case ACK_LATER -> scheduleAck();
            case FIN -> onVmFin(now);
        }
    }

    /** The VM's FIN, in order: shut the host socket's output once the data before it is written; ACK at once. */
    private void onVmFin(long now) {
        receiver.finReceived();
        host.shutdownOutput();
        switch (state) {
            case ESTABLISHED -> state = TcpState.CLOSE_WAIT;
            case FIN_WAIT_1 -> state = TcpState.CLOSING;
            case FIN_WAIT_2 -> enterTimeWait(now);
            default -> {
            }
        }
        sendAck();
    }

    // ---- Timer and the loop ----

    /** Runs the timer if its deadline has come: retransmit, probe, or end TIME_WAIT, depending on the state. */
    void onTimer(long now) {
        if (!timer.expire(now)) {
            return;
        }
        clock = now;
        switch (state) {
            case SYN_SENT -> {
                if (now - synGiveUpAt >= 0) {
                    counters.increment(Counter.NAT_TCP_ACTIVE_OPENS_UNANSWERED);
                    close(true);
                    return;
                }
                synRto *= 2;
                sendSyn();
                timer.arm(Math.min(now + synRto, synGiveUpAt));
            }
            case SYN_RECEIVED -> {
                if (!sender.synAckTimedOut()) {
                    giveUp();
                    return;
                }
                sendSynAck();
                timer.arm(now + sender.rto());
            }
            case ESTABLISHED, CLOSE_WAIT, FIN_WAIT_1, CLOSING, LAST_ACK -> {
                if (!sender.onTimeout(now)) {
                    giveUp();
                    return;
                }
                afterTransmit();
            }
            case TIME_WAIT -> close(false);
            case CONNECTING, FIN_WAIT_2, CLOSED -> {
            }
        }
    }

    /** The end of the loop's turn: the one ACK for every segment the turn brought, unless one went out already. */
    void onTurnEnd() {
        if (state != TcpState.CLOSED && ackPending) {
            sendAck();
        }
    }

    /** The rest of a window that {@link TcpSender#BURST_SEGMENTS} cut short. */
    void onResume(long now) {
        clock = now;
        if (state != TcpState.CLOSED) {
            transmit(now);
        }
    }

    @Override
    public void resumeLater() {
        host.resumeLater();
    }

    // ---- Sending toward the VM ----

    private void transmit(long now) {
        if (state.sends()) {
            sender.transmit(now);
            afterTransmit();
        }
    }

    /** Our FIN, once sent, moves the state on. */
    private void afterTransmit() {
        if (sender.finSent()) {
            switch (state) {
                case ESTABLISHED -> state = TcpState.FIN_WAIT_1;
                case CLOSE_WAIT -> state = TcpState.LAST_ACK;
                default -> {
                }
            }
        }
    }

    private void sendSyn() {
        int window = Math.min(config.receiveWindowBytes(), 0xFFFF);
        vm.syn(iss, window, lanMss, config.receiveWindowScale(), true, tsClock());
    }

    private void sendSynAck() {
        int window = receiver.offerSynWindow();
        vm.synAck(sender.iss(), receiver.rcvNxt(), window, lanMss, windowScaling ? rcvScale : -1, sackPermitted,
                timestamps, tsClock(), tsRecent);
        lastAckSent = receiver.rcvNxt();
        sender.synAckSent();
    }

    /** An ACK now (window update, duplicate ACK, challenge ACK). */
    private void sendAck() {
        sendSegment(sender.sndNxt(), 0, TcpPacket.FLAG_ACK);
    }

    /** An ACK at the end of this turn, one for all the segments the turn brought. */
    private void scheduleAck() {
        if (!ackPending) {
            ackPending = true;
            host.requestTurnEnd();
        }
    }

    @Override
    public void sendSegment(int sequence, int length, int flags) {
        int timestampBytes = timestamps ? TcpPacket.TIMESTAMPS_OPTION_LENGTH : 0;
        // SACK blocks only as far as the frame has room: a full data segment carries none (the next ACK does). The
        // SACK option is two NOPs, kind and length (4 bytes), then 8 per block.
        int sackRoom = Math.min(TcpPacket.MAX_OPTIONS_LENGTH, segmentRoom - length) - timestampBytes;
        int sackBlocks = Math.min(receiver.sackBlocks(), Math.max(0, (sackRoom - 4) / 8));
        int ack = receiver.rcvNxt();
        vm.segment(sequence, ack, receiver.advertisedWindow(clock), flags, timestamps, tsClock(), tsRecent,
                receiver.sackLeft(), receiver.sackRight(), sackBlocks, sender.sendBuffer(),
                sequence - sender.sndUna(), length);
        lastAckSent = ack;
        ackPending = false;
    }

    private void enterTimeWait(long now) {
        state = TcpState.TIME_WAIT;
        timer.arm(now + config.timeWait().toNanos());
    }

    // ---- Ending ----

    private void giveUp() {
        counters.increment(Counter.NAT_TCP_ABORTED);
        abort(true);
    }

    /** Ends the connection at once: RST to the VM (if asked and it knows of us) and to the host. */
    void abort(boolean resetVm) {
        if (state == TcpState.CLOSED) {
            return;
        }
        if (resetVm && state != TcpState.CONNECTING && state != TcpState.SYN_SENT) {
            vm.control(sender.sndMax(), receiver.rcvNxt(), TcpPacket.FLAG_RST | TcpPacket.FLAG_ACK);
        }
        close(true);
    }

    /** Frees the connection: buffers released, the host told to close (with a reset if {@code resetHost}). */
    void close(boolean resetHost) {
        if (state == TcpState.CLOSED) {
            return;
        }
        state = TcpState.CLOSED;
        timer.disarm();
        if (sender != null) {
            sender.release();
            receiver.release();
        }
        memory.charge(-charged);
        charged = 0;
        host.closed(resetHost);
    }
}

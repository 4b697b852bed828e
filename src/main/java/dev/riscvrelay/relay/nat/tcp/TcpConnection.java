package dev.riscvrelay.relay.nat.tcp;

import dev.riscvrelay.relay.metrics.Counter;
import dev.riscvrelay.relay.metrics.Counters;
import dev.riscvrelay.relay.nat.NatFlow;
import dev.riscvrelay.relay.nat.VmFrames;
import dev.riscvrelay.relay.wire.Ipv4Packet;
import dev.riscvrelay.relay.wire.TcpPacket;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOption;
import io.netty.channel.ChannelOutboundBuffer;
import io.netty.channel.ConnectTimeoutException;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.channel.socket.SocketChannel;
import java.net.NoRouteToHostException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * One TCP connection from a VM, terminated here: toward the VM it is a TCP endpoint playing the destination (RFC
 * 9293), toward the host a Netty socket on the NAT's event loop. One method per event, each a switch over
 * {@link TcpState}: {@link #onSegment} (from the VM), {@link #onHostConnected}, {@link #channelRead} /
 * {@link #channelReadComplete} (host data), host EOF, host errors, {@link #channelWritabilityChanged} (host
 * socket drained) and {@link #onTimer}.
 *
 * <p>Reliability toward the VM: retransmission timer per RFC 6298, fast retransmit and NewReno recovery (RFC 5681,
 * RFC 6582), congestion window starting at RFC 6928's ten segments. Toward the host the kernel does that. Segments
 * from the VM after a gap are held (bounded) and reported with SACK blocks (RFC 2018) when the VM allows it.
 *
 * <p>Flow control both ways: the host socket is read only while the data the VM has not acknowledged fits the send
 * buffer; the window offered to the VM is what the host socket's outbound buffer still takes, so a slow host stops
 * acknowledging the VM. Sequence numbers are compared modulo 2^32.
 */
final class TcpConnection extends NatFlow {

    private static final long NO_DEADLINE = Long.MIN_VALUE;
    /** RFC 9293 section 3.7.1: the MSS to assume when the SYN carries none. */
    private static final int DEFAULT_MSS = 536;
    /** Below this a VM's MSS is a trick, not a link: segments would cost more header than data. */
    private static final int MIN_MSS = 64;
    /**
     * Segments one transmit sends before it yields the loop (as Linux's TCP small queues do): a large window then
     * leaves in bursts the VM's port queue and QUIC take whole, instead of overflowing them in one turn.
     */
    static final int BURST_SEGMENTS = 128;
    /** RFC 6298 section 2.1: the first RTO before any measurement. */
    private static final long INITIAL_RTO_NANOS = TimeUnit.SECONDS.toNanos(1);
    /** RFC 6298's G: the clock granularity term; nanoTime is fine, but a millisecond keeps RTO sane. */
    private static final long GRANULARITY_NANOS = TimeUnit.MILLISECONDS.toNanos(1);
    private static final int DUPLICATE_ACK_THRESHOLD = 3;
    private static final int MAX_SACK_BLOCKS = 4;

    final int vmAddress;
    final int vmPort;
    final int hostAddress;
    final int hostPort;
    /** Whether this connection waits in the NAT's end-of-turn list. */
    boolean inTurn;

    private final TcpNat nat;
    private final TcpConfig config;
    private final Counters counters;
    private TcpState state = TcpState.CONNECTING;
    private SocketChannel channel;

    // Receive side (VM to host). RCV.NXT, the right edge offered so far (never moved left), the shift we told.
    private final int initialReceiveSequence;
    private int rcvNxt;
    private int rcvEdge;
    private final int rcvScale;
    private boolean flushPending;
    private boolean ackPending;
    private boolean hostOutputShut;

    // Segments after a gap, held until it fills: sorted by sequence number.
    private final int[] heldSequence;
    private final int[] heldLength;
    private final boolean[] heldFin;
    private final ByteBuf[] heldData;
    private int heldCount;
    private int lastHeldSequence;
    private final boolean sackPermitted;
    private final int[] sackLeft = new int[MAX_SACK_BLOCKS];
    private final int[] sackRight = new int[MAX_SACK_BLOCKS];

    // Send side (host to VM).
    private final int iss;
    private int sndUna;
    private int sndNxt;
    /** The highest sequence number sent so far (SND.NXT before a timeout rewound it). */
    private int sndMax;
    private int sndWnd;
    private int sndWl1;
    private final int sndScale;
    private final boolean windowScaling;
    private final int mss;
    private final SendBuffer sendBuffer = new SendBuffer();
    private boolean hostEof;
    private boolean finEverSent;
    private int finSequence;

    // Congestion control (RFC 5681, RFC 6582).
    private int cwnd;
    private int ssthresh = Integer.MAX_VALUE;
    private int duplicateAcks;
    private boolean fastRecovery;
    private int recover;

    // Retransmission timer (RFC 6298).
    private long srtt = -1;
    private long rttvar;
    private long rto = INITIAL_RTO_NANOS;
    private int retransmissions;
    private int unansweredProbes;
    private boolean timing;
    private int timedSequence;
    private long timedAtNanos;

    // One timer per connection, re-armed lazily: moving the deadline is a field write, not a new task.
    private long deadline = NO_DEADLINE;
    private ScheduledFuture<?> timerTask;
    private long timerTaskAt;
    private final Runnable timerRunnable = this::timerFired;
    private final Runnable resumeTransmit = this::resumeTransmit;
    private boolean resumeScheduled;

    // The SYN's IP header and first 8 bytes, quoted by an ICMP unreachable if the host cannot be reached.
    private final ByteBuf synQuote;

    TcpConnection(TcpNat nat, long keyHigh, long keyLow, long vmMac, Ipv4Packet ip, TcpPacket syn, int iss,
            long now) {
        super(keyHigh, keyLow, vmMac, nat.config().idleTimeout().toNanos(), now);
        this.nat = nat;
        this.config = nat.config();
        this.counters = nat.counters();
        this.vmAddress = ip.source();
        this.vmPort = syn.sourcePort();
        this.hostAddress = ip.destination();
        this.hostPort = syn.destinationPort();
        this.initialReceiveSequence = syn.sequenceNumber();
        this.rcvNxt = initialReceiveSequence + 1;
        this.rcvEdge = rcvNxt;
        int vmMss = syn.mss() > 0 ? syn.mss() : DEFAULT_MSS;
        this.mss = Math.max(MIN_MSS, Math.min(vmMss, nat.segmentSizeToward(vmMac)));
        // RFC 7323 section 2.2: scaling only when both sides offer it in their SYNs.
        boolean scaling = syn.windowScale() >= 0;
        this.windowScaling = scaling;
        this.sndScale = scaling ? syn.windowScale() : 0;
        this.rcvScale = scaling ? config.receiveWindowScale() : 0;
        this.sndWnd = syn.window(); // RFC 7323 section 2.2: a SYN's window is never scaled
        this.sndWl1 = syn.sequenceNumber();
        this.sackPermitted = syn.sackPermitted();
        this.iss = iss;
        this.sndUna = iss;
        this.sndNxt = iss;
        this.sndMax = iss;
        this.cwnd = Math.min(10 * mss, Math.max(2 * mss, 14600)); // RFC 6928
        int hold = config.outOfOrderSegments();
        this.heldSequence = new int[hold];
        this.heldLength = new int[hold];
        this.heldFin = new boolean[hold];
        this.heldData = new ByteBuf[hold];
        int quoteLength = VmFrames.quoteLength(ip);
        this.synQuote = Unpooled.buffer(quoteLength, quoteLength);
        synQuote.writeBytes(ip.buffer(), ip.offset(), quoteLength);
    }

    void attach(SocketChannel channel) {
        this.channel = channel;
    }

    TcpState state() {
        return state;
    }

    ChannelFutureListener connectListener() {
        return future -> {
            if (future.isSuccess()) {
                onHostConnected();
            } else {
                onHostConnectFailed(future.cause());
            }
        };
    }

    // ---- Events from the host socket ----

    /** The host accepted: now the VM gets its SYN-ACK (RFC 9293 section 3.5, as the passive side). */
    void onHostConnected() {
        if (state != TcpState.CONNECTING) {
            return;
        }
        state = TcpState.SYN_RECEIVED;
        counters.increment(Counter.NAT_TCP_CONNECTIONS_OPENED);
        long now = nat.clock().nanoTime();
        sendSynAck();
        startTiming(iss, now);
        armTimer(now + rto);
    }

    /** Refused: RST to the VM at once. Timed out or unroutable: ICMP host unreachable, as a router would say. */
    void onHostConnectFailed(Throwable cause) {
        if (state != TcpState.CONNECTING) {
            return;
        }
        if (cause instanceof ConnectTimeoutException || cause instanceof NoRouteToHostException) {
            counters.increment(Counter.NAT_TCP_CONNECT_FAILED);
            nat.emit(nat.frames().destinationUnreachable(vmMac, vmAddress, nat.network().gatewayAddress(),
                    CODE_HOST_UNREACHABLE, synQuote, 0, synQuote.readableBytes()));
        } else {
            counters.increment(Counter.NAT_TCP_CONNECT_REFUSED);
            nat.sendControl(vmMac, hostAddress, hostPort, vmAddress, vmPort, 0, rcvNxt,
                    TcpPacket.FLAG_RST | TcpPacket.FLAG_ACK);
        }
        close(false);
    }

    /** RFC 792 destination unreachable code 1. */
    private static final int CODE_HOST_UNREACHABLE = 1;

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        ByteBuf data = (ByteBuf) msg;
        if (state == TcpState.CLOSED || hostEof) {
            data.release();
            return;
        }
        lastActivityNanos = nat.clock().nanoTime();
        sendBuffer.add(data);
        if (sendBuffer.size() >= config.sendBufferBytes()) {
            // The VM has not taken what we hold: stop reading the host until it acknowledges some.
            channel.config().setAutoRead(false);
        }
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        if (state != TcpState.CLOSED) {
            transmit(nat.clock().nanoTime());
        }
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object event) {
        if (event instanceof ChannelInputShutdownEvent && state != TcpState.CLOSED && !hostEof) {
            // The host sent FIN: ours follows the data still buffered.
            hostEof = true;
            transmit(nat.clock().nanoTime());
        }
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        // The host socket drained below the low watermark: tell the VM its window opened.
        if (channel.isWritable() && state.acceptsVmData()) {
            sendAck();
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        onHostBroken();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        onHostBroken();
    }

    /** The host reset the connection or the socket failed: reset the VM's side too. */
    private void onHostBroken() {
        if (state == TcpState.CLOSED || state == TcpState.CONNECTING) {
            return; // CONNECTING: the connect listener reports it
        }
        if (state == TcpState.TIME_WAIT) {
            return; // both sides are done; the socket closing now changes nothing
        }
        counters.increment(Counter.NAT_TCP_RESETS_FROM_HOST);
        abort(true);
    }

    // ---- Events from the VM ----

    /** One valid segment of this connection from the VM (checksum and flags checked by the NAT). */
    void onSegment(TcpPacket segment, long now) {
        lastActivityNanos = now;
        unansweredProbes = 0;
        int flags = segment.flags();
        int sequence = segment.sequenceNumber();
        switch (state) {
            case CONNECTING -> {
                if ((flags & TcpPacket.FLAG_RST) != 0 && sequence == rcvNxt) {
                    counters.increment(Counter.NAT_TCP_RESETS_FROM_VM);
                    abort(false);
                }
                // A retransmitted SYN: the SYN-ACK waits for the host.
            }
            case SYN_RECEIVED -> onSegmentInSynReceived(segment, now, flags, sequence);
            case CLOSED -> {
            }
            default -> onSegmentSynchronized(segment, now, flags, sequence);
        }
    }

    private void onSegmentInSynReceived(TcpPacket segment, long now, int flags, int sequence) {
        if ((flags & TcpPacket.FLAG_RST) != 0) {
            if (sequence == rcvNxt) {
                counters.increment(Counter.NAT_TCP_RESETS_FROM_VM);
                abort(false);
            }
            return;
        }
        if ((flags & TcpPacket.FLAG_SYN) != 0) {
            if ((flags & TcpPacket.FLAG_ACK) == 0 && sequence == initialReceiveSequence) {
                sendSynAck(); // our SYN-ACK was lost
                timing = false;
            }
            return;
        }
        if ((flags & TcpPacket.FLAG_ACK) == 0) {
            return;
        }
        int ack = segment.acknowledgementNumber();
        if (ack != iss + 1) {
            // RFC 9293 section 3.10.7.4: an unacceptable ACK in SYN-RECEIVED is answered with a reset.
            nat.sendControl(vmMac, hostAddress, hostPort, vmAddress, vmPort, ack, 0, TcpPacket.FLAG_RST);
            return;
        }
        sndUna = ack;
        sndNxt = ack;
        sndMax = ack;
        sndWnd = segment.window() << sndScale;
        sndWl1 = sequence;
        if (timing) {
            sampleRtt(now - timedAtNanos);
            timing = false;
        }
        retransmissions = 0;
        disarmTimer();
        state = TcpState.ESTABLISHED;
        channel.config().setAutoRead(true);
        // The ACK may carry data (and even FIN) already.
        if (segment.dataLength() > 0 || (flags & TcpPacket.FLAG_FIN) != 0) {
            receive(segment, sequence, (flags & TcpPacket.FLAG_FIN) != 0);
        }
        transmit(now);
    }

    private void onSegmentSynchronized(TcpPacket segment, long now, int flags, int sequence) {
        if ((flags & TcpPacket.FLAG_RST) != 0) {
            // RFC 5961 section 3.2: only an exact match resets; an in-window guess earns a challenge ACK.
            if (sequence == rcvNxt) {
                counters.increment(Counter.NAT_TCP_RESETS_FROM_VM);
                abort(false);
            } else if (inReceiveWindow(sequence)) {
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
        int dataLength = segment.dataLength();
        int ack = segment.acknowledgementNumber();
        if (after(ack, sndMax)) {
            sendAck(); // acknowledges what we never sent (RFC 9293 section 3.10.7.4)
            return;
        }
        int window = segment.window() << sndScale;
        if (after(ack, sndUna)) {
            onNewAck(ack, now);
            if (state == TcpState.CLOSED) {
                return;
            }
        } else if (ack == sndUna && dataLength == 0 && !fin && window == sndWnd && sndMax != sndUna) {
            onDuplicateAck(now);
        }
        // RFC 9293 section 3.10.7.4: take the window from the newest segment (SND.WL1/WL2 check).
        if (ack == sndUna && !before(sequence, sndWl1)) {
            sndWnd = window;
            sndWl1 = sequence;
        }
        if (dataLength > 0 || fin) {
            if (state == TcpState.TIME_WAIT) {
                sendAck(); // a retransmitted FIN: our ACK was lost; linger on
                armTimer(now + config.timeWait().toNanos());
                return;
            }
            receive(segment, sequence, fin);
        }
        if (state != TcpState.CLOSED) {
            transmit(now);
        }
    }

    /** Data and FIN from the VM: in order to the host socket, after a gap held, else acknowledged again. */
    private void receive(TcpPacket segment, int sequence, boolean fin) {
        if (!state.acceptsVmData()) {
            sendAck(); // after the VM's FIN: a retransmission of it or of data before it
            return;
        }
        int dataLength = segment.dataLength();
        int offset = rcvNxt - sequence;
        if (offset < 0) {
            hold(segment, sequence, dataLength, fin);
            sendAck(); // duplicate ACK (with SACK blocks): the VM's fast retransmit starts on three
            return;
        }
        if (offset > dataLength || (offset == dataLength && !fin)) {
            sendAck(); // all old: our ACK was lost or the VM retransmitted early
            return;
        }
        int fresh = dataLength - offset;
        int accepted = deliver(segment.buffer(), segment.dataOffset() + offset, fresh);
        if (accepted < fresh) {
            counters.increment(Counter.DROP_NAT_TCP_OUT_OF_WINDOW);
            sendAck();
            return;
        }
        boolean finReached = fin || drainHeld();
        if (finReached) {
            onVmFin(); // acknowledges at once
            return;
        }
        scheduleAck();
    }

    /** Writes up to {@code length} bytes in order to the host, as far as the window allows; returns how many. */
    private int deliver(ByteBuf buf, int index, int length) {
        int accepted = Math.min(length, receiveWindow());
        if (accepted > 0) {
            channel.write(buf.retainedSlice(index, accepted), channel.voidPromise());
            rcvNxt += accepted;
            counters.add(Counter.NAT_TCP_BYTES_TO_HOST, accepted);
            if (!flushPending) {
                flushPending = true;
                nat.requestTurnEnd(this);
            }
        }
        return accepted;
    }

    /** Keeps a segment that arrived after a gap (bounded; a full hold queue drops it, the VM resends). */
    private void hold(TcpPacket segment, int sequence, int dataLength, boolean fin) {
        if (dataLength == 0 && !fin) {
            return;
        }
        if (sequence - rcvNxt + dataLength > receiveWindow()) {
            counters.increment(Counter.DROP_NAT_TCP_OUT_OF_WINDOW);
            return;
        }
        int at = heldCount;
        while (at > 0 && after(heldSequence[at - 1], sequence)) {
            at--;
        }
        if (at > 0 && heldSequence[at - 1] == sequence) {
            return; // already held
        }
        if (heldCount == heldData.length) {
            counters.increment(Counter.DROP_NAT_TCP_OUT_OF_ORDER);
            return;
        }
        System.arraycopy(heldSequence, at, heldSequence, at + 1, heldCount - at);
        System.arraycopy(heldLength, at, heldLength, at + 1, heldCount - at);
        System.arraycopy(heldFin, at, heldFin, at + 1, heldCount - at);
        System.arraycopy(heldData, at, heldData, at + 1, heldCount - at);
        heldSequence[at] = sequence;
        heldLength[at] = dataLength;
        heldFin[at] = fin;
        heldData[at] = segment.buffer().retainedSlice(segment.dataOffset(), dataLength);
        heldCount++;
        lastHeldSequence = sequence;
        counters.increment(Counter.NAT_TCP_OUT_OF_ORDER_HELD);
    }

    /** Delivers held segments the gap no longer separates; returns whether a held FIN was reached. */
    private boolean drainHeld() {
        boolean finReached = false;
        int taken = 0;
        while (taken < heldCount && !after(heldSequence[taken], rcvNxt)) {
            ByteBuf data = heldData[taken];
            int offset = rcvNxt - heldSequence[taken];
            int length = heldLength[taken];
            boolean fin = heldFin[taken];
            heldData[taken] = null;
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
                finReached = true;
                break;
            }
        }
        if (finReached) {
            // Nothing after the FIN counts; drop the rest.
            for (int i = taken; i < heldCount; i++) {
                heldData[i].release();
                heldData[i] = null;
            }
            heldCount = 0;
            return true;
        }
        if (taken > 0) {
            System.arraycopy(heldSequence, taken, heldSequence, 0, heldCount - taken);
            System.arraycopy(heldLength, taken, heldLength, 0, heldCount - taken);
            System.arraycopy(heldFin, taken, heldFin, 0, heldCount - taken);
            System.arraycopy(heldData, taken, heldData, 0, heldCount - taken);
            for (int i = heldCount - taken; i < heldCount; i++) {
                heldData[i] = null;
            }
            heldCount -= taken;
        }
        return false;
    }

    /** The VM's FIN, in order: shut the host socket's output once the data before it is written. */
    private void onVmFin() {
        rcvNxt++;
        shutHostOutput();
        switch (state) {
            case ESTABLISHED -> state = TcpState.CLOSE_WAIT;
            case FIN_WAIT_1 -> state = TcpState.CLOSING;
            case FIN_WAIT_2 -> enterTimeWait(nat.clock().nanoTime());
            default -> {
            }
        }
        sendAck();
    }

    private void shutHostOutput() {
        if (hostOutputShut) {
            return;
        }
        hostOutputShut = true;
        flushPending = false;
        // Writes complete in order: when this empty one has, everything before it is in the kernel.
        channel.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(future -> {
            if (channel.isActive()) {
                channel.shutdownOutput();
            }
        });
    }

    /** ACK of new data (or of our SYN/FIN): free what it covers, grow the window, move the timer. */
    private void onNewAck(int ack, long now) {
        int acknowledged = ack - sndUna;
        int dataAcknowledged = Math.min(acknowledged, sendBuffer.size());
        sendBuffer.discard(dataAcknowledged);
        sndUna = ack;
        if (after(ack, sndNxt)) {
            sndNxt = ack; // after a timeout rewound SND.NXT, the VM had more than we thought
        }
        retransmissions = 0;
        if (timing && after(ack, timedSequence)) {
            sampleRtt(now - timedAtNanos);
            timing = false;
        }
        if (fastRecovery) {
            if (!before(ack, recover)) {
                fastRecovery = false; // RFC 6582 section 3.2 step 3: full acknowledgement
                cwnd = ssthresh;
            } else {
                retransmitFirst(); // partial acknowledgement: the next hole
                cwnd = Math.max(cwnd - dataAcknowledged + mss, mss);
            }
        } else if (cwnd < ssthresh) {
            // Slow start with byte counting (RFC 3465) and no per-ACK cap: a VM behind a receive offload (GRO, or
            // relay connect's SegmentCoalescer) acknowledges many segments at once, and a one-MSS cap per ACK
            // would stretch slow start by that factor. ACK division gains nothing: the increase follows bytes.
            cwnd += dataAcknowledged;
        } else {
            // Congestion avoidance: one MSS per window of acknowledged bytes, however they are split into ACKs.
            cwnd += Math.max(1, (int) ((long) mss * dataAcknowledged / cwnd));
        }
        cwnd = Math.min(cwnd, 2 * config.sendBufferBytes());
        duplicateAcks = 0;
        // RFC 6298 section 5.2/5.3: off when all is acknowledged, else restart.
        if (sndUna == sndMax) {
            disarmTimer();
        } else {
            armTimer(now + rto);
        }
        if (finEverSent && after(ack, finSequence)) {
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
        if (!hostEof && !channel.config().isAutoRead() && sendBuffer.size() < config.sendBufferBytes() / 2) {
            channel.config().setAutoRead(true);
        }
    }

    private void onDuplicateAck(long now) {
        duplicateAcks++;
        if (fastRecovery) {
            cwnd += mss; // RFC 5681 section 3.2 step 4: each further duplicate means a segment left the network
        } else if (duplicateAcks == DUPLICATE_ACK_THRESHOLD && after(sndUna, recover - 1)) {
            int flight = sndMax - sndUna;
            ssthresh = Math.max(flight / 2, 2 * mss);
            recover = sndMax;
            fastRecovery = true;
            counters.increment(Counter.NAT_TCP_FAST_RETRANSMITS);
            retransmitFirst();
            cwnd = ssthresh + DUPLICATE_ACK_THRESHOLD * mss;
            armTimer(now + rto);
        }
    }

    // ---- Sending toward the VM ----

    /** Sends new data (and our FIN after the last byte) as far as the VM's window and the congestion window let. */
    private void transmit(long now) {
        if (!state.sends()) {
            return;
        }
        int budget = BURST_SEGMENTS;
        while (true) {
            boolean finInFlight = finEverSent && after(sndNxt, finSequence);
            if (finInFlight) {
                return;
            }
            int inFlight = sndNxt - sndUna;
            int unsent = sendBuffer.size() - inFlight;
            int usable = Math.min(sndWnd, cwnd) - inFlight;
            if (unsent > 0) {
                int length = Math.min(Math.min(unsent, mss), usable);
                // Sender silly-window avoidance (RFC 9293 section 3.8.6.2.1): no runt while data is in flight.
                if (length <= 0 || (length < mss && length < unsent && inFlight > 0)) {
                    break;
                }
                if (budget-- == 0) {
                    // The rest of the window after this turn's other work: the VM's port queue drains in between.
                    resumeLater();
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
        if (sndWnd == 0 && sndUna == sndMax && sendBuffer.size() > 0 && deadline == NO_DEADLINE) {
            armTimer(now + rto); // persist: probe the closed window
        }
    }

    private void resumeLater() {
        if (!resumeScheduled) {
            resumeScheduled = true;
            nat.loop().execute(resumeTransmit);
        }
    }

    private void resumeTransmit() {
        resumeScheduled = false;
        if (state != TcpState.CLOSED) {
            transmit(nat.clock().nanoTime());
        }
    }

    private void sendData(int sequence, int length, boolean fin, long now) {
        // PSH only on the segment that empties the buffer, as a host stack does: the VM (and a receive offload on
        // the way, see SegmentCoalescer) may hold the segments of one burst together until then.
        boolean lastBuffered = length > 0 && sequence + length - sndUna >= sendBuffer.size();
        int flags = TcpPacket.FLAG_ACK | (fin ? TcpPacket.FLAG_FIN : 0) | (lastBuffered ? TcpPacket.FLAG_PSH : 0);
        emitSegment(sequence, length, flags);
        int end = sequence + length;
        if (fin) {
            finEverSent = true;
            finSequence = end;
            end++;
            if (state == TcpState.ESTABLISHED) {
                state = TcpState.FIN_WAIT_1;
            } else if (state == TcpState.CLOSE_WAIT) {
                state = TcpState.LAST_ACK;
            }
        }
        if (after(end, sndMax)) {
            int dataEnd = sequence + length;
            if (after(dataEnd, sndMax)) {
                counters.add(Counter.NAT_TCP_BYTES_TO_VM, Math.min(length, dataEnd - sndMax));
            }
            if (!timing) {
                startTiming(sequence, now);
            }
            sndMax = end;
        } else {
            counters.increment(Counter.NAT_TCP_RETRANSMITS);
        }
        sndNxt = end;
        if (deadline == NO_DEADLINE) {
            armTimer(now + rto);
        }
    }

    /** Resends the first unacknowledged segment (fast retransmit, partial ACK). Karn: no timing across it. */
    private void retransmitFirst() {
        int outstandingData = Math.min(sndMax - sndUna, sendBuffer.size());
        int length = Math.min(mss, outstandingData);
        boolean fin = finEverSent && sndUna + length == finSequence;
        if (length == 0 && !fin) {
            return;
        }
        timing = false;
        counters.increment(Counter.NAT_TCP_RETRANSMITS);
        emitSegment(sndUna, length, TcpPacket.FLAG_ACK | (fin ? TcpPacket.FLAG_FIN : 0)
                | (length > 0 ? TcpPacket.FLAG_PSH : 0));
    }

    private void sendSynAck() {
        boolean scaling = windowScaling;
        int options = 4 + (scaling ? 4 : 0) + (sackPermitted ? 4 : 0);
        int headerLength = TcpPacket.MIN_HEADER_LENGTH + options;
        ByteBuf frame = nat.frames().newFrame(vmMac, hostAddress, vmAddress, Ipv4Packet.PROTOCOL_TCP, headerLength);
        int at = frame.readerIndex() + VmFrames.IP_PAYLOAD_OFFSET;
        // RFC 7323 section 2.2: the window in a SYN is not scaled.
        TcpPacket.writeHeader(frame, at, hostPort, vmPort, iss, rcvNxt, headerLength,
                TcpPacket.FLAG_SYN | TcpPacket.FLAG_ACK, Math.min(config.receiveWindowBytes(), 0xFFFF));
        int option = at + TcpPacket.MIN_HEADER_LENGTH;
        // The MSS clamp: every segment the VM sends must fit one frame of the LAN.
        option += TcpPacket.writeMssOption(frame, option, nat.lanMss());
        if (scaling) {
            option += TcpPacket.writeWindowScaleOption(frame, option, rcvScale);
        }
        if (sackPermitted) {
            TcpPacket.writeSackPermittedOption(frame, option);
        }
        TcpPacket.fillChecksum(frame, at, headerLength, hostAddress, vmAddress);
        rcvEdge = rcvNxt + Math.min(config.receiveWindowBytes(), 0xFFFF);
        sndNxt = iss + 1;
        sndMax = iss + 1;
        nat.emit(frame);
    }

    /** An ACK now (window update, duplicate ACK, challenge ACK). */
    private void sendAck() {
        emitSegment(sndNxt, 0, TcpPacket.FLAG_ACK);
    }

    /** An ACK at the end of this event-loop turn, one for all the segments the turn brought. */
    private void scheduleAck() {
        if (!ackPending) {
            ackPending = true;
            nat.requestTurnEnd(this);
        }
    }

    void onTurnEnd() {
        if (state == TcpState.CLOSED) {
            return;
        }
        if (flushPending) {
            flushPending = false;
            channel.flush();
        }
        if (ackPending) {
            sendAck();
        }
    }

    /** Builds and sends one segment to the VM: data copied from the send buffer, SACK blocks when holding. */
    private void emitSegment(int sequence, int length, int flags) {
        int sackBlocks = sackPermitted && heldCount > 0 ? sackBlocks() : 0;
        int headerLength = TcpPacket.MIN_HEADER_LENGTH + (sackBlocks > 0 ? 4 + 8 * sackBlocks : 0);
        int tcpLength = headerLength + length;
        ByteBuf frame = nat.frames().newFrame(vmMac, hostAddress, vmAddress, Ipv4Packet.PROTOCOL_TCP, tcpLength);
        int at = frame.readerIndex() + VmFrames.IP_PAYLOAD_OFFSET;
        TcpPacket.writeHeader(frame, at, hostPort, vmPort, sequence, rcvNxt, headerLength, flags,
                advertisedWindow());
        if (sackBlocks > 0) {
            TcpPacket.writeSackOption(frame, at + TcpPacket.MIN_HEADER_LENGTH, sackLeft, sackRight, sackBlocks);
        }
        if (length > 0) {
            sendBuffer.copy(sequence - sndUna, length, frame, at + headerLength);
        }
        TcpPacket.fillChecksum(frame, at, tcpLength, hostAddress, vmAddress);
        ackPending = false;
        nat.emit(frame);
    }

    /**
     * The held ranges as SACK blocks (RFC 2018 section 4): adjacent segments merged, the block with the most
     * recently held segment first; at most four (no timestamps share the option space).
     */
    private int sackBlocks() {
        int blocks = 0;
        int latest = 0;
        for (int i = 0; i < heldCount; i++) {
            int left = heldSequence[i];
            int right = left + heldLength[i];
            if (blocks > 0 && !after(left, sackRight[blocks - 1])) {
                if (after(right, sackRight[blocks - 1])) {
                    sackRight[blocks - 1] = right;
                }
            } else if (blocks < MAX_SACK_BLOCKS) {
                sackLeft[blocks] = left;
                sackRight[blocks] = right;
                blocks++;
            } else {
                break;
            }
            if (heldSequence[i] == lastHeldSequence) {
                latest = blocks - 1;
            }
        }
        if (latest > 0) {
            int left = sackLeft[latest];
            int right = sackRight[latest];
            System.arraycopy(sackLeft, 0, sackLeft, 1, latest);
            System.arraycopy(sackRight, 0, sackRight, 1, latest);
            sackLeft[0] = left;
            sackRight[0] = right;
        }
        return blocks;
    }

    /** The window field: what the host socket still takes, scaled, never moving the right edge left. */
    private int advertisedWindow() {
        return Math.min(receiveWindow() >>> rcvScale, 0xFFFF);
    }

    /** Bytes the VM may send beyond RCV.NXT (RFC 9293 section 3.8.6.2.2: the right edge never recedes). */
    private int receiveWindow() {
        int limit = Math.min(config.receiveWindowBytes(), 0xFFFF << rcvScale);
        int room = (int) Math.max(0, limit - pendingHostBytes());
        int edgeWindow = rcvEdge - rcvNxt;
        if (room > edgeWindow) {
            rcvEdge = rcvNxt + room;
            return room;
        }
        return Math.max(0, edgeWindow);
    }

    private long pendingHostBytes() {
        ChannelOutboundBuffer outbound = channel.unsafe().outboundBuffer();
        return outbound == null ? 0 : outbound.totalPendingWriteBytes();
    }

    private boolean inReceiveWindow(int sequence) {
        return !before(sequence, rcvNxt) && before(sequence, rcvNxt + Math.max(1, rcvEdge - rcvNxt));
    }

    // ---- Timer ----

    private void startTiming(int sequence, long now) {
        timing = true;
        timedSequence = sequence;
        timedAtNanos = now;
    }

    /** RFC 6298 section 2: SRTT, RTTVAR and RTO from one measurement. */
    private void sampleRtt(long sample) {
        if (srtt < 0) {
            srtt = sample;
            rttvar = sample / 2;
        } else {
            rttvar = (3 * rttvar + Math.abs(srtt - sample)) / 4;
            srtt = (7 * srtt + sample) / 8;
        }
        rto = clampRto(srtt + Math.max(GRANULARITY_NANOS, 4 * rttvar));
    }

    private long clampRto(long value) {
        return Math.min(Math.max(value, config.minRto().toNanos()), config.maxRto().toNanos());
    }

    private void armTimer(long at) {
        deadline = at;
        if (timerTask == null || timerTaskAt - at > 0) {
            if (timerTask != null) {
                timerTask.cancel(false);
            }
            timerTaskAt = at;
            long delay = Math.max(0, at - nat.clock().nanoTime());
            timerTask = nat.loop().schedule(timerRunnable, delay, TimeUnit.NANOSECONDS);
        }
    }

    private void disarmTimer() {
        deadline = NO_DEADLINE;
    }

    private void timerFired() {
        timerTask = null;
        if (state == TcpState.CLOSED || deadline == NO_DEADLINE) {
            return;
        }
        long now = nat.clock().nanoTime();
        if (now - deadline < 0) {
            armTimer(deadline); // moved later since this task was scheduled
            return;
        }
        deadline = NO_DEADLINE;
        onTimer(now);
    }

    /** The connection's one timer expired: retransmit, probe, or end TIME_WAIT, depending on the state. */
    void onTimer(long now) {
        switch (state) {
            case SYN_RECEIVED -> {
                if (++retransmissions > config.maxRetransmissions()) {
                    counters.increment(Counter.NAT_TCP_ABORTED);
                    abort(true);
                    return;
                }
                counters.increment(Counter.NAT_TCP_TIMEOUTS);
                timing = false;
                rto = clampRto(rto * 2);
                sendSynAck();
                armTimer(now + rto);
            }
            case TIME_WAIT -> close(false);
            case ESTABLISHED, CLOSE_WAIT, FIN_WAIT_1, CLOSING, LAST_ACK -> {
                if (sndMax != sndUna) {
                    onRetransmissionTimeout(now);
                } else if (sendBuffer.size() > 0 && sndWnd == 0) {
                    onPersistTimeout(now);
                }
            }
            default -> {
            }
        }
    }

    /** RFC 6298 section 5.4-5.6 and RFC 5681 section 3.1: back off, collapse the window, resend from SND.UNA. */
    private void onRetransmissionTimeout(long now) {
        if (++retransmissions > config.maxRetransmissions()) {
            counters.increment(Counter.NAT_TCP_ABORTED);
            abort(true);
            return;
        }
        counters.increment(Counter.NAT_TCP_TIMEOUTS);
        ssthresh = Math.max((sndMax - sndUna) / 2, 2 * mss);
        cwnd = mss;
        fastRecovery = false;
        duplicateAcks = 0;
        recover = sndMax;
        timing = false;
        rto = clampRto(rto * 2);
        sndNxt = sndUna; // go back: everything after SND.UNA is resent as the window reopens
        transmit(now);
        armTimer(now + rto);
    }

    /** RFC 9293 section 3.8.6.1: a closed window is probed; an old-sequence ACK makes the VM restate it. */
    private void onPersistTimeout(long now) {
        if (++unansweredProbes > config.maxRetransmissions()) {
            counters.increment(Counter.NAT_TCP_ABORTED);
            abort(true);
            return;
        }
        emitSegment(sndUna - 1, 0, TcpPacket.FLAG_ACK);
        rto = clampRto(rto * 2);
        armTimer(now + rto);
    }

    private void enterTimeWait(long now) {
        state = TcpState.TIME_WAIT;
        armTimer(now + config.timeWait().toNanos());
    }

    // ---- Ending ----

    /** Ends the connection at once: RST to the VM (if asked) and to the host, state freed. */
    void abort(boolean resetVm) {
        if (state == TcpState.CLOSED) {
            return;
        }
        if (resetVm && state != TcpState.CONNECTING) {
            nat.sendControl(vmMac, hostAddress, hostPort, vmAddress, vmPort, sndMax, rcvNxt,
                    TcpPacket.FLAG_RST | TcpPacket.FLAG_ACK);
        }
        close(true);
    }

    /** Frees the connection: buffers released, socket closed (reset if {@code abortHost}), out of the table. */
    void close(boolean abortHost) {
        if (state == TcpState.CLOSED) {
            return;
        }
        state = TcpState.CLOSED;
        disarmTimer();
        if (timerTask != null) {
            timerTask.cancel(false);
            timerTask = null;
        }
        sendBuffer.releaseAll();
        for (int i = 0; i < heldCount; i++) {
            heldData[i].release();
            heldData[i] = null;
        }
        heldCount = 0;
        synQuote.release();
        if (channel != null) {
            if (abortHost) {
                if (channel.isOpen()) {
                    channel.config().setOption(ChannelOption.SO_LINGER, 0); // close sends RST
                }
                channel.close();
            } else {
                // Whatever the VM sent is still on its way to the host: close after it.
                channel.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
            }
        }
        nat.removed(this);
    }

    // ---- Sequence arithmetic modulo 2^32 (RFC 9293 section 3.4) ----

    private static boolean before(int a, int b) {
        return a - b < 0;
    }

    private static boolean after(int a, int b) {
        return a - b > 0;
    }

    @Override
    public String toString() {
        return "tcp " + dev.riscvrelay.relay.wire.Ipv4Address.format(vmAddress) + ":" + vmPort + " -> "
                + dev.riscvrelay.relay.wire.Ipv4Address.format(hostAddress) + ":" + hostPort + " " + state;
    }
}

package dev.riscvrelay.relay.transport.webtransport;

import dev.riscvrelay.relay.access.Admission;
import dev.riscvrelay.relay.access.IngressGuard;
import dev.riscvrelay.relay.lan.NanoClock;
import dev.riscvrelay.relay.metrics.Counter;
import dev.riscvrelay.relay.metrics.Counters;
import dev.riscvrelay.relay.switching.FrameQueue;
import dev.riscvrelay.relay.switching.Member;
import dev.riscvrelay.relay.switching.Port;
import dev.riscvrelay.relay.transport.framed.FramedSession;
import io.netty.buffer.ByteBuf;
import io.netty.handler.codec.http3.DefaultHttp3DataFrame;
import io.netty.handler.codec.quic.QuicChannel;
import io.netty.handler.codec.quic.QuicStreamChannel;
import io.netty.util.concurrent.ScheduledFuture;
import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.ObjLongConsumer;

/**
 * One browser (or client) session on the LAN: a {@link Port} whose frames travel as HTTP/3 datagrams on its QUIC
 * connection, keyed by its CONNECT stream. Its QUIC side runs on its connection's worker; its LAN side (the framed
 * protocol's decoding, the guard, the switch) on the loop that owns its LAN (the LAN loop here). When that is its
 * worker's loop both are one; else frames cross between the two through its {@link ServerWorker.LanRoute route}'s
 * hand-off queues.
 *
 * <p>Outgoing frames wait in a bounded {@link FrameQueue} and are written once per event-loop turn, all in one
 * flush, so a burst forwarded by the switch becomes one batch of UDP writes rather than a syscall per frame. On a
 * path of 10 ms or more a {@link DatagramPacer} spreads them over the round trip, and the rest wait for a later flush.
 *
 * <p>Its first datagram decides how it speaks: a framed-protocol Register makes it a framed session for good
 * ({@link FramedSession}: a type byte in front of every payload, control messages, chunks); anything else leaves
 * it raw, one Ethernet frame per datagram.
 */
final class WebTransportSession implements Port, Member {

    private enum State { OPEN, CLOSED }

    private final WebTransportConnection connection;
    private final ServerWorker worker;
    /** The way to the loop that owns this session's LAN, and back. */
    private final ServerWorker.LanRoute route;
    private final QuicChannel quic;
    private final QuicStreamChannel connectStream;
    private final long quarterStreamId;
    private final int prefixLength;
    /** The largest datagram payload the path carries as validated now; it grows as PMTUD succeeds. */
    private volatile int maxDatagramLength;
    /** The id of the next frame a framed session sends in chunks (u16, wrapping). */
    private int nextChunkId;
    private final Consumer<ByteBuf> datagramWriter;
    /** Whether the first datagram has been seen (LAN loop); {@link #framed} is null for a raw session. */
    private boolean decided;
    /** Made on the LAN loop by the first datagram; read by the worker when it sends. */
    private volatile FramedSession framed;
    /** Whether the switch has this session as a port, and whether it left for good (LAN loop). */
    private boolean onLan;
    private boolean left;
    private final FrameQueue queue;
    private final Counters counters;
    private final String name;
    private final Admission.Admitted admission;
    private final Runnable flushTask = this::flushQueue;
    /** An Ethernet header: anything shorter cannot be forwarded. */
    private static final int MIN_FRAME = 14;
    private boolean flushScheduled;
    /** Whether the scheduled flush waits on a timer (the pacer's or quiche's backlog), not for the turn's end. */
    private boolean flushDelayed;
    private boolean answersFlushScheduled;
    private final Runnable answersFlushTask = this::flushAnswers;
    /** Whether the 200 went out (worker): frames the switch sent before it wait in the queue, never ahead of it. */
    private boolean answered;
    private boolean controlFlushScheduled;
    private final Runnable controlFlushTask = this::flushControl;
    private ScheduledFuture<?> keepAlive;
    private volatile State state = State.OPEN;
    private final long connectedSinceMillis = System.currentTimeMillis();
    /** Frames for this member larger than its path carries (its share of {@code reason="too_large"}). */
    private long droppedTooLarge;
    /** Sequence numbers and resends, when the client asked for link recovery at the CONNECT; else null. */
    private final LinkRecovery recovery;
    private final Consumer<ByteBuf> writeRecoveryDatagram;
    /** Spreads the queue's datagrams over the round trip on a long path; the rest wait in the queue. */
    private final DatagramPacer pacer = new DatagramPacer();
    /** What waits in quiche's datagram queue of this session's connection: beyond a bound, frames wait here. */
    private final DatagramBacklog backlog;

    WebTransportSession(WebTransportConnection connection, QuicStreamChannel connectStream, int maxDatagramLength,
            int queueCapacity, Counters counters, Admission.Admitted admission, ServerWorker.LanRoute route,
            int recoverySlotSize, boolean sendParity) {
        this.connection = connection;
        this.worker = connection.worker();
        this.route = route;
        this.quic = connectStream.parent();
        this.connectStream = connectStream;
        this.quarterStreamId = HttpDatagram.quarterStreamIdOf(connectStream.streamId());
        this.prefixLength = QuicVarint.encodedLength(quarterStreamId);
        this.maxDatagramLength = maxDatagramLength;
        this.queue = new FrameQueue(queueCapacity, counters);
        this.counters = counters;
        this.name = "wt#" + connectStream.streamId() + " " + quic.remoteSocketAddress();
        this.admission = admission;
        this.backlog = connection.backlog();
        this.datagramWriter = this::writeDatagram;
        if (recoverySlotSize > 0) {
            this.writeRecoveryDatagram = datagram -> {
                writeDatagram(datagram);
                scheduleControlFlush();
            };
            this.recovery = new LinkRecovery(recoverySlotSize, quarterStreamId, prefixLength, quic.alloc(), counters,
                    System::nanoTime, writeRecoveryDatagram, this::towardsLan,
                    (task, delayNanos) -> quic.eventLoop().schedule(task, delayNanos, TimeUnit.NANOSECONDS),
                    sendParity);
            // A recovered session speaks in sequenced frames from its first datagram: never the framed protocol.
            this.decided = true;
        } else {
            this.recovery = null;
            this.writeRecoveryDatagram = null;
        }
    }

    boolean hasLinkRecovery() {
        return recovery != null;
    }

    ServerWorker.LanRoute route() {
        return route;
    }

    /** What this session's frames pass before the switch. */
    IngressGuard guard() {
        return admission.guard();
    }

    Admission.Admitted admission() {
        return admission;
    }

    int queuedFrames() {
        return queue.size();
    }

    long quarterStreamId() {
        return quarterStreamId;
    }

    QuicStreamChannel connectStream() {
        return connectStream;
    }

    boolean isOpen() {
        return state == State.OPEN;
    }

    /** From the switch, on the LAN loop: to the queue here, or to this session's worker first. */
    @Override
    public void send(ByteBuf frame) {
        if (route.fromLan != null) {
            route.fromLan.offer(this, frame);
        } else {
            sendFromLan(frame);
        }
    }

    /** A frame from the LAN, on this session's worker: queued for the flush at the end of the loop turn. */
    void sendFromLan(ByteBuf frame) {
        if (state != State.OPEN) {
            frame.release();
            counters.increment(Counter.DROP_PORT_CLOSED);
            return;
        }
        if (frame.readableBytes() > maxFrameSize()) {
            frame.release();
            counters.increment(Counter.DROP_TOO_LARGE);
            droppedTooLarge++;
            return;
        }
        if (queue.offer(frame)) {
            scheduleFlush();
            if (flushDelayed && queue.sparseSize() > 0 && !answersFlushScheduled) {
                // The bulk waits on a timer; an answer (a ping reply, a DNS answer) need not wait with it.
                answersFlushScheduled = true;
                quic.eventLoop().execute(answersFlushTask);
            }
        }
    }

    /**
     * While a flush waits on a timer for the pacer or for quiche's backlog to drain, the sparse flows' frames go on
     * their own at the end of the turn they came in, past both bounds: at most {@link FrameQueue}'s sparse ring, one
     * frame's bytes per flow. Else a ping reply waited for the timer with the window of a download queued behind it.
     */
    private void flushAnswers() {
        answersFlushScheduled = false;
        int sparse = queue.sparseSize();
        if (state == State.OPEN && answered && sparse > 0) {
            counters.add(Counter.ANSWERS_PAST_BULK, sparse);
            writeQueued(sparse, -1, true);
            flushWritten();
        }
    }

    /** Runs after the rest of this loop turn (the read burst, other sessions' forwards): one flush per turn. */
    private void scheduleFlush() {
        if (!flushScheduled) {
            flushScheduled = true;
            quic.eventLoop().execute(flushTask);
        }
    }

    /**
     * At the end of a read on this session's connection, just before the QUIC codec sends what the read called for
     * (its acknowledgements): when every frame queued by then is a sparse flow's, such as the gateway's answer to a
     * datagram in that read (a ping reply, ARP, DNS), they leave in the same packet as the acknowledgement, not in
     * one of their own after it. With a bulk flow's window queued too, the turn's flush sends them (lone answers
     * first, on their own): sending them here as well cost downloads 11-25% in alternating runs.
     */
    void flushWithAcknowledgements() {
        int queued = queue.size();
        if (flushScheduled && answered && state == State.OPEN && queued > 0 && queued == queue.sparseSize()) {
            writeQueued(queued, -1, false);
            flushWritten(); // into quiche now; the codec sends it right after this read completes
        }
    }

    /** NACKs and resends leave after this loop turn, whatever the pacer holds back. */
    private void scheduleControlFlush() {
        if (!controlFlushScheduled) {
            controlFlushScheduled = true;
            quic.eventLoop().execute(controlFlushTask);
        }
    }

    private void flushControl() {
        controlFlushScheduled = false;
        flushWritten();
    }

    /** Hands the datagrams written so far to quiche (and, outside a read, to the socket); link recovery notes it. */
    private void flushWritten() {
        quic.flush();
        if (recovery != null) {
            recovery.flushed();
        }
    }

    /** A flush after {@code delayNanos} (0: after this loop turn); frames queued meanwhile wait for it. */
    private void scheduleFlush(long delayNanos) {
        if (delayNanos == 0) {
            scheduleFlush();
        } else if (!flushScheduled) {
            flushScheduled = true;
            flushDelayed = true;
            quic.eventLoop().schedule(flushTask, delayNanos, TimeUnit.NANOSECONDS);
        }
    }

    /** The connection's validated path now carries datagrams of up to {@code maxDatagramLength} bytes. */
    void maxDatagramLength(int maxDatagramLength) {
        this.maxDatagramLength = maxDatagramLength;
    }

    /** The largest frame one datagram carries: the datagram less the prefix (and the framed type byte). */
    private int frameSize() {
        return maxDatagramLength - prefixLength - (framed == null ? 0 : 1)
                - (recovery == null ? 0 : LinkRecovery.DATA_HEADER);
    }

    /**
     * A datagram from the client (its prefix skipped; this takes over its reference), on this session's worker: to
     * the LAN, at once when the worker is the LAN loop, else through the hand-off queue.
     */
    void fromClient(ByteBuf payload) {
        if (recovery != null) {
            // NACKs are answered and asked for here, on the QUIC side; frames go on to the LAN in order.
            recovery.receive(payload);
        } else {
            towardsLan(payload);
        }
    }

    private void towardsLan(ByteBuf payload) {
        if (route.toLan != null) {
            route.toLan.offer(this, payload);
        } else {
            enterLan(payload);
        }
    }

    /**
     * On the LAN loop: the Ethernet frame of a datagram (the first decides whether the session is framed) passes
     * the guard and enters the switch.
     */
    void enterLan(ByteBuf payload) {
        if (!onLan) {
            if (left) {
                payload.release();
                counters.increment(Counter.DROP_PORT_CLOSED);
                return;
            }
            // A drain of the hand-off queue scheduled before the join's task can bring the first datagram ahead of
            // it: the session joins now, and the join's task finds it done.
            joinLan();
        }
        if (!decided) {
            decided = true;
            if (FramedSession.opensFramedSession(payload)) {
                framed = new FramedSession(new FramedLink(), admission.addresses(), counters, NanoClock.SYSTEM,
                        quic.alloc(), HttpDatagram.HEADROOM);
                counters.increment(Counter.FRAMED_SESSIONS);
            }
        }
        ByteBuf frame = framed == null ? payload : framed.receive(payload);
        if (frame == null) {
            return;
        }
        if (frame.readableBytes() < MIN_FRAME) {
            frame.release();
            counters.increment(Counter.DROP_RUNT);
            return;
        }
        if (!admission.guard().admit(frame)) {
            frame.release();
            return;
        }
        admission.lan().forward(this, frame);
    }

    /** On the LAN loop: the switch takes this session as a port (once, and never after it left). */
    void joinLan() {
        if (onLan || left) {
            return;
        }
        onLan = true;
        admission.lan().attach(this);
    }

    /** On the LAN loop: the session leaves the switch and gives back what its admission holds. Once. */
    void leaveLan() {
        left = true;
        if (onLan) {
            onLan = false;
            admission.lan().detach(this);
        }
        if (framed != null) {
            framed.close();
        }
        admission.release().run();
    }

    /**
     * Control messages go out at once, beside the queued frames: they are rare and small. The framed protocol runs
     * on the LAN loop; a write from there reaches the connection's worker as a task of its own.
     */
    private final class FramedLink implements FramedSession.Link {
        @Override
        public void sendControl(byte[] json) {
            if (state == State.OPEN) {
                // Not counted in the backlog, which belongs to the worker: a few small messages go past its bound.
                quic.writeAndFlush(FramedDatagrams.control(json, quarterStreamId, prefixLength, quic.alloc()),
                        quic.voidPromise());
            }
        }

        @Override
        public void end(String reason) {
            worker.onWorker(() -> close(0, reason));
        }
    }

    /** A framed session also takes frames too large for one datagram: they go in chunks its client reassembles. */
    @Override
    public int maxFrameSize() {
        return framed == null ? frameSize() : Math.max(frameSize(), FramedSession.MAX_FRAME);
    }

    @Override
    public int largestUnsplitFrame() {
        return frameSize();
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public String transport() {
        return framed == null ? "webtransport" : "webtransport-framed";
    }

    @Override
    public InetSocketAddress clientAddress() {
        return quic.remoteSocketAddress() instanceof InetSocketAddress inet ? inet : null;
    }

    @Override
    public long connectedSinceMillis() {
        return connectedSinceMillis;
    }

    @Override
    public int worker() {
        return worker.index;
    }

    @Override
    public void forEachDrop(ObjLongConsumer<String> reasonAndCount) {
        guard().forEachDrop(reasonAndCount);
        reasonAndCount.accept("queue_full", queue.droppedFull());
        reasonAndCount.accept("too_large", droppedTooLarge);
    }

    /** Closes the session with error code 0 and the reason in its close capsule; the QUIC connection stays. */
    @Override
    public void disconnect(String reason) {
        worker.onWorker(() -> close(0, reason));
    }

    private void flushQueue() {
        flushScheduled = false;
        flushDelayed = false;
        if (state != State.OPEN) {
            queue.clear();
            return;
        }
        if (!answered) {
            return; // answer() flushes what waits
        }
        // A lone answer (a ping reply, a DNS answer) ahead of a window of bulk frames leaves in a send of its own:
        // else it waits until quiche has sealed and the kernel has taken the whole window.
        int aheadOfBulk = queue.loneFlowAheadOfBulk() ? queue.sparseSize() : -1;
        boolean wrote = writeQueued(Integer.MAX_VALUE, aheadOfBulk, false);
        if (wrote || recovery != null) {
            flushWritten(); // with link recovery, the resends and NACKs written since the last flush leave too
        }
        if (queue.size() > 0) {
            // The pacer holds the rest back, or quiche holds enough: a flush at every turn would only read its
            // counters again.
            scheduleFlush(backlog.flushDelayNanos(pacer.delayNanos()));
        }
    }

    /**
     * Writes up to {@code maxFrames} queued frames to QUIC, as far as the pacer and quiche's backlog let it (or past
     * both, {@code pastBounds}), with a flush before the frame at position {@code flushBefore} (none when negative);
     * whether anything was written.
     */
    private boolean writeQueued(int maxFrames, int flushBefore, boolean pastBounds) {
        ByteBuf frame;
        boolean wrote = false;
        FramedSession framed = this.framed;
        int maxFrameSize = frameSize();
        long now = System.nanoTime();
        pacer.refresh(quic, now);
        backlog.flushStarts();
        for (int written = 0; written < maxFrames && (pastBounds || pacer.maySend(now) && backlog.hasRoom())
                && (frame = queue.poll()) != null; written++) {
            if (written == flushBefore && wrote) {
                flushWritten();
            }
            pacer.sent(frame.readableBytes());
            ByteBuf datagram;
            if (recovery != null) {
                datagram = recovery.data(frame, pacer.longPath());
                pacer.sent(recovery.takeParityBytes());
                if (datagram == null) {
                    continue;
                }
            } else if (framed != null && frame.readableBytes() > maxFrameSize) {
                boolean sent = FramedDatagrams.chunks(frame, nextChunkId, quarterStreamId, prefixLength,
                        maxDatagramLength, quic.alloc(), datagramWriter);
                counters.increment(sent ? Counter.FRAMED_FRAMES_SPLIT : Counter.DROP_TOO_LARGE);
                nextChunkId = (nextChunkId + 1) & 0xFFFF;
                wrote = true;
                continue;
            } else if (framed != null) {
                datagram = FramedDatagrams.data(frame, quarterStreamId, prefixLength, quic.alloc(), counters);
            } else if (HttpDatagram.hasHeadroom(frame, prefixLength)) {
                datagram = HttpDatagram.prefixInPlace(frame, quarterStreamId, prefixLength);
            } else {
                counters.increment(Counter.DATAGRAMS_COPIED);
                datagram = HttpDatagram.copyWithPrefix(frame, quarterStreamId, prefixLength, quic.alloc());
            }
            writeDatagram(datagram);
            wrote = true;
            if (recovery != null && recovery.flushDue()) {
                flushWritten();
            }
        }
        return wrote;
    }

    /**
     * Every datagram goes to quiche through here. A failed write (too big for quiche) reaches
     * WebTransportConnection.exceptionCaught and is counted there; a void promise spares a future per datagram.
     */
    private void writeDatagram(ByteBuf datagram) {
        backlog.written(datagram.readableBytes());
        quic.write(datagram, quic.voidPromise());
    }

    /**
     * On the worker, once the switch has this session as a port: {@code respond} writes the 200, the keep-alive
     * starts, and the frames the switch sent meanwhile follow the answer. Nothing when the session ended first.
     */
    void answer(Runnable respond, long keepAliveNanos) {
        if (state != State.OPEN) {
            return;
        }
        respond.run();
        answered = true;
        startKeepAlive(keepAliveNanos);
        if (queue.size() > 0) {
            scheduleFlush();
        }
    }

    private void startKeepAlive(long intervalNanos) {
        // One capsule at once: the connection has something to send, and quiche sends its first path MTU probe
        // right behind it, so the path is validated before the first full-size frame needs it.
        sendKeepAlive();
        if (intervalNanos > 0) {
            keepAlive = quic.eventLoop().scheduleAtFixedRate(this::sendKeepAlive, intervalNanos, intervalNanos,
                    TimeUnit.NANOSECONDS);
        }
    }

    /** A GREASE capsule: stream data is ack-eliciting, so both peers' idle timers restart (RFC 9000 §10.1). */
    private void sendKeepAlive() {
        if (state != State.OPEN || !connectStream.isActive()) {
            return;
        }
        ByteBuf capsule = connectStream.alloc().buffer(4);
        Capsules.writeGrease(capsule);
        connectStream.writeAndFlush(new DefaultHttp3DataFrame(capsule), connectStream.voidPromise());
    }

    /** Server-initiated close: CLOSE_WEBTRANSPORT_SESSION capsule, then FIN (WebTransport over HTTP/3 §5). */
    void close(long errorCode, String reason) {
        if (state != State.OPEN) {
            return;
        }
        if (connectStream.isActive()) {
            ByteBuf capsule = connectStream.alloc().buffer(16 + reason.length() * 3);
            Capsules.writeClose(capsule, errorCode, reason);
            connectStream.writeAndFlush(new DefaultHttp3DataFrame(capsule))
                    .addListener(QuicStreamChannel.SHUTDOWN_OUTPUT);
        }
        detach();
    }

    /** Ends the session: leaves the switch and its connection, drops queued frames. Idempotent. */
    void detach() {
        if (state != State.OPEN) {
            return;
        }
        state = State.CLOSED;
        if (keepAlive != null) {
            keepAlive.cancel(false);
        }
        queue.clear();
        if (recovery != null) {
            recovery.release();
        }
        connection.sessionEnded(this);
    }
}

package dev.riscvrelay.relay.nat.tcp;

import static org.assertj.core.api.Assertions.assertThat;

import dev.riscvrelay.relay.metrics.Counters;
import dev.riscvrelay.relay.lan.NetworkConfig;
import dev.riscvrelay.relay.nat.HostBudget;
import dev.riscvrelay.relay.nat.NatConfig;
import dev.riscvrelay.relay.nat.VmFrames;
import dev.riscvrelay.relay.wire.Ipv4Address;
import dev.riscvrelay.relay.wire.TcpPacket;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.buffer.AbstractByteBufAllocator;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.UnpooledHeapByteBuf;
import java.io.ByteArrayOutputStream;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * One {@link TcpEndpoint} on virtual time, with this object as its host socket and as the VM's wire: segments
 * from the VM are built here and handed in, segments to the VM are read back ({@link #next}), bytes for the host
 * collect in {@link #hostReceived}. Time moves only by {@link #advance}, which runs the endpoint's timer at each
 * deadline it passes. After every event the loop's turn ends as on the real event loop: the write flush, the
 * batched ACK and a burst's resume. Every buffer handed to the endpoint is checked released by {@link #close}.
 */
final class EndpointHarness implements TcpHost, AutoCloseable {

    static final long VM_MAC = 0x0252_5400_000AL;
    static final int VM = Ipv4Address.parse("10.0.2.15");
    static final int HOST = Ipv4Address.parse("203.0.113.10");
    static final int VM_PORT = 40000;
    static final int HOST_PORT = 8080;
    /** The MSS the SYN-ACK tells the VM (a 1500-byte LAN). */
    static final int LAN_MSS = 1460;
    /** Our initial sequence number: close below 2^32, so sequence numbers wrap early. */
    static final int ISS = 0xFFFF_F000;
    /**
     * Heap buffers, even where direct ones are asked for, without Netty's (paranoid in tests) leak tracking: both
     * would cost more than the endpoint. {@link #close} checks every buffer handed in for release instead.
     */
    private static final ByteBufAllocator UNTRACKED = new AbstractByteBufAllocator(false) {
        @Override
        protected ByteBuf newHeapBuffer(int initialCapacity, int maxCapacity) {
            return new UnpooledHeapByteBuf(this, initialCapacity, maxCapacity);
        }

        @Override
        protected ByteBuf newDirectBuffer(int initialCapacity, int maxCapacity) {
            return newHeapBuffer(initialCapacity, maxCapacity);
        }

        @Override
        public boolean isDirectBufferPooled() {
            return false;
        }
    };
    /** Virtual time starts below zero: the endpoint must not care where the clock's origin is. */
    private static final long ORIGIN_NANOS = -TimeUnit.HOURS.toNanos(1);

    /** The VM's SYN. */
    record Syn(int isn, int window, int mss, int windowScale, boolean sack, int tsValue) {
        /** A SYN without timestamps. */
        Syn(int isn, int window, int mss, int windowScale, boolean sack) {
            this(isn, window, mss, windowScale, sack, NO_TIMESTAMPS);
        }

        static Syn typical() {
            return new Syn(0xFFFF_FF00, 65535, 1460, 7, true);
        }

        /** This SYN with RFC 7323's timestamps option, TSval {@code value}, as Linux sends it. */
        Syn withTimestamps(int value) {
            return new Syn(isn, window, mss, windowScale, sack, value);
        }

        boolean timestamps() {
            return tsValue != NO_TIMESTAMPS;
        }
    }

    /** {@link Syn#tsValue} of a SYN without the timestamps option. */
    static final int NO_TIMESTAMPS = Integer.MIN_VALUE;

    final Counters counters = new Counters();
    final TcpConfig config;
    final TcpEndpoint endpoint;
    final Syn syn;
    private final Deque<SeenSegment> toVm = new ArrayDeque<>();
    private final ByteArrayOutputStream hostReceived = new ByteArrayOutputStream();
    private final List<ByteBuf> handedIn = new ArrayList<>();
    private final TcpPacket view = new TcpPacket();
    private long now = ORIGIN_NANOS;
    private boolean turnEndRequested;
    private boolean resumeRequested;
    private int batchDepth;

    /** Bytes written to the host socket and not yet taken by the host. */
    private long hostPending;
    /** Whether the host takes what is written at each flush (false: a stalled host). */
    private boolean hostTakes = true;
    boolean reading;
    boolean outputShut;
    boolean closed;
    boolean closedWithReset;
    int resumes;

    EndpointHarness(TcpConfig config, Syn syn) {
        this(config, syn, Integer.MAX_VALUE);
    }

    /** @param segmentSizeLimit the largest payload one frame toward the VM carries */
    EndpointHarness(TcpConfig config, Syn syn, int segmentSizeLimit) {
        this(config, syn, segmentSizeLimit, HostBudget.unlimitedShare().accountOf(VM_MAC));
    }

    /** @param memory the budget account the connection's buffered host data is charged to */
    EndpointHarness(TcpConfig config, Syn syn, int segmentSizeLimit, HostBudget.Share.Account memory) {
        this.config = config;
        this.syn = syn;
        VmSegments segments = segments();
        ByteBuf synSegment = segment(TcpPacket.FLAG_SYN, syn.isn, 0, syn.window, synOptions(syn), new byte[0]);
        view.wrap(synSegment, 0, synSegment.readableBytes());
        assertThat(view.parseOptions()).isEqualTo(dev.riscvrelay.relay.wire.ParseResult.OK);
        endpoint = new TcpEndpoint(config, view, ISS, segmentSizeLimit, LAN_MSS, segments, this, counters, memory);
        synSegment.release();
    }

    /**
     * A connection the endpoint opens toward the VM, as a forward from outside does: our SYN is the first segment
     * sent ({@link #next}); the VM answers with {@link #vmSynAck}.
     */
    static EndpointHarness activeOpen(TcpConfig config) {
        return new EndpointHarness(config);
    }

    private EndpointHarness(TcpConfig config) {
        this.config = config;
        this.syn = null;
        endpoint = TcpEndpoint.activeOpen(config, ISS, Integer.MAX_VALUE, LAN_MSS, segments(), this, counters, now);
    }

    private VmSegments segments() {
        VmFrames frames = new VmFrames(UNTRACKED, NetworkConfig.defaults().withMtu(1500), NatConfig.defaults());
        return new VmSegments(frames, frame -> toVm.add(new SeenSegment(frame, VM_MAC, VM)), counters, VM_MAC,
                dev.riscvrelay.relay.nat.FlowAddresses.ipv4(VM, HOST), VM_PORT, HOST_PORT);
    }

    /** The VM's SYN-ACK with {@code options}' sequence number, window and options, acknowledging {@code ack}. */
    void vmSynAck(Syn options, int ack) {
        ByteBuf segment = segment(TcpPacket.FLAG_SYN | TcpPacket.FLAG_ACK, options.isn, ack, options.window,
                synOptions(options), new byte[0]);
        view.wrap(segment, 0, segment.readableBytes());
        assertThat(view.parseOptions()).isEqualTo(dev.riscvrelay.relay.wire.ParseResult.OK);
        endpoint.onSegment(view, now);
        segment.release();
        endTurn();
    }

    /** A connection through the handshake: SYN, host connected, SYN-ACK, the VM's ACK. */
    static EndpointHarness established(TcpConfig config, Syn syn) {
        return established(new EndpointHarness(config, syn));
    }

    static EndpointHarness established(TcpConfig config, Syn syn, HostBudget.Share.Account memory) {
        return established(new EndpointHarness(config, syn, Integer.MAX_VALUE, memory));
    }

    private static EndpointHarness established(EndpointHarness h) {
        Syn syn = h.syn;
        h.hostConnects();
        SeenSegment synAck = h.next();
        assertThat(synAck.flags).isEqualTo(TcpPacket.FLAG_SYN | TcpPacket.FLAG_ACK);
        int window = syn.window >>> Math.max(0, syn.windowScale);
        if (syn.timestamps()) {
            h.vmStamped(TcpPacket.FLAG_ACK, syn.isn + 1, ISS + 1, window, syn.tsValue, synAck.tsValue, new byte[0]);
        } else {
            h.vm(TcpPacket.FLAG_ACK, syn.isn + 1, ISS + 1, window);
        }
        assertThat(h.endpoint.state()).isEqualTo(TcpState.ESTABLISHED);
        return h;
    }

    static TcpConfig config() {
        return TcpConfig.defaults();
    }

    // ---- Time ----

    long nowMillis() {
        return TimeUnit.NANOSECONDS.toMillis(now - ORIGIN_NANOS);
    }

    /** Moves time on by {@code millis}, running the endpoint's timer at every deadline on the way. */
    void advance(long millis) {
        long target = now + TimeUnit.MILLISECONDS.toNanos(millis);
        while (true) {
            long deadline = endpoint.deadline();
            if (deadline == TcpTimer.NONE || deadline - target > 0) {
                break;
            }
            now = Math.max(now, deadline);
            endpoint.onTimer(now);
            endTurn();
        }
        now = target;
    }

    /** Milliseconds from now to the endpoint's next deadline; -1 when it needs no timer. */
    long millisToDeadline() {
        long deadline = endpoint.deadline();
        return deadline == TcpTimer.NONE ? -1 : TimeUnit.NANOSECONDS.toMillis(deadline - now);
    }

    // ---- The VM's side ----

    void vm(int flags, int seq, int ack, int window) {
        vm(flags, seq, ack, window, new byte[0]);
    }

    /** One segment from the VM (window field as sent, unscaled), then the loop's turn end. */
    void vm(int flags, int seq, int ack, int window, byte[] data) {
        fromVm(segment(flags, seq, ack, window, new byte[0], data));
    }

    /** One segment from the VM carrying the timestamps option (TSval, TSecr), then the loop's turn end. */
    void vmStamped(int flags, int seq, int ack, int window, int tsValue, int tsEcho, byte[] data) {
        byte[] options = new byte[TcpPacket.TIMESTAMPS_OPTION_LENGTH];
        TcpPacket.writeTimestampsOption(Unpooled.wrappedBuffer(options), 0, tsValue, tsEcho);
        fromVm(segment(flags, seq, ack, window, options, data));
    }

    /** A pure ACK from the VM with SACK blocks, {@code blocks} as left, right pairs (absolute sequence numbers). */
    void vmSack(int seq, int ack, int window, int... blocks) {
        byte[] options = new byte[4 + 4 * blocks.length];
        options[0] = TcpPacket.OPTION_NOP;
        options[1] = TcpPacket.OPTION_NOP;
        options[2] = TcpPacket.OPTION_SACK;
        options[3] = (byte) (2 + 4 * blocks.length);
        ByteBuf edges = Unpooled.wrappedBuffer(options);
        for (int i = 0; i < blocks.length; i++) {
            edges.setInt(4 + 4 * i, blocks[i]);
        }
        fromVm(segment(TcpPacket.FLAG_ACK, seq, ack, window, options, new byte[0]));
    }

    /** Hands {@code segment} to the endpoint as the VM's, then ends the loop's turn. */
    private void fromVm(ByteBuf segment) {
        view.wrap(segment, 0, segment.readableBytes());
        endpoint.onSegment(view, now);
        segment.release();
        endTurn();
    }

    /** Runs {@code events} in one loop turn: one turn end after all of them. */
    void inOneTurn(Runnable events) {
        batchDepth++;
        try {
            events.run();
        } finally {
            batchDepth--;
        }
        endTurn();
    }

    /** The next segment sent to the VM; fails if there is none. */
    SeenSegment next() {
        assertThat(toVm).as("a segment to the VM").isNotEmpty();
        return toVm.poll();
    }

    /** Every segment sent to the VM since the last look. */
    List<SeenSegment> sent() {
        List<SeenSegment> all = new ArrayList<>(toVm);
        toVm.clear();
        return all;
    }

    void assertNothingSent() {
        assertThat(toVm).as("segments to the VM").isEmpty();
    }

    // ---- The host's side ----

    void hostConnects() {
        endpoint.onHostConnected(now);
        endTurn();
    }

    /** The host sends {@code data}: one read, then the read-complete; only while the socket is read. */
    void hostSends(byte[] data) {
        assertThat(reading).as("the endpoint reads the host socket").isTrue();
        ByteBuf chunk = UNTRACKED.heapBuffer(data.length).writeBytes(data);
        handedIn.add(chunk);
        endpoint.onHostData(chunk);
        endpoint.onHostReadComplete(now);
        endTurn();
    }

    void hostEof() {
        endpoint.onHostEof(now);
        endTurn();
    }

    void hostBreaks() {
        endpoint.onHostBroken();
        endTurn();
    }

    /** From now on what is written stays in the host socket's buffer (a host that does not read). */
    void stallHost() {
        hostTakes = false;
    }

    /**
     * The host takes everything written. As Netty's write watermarks do, the socket reports itself writable again
     * only if it had become unwritable: more than half the receive window pending.
     */
    void drainHost() {
        boolean wasUnwritable = hostPending > config.receiveWindowBytes() / 2;
        hostTakes = true;
        hostPending = 0;
        if (wasUnwritable) {
            endpoint.onHostWritable();
            endTurn();
        }
    }

    long hostPending() {
        return hostPending;
    }

    int hostReceivedLength() {
        return hostReceived.size();
    }

    byte[] hostReceived() {
        return hostReceived.toByteArray();
    }

    // ---- TcpHost ----

    @Override
    public void write(ByteBuf data) {
        hostPending += data.readableBytes();
        byte[] bytes = new byte[data.readableBytes()];
        data.readBytes(bytes);
        hostReceived.writeBytes(bytes);
        data.release();
        turnEndRequested = true;
    }

    @Override
    public void shutdownOutput() {
        assertThat(outputShut).as("output shut once").isFalse();
        outputShut = true;
    }

    @Override
    public long pendingWriteBytes() {
        return hostPending;
    }

    @Override
    public boolean reading() {
        return reading;
    }

    @Override
    public void reading(boolean on) {
        reading = on;
    }

    @Override
    public void requestTurnEnd() {
        turnEndRequested = true;
    }

    @Override
    public void resumeLater() {
        resumeRequested = true;
    }

    @Override
    public void closed(boolean reset) {
        assertThat(closed).as("closed once").isFalse();
        closed = true;
        closedWithReset = reset;
    }

    // ---- The loop ----

    private void endTurn() {
        if (batchDepth > 0) {
            return;
        }
        while (turnEndRequested || resumeRequested) {
            if (turnEndRequested) {
                turnEndRequested = false;
                if (hostTakes) {
                    hostPending = 0; // the flush: the host took it
                }
                endpoint.onTurnEnd();
            }
            if (resumeRequested) {
                resumeRequested = false;
                resumes++;
                endpoint.onResume(now);
            }
        }
    }

    /** Frees the endpoint if still open and checks that every buffer it was given is released. */
    @Override
    public void close() {
        endpoint.abort(false);
        toVm.clear();
        long unreleased = handedIn.stream().filter(buf -> buf.refCnt() != 0).count();
        assertThat(unreleased).as("buffers handed to the endpoint and not released").isZero();
    }

    // ---- Building segments ----

    private ByteBuf segment(int flags, int seq, int ack, int window, byte[] options, byte[] data) {
        int headerLength = TcpPacket.MIN_HEADER_LENGTH + options.length;
        int length = headerLength + data.length;
        ByteBuf segment = UNTRACKED.heapBuffer(length);
        segment.writerIndex(length);
        TcpPacket.writeHeader(segment, 0, VM_PORT, HOST_PORT, seq, ack, headerLength, flags, window);
        segment.setBytes(TcpPacket.MIN_HEADER_LENGTH, options);
        segment.setBytes(headerLength, data);
        TcpPacket.fillChecksum(segment, 0, length, VM, HOST);
        handedIn.add(segment);
        return segment;
    }

    private static byte[] synOptions(Syn syn) {
        ByteBuf options = UNTRACKED.heapBuffer(24, 24);
        options.writerIndex(24);
        int at = 0;
        if (syn.mss > 0) {
            at += TcpPacket.writeMssOption(options, at, syn.mss);
        }
        if (syn.windowScale >= 0) {
            at += TcpPacket.writeWindowScaleOption(options, at, syn.windowScale);
        }
        if (syn.sack) {
            at += TcpPacket.writeSackPermittedOption(options, at);
        }
        if (syn.timestamps()) {
            at += TcpPacket.writeTimestampsOption(options, at, syn.tsValue, 0);
        }
        byte[] bytes = new byte[at];
        options.getBytes(0, bytes);
        options.release();
        return bytes;
    }
}

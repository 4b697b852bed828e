package dev.riscvrelay.relay.transport.wisp;

import dev.riscvrelay.relay.metrics.Counter;
import dev.riscvrelay.relay.metrics.Counters;
import dev.riscvrelay.relay.nat.EgressPolicy;
import dev.riscvrelay.relay.nat.HostBudget;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.IoEventLoop;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketServerProtocolHandler;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.collection.IntObjectHashMap;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * One WISP connection: a WebSocket whose binary messages are WISP packets, multiplexing the client's streams. After
 * the upgrade it greets the client (v1: CONTINUE with the credit; v2, when the client asked for a subprotocol: INFO
 * first, then CONTINUE once the client's INFO, with its password when the network needs one, is accepted), then
 * opens a {@link WispStream} per CONNECT, passes DATA and CLOSE to its stream, and writes what streams read back
 * as DATA. Bad packets (short, unknown type, DATA for no stream, CONNECT for an open id) are dropped and counted; the
 * connection goes on. On the event loop.
 */
final class WispConnection extends ChannelInboundHandlerAdapter {

    private enum State { UPGRADING, AWAITING_INFO, OPEN, CLOSED }

    /** How long a v2 client may take to answer the relay's INFO with its own. */
    static final long INFO_TIMEOUT_SECONDS = 10;

    private final WispService service;
    private final String network;
    private final InetAddress peer;
    private final boolean v2;
    private final IntObjectHashMap<WispStream> streams = new IntObjectHashMap<>();
    private final Runnable flushTask = this::flush;
    /** Null while a v2 client's password is awaited. */
    private WispGate.Admitted admission;
    private State state = State.UPGRADING;
    private Channel channel;
    private boolean flushScheduled;
    private boolean openConfirmation;
    private long heldBytes;
    private boolean ended;

    WispConnection(WispService service, String network, InetAddress peer, boolean v2, WispGate.Admitted admission) {
        this.service = service;
        this.network = network;
        this.peer = peer;
        this.v2 = v2;
        this.admission = admission;
    }

    // ---- What streams use ----

    WispConfig config() {
        return service.config;
    }

    Counters counters() {
        return service.counters;
    }

    WispResolver resolver() {
        return service.resolver;
    }

    IoEventLoop loop() {
        return (IoEventLoop) channel.eventLoop();
    }

    EgressPolicy policy() {
        return admission.policy();
    }

    Supplier<HostBudget.Share.Account> accounts() {
        return admission.accounts();
    }

    boolean openConfirmation() {
        return openConfirmation;
    }

    boolean clientWritable() {
        return channel.isWritable();
    }

    void sendData(int streamId, ByteBuf data) {
        send(WispPacket.data(channel.alloc(), streamId, data, data.readableBytes()));
    }

    void sendContinue(int streamId, int bufferRemaining) {
        send(WispPacket.continuePacket(channel.alloc(), streamId, bufferRemaining));
    }

    /** A stream holds {@code delta} more (or, negative, fewer) bytes of client data for its destination. */
    void held(long delta) {
        heldBytes += delta;
    }

    /** Whether {@code more} bytes would take the connection past what it may hold for its destinations. */
    boolean overLimit(long more) {
        return heldBytes + more > service.config.connectionBufferBytes();
    }

    /** The stream ended; tells the client with CLOSE {@code reason} unless it is -1. */
    void removed(WispStream stream, int reason) {
        if (streams.remove(stream.id) != null) {
            service.streams.decrementAndGet();
        }
        if (reason >= 0 && state == State.OPEN) {
            send(WispPacket.close(channel.alloc(), stream.id, reason));
        }
    }

    // ---- The WebSocket ----

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object event) throws Exception {
        if (event instanceof WebSocketServerProtocolHandler.HandshakeComplete && state == State.UPGRADING) {
            channel = ctx.channel();
            service.counters.increment(Counter.WISP_CONNECTIONS_OPENED);
            service.connections.incrementAndGet();
            if (v2) {
                state = State.AWAITING_INFO;
                send(WispPacket.info(channel.alloc(), WispInfo.VERSION_MAJOR, WispInfo.VERSION_MINOR,
                        WispInfo.serverExtensions(admission == null)));
                // A client that never answers must not hold its connection (and, without a token, no session).
                ctx.executor().schedule(() -> {
                    if (state == State.AWAITING_INFO) {
                        refuse(WispClose.UNSPECIFIED);
                    }
                }, INFO_TIMEOUT_SECONDS, TimeUnit.SECONDS);
            } else {
                openStreams();
            }
        }
        super.userEventTriggered(ctx, event);
    }

    private void openStreams() {
        state = State.OPEN;
        sendContinue(0, service.config.bufferPackets());
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof WebSocketFrame frame)) {
            ctx.fireChannelRead(msg);
            return;
        }
        try {
            if (frame instanceof BinaryWebSocketFrame && frame.content().readableBytes() >= WispPacket.HEADER_LENGTH) {
                onPacket(frame.content());
            } else {
                service.counters.increment(Counter.DROP_WISP_MALFORMED);
            }
        } finally {
            ReferenceCountUtil.release(frame);
        }
    }

    private void onPacket(ByteBuf packet) {
        int type = WispPacket.type(packet);
        int id = WispPacket.streamId(packet);
        switch (state) {
            case AWAITING_INFO -> {
                if (type == WispPacket.INFO && id == 0) {
                    onClientInfo(packet);
                } else if (type == WispPacket.CLOSE && id == 0) {
                    channel.close(); // the client turned our extensions down
                } else {
                    service.counters.increment(Counter.DROP_WISP_MALFORMED);
                }
            }
            case OPEN -> {
                switch (type) {
                    case WispPacket.CONNECT -> onConnect(id, packet);
                    case WispPacket.DATA -> {
                        WispStream stream = streams.get(id);
                        if (stream == null) {
                            service.counters.increment(Counter.DROP_WISP_UNKNOWN_STREAM);
                        } else {
                            stream.fromClient(packet, WispPacket.payloadOffset(packet),
                                    WispPacket.payloadLength(packet));
                        }
                    }
                    case WispPacket.CLOSE -> {
                        WispStream stream = streams.get(id);
                        if (stream != null) {
                            stream.closedByClient();
                        } else if (id != 0) {
                            service.counters.increment(Counter.DROP_WISP_UNKNOWN_STREAM);
                        }
                    }
                    default -> service.counters.increment(Counter.DROP_WISP_MALFORMED);
                }
            }
            default -> service.counters.increment(Counter.DROP_WISP_MALFORMED);
        }
    }

    private void onClientInfo(ByteBuf packet) {
        WispInfo info = WispInfo.parse(packet);
        if (info == null) {
            service.counters.increment(Counter.DROP_WISP_MALFORMED);
            refuse(WispClose.INCOMPATIBLE_EXTENSIONS);
            return;
        }
        if (admission == null) {
            if (info.password() == null) {
                service.counters.increment(Counter.SESSIONS_REFUSED_NO_TOKEN);
                refuse(WispClose.AUTH_REQUIRED);
                return;
            }
            WispGate.Decision decision = service.gate.admitWisp(network, info.password(), peer);
            if (decision instanceof WispGate.Refused refused) {
                service.counters.increment(refused.reason());
                refuse(WispClose.AUTH_BAD_PASSWORD);
                return;
            }
            admission = (WispGate.Admitted) decision;
        }
        openConfirmation = info.openConfirmation();
        openStreams();
    }

    /** v2 handshake refused: CLOSE on stream 0, then the WebSocket closes. */
    private void refuse(int reason) {
        service.counters.increment(Counter.WISP_CONNECTIONS_REFUSED);
        state = State.CLOSED;
        channel.writeAndFlush(new BinaryWebSocketFrame(WispPacket.close(channel.alloc(), 0, reason)))
                .addListener(ChannelFutureListener.CLOSE);
    }

    private void onConnect(int id, ByteBuf packet) {
        if (id == 0 || streams.containsKey(id)) {
            service.counters.increment(Counter.DROP_WISP_MALFORMED);
            return;
        }
        WispConnect target = WispConnect.parse(packet);
        if (target == null) {
            service.counters.increment(Counter.WISP_STREAMS_INVALID);
            send(WispPacket.close(channel.alloc(), id, WispClose.INVALID));
            return;
        }
        if (streams.size() >= service.config.streamsPerConnection()) {
            service.counters.increment(Counter.WISP_STREAMS_OVER_LIMIT);
            send(WispPacket.close(channel.alloc(), id, WispClose.THROTTLED));
            return;
        }
        WispStream stream = new WispStream(this, id, target);
        streams.put(id, stream);
        service.streams.incrementAndGet();
        service.counters.increment(Counter.WISP_STREAMS_REQUESTED);
        if (!stream.start()) {
            stream.end(WispClose.THROTTLED, Counter.WISP_STREAMS_OVER_LIMIT);
        }
    }

    private void send(ByteBuf packet) {
        if (state == State.CLOSED || !channel.isActive()) {
            packet.release();
            return;
        }
        channel.write(new BinaryWebSocketFrame(packet), channel.voidPromise());
        if (!flushScheduled) {
            flushScheduled = true;
            // One flush per loop turn for whatever the streams read in it.
            channel.eventLoop().execute(flushTask);
        }
    }

    private void flush() {
        flushScheduled = false;
        if (channel.isActive()) {
            channel.flush();
        }
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        boolean writable = ctx.channel().isWritable();
        streams.values().forEach(stream -> stream.clientWritable(writable));
        ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        closeAll();
        ctx.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        // A corrupt frame (too big, bad opcode) has already been answered with a close frame by the decoder.
        service.counters.increment(Counter.WISP_PROTOCOL_CLOSES);
        closeAll();
        ctx.close();
    }

    private void closeAll() {
        if (ended) {
            return;
        }
        ended = true;
        state = State.CLOSED;
        for (WispStream stream : new ArrayList<>(streams.values())) {
            stream.end(-1, null);
        }
        if (channel != null) {
            service.connections.decrementAndGet();
            service.counters.increment(Counter.WISP_CONNECTIONS_CLOSED);
        }
        if (admission != null) {
            admission.release().run();
        }
    }
}

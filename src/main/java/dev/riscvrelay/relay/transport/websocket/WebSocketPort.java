package dev.riscvrelay.relay.transport.websocket;

import dev.riscvrelay.relay.access.Admission;
import dev.riscvrelay.relay.metrics.Counter;
import dev.riscvrelay.relay.metrics.Counters;
import dev.riscvrelay.relay.switching.FrameQueue;
import dev.riscvrelay.relay.switching.Member;
import dev.riscvrelay.relay.switching.Port;
import dev.riscvrelay.relay.wire.EthernetFrame;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import io.netty.handler.codec.http.websocketx.ContinuationWebSocketFrame;
import io.netty.handler.codec.http.websocketx.CorruptedWebSocketFrameException;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketServerProtocolHandler;
import io.netty.util.ReferenceCountUtil;
import java.net.InetSocketAddress;
import java.util.function.ObjLongConsumer;

/**
 * One WebSocket connection on the LAN: each binary message is one Ethernet frame, both ways (the protocol of
 * v86's {@code network_relay_url} and websockproxy). Joins the switch when the upgrade completes and leaves it when
 * the connection closes. Runs on the switch's event loop, so it calls the switch directly.
 *
 * <p>Outgoing frames wait in a bounded {@link FrameQueue} and are written once per loop turn while the TCP
 * channel is writable; a slow reader fills its queue and then loses frames (counted), never the relay's memory.
 */
final class WebSocketPort extends ChannelInboundHandlerAdapter implements Port, Member {

    private enum State { UPGRADING, OPEN, CLOSED }

    private final WebSocketServer server;
    private final Counters counters;
    /** Set by {@link WebSocketAdmission} before the handshake: the LAN, the guard, and the release. */
    private Admission.Admitted admission;
    private final FrameQueue queue;
    private final int maxFrameSize;
    private final Runnable flushTask = this::flushQueue;
    private Channel channel;
    private String name = "ws";
    private boolean flushScheduled;
    /** Set while the rest of a fragmented message arrives; its fragments are all dropped. */
    private boolean discardingFragments;
    private State state = State.UPGRADING;
    private long connectedSinceMillis;
    /** Frames for this member larger than it takes (its share of {@code reason="too_large"}). */
    private long droppedTooLarge;

    WebSocketPort(WebSocketServer server, Counters counters, int queueFrames, int maxFrameSize) {
        this.server = server;
        this.counters = counters;
        this.queue = new FrameQueue(queueFrames, counters);
        this.maxFrameSize = maxFrameSize;
    }

    boolean admitted() {
        return admission != null;
    }

    void admit(Admission.Admitted granted) {
        admission = granted;
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object event) throws Exception {
        if (event instanceof WebSocketServerProtocolHandler.HandshakeComplete && state == State.UPGRADING
                && admission != null) {
            channel = ctx.channel();
            name = "ws " + channel.remoteAddress();
            state = State.OPEN;
            connectedSinceMillis = System.currentTimeMillis();
            counters.increment(Counter.WEBSOCKET_OPENED);
            admission.lan().attach(this);
            server.memberJoined();
        }
        super.userEventTriggered(ctx, event);
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof WebSocketFrame message)) {
            ctx.fireChannelRead(msg);
            return;
        }
        try {
            if (state != State.OPEN) {
                counters.increment(Counter.DROP_PORT_CLOSED);
            } else if (message instanceof BinaryWebSocketFrame binary) {
                if (!binary.isFinalFragment()) {
                    discardingFragments = true;
                    counters.increment(Counter.DROP_WEBSOCKET_FRAGMENTED);
                } else {
                    forward(binary.content());
                }
            } else if (message instanceof ContinuationWebSocketFrame continuation) {
                counters.increment(Counter.DROP_WEBSOCKET_FRAGMENTED);
                if (continuation.isFinalFragment()) {
                    discardingFragments = false;
                }
            } else if (message instanceof TextWebSocketFrame text) {
                counters.increment(Counter.DROP_WEBSOCKET_TEXT);
                discardingFragments = !text.isFinalFragment();
            }
        } finally {
            ReferenceCountUtil.release(message);
        }
    }

    private void forward(ByteBuf content) {
        if (content.readableBytes() < EthernetFrame.HEADER_LENGTH) {
            counters.increment(Counter.DROP_RUNT);
            return;
        }
        if (!admission.guard().admit(content)) {
            return; // counted by the guard; the message is released by the caller
        }
        // The decoder refuses messages over maxFrameSize with 1009 before they get here.
        admission.lan().forward(this, content.retain());
    }

    @Override
    public void send(ByteBuf frame) {
        if (state != State.OPEN) {
            frame.release();
            counters.increment(Counter.DROP_PORT_CLOSED);
            return;
        }
        if (frame.readableBytes() > maxFrameSize) {
            frame.release();
            counters.increment(Counter.DROP_TOO_LARGE);
            droppedTooLarge++;
            return;
        }
        if (queue.offer(frame) && !flushScheduled && channel.isWritable()) {
            flushScheduled = true;
            // After the rest of this loop turn: one flush (one write syscall) for the whole burst.
            channel.eventLoop().execute(flushTask);
        }
    }

    private void flushQueue() {
        flushScheduled = false;
        if (state != State.OPEN) {
            queue.clear();
            return;
        }
        boolean wrote = false;
        ByteBuf frame;
        // The frame's bytes may be shared with other receivers of a flood; the server side does not mask
        // (RFC 6455 §5.1), so the encoder only reads them.
        while (channel.isWritable() && (frame = queue.poll()) != null) {
            channel.write(new BinaryWebSocketFrame(frame), channel.voidPromise());
            wrote = true;
        }
        if (wrote) {
            channel.flush();
        }
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        if (ctx.channel().isWritable() && queue.size() > 0 && !flushScheduled) {
            flushScheduled = true;
            ctx.channel().eventLoop().execute(flushTask);
        }
        ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        leave();
        ctx.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        // The decoder has already sent its close frame (1009 too big, 1002 protocol error) for a corrupt frame.
        if (cause instanceof CorruptedWebSocketFrameException) {
            counters.increment(Counter.WEBSOCKET_PROTOCOL_CLOSES);
        }
        leave();
        ctx.close();
    }

    private void leave() {
        if (state == State.OPEN) {
            admission.lan().detach(this);
            counters.increment(Counter.WEBSOCKET_CLOSED);
            server.memberLeft();
        }
        if (state != State.CLOSED && admission != null) {
            admission.release().run();
        }
        state = State.CLOSED;
        queue.clear();
    }

    @Override
    public String transport() {
        return "websocket";
    }

    @Override
    public InetSocketAddress clientAddress() {
        return channel != null && channel.remoteAddress() instanceof InetSocketAddress inet ? inet : null;
    }

    @Override
    public long connectedSinceMillis() {
        return connectedSinceMillis;
    }

    @Override
    public void forEachDrop(ObjLongConsumer<String> reasonAndCount) {
        admission.guard().forEachDrop(reasonAndCount);
        reasonAndCount.accept("queue_full", queue.droppedFull());
        reasonAndCount.accept("too_large", droppedTooLarge);
    }

    /** Sends a close frame (1008, policy violation, with the reason) and closes the connection. */
    @Override
    public void disconnect(String reason) {
        if (state == State.OPEN) {
            channel.writeAndFlush(new CloseWebSocketFrame(1008, reason)).addListener(f -> channel.close());
            leave();
        }
    }

    @Override
    public int maxFrameSize() {
        return maxFrameSize;
    }

    @Override
    public String name() {
        return name;
    }
}

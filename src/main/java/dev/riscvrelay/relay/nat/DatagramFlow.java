package dev.riscvrelay.relay.nat;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.FixedRecvByteBufAllocator;
import io.netty.channel.socket.DatagramChannel;
import io.netty.channel.socket.DatagramPacket;

/**
 * A NAT flow carried by one connected host datagram socket (a UDP socket, an ICMP ping socket): the socket's
 * handler, which hands each reply and error to the protocol and closes the flow when the socket goes away.
 */
public abstract class DatagramFlow extends NatFlow {

    private final FlowSet<?> flows;
    private DatagramChannel channel;
    private boolean closed;

    protected DatagramFlow(FlowSet<?> flows, long keyHigh, long keyLow, long vmMac, long idleTimeoutNanos,
            long now) {
        this(flows, keyHigh, keyLow, 0, 0, vmMac, idleTimeoutNanos, now);
    }

    /** A flow whose key has IPv6 words ({@link FlowKey}). */
    protected DatagramFlow(FlowSet<?> flows, long keyHigh, long keyLow, long key6High, long key6Low, long vmMac,
            long idleTimeoutNanos, long now) {
        super(keyHigh, keyLow, key6High, key6Low, vmMac, idleTimeoutNanos, now);
        this.flows = flows;
    }

    /** One datagram the socket read; the caller releases it. */
    protected abstract void onReply(ByteBuf data);

    /** An error the socket reported (e.g. ICMP unreachable on a connected socket); the socket stays open. */
    protected abstract void onSocketError(Throwable cause);

    /**
     * Makes {@code channel} this flow's socket and registers it with {@code loop}. A read of more than
     * {@code largestReply} bytes arrives as {@code largestReply + 1} bytes, so the protocol can tell a reply too
     * large for the VM.
     */
    public final void attach(DatagramChannel channel, int largestReply, EventLoop loop) {
        this.channel = channel;
        // An error on write (e.g. PortUnreachableException) must not close the socket: the flow reports it and goes on.
        channel.config().setOption(ChannelOption.AUTO_CLOSE, false);
        // One byte more than a frame can carry: a read that fills it was a reply too large for the VM.
        channel.config().setRecvByteBufAllocator(new FixedRecvByteBufAllocator(largestReply + 1));
        channel.pipeline().addLast(this);
        loop.register(channel);
    }

    public final DatagramChannel channel() {
        return channel;
    }

    public final boolean isClosed() {
        return closed;
    }

    /** Takes the flow out of its set and closes its socket; does nothing the second time. */
    public final void close() {
        if (closed) {
            return;
        }
        closed = true;
        flows.remove(this);
        channel.close();
    }

    @Override
    public final void channelRead(ChannelHandlerContext ctx, Object msg) {
        DatagramPacket packet = (DatagramPacket) msg;
        try {
            onReply(packet.content());
        } finally {
            packet.release();
        }
    }

    @Override
    public final void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        onSocketError(cause);
    }

    @Override
    public final void channelInactive(ChannelHandlerContext ctx) {
        close();
    }
}

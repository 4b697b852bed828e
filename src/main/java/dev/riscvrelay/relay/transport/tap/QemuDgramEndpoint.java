package dev.riscvrelay.relay.transport.tap;

import dev.riscvrelay.relay.lan.FrameSink;
import dev.riscvrelay.relay.metrics.Counter;
import dev.riscvrelay.relay.metrics.Counters;
import dev.riscvrelay.relay.switching.Port;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.FixedRecvByteBufAllocator;
import io.netty.channel.IoEventLoop;
import io.netty.channel.epoll.EpollDatagramChannel;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.socket.DatagramPacket;
import io.netty.channel.socket.nio.NioDatagramChannel;
import java.net.InetSocketAddress;

/**
 * The relay's end of QEMU's {@code -netdev dgram} (QEMU ≥ 7.2) or {@code -netdev socket,udp=} backend: every UDP
 * datagram carries exactly one Ethernet frame, no prefix. Stateless, so either side may restart. QEMU is started
 * with its {@code remote} pointing at {@link #localAddress()} and its {@code local} at {@link Config#qemu()}:
 *
 * <pre>
 * -netdev dgram,id=n0,local.type=inet,local.host=127.0.0.1,local.port=QEMU_PORT,
 *                     remote.type=inet,remote.host=127.0.0.1,remote.port=RELAY_PORT
 * </pre>
 *
 * Datagrams from any other address are dropped ({@link Counter#DROP_QEMU_UNKNOWN_SENDER}): anyone on the host
 * can send to a UDP port. As a {@link Port}, {@link #send} carries frames from the LAN to QEMU.
 */
public final class QemuDgramEndpoint implements Port, AutoCloseable {

    /** Where to listen, where QEMU's socket is, and the largest frame forwarded either way. */
    public record Config(InetSocketAddress listen, InetSocketAddress qemu, int maxFrameSize) {
        public Config {
            if (maxFrameSize < TapDevice.ETHERNET_HEADER || maxFrameSize > 65507) {
                throw new IllegalArgumentException("maxFrameSize must fit one UDP datagram: " + maxFrameSize);
            }
        }
    }

    private final Config config;
    private final Counters counters;
    private final Channel channel;
    private final ChannelFuture bound;

    private QemuDgramEndpoint(Config config, Counters counters, ChannelFuture bound) {
        this.config = config;
        this.counters = counters;
        this.channel = bound.channel();
        this.bound = bound;
    }

    /**
     * Binds the UDP socket on {@code group} (NIO or epoll); frames from QEMU go to {@code sink} on the channel's
     * event loop.
     */
    public static QemuDgramEndpoint bind(Config config, EventLoopGroup group, Counters counters, FrameSink sink)
            throws InterruptedException {
        QemuDgramEndpoint endpoint = startBind(config, group, counters, sink);
        endpoint.bound.sync();
        return endpoint;
    }

    /**
     * Like {@link #bind} but returns at once, for callers on the group's event loop (which must not block on it);
     * {@link #bound()} tells whether the bind worked. Frames sent before it completes are queued by the channel.
     */
    public static QemuDgramEndpoint startBind(Config config, EventLoopGroup group, Counters counters,
            FrameSink sink) {
        boolean epoll = group.next() instanceof IoEventLoop loop && loop.isIoType(EpollIoHandler.class);
        ChannelFuture bound = new Bootstrap().group(group)
                .channel(epoll ? EpollDatagramChannel.class : NioDatagramChannel.class)
                // One byte more than the limit: a datagram that fills it was larger and is dropped, not cut.
                .option(ChannelOption.RCVBUF_ALLOCATOR, new FixedRecvByteBufAllocator(config.maxFrameSize() + 1))
                .option(ChannelOption.SO_RCVBUF, 1 << 20)
                .option(ChannelOption.SO_SNDBUF, 1 << 20)
                .handler(new FromQemu(config, counters, sink))
                .bind(config.listen());
        return new QemuDgramEndpoint(config, counters, bound);
    }

    /** Completes when the socket is bound (or failed to bind). */
    public ChannelFuture bound() {
        return bound;
    }

    /** The address QEMU must send to (its {@code remote}); useful when {@code listen} had port 0. */
    public InetSocketAddress localAddress() {
        return (InetSocketAddress) channel.localAddress();
    }

    /** Sends one frame to QEMU as one datagram; takes over one reference of {@code frame}. */
    @Override
    public void send(ByteBuf frame) {
        int length = frame.readableBytes();
        if (length > config.maxFrameSize()) {
            counters.increment(Counter.DROP_TOO_LARGE);
            frame.release();
            return;
        }
        if (!channel.isWritable()) {
            counters.increment(Counter.DROP_TAP_WRITE_FAILED);
            frame.release();
            return;
        }
        channel.writeAndFlush(new DatagramPacket(frame, config.qemu()), channel.voidPromise());
    }

    @Override
    public int maxFrameSize() {
        return config.maxFrameSize();
    }

    @Override
    public String name() {
        return "qemu-dgram " + config.qemu();
    }

    @Override
    public void close() {
        channel.close().syncUninterruptibly();
    }

    private static final class FromQemu extends SimpleChannelInboundHandler<DatagramPacket> {
        private final Config config;
        private final Counters counters;
        private final FrameSink sink;

        FromQemu(Config config, Counters counters, FrameSink sink) {
            super(DatagramPacket.class, true);
            this.config = config;
            this.counters = counters;
            this.sink = sink;
        }

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, DatagramPacket packet) {
            if (!packet.sender().equals(config.qemu())) {
                counters.increment(Counter.DROP_QEMU_UNKNOWN_SENDER);
                return;
            }
            ByteBuf frame = packet.content();
            int length = frame.readableBytes();
            if (length > config.maxFrameSize()) {
                counters.increment(Counter.DROP_TAP_TOO_LARGE);
                return;
            }
            if (length < TapDevice.ETHERNET_HEADER) {
                counters.increment(Counter.DROP_QEMU_BAD_FRAME);
                return;
            }
            sink.emit(frame.retain());
        }
    }
}

package dev.riscvrelay.relay.transport.tap;

import dev.riscvrelay.relay.lan.FrameSink;
import dev.riscvrelay.relay.metrics.Counter;
import dev.riscvrelay.relay.metrics.Counters;
import dev.riscvrelay.relay.switching.Port;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.LengthFieldBasedFrameDecoder;
import io.netty.handler.codec.LengthFieldPrepender;
import io.netty.handler.codec.TooLongFrameException;
import java.net.InetSocketAddress;

/**
 * The relay's end of QEMU's {@code -netdev stream} (QEMU ≥ 7.2) or {@code -netdev socket,listen=} backend: one TCP
 * connection, each frame preceded by its length as a 4-byte big-endian integer. The relay connects to QEMU, which
 * listens:
 *
 * <pre>
 * -netdev stream,id=n0,server=on,addr.type=inet,addr.host=127.0.0.1,addr.port=PORT
 * </pre>
 *
 * QEMU 7.2 does not reconnect a client-mode stream netdev, so QEMU listening is the robust arrangement; when the
 * connection ends, this endpoint is closed ({@link #closeFuture()}). Frames above the limit are skipped whole
 * ({@link Counter#DROP_TAP_TOO_LARGE}); the length prefix keeps the stream in sync.
 */
public final class QemuStreamEndpoint implements Port, AutoCloseable {

    private static final int LENGTH_PREFIX = 4;

    /** QEMU's listening address and the largest frame forwarded either way. */
    public record Config(InetSocketAddress qemu, int maxFrameSize) {
        public Config {
            if (maxFrameSize < TapDevice.ETHERNET_HEADER || maxFrameSize > 69632) {
                throw new IllegalArgumentException("maxFrameSize out of range: " + maxFrameSize);
            }
        }
    }

    private final Config config;
    private final Counters counters;
    private final Channel channel;

    private QemuStreamEndpoint(Config config, Counters counters, Channel channel) {
        this.config = config;
        this.counters = counters;
        this.channel = channel;
    }

    /** Connects to QEMU; frames from QEMU go to {@code sink} on the channel's event loop. */
    public static QemuStreamEndpoint connect(Config config, EventLoopGroup group, Counters counters, FrameSink sink)
            throws InterruptedException {
        Channel channel = new Bootstrap().group(group).channel(NioSocketChannel.class)
                .option(ChannelOption.TCP_NODELAY, true)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, 5_000)
                // Bounded send backlog towards a slow QEMU: beyond the high mark frames are dropped and counted.
                .option(ChannelOption.WRITE_BUFFER_WATER_MARK, new WriteBufferWaterMark(256 * 1024, 1024 * 1024))
                .handler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        ch.pipeline().addLast(
                                // The decoder's limit counts the prefix too.
                                new LengthFieldBasedFrameDecoder(config.maxFrameSize() + LENGTH_PREFIX, 0,
                                        LENGTH_PREFIX, 0, LENGTH_PREFIX, true),
                                new LengthFieldPrepender(LENGTH_PREFIX),
                                new FromQemu(counters, sink));
                    }
                })
                .connect(config.qemu()).sync().channel();
        return new QemuStreamEndpoint(config, counters, channel);
    }

    /** Completes when the connection to QEMU has ended. */
    public io.netty.channel.ChannelFuture closeFuture() {
        return channel.closeFuture();
    }

    /** Sends one frame to QEMU (prefix and frame, no copy); takes over one reference of {@code frame}. */
    @Override
    public void send(ByteBuf frame) {
        if (frame.readableBytes() > config.maxFrameSize()) {
            counters.increment(Counter.DROP_TOO_LARGE);
            frame.release();
            return;
        }
        if (!channel.isActive() || !channel.isWritable()) {
            counters.increment(Counter.DROP_TAP_WRITE_FAILED);
            frame.release();
            return;
        }
        channel.writeAndFlush(frame, channel.voidPromise());
    }

    @Override
    public int maxFrameSize() {
        return config.maxFrameSize();
    }

    @Override
    public String name() {
        return "qemu-stream " + config.qemu();
    }

    @Override
    public void close() {
        channel.close().syncUninterruptibly();
    }

    private static final class FromQemu extends SimpleChannelInboundHandler<ByteBuf> {
        private final Counters counters;
        private final FrameSink sink;

        FromQemu(Counters counters, FrameSink sink) {
            super(ByteBuf.class, true);
            this.counters = counters;
            this.sink = sink;
        }

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, ByteBuf frame) {
            if (frame.readableBytes() < TapDevice.ETHERNET_HEADER) {
                counters.increment(Counter.DROP_QEMU_BAD_FRAME);
                return;
            }
            sink.emit(frame.retain());
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            if (cause instanceof TooLongFrameException) {
                // The decoder skips the frame's bytes and stays in sync with the next prefix.
                counters.increment(Counter.DROP_TAP_TOO_LARGE);
                return;
            }
            ctx.close();
        }
    }
}

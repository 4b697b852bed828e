package dev.riscvrelay.relay.transport.wisp;

import dev.riscvrelay.relay.metrics.Counter;
import dev.riscvrelay.relay.nat.HostBudget;
import dev.riscvrelay.relay.wire.Ipv4Address;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.AdaptiveRecvByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.ChannelOutboundBuffer;
import io.netty.channel.FixedRecvByteBufAllocator;
import io.netty.channel.IoEventLoop;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.epoll.EpollDatagramChannel;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.socket.DatagramPacket;
import io.netty.channel.socket.nio.NioDatagramChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import java.net.InetSocketAddress;
import java.util.ArrayDeque;

/**
 * One WISP stream: the host socket (TCP or connected UDP) a CONNECT asked for, as the socket's Netty handler. It
 * resolves the name, applies the egress policy, takes its socket from the host budget, connects, and then carries
 * DATA both ways. Flow control (TCP): the client's DATA is written to the socket as it comes, and a CONTINUE renews
 * the client's credit of {@link WispConfig#bufferPackets()} packets only while the socket is writable, so a
 * destination that does not read stops the client after one credit, and while the host budget's memory is taken a
 * stream that holds data gets no renewal; the other way, the socket is read only while the WebSocket is writable.
 * Bytes waiting for the socket count against the connection and the host budget; a client that sends far beyond
 * its credit has the stream that crosses the connection's limit closed with 0x49. On the event loop of the
 * connection.
 */
final class WispStream extends ChannelInboundHandlerAdapter {

    private enum State { RESOLVING, CONNECTING, OPEN, CLOSED }

    private static final WriteBufferWaterMark WATER_MARK = new WriteBufferWaterMark(32 * 1024, 64 * 1024);

    final int id;
    private final WispConnection connection;
    private final WispConnect target;
    private final int credit;
    private final ChannelFutureListener afterWrite = future -> syncHeld();
    private State state = State.RESOLVING;
    private Channel channel;
    private HostBudget.Share.Account account;
    /** DATA that arrived before the socket was connected. */
    private ArrayDeque<ByteBuf> early;
    private long earlyBytes;
    /** Bytes of client data this stream holds (early, or not yet taken by the socket), as charged. */
    private long held;
    /** DATA packets since the last CONTINUE, and the credit the client has left by our count. */
    private int sinceContinue;
    private int clientCredit;
    /** A renewal is due but waits for the socket to drain or the host budget to free memory. */
    private boolean creditWithheld;
    private int reasonOnInactive = WispClose.VOLUNTARY;

    WispStream(WispConnection connection, int id, WispConnect target) {
        this.connection = connection;
        this.id = id;
        this.target = target;
        this.credit = connection.config().bufferPackets();
        this.clientCredit = credit;
    }

    /** Starts the resolution; false when the resolver's queue is full. */
    boolean start() {
        return connection.resolver().resolve(target.host(), connection.loop(), this::resolved);
    }

    private void resolved(int address) {
        if (state != State.RESOLVING) {
            return;
        }
        if (address == WispResolver.NONE) {
            end(WispClose.UNREACHABLE, Counter.WISP_STREAMS_FAILED);
            return;
        }
        if (!connection.policy().allows(address)) {
            end(WispClose.BLOCKED, Counter.WISP_STREAMS_BLOCKED);
            return;
        }
        HostBudget.Share.Account candidate = connection.accounts().get();
        if (!candidate.tryTakeSocket()) {
            end(WispClose.THROTTLED, Counter.DROP_NAT_HOST_BUDGET);
            return;
        }
        account = candidate;
        account.charge(held);
        state = State.CONNECTING;
        connect(address);
    }

    private void connect(int address) {
        IoEventLoop loop = connection.loop();
        boolean epoll = loop.isIoType(EpollIoHandler.class);
        Bootstrap bootstrap = new Bootstrap().group(loop).handler(this).option(ChannelOption.AUTO_READ, false);
        if (target.udp()) {
            bootstrap.channel(epoll ? EpollDatagramChannel.class : NioDatagramChannel.class)
                    .option(ChannelOption.RCVBUF_ALLOCATOR, new FixedRecvByteBufAllocator(65536));
        } else {
            bootstrap.channel(epoll ? EpollSocketChannel.class : NioSocketChannel.class)
                    .option(ChannelOption.TCP_NODELAY, true)
                    .option(ChannelOption.CONNECT_TIMEOUT_MILLIS,
                            (int) connection.config().connectTimeout().toMillis())
                    .option(ChannelOption.WRITE_BUFFER_WATER_MARK, WATER_MARK)
                    // One read of at most 16 KiB per turn: a thousand streams cannot flood the WebSocket at once.
                    .option(ChannelOption.RCVBUF_ALLOCATOR,
                            new AdaptiveRecvByteBufAllocator(512, 4096, 16 * 1024).maxMessagesPerRead(1));
        }
        ChannelFuture connected = bootstrap.connect(
                new InetSocketAddress(Ipv4Address.toInetAddress(address), target.port()));
        channel = connected.channel();
        connected.addListener(this::connectDone);
    }

    private void connectDone(io.netty.util.concurrent.Future<? super Void> future) {
        if (state != State.CONNECTING) {
            return;
        }
        if (!future.isSuccess()) {
            end(WispClose.forConnectFailure(future.cause()), Counter.WISP_STREAMS_FAILED);
            return;
        }
        state = State.OPEN;
        connection.counters().increment(Counter.WISP_STREAMS_OPENED);
        if (early != null) {
            ByteBuf data;
            while ((data = early.poll()) != null) {
                write(data);
            }
            earlyBytes = 0;
            channel.flush();
        }
        syncHeld();
        if (!target.udp() && connection.openConfirmation()) {
            sendContinue(); // v2 stream open confirmation: the CONTINUE says the socket is connected
        } else {
            maybeContinue(credit / 2);
        }
        channel.config().setAutoRead(connection.clientWritable());
    }

    /** A DATA packet's payload ({@code length} bytes at {@code offset} of {@code message}) from the client. */
    void fromClient(ByteBuf message, int offset, int length) {
        if (!target.udp()) {
            sinceContinue++;
            if (--clientCredit < 0) {
                connection.counters().increment(Counter.WISP_CREDIT_EXCEEDED);
            }
        }
        switch (state) {
            case RESOLVING, CONNECTING -> {
                if (connection.overLimit(length)) {
                    end(WispClose.THROTTLED, Counter.WISP_STREAMS_THROTTLED);
                    return;
                }
                if (early == null) {
                    early = new ArrayDeque<>();
                }
                if (target.udp() && early.size() >= credit) {
                    connection.counters().increment(Counter.DROP_WISP_UDP_BUSY);
                    return;
                }
                early.add(message.retainedSlice(offset, length));
                earlyBytes += length;
                syncHeld();
            }
            case OPEN -> {
                if (target.udp() && !channel.isWritable()) {
                    connection.counters().increment(Counter.DROP_WISP_UDP_BUSY);
                    return;
                }
                if (!target.udp() && connection.overLimit(length)) {
                    // Only a client far beyond its credit on many streams gets here: the memory stays bounded.
                    end(WispClose.THROTTLED, Counter.WISP_STREAMS_THROTTLED);
                    return;
                }
                write(message.retainedSlice(offset, length));
                channel.flush();
                syncHeld();
                maybeContinue(credit / 2);
            }
            case CLOSED -> { }
        }
    }

    private void write(ByteBuf data) {
        connection.counters().add(Counter.WISP_BYTES_TO_HOST, data.readableBytes());
        if (target.udp()) {
            channel.write(data, channel.voidPromise());
        } else {
            channel.write(data).addListener(afterWrite);
        }
    }

    /**
     * Renews the client's credit once {@code used} packets of it are used, while the socket takes data and, when
     * the host budget's memory is taken, only once this stream holds nothing (so it never stalls for good).
     */
    private void maybeContinue(int used) {
        if (target.udp() || state != State.OPEN || sinceContinue < Math.max(1, used)) {
            return;
        }
        if (channel.isWritable() && !(held > 0 && account != null && account.buffersFull())) {
            sendContinue();
            creditWithheld = false;
        } else {
            creditWithheld = true;
        }
    }

    private void sendContinue() {
        connection.sendContinue(id, credit);
        sinceContinue = 0;
        clientCredit = credit;
    }

    /** Brings what this stream holds (and has charged) up to date with its queue and the socket's buffer. */
    private void syncHeld() {
        if (state == State.CLOSED) {
            return;
        }
        long now = earlyBytes;
        if (channel != null && !target.udp()) {
            ChannelOutboundBuffer outbound = channel.unsafe().outboundBuffer();
            now += outbound == null ? 0 : outbound.totalPendingWriteBytes();
        }
        setHeld(now);
    }

    private void setHeld(long now) {
        long delta = now - held;
        if (delta == 0) {
            return;
        }
        held = now;
        if (account != null) {
            account.charge(delta);
        }
        connection.held(delta);
        if (delta < 0 && creditWithheld) {
            maybeContinue(1);
        }
    }

    /** Whether the WebSocket takes more: read the socket only then. */
    void clientWritable(boolean writable) {
        if (state == State.OPEN) {
            channel.config().setAutoRead(writable);
        }
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        ByteBuf data = msg instanceof DatagramPacket packet ? packet.content() : (ByteBuf) msg;
        try {
            if (state == State.OPEN) {
                connection.counters().add(Counter.WISP_BYTES_TO_CLIENT, data.readableBytes());
                connection.sendData(id, data);
            }
        } finally {
            io.netty.util.ReferenceCountUtil.release(msg);
        }
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        syncHeld();
        if (channel.isWritable()) {
            maybeContinue(1);
        }
        ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        reasonOnInactive = WispClose.NETWORK_ERROR;
        ctx.close();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        if (state == State.OPEN) {
            end(reasonOnInactive, null);
        }
    }

    /** The client closed the stream: close the socket at once, say nothing back. */
    void closedByClient() {
        end(-1, null);
    }

    /**
     * Ends the stream: frees what it holds, closes its socket, and tells the client why unless {@code reason} is -1.
     *
     * @param refusal the counter of a refusal (the stream never opened), or null
     */
    void end(int reason, Counter refusal) {
        if (state == State.CLOSED) {
            return;
        }
        boolean opened = state == State.OPEN;
        setHeld(0);
        state = State.CLOSED;
        if (early != null) {
            early.forEach(ByteBuf::release);
            early = null;
            earlyBytes = 0;
        }
        if (account != null) {
            account.giveSocket();
            account = null;
        }
        if (channel != null) {
            channel.close();
        }
        if (refusal != null) {
            connection.counters().increment(refusal);
        }
        if (opened) {
            connection.counters().increment(Counter.WISP_STREAMS_CLOSED);
        }
        connection.removed(this, reason);
    }
}

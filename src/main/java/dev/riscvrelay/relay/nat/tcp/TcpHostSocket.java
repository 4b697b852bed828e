package dev.riscvrelay.relay.nat.tcp;

import dev.riscvrelay.relay.metrics.Counter;
import dev.riscvrelay.relay.metrics.Counters;
import dev.riscvrelay.relay.lan.NanoClock;
import dev.riscvrelay.relay.nat.FlowAddresses;
import dev.riscvrelay.relay.nat.NatFlow;
import dev.riscvrelay.relay.nat.VmFrames;
import dev.riscvrelay.relay.wire.Icmpv6Packet;
import dev.riscvrelay.relay.wire.TcpPacket;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOption;
import io.netty.channel.ChannelOutboundBuffer;
import io.netty.channel.ConnectTimeoutException;
import io.netty.channel.EventLoop;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.channel.socket.SocketChannel;
import java.net.NoRouteToHostException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * One TCP connection of the NAT as a flow of its table: the host socket's Netty handler (the socket the NAT
 * connected, or for a forward the outside client's accepted socket), which feeds the
 * connection's {@link TcpEndpoint} with the socket's events and the loop's time, does what the endpoint asks of the
 * host ({@link TcpHost}), and keeps one Netty timer at the endpoint's deadline. Writes to the host and the batched
 * ACK to the VM wait for the end of the loop's turn ({@link TcpNat#requestTurnEnd}).
 */
final class TcpHostSocket extends NatFlow implements TcpHost {

    /** RFC 792 destination unreachable code 1. */
    private static final int CODE_HOST_UNREACHABLE = 1;

    /** The VM's address and the host's (the destination it dialled, or the gateway for a forward). */
    final FlowAddresses addresses;
    final int vmPort;
    final int hostPort;
    /** Whether this connection waits in the NAT's end-of-turn list. */
    boolean inTurn;

    private final TcpNat nat;
    private final Counters counters;
    private final NanoClock clock;
    private final EventLoop loop;
    private final TcpEndpoint endpoint;
    private SocketChannel channel;
    private boolean flushPending;
    private boolean outputShut;

    // One Netty timer at the endpoint's deadline, re-armed lazily: a later deadline lets the task fire and re-arm.
    private ScheduledFuture<?> timerTask;
    private long timerTaskAt;
    private final Runnable timerRunnable = this::timerFired;
    private final Runnable resumeRunnable = this::resume;
    private boolean resumeScheduled;

    // The SYN's IP header and first 8 bytes, quoted by an ICMP unreachable if the host cannot be reached; null for
    // a forward, whose host socket is connected already.
    private final ByteBuf synQuote;

    /**
     * A connection the VM opens with {@code syn} to the remote end of {@code addresses}; {@code quote} (its IP
     * header and first bytes, {@code quoteLength} from absolute {@code quoteIndex}) is kept for an ICMP unreachable.
     */
    TcpHostSocket(TcpNat nat, long keyHigh, long keyLow, long key6High, long key6Low, long vmMac,
            FlowAddresses addresses, TcpPacket syn, ByteBuf quote, int quoteIndex, int quoteLength, int iss,
            long now) {
        super(keyHigh, keyLow, key6High, key6Low, vmMac, nat.config().idleTimeout().toNanos(), now);
        this.nat = nat;
        this.counters = nat.counters();
        this.clock = nat.clock();
        this.loop = nat.loop();
        this.addresses = addresses;
        this.vmPort = syn.sourcePort();
        this.hostPort = syn.destinationPort();
        VmSegments segments = new VmSegments(nat.frames(), nat.sink(), counters, vmMac, addresses, vmPort, hostPort);
        this.endpoint = new TcpEndpoint(nat.config(), syn, iss, nat.segmentSizeToward(vmMac, addresses.ipv6()),
                nat.lanMss(addresses.ipv6()), segments, this, counters, nat.budgetAccountOf(vmMac));
        this.synQuote = Unpooled.buffer(quoteLength, quoteLength);
        synQuote.writeBytes(quote, quoteIndex, quoteLength);
    }

    /**
     * A forwarded connection: {@code channel}, an outside client's accepted socket, is carried to
     * {@code vmAddress:vmPort} from the gateway's {@code gatewayPort}; our SYN leaves at once.
     */
    TcpHostSocket(TcpNat nat, long keyHigh, long keyLow, long vmMac, int vmAddress, int vmPort, int gatewayPort,
            int iss, long now) {
        super(keyHigh, keyLow, vmMac, nat.config().idleTimeout().toNanos(), now);
        this.nat = nat;
        this.counters = nat.counters();
        this.clock = nat.clock();
        this.loop = nat.loop();
        this.addresses = FlowAddresses.ipv4(vmAddress, nat.network().gatewayAddress());
        this.vmPort = vmPort;
        this.hostPort = gatewayPort;
        VmSegments segments = new VmSegments(nat.frames(), nat.sink(), counters, vmMac, addresses, vmPort, hostPort);
        this.endpoint = TcpEndpoint.activeOpen(nat.config(), iss, nat.segmentSizeToward(vmMac, false),
                nat.lanMss(false),
                segments, this, counters, now, nat.budgetAccountOf(vmMac));
        this.synQuote = null;
    }

    /** Arms the timer the active open's SYN needs; call once the connection is in the table. */
    void started() {
        syncTimer();
    }

    void attach(SocketChannel channel) {
        this.channel = channel;
    }

    TcpState state() {
        return endpoint.state();
    }

    ChannelFutureListener connectListener() {
        return future -> {
            if (future.isSuccess()) {
                endpoint.onHostConnected(clock.nanoTime());
                syncTimer();
            } else {
                onConnectFailed(future.cause());
            }
        };
    }

    /** Refused: RST to the VM at once. Timed out or unroutable: ICMP host unreachable, as a router would say. */
    private void onConnectFailed(Throwable cause) {
        if (endpoint.state() != TcpState.CONNECTING) {
            return;
        }
        if (cause instanceof ConnectTimeoutException || cause instanceof NoRouteToHostException) {
            counters.increment(Counter.NAT_TCP_CONNECT_FAILED);
            if (addresses.ipv6()) {
                // ENETUNREACH: no route; a timeout: the address did not answer (RFC 4443 section 3.1, code 3).
                counters.increment(Counter.NAT_IPV6_UNREACHABLE);
                nat.emit(nat.frames().destinationUnreachable6(vmMac, addresses, false,
                        cause instanceof NoRouteToHostException ? Icmpv6Packet.CODE_NO_ROUTE
                                : Icmpv6Packet.CODE_ADDRESS_UNREACHABLE, synQuote, 0, synQuote.readableBytes()));
            } else {
                nat.emit(nat.frames().destinationUnreachable(vmMac, addresses.vmIpv4(),
                        nat.network().gatewayAddress(), CODE_HOST_UNREACHABLE, synQuote, 0,
                        synQuote.readableBytes()));
            }
            endpoint.onHostUnreachable();
        } else {
            counters.increment(Counter.NAT_TCP_CONNECT_REFUSED);
            endpoint.onHostRefused();
        }
    }

    // ---- Events in, to the endpoint ----

    /** One segment of this connection from the VM. */
    void onSegment(TcpPacket segment, long now) {
        touch(now);
        endpoint.onSegment(segment, now);
        syncTimer();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (endpoint.onHostData((ByteBuf) msg)) {
            touch(clock.nanoTime());
        }
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        if (endpoint.state() != TcpState.CLOSED) {
            endpoint.onHostReadComplete(clock.nanoTime());
            syncTimer();
        }
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object event) {
        if (event instanceof ChannelInputShutdownEvent && endpoint.state() != TcpState.CLOSED) {
            endpoint.onHostEof(clock.nanoTime());
            syncTimer();
        }
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        if (channel.isWritable()) {
            endpoint.onHostWritable();
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        endpoint.onHostBroken();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        endpoint.onHostBroken();
    }

    /** The NAT's end of turn: flush what the turn wrote to the host, then the ACK the turn owes the VM. */
    void onTurnEnd() {
        if (endpoint.state() == TcpState.CLOSED) {
            return;
        }
        if (flushPending) {
            flushPending = false;
            channel.flush();
        }
        endpoint.onTurnEnd();
    }

    /** Ends the connection at once, with RST to the VM if {@code resetVm} (idle expiry, shutdown). */
    void abort(boolean resetVm) {
        endpoint.abort(resetVm);
    }

    /** Ends the connection quietly: the VM reuses its port pair after TIME_WAIT. */
    void close() {
        endpoint.close(false);
    }

    // ---- The one timer ----

    private void syncTimer() {
        long at = endpoint.deadline();
        if (at != TcpTimer.NONE && (timerTask == null || timerTaskAt - at > 0)) {
            if (timerTask != null) {
                timerTask.cancel(false);
            }
            timerTaskAt = at;
            long delay = Math.max(0, at - clock.nanoTime());
            timerTask = loop.schedule(timerRunnable, delay, TimeUnit.NANOSECONDS);
        }
    }

    private void timerFired() {
        timerTask = null;
        if (endpoint.deadline() != TcpTimer.NONE) {
            endpoint.onTimer(clock.nanoTime()); // nothing yet if the deadline moved later since: re-armed below
            syncTimer();
        }
    }

    private void resume() {
        resumeScheduled = false;
        endpoint.onResume(clock.nanoTime());
        syncTimer();
    }

    // ---- What the endpoint asks of the host ----

    @Override
    public void write(ByteBuf data) {
        channel.write(data, channel.voidPromise());
        if (!flushPending) {
            flushPending = true;
            nat.requestTurnEnd(this);
        }
    }

    @Override
    public void shutdownOutput() {
        if (outputShut) {
            return;
        }
        outputShut = true;
        flushPending = false;
        // Writes complete in order: when this empty one has, everything before it is in the kernel.
        channel.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(future -> {
            if (channel.isActive()) {
                channel.shutdownOutput();
            }
        });
    }

    @Override
    public long pendingWriteBytes() {
        ChannelOutboundBuffer outbound = channel.unsafe().outboundBuffer();
        return outbound == null ? 0 : outbound.totalPendingWriteBytes();
    }

    @Override
    public boolean reading() {
        return channel.config().isAutoRead();
    }

    @Override
    public void reading(boolean on) {
        channel.config().setAutoRead(on);
    }

    @Override
    public void requestTurnEnd() {
        nat.requestTurnEnd(this);
    }

    @Override
    public void resumeLater() {
        if (!resumeScheduled) {
            resumeScheduled = true;
            loop.execute(resumeRunnable);
        }
    }

    @Override
    public void closed(boolean reset) {
        if (timerTask != null) {
            timerTask.cancel(false);
            timerTask = null;
        }
        if (synQuote != null) {
            synQuote.release();
        }
        if (channel != null) {
            if (reset) {
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

    @Override
    public String toString() {
        return "tcp " + addresses.vmText() + ":" + vmPort + " -> " + addresses.remoteText() + ":" + hostPort + " "
                + endpoint.state();
    }
}

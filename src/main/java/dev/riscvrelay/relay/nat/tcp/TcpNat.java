package dev.riscvrelay.relay.nat.tcp;

import dev.riscvrelay.relay.lan.FrameSink;
import dev.riscvrelay.relay.lan.NanoClock;
import dev.riscvrelay.relay.lan.NetworkConfig;
import dev.riscvrelay.relay.metrics.Counter;
import dev.riscvrelay.relay.metrics.Counters;
import dev.riscvrelay.relay.nat.FlowAddresses;
import dev.riscvrelay.relay.nat.FlowKey;
import dev.riscvrelay.relay.nat.FlowSet;
import dev.riscvrelay.relay.nat.HostBudget;
import dev.riscvrelay.relay.nat.VmFrames;
import dev.riscvrelay.relay.wire.EthernetFrame;
import dev.riscvrelay.relay.wire.Ipv4Packet;
import dev.riscvrelay.relay.wire.Ipv6Packet;
import dev.riscvrelay.relay.wire.ParseResult;
import dev.riscvrelay.relay.wire.TcpPacket;
import io.netty.buffer.ByteBuf;
import io.netty.channel.AdaptiveRecvByteBufAllocator;
import io.netty.channel.ChannelFuture;
import io.netty.channel.EventLoop;
import io.netty.channel.IoEventLoop;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.SocketChannelConfig;
import io.netty.channel.socket.nio.NioSocketChannel;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.LongToIntFunction;

/**
 * TCP NAT: terminates each TCP connection a VM opens and carries its bytes over an ordinary host socket to the
 * destination, over IPv4 or IPv6 alike: one table, one endpoint, and the family only in the frames' IP header
 * ({@link FlowAddresses}) and the MSS. The VM talks to a {@link TcpEndpoint} that plays the destination (its own
 * sequence numbers, windows, retransmissions over the lossy LAN); the host side is a non-blocking Netty socket on
 * the same event loop ({@link TcpHostSocket}), read only while the VM has room and written only as fast as the host
 * takes it.
 *
 * <p>Per segment the NAT allocates nothing but the pooled frame it sends: views are reused, data from the VM goes
 * to the host socket as a retained slice of the frame it came in, data from the host stays in the buffers the
 * socket filled until the VM acknowledges it. ACKs to the VM and flushes to host sockets are batched to the end of
 * the event-loop turn.
 *
 * <p>Owned by one event loop; every method runs on it.
 */
public final class TcpNat {

    /**
     * The gateway's ports forwarded connections come from (IANA's dynamic range); segments from VMs to these ports
     * of the gateway's address belong to forwards ({@link #onForwardedSegment}).
     */
    public static final int FORWARD_PORT_FIRST = 49152;

    private final NetworkConfig network;
    private final TcpConfig config;
    private final VmFrames frames;
    private final FrameSink sink;
    private final Counters counters;
    private final NanoClock clock;
    private final EventLoop loop;
    private final boolean epoll;
    private final FlowSet<TcpHostSocket> connections;
    private final TcpPacket tcp = new TcpPacket();
    private final SplittableRandom random = new SplittableRandom();
    private final List<TcpHostSocket> turn = new ArrayList<>(64);
    private final Runnable endOfTurn = this::endTurn;
    private final int mss;
    private final int mss6;
    private LongToIntFunction portFrameLimit = mac -> 0;
    private boolean turnScheduled;

    public TcpNat(NetworkConfig network, TcpConfig config, VmFrames frames, FrameSink sink, Counters counters,
            NanoClock clock, EventLoop loop) {
        this(network, config, frames, sink, counters, clock, loop, HostBudget.unlimitedShare());
    }

    /** With host sockets from a network's share of the relay's budget. */
    public TcpNat(NetworkConfig network, TcpConfig config, VmFrames frames, FrameSink sink, Counters counters,
            NanoClock clock, EventLoop loop, HostBudget.Share budget) {
        this.network = network;
        this.config = config;
        this.frames = frames;
        this.sink = sink;
        this.counters = counters;
        this.clock = clock;
        this.loop = loop;
        this.epoll = loop instanceof IoEventLoop ioLoop && ioLoop.isIoType(EpollIoHandler.class);
        this.connections = new FlowSet<>(config.maxConnectionsPerVm(), config.maxConnections(), budget, counters,
                Counter.DROP_NAT_TCP_VM_LIMIT, Counter.DROP_NAT_TCP_TABLE_FULL, Counter.NAT_TCP_EXPIRED);
        // Every segment to the VM must fit one frame of the LAN: IPv4 and TCP headers without options.
        this.mss = network.mtu() - Ipv4Packet.MIN_HEADER_LENGTH - TcpPacket.MIN_HEADER_LENGTH;
        this.mss6 = network.mtu() - Ipv6Packet.HEADER_LENGTH - TcpPacket.MIN_HEADER_LENGTH;
    }

    /**
     * Handles one TCP segment from a VM in an unfragmented IPv4 packet the egress policy allowed. The caller keeps
     * its reference to the frame; data that must outlive the call is retained, not copied.
     */
    public void onSegment(EthernetFrame ethernet, Ipv4Packet ip) {
        accept(ethernet, ip, null);
    }

    /**
     * Handles one TCP segment from a VM in an IPv6 packet (next header TCP, source in the LAN's /64) the egress
     * policy allowed; as {@link #onSegment}. A connect without a route is answered ICMPv6 no route when it fails.
     */
    public void onSegment6(EthernetFrame ethernet, Ipv6Packet ip) {
        if (!wrap(ip.buffer(), ip.payloadOffset(), ip.payloadLength())) {
            return;
        }
        if (!tcp.checksumValidOverIpv6(ip.sourceHigh(), ip.sourceLow(), ip.destinationHigh(), ip.destinationLow())) {
            counters.increment(Counter.DROP_NAT_TCP_BAD_CHECKSUM);
            return;
        }
        if (!checkSegment()) {
            return;
        }
        dispatch(ethernet.source(), ip.sourceLow(), FlowKey.low6(tcp.sourcePort(), tcp.destinationPort()),
                ip.destinationHigh(), ip.destinationLow(), true, ip.sourceHigh(), ip.sourceLow(),
                ip.destinationHigh(), ip.destinationLow(), null, true, ip.buffer(), ip.offset(),
                Math.min(VmFrames.IPV6_QUOTE, Ipv6Packet.HEADER_LENGTH + ip.payloadLength()));
    }

    /**
     * Handles one TCP segment from a VM to a service the gateway offers on its own address (DNS over TCP at the DNS
     * address, port 53): the VM talks to the address it dialled, but a connection this segment opens is carried to
     * {@code upstream}, the host-side address that really serves it. A fixed redirect chosen by the operator's own
     * configuration, so the egress policy does not apply to it. Everything else is as in {@link #onSegment}.
     */
    public void onServiceSegment(EthernetFrame ethernet, Ipv4Packet ip, InetSocketAddress upstream) {
        accept(ethernet, ip, upstream);
    }

    /**
     * Handles one TCP segment from a VM to the gateway's own address on a port forwards dial from
     * ({@link #FORWARD_PORT_FIRST} and up): only connections a forward opened take it; anything else is answered
     * with a reset, never opens a connection.
     */
    public void onForwardedSegment(EthernetFrame ethernet, Ipv4Packet ip) {
        accept(ethernet, ip, null, false);
    }

    /**
     * Carries an outside client's accepted socket {@code channel} to {@code vmAddress:vmPort} on the VM with
     * {@code vmMac}: a connection from the gateway's address and a free port of the forward range, through the
     * same endpoint as the VM's own connections (it sends our SYN now; the socket is read once the VM accepted).
     * Per-VM and table limits apply as to connections the VM opens. The channel must be registered on this NAT's
     * loop, not auto-read, half-closable. Returns false (counted) when a limit or a full port range refuses; then
     * the caller closes the channel.
     */
    public boolean connectToVm(long vmMac, int vmAddress, int vmPort, SocketChannel channel) {
        int gateway = network.gatewayAddress();
        long high = FlowKey.high(vmAddress, gateway);
        int gatewayPort = 0;
        for (int attempt = 0; attempt < 16 && gatewayPort == 0; attempt++) {
            int candidate = FORWARD_PORT_FIRST + random.nextInt(65536 - FORWARD_PORT_FIRST);
            if (connections.get(high, FlowKey.low(vmPort, candidate)) == null) {
                gatewayPort = candidate;
            }
        }
        if (gatewayPort == 0) {
            counters.increment(Counter.DROP_NAT_TCP_TABLE_FULL);
            return false;
        }
        if (!connections.admit(vmMac)) {
            return false;
        }
        TcpHostSocket connection = new TcpHostSocket(this, high, FlowKey.low(vmPort, gatewayPort), vmMac,
                vmAddress, vmPort, gatewayPort, random.nextInt(), clock.nanoTime());
        connections.add(connection);
        connection.attach(channel);
        channel.pipeline().addLast(connection);
        connection.started();
        return true;
    }

    /**
     * {@code upstream}: where a new connection's host socket connects; null for the packet's own destination.
     * {@code opens}: whether a SYN without a connection opens one (false: the forward range, answered with RST).
     */
    private void accept(EthernetFrame ethernet, Ipv4Packet ip, InetSocketAddress upstream) {
        accept(ethernet, ip, upstream, true);
    }

    private void accept(EthernetFrame ethernet, Ipv4Packet ip, InetSocketAddress upstream, boolean opens) {
        if (!wrap(ip.buffer(), ip.payloadOffset(), ip.payloadLength())) {
            return;
        }
        if (!tcp.checksumValid(ip.source(), ip.destination())) {
            counters.increment(Counter.DROP_NAT_TCP_BAD_CHECKSUM);
            return;
        }
        if (!checkSegment()) {
            return;
        }
        dispatch(ethernet.source(), FlowKey.high(ip.source(), ip.destination()),
                FlowKey.low(tcp.sourcePort(), tcp.destinationPort()), 0, 0, false, 0,
                Integer.toUnsignedLong(ip.source()), 0, Integer.toUnsignedLong(ip.destination()), upstream, opens,
                ip.buffer(), ip.offset(), VmFrames.quoteLength(ip));
    }

    /** Views the segment in {@link #tcp}; false (counted) when it does not parse. */
    private boolean wrap(ByteBuf buf, int offset, int length) {
        if (tcp.wrap(buf, offset, length) != ParseResult.OK) {
            counters.increment(Counter.DROP_NAT_TCP_MALFORMED);
            return false;
        }
        return true;
    }

    /** The checks after the checksum, alike for both families: ports, flags, a SYN's options. */
    private boolean checkSegment() {
        if (tcp.sourcePort() == 0 || tcp.destinationPort() == 0) {
            counters.increment(Counter.DROP_NAT_TCP_MALFORMED);
            return false;
        }
        int flags = tcp.flags();
        boolean syn = (flags & TcpPacket.FLAG_SYN) != 0;
        if ((syn && (flags & (TcpPacket.FLAG_FIN | TcpPacket.FLAG_RST)) != 0)
                || (flags & (TcpPacket.FLAG_SYN | TcpPacket.FLAG_RST | TcpPacket.FLAG_ACK)) == 0) {
            counters.increment(Counter.DROP_NAT_TCP_BAD_FLAGS);
            return false;
        }
        if (syn && tcp.parseOptions() != ParseResult.OK) {
            counters.increment(Counter.DROP_NAT_TCP_MALFORMED);
            return false;
        }
        return true;
    }

    /**
     * Hands the checked segment in {@link #tcp} to its connection, opens one for a SYN, or resets a stray. The key's
     * four words are {@link FlowKey}'s; the addresses are the packet's (IPv4 in the low words); the quote is the
     * packet's IP header and first bytes, kept by a new connection for an ICMP unreachable.
     */
    private void dispatch(long vmMac, long high, long low, long high6, long low6, boolean ipv6, long vmHigh,
            long vmLow, long destinationHigh, long destinationLow, InetSocketAddress upstream, boolean opens,
            ByteBuf quote, int quoteIndex, int quoteLength) {
        int flags = tcp.flags();
        boolean syn = (flags & TcpPacket.FLAG_SYN) != 0;
        counters.increment(Counter.NAT_TCP_SEGMENTS_IN);
        TcpHostSocket connection = connections.get(high, low, high6, low6);
        boolean bareSyn = syn && (flags & TcpPacket.FLAG_ACK) == 0;
        if (connection != null && bareSyn && connection.state() == TcpState.TIME_WAIT) {
            // The VM reuses the port pair: the old connection is over, a new one begins (RFC 6191 in spirit).
            connection.close();
            connection = null;
        }
        if (connection == null) {
            if (bareSyn && opens) {
                FlowAddresses addresses = ipv6 ? FlowAddresses.ipv6(vmHigh, vmLow, destinationHigh, destinationLow)
                        : FlowAddresses.ipv4((int) vmLow, (int) destinationLow);
                open(vmMac, high, low, high6, low6, addresses, upstream, quote, quoteIndex, quoteLength);
            } else if ((flags & TcpPacket.FLAG_RST) == 0) {
                counters.increment(Counter.DROP_NAT_TCP_NO_CONNECTION);
                if (ipv6) {
                    resetStray(vmMac, FlowAddresses.ipv6(vmHigh, vmLow, destinationHigh, destinationLow));
                } else {
                    resetStray(vmMac, (int) vmLow, (int) destinationLow);
                }
            }
            return;
        }
        connection.onSegment(tcp, clock.nanoTime());
    }

    /** Where a new connection of {@code vmMac} (admitted just before) charges the host data it holds. */
    HostBudget.Share.Account budgetAccountOf(long vmMac) {
        return connections.accountOf(vmMac);
    }

    private void open(long vmMac, long high, long low, long high6, long low6, FlowAddresses addresses,
            InetSocketAddress upstream, ByteBuf quote, int quoteIndex, int quoteLength) {
        if (!connections.admit(vmMac)) {
            if (addresses.ipv6()) {
                resetStray(vmMac, addresses);
            } else {
                resetStray(vmMac, addresses.vmIpv4(), addresses.remoteIpv4());
            }
            return;
        }
        long now = clock.nanoTime();
        TcpHostSocket connection = new TcpHostSocket(this, high, low, high6, low6, vmMac, addresses, tcp, quote,
                quoteIndex, quoteLength, random.nextInt(), now);
        connections.add(connection);
        SocketChannel channel = epoll ? new EpollSocketChannel() : new NioSocketChannel();
        configureHostSocket(channel.config());
        connection.attach(channel);
        channel.pipeline().addLast(connection);
        loop.register(channel);
        InetSocketAddress target = upstream;
        if (target == null) {
            target = new InetSocketAddress(addresses.remoteInetAddress(), tcp.destinationPort());
        } else {
            counters.increment(Counter.NAT_TCP_SERVICE_CONNECTIONS);
        }
        ChannelFuture connected = channel.connect(target);
        connected.addListener(connection.connectListener());
    }

    /**
     * Sets up a connection's host socket: not read until the VM is connected and has room, half-closable, no
     * Nagle, and write watermarks that turn the receive window into backpressure. For the sockets the NAT connects
     * and for the outside clients' sockets forwards accept (before their first read).
     */
    public void configureHostSocket(SocketChannelConfig channelConfig) {
        channelConfig.setAutoRead(false); // read only once the VM is connected and has room
        channelConfig.setAllowHalfClosure(true); // a FIN each way, independently
        channelConfig.setTcpNoDelay(true); // segments from the VM are already sized; do not hold them back
        channelConfig.setConnectTimeoutMillis((int) Math.min(Integer.MAX_VALUE, config.connectTimeout().toMillis()));
        // Unwritable past half the window, writable again below a quarter: the window update to the VM then.
        int window = config.receiveWindowBytes();
        channelConfig.setWriteBufferWaterMark(new WriteBufferWaterMark(window / 4, window / 2));
        channelConfig.setRecvByteBufAllocator(new AdaptiveRecvByteBufAllocator(2048, 16384, 65536));
    }

    /**
     * Answers a segment that belongs to no connection with a reset (RFC 9293 section 3.10.7.1): with the
     * segment's ACK as sequence number if it had one, else acknowledging everything it occupied. Reads the
     * segment from this NAT's view.
     */
    private void resetStray(long vmMac, int vmAddress, int destination) {
        sendControl(vmMac, destination, tcp.destinationPort(), vmAddress, tcp.sourcePort(), straySequence(),
                strayAcknowledgement(), strayFlags());
    }

    /** {@link #resetStray(long, int, int)} for an IPv6 segment (allocates its addresses: strays are no hot path). */
    private void resetStray(long vmMac, FlowAddresses addresses) {
        VmSegments.control(frames, sink, counters, vmMac, addresses, tcp.destinationPort(), tcp.sourcePort(),
                straySequence(), strayAcknowledgement(), strayFlags());
    }

    private int straySequence() {
        return tcp.isAck() ? tcp.acknowledgementNumber() : 0;
    }

    private int strayAcknowledgement() {
        return tcp.isAck() ? 0 : tcp.sequenceNumber() + tcp.sequenceLength();
    }

    private int strayFlags() {
        return tcp.isAck() ? TcpPacket.FLAG_RST : TcpPacket.FLAG_RST | TcpPacket.FLAG_ACK;
    }

    /** Sends a segment without data or options (a RST or a bare ACK) from {@code source} to a VM. */
    private void sendControl(long vmMac, int source, int sourcePort, int vmAddress, int vmPort, int sequence,
            int acknowledgement, int flags) {
        VmSegments.control(frames, sink, counters, vmMac, source, sourcePort, vmAddress, vmPort, sequence,
                acknowledgement, flags);
    }

    /** Sends a frame to a VM, counted as a TCP segment out (the ICMP answer to a failed connect too). */
    void emit(ByteBuf frame) {
        VmSegments.emit(counters, sink, frame);
    }

    /** Asks for {@link TcpHostSocket#onTurnEnd} once this event-loop turn's other work is done. */
    void requestTurnEnd(TcpHostSocket connection) {
        if (!connection.inTurn) {
            connection.inTurn = true;
            turn.add(connection);
        }
        if (!turnScheduled) {
            turnScheduled = true;
            loop.execute(endOfTurn);
        }
    }

    private void endTurn() {
        turnScheduled = false;
        // Index loop: a connection's turn end may add others (a reset closing...), which then run in this pass.
        for (int i = 0; i < turn.size(); i++) {
            TcpHostSocket connection = turn.get(i);
            connection.inTurn = false;
            connection.onTurnEnd();
        }
        turn.clear();
    }

    void removed(TcpHostSocket connection) {
        connections.remove(connection);
        counters.increment(Counter.NAT_TCP_CONNECTIONS_CLOSED);
    }

    /** Resets every connection idle longer than the idle timeout. Call periodically (the NAT's sweep). */
    public void expireIdle() {
        connections.expireIdle(clock.nanoTime(), connection -> connection.abort(true));
    }

    /** Closes every connection's socket (with RST to the host) and frees its state; sends nothing to VMs. */
    public void closeAll() {
        connections.endAll(connection -> connection.abort(false));
    }

    public int connectionCount() {
        return connections.size();
    }

    public int connectionCount(long vmMac) {
        return connections.size(vmMac);
    }

    NetworkConfig network() {
        return network;
    }

    TcpConfig config() {
        return config;
    }

    VmFrames frames() {
        return frames;
    }

    FrameSink sink() {
        return sink;
    }

    Counters counters() {
        return counters;
    }

    NanoClock clock() {
        return clock;
    }

    EventLoop loop() {
        return loop;
    }

    /** The largest segment payload the VM may send: LAN MTU minus 40 (the MSS told in the SYN-ACK). */
    int lanMss() {
        return mss;
    }

    /** {@link #lanMss()} in the family of the connection: minus 60 over IPv6. */
    int lanMss(boolean ipv6) {
        return ipv6 ? mss6 : mss;
    }

    /**
     * The largest segment payload toward the VM with {@code vmMac}: what one frame of its own port carries (a
     * {@code relay connect} port may carry more than the LAN MTU, which browsers bound), or the LAN MSS when the
     * port is unknown. The VM's own MSS bounds it further.
     */
    int segmentSizeToward(long vmMac) {
        return segmentSizeToward(vmMac, false);
    }

    /** {@link #segmentSizeToward(long)} for a connection of either family. */
    int segmentSizeToward(long vmMac, boolean ipv6) {
        int frameLimit = portFrameLimit.applyAsInt(vmMac);
        int ipHeader = ipv6 ? Ipv6Packet.HEADER_LENGTH : Ipv4Packet.MIN_HEADER_LENGTH;
        return frameLimit <= 0 ? lanMss(ipv6)
                : frameLimit - EthernetFrame.HEADER_LENGTH - ipHeader - TcpPacket.MIN_HEADER_LENGTH;
    }

    /** Where {@link #segmentSizeToward} learns each VM port's frame limit (0: unknown). On the loop. */
    public void usePortFrameLimits(LongToIntFunction limits) {
        this.portFrameLimit = limits;
    }
}

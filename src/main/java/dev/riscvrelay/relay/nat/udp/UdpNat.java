package dev.riscvrelay.relay.nat.udp;

import dev.riscvrelay.relay.lan.FrameSink;
import dev.riscvrelay.relay.lan.NanoClock;
import dev.riscvrelay.relay.metrics.Counter;
import dev.riscvrelay.relay.metrics.Counters;
import dev.riscvrelay.relay.nat.DatagramFlow;
import dev.riscvrelay.relay.nat.FlowAddresses;
import dev.riscvrelay.relay.nat.FlowKey;
import dev.riscvrelay.relay.nat.FlowSet;
import dev.riscvrelay.relay.nat.HostBudget;
import dev.riscvrelay.relay.nat.NatConfig;
import dev.riscvrelay.relay.nat.VmFrames;
import dev.riscvrelay.relay.wire.EthernetFrame;
import dev.riscvrelay.relay.wire.Ipv4Address;
import dev.riscvrelay.relay.wire.Icmpv6Packet;
import dev.riscvrelay.relay.wire.Ipv4Packet;
import dev.riscvrelay.relay.wire.Ipv6Packet;
import dev.riscvrelay.relay.wire.ParseResult;
import dev.riscvrelay.relay.wire.UdpPacket;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelFuture;
import io.netty.channel.EventLoop;
import io.netty.channel.IoEventLoop;
import io.netty.channel.epoll.EpollDatagramChannel;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.socket.DatagramChannel;
import io.netty.channel.socket.nio.NioDatagramChannel;
import java.net.InetSocketAddress;
import java.net.NoRouteToHostException;
import java.net.PortUnreachableException;

/**
 * UDP NAT: one connected host datagram socket per flow (VM address, VM port, destination address, destination
 * port), IPv4 or IPv6 alike. The VM's payload is written to the socket; what the socket reads comes back to the VM as
 * an Ethernet/IP/UDP frame from the original destination. A closed destination port (the kernel reports
 * ECONNREFUSED on the connected socket) becomes an ICMP (or ICMPv6) port unreachable to the VM.
 *
 * <p>A datagram a VM sent in IPv4 fragments arrives here whole (the gateway reassembles it); IPv6 fragments are
 * dropped and counted before they get here. A reply larger than one frame to the VM carries
 * (the LAN MTU) goes to the VM in fragments: IPv4 ones as a router forwards a datagram onto a smaller link, IPv6 ones
 * as a source fragments (the NAT is the source of the packet the VM gets; the outside host never sees the VM's MTU).
 *
 * <p>Owned by one event loop; every method runs on it.
 */
public final class UdpNat {

    private static final int DNS_PORT = 53;
    /** The largest UDP payload an IPv4 datagram carries: 65,535 less the IPv4 and UDP headers. */
    public static final int MAX_IPV4_UDP_DATA = 0xFFFF - Ipv4Packet.MIN_HEADER_LENGTH - UdpPacket.HEADER_LENGTH;
    /** The largest UDP payload an IPv6 datagram carries without a jumbogram: 65,535 less the UDP header. */
    static final int MAX_IPV6_UDP_DATA = 0xFFFF - UdpPacket.HEADER_LENGTH;

    private final NatConfig config;
    private final VmFrames frames;
    private final FrameSink sink;
    private final Counters counters;
    private final NanoClock clock;
    private final EventLoop loop;
    private final boolean epoll;
    private final FlowSet<UdpFlow> flows;
    private final UdpPacket udp = new UdpPacket();
    private final int maxReplyData;
    private final int maxReplyData6;
    /** Whether the last {@link #open} failed for want of a route (ENETUNREACH on connect). */
    private boolean noRoute;

    public UdpNat(NatConfig config, VmFrames frames, FrameSink sink, Counters counters, NanoClock clock,
            EventLoop loop) {
        this(config, frames, sink, counters, clock, loop, HostBudget.unlimitedShare());
    }

    /** With host sockets from a network's share of the relay's budget. */
    public UdpNat(NatConfig config, VmFrames frames, FrameSink sink, Counters counters, NanoClock clock,
            EventLoop loop, HostBudget.Share budget) {
        this.config = config;
        this.frames = frames;
        this.sink = sink;
        this.counters = counters;
        this.clock = clock;
        this.loop = loop;
        this.epoll = loop instanceof IoEventLoop ioLoop && ioLoop.isIoType(EpollIoHandler.class);
        this.flows = new FlowSet<>(config.udpMaxFlowsPerVm(), config.udpMaxFlows(), budget, counters,
                Counter.DROP_NAT_UDP_VM_LIMIT, Counter.DROP_NAT_UDP_TABLE_FULL, Counter.NAT_UDP_FLOWS_EXPIRED);
        this.maxReplyData = frames.maxIpPayload() - UdpPacket.HEADER_LENGTH;
        this.maxReplyData6 = frames.maxIpPayload() - (Ipv6Packet.HEADER_LENGTH - Ipv4Packet.MIN_HEADER_LENGTH)
                - UdpPacket.HEADER_LENGTH;
    }

    /**
     * Carries one unfragmented UDP datagram from a VM to the outside. The caller has checked the egress policy and
     * keeps its reference to the frame; the payload is retained, not copied.
     */
    public void onDatagram(EthernetFrame ethernet, Ipv4Packet ip) {
        ByteBuf buf = ip.buffer();
        if (udp.wrap(buf, ip.payloadOffset(), ip.payloadLength()) != ParseResult.OK
                || !udp.checksumValid(ip.source(), ip.destination())
                || udp.destinationPort() == 0 || udp.sourcePort() == 0) {
            counters.increment(Counter.DROP_NAT_BAD_PACKET);
            return;
        }
        long now = clock.nanoTime();
        long high = FlowKey.high(ip.source(), ip.destination());
        long low = FlowKey.low(udp.sourcePort(), udp.destinationPort());
        UdpFlow flow = flows.get(high, low);
        if (flow == null) {
            if (!flows.admit(ethernet.source())) {
                return;
            }
            flow = open(ethernet.source(), FlowAddresses.ipv4(ip.source(), ip.destination()), high, low, 0, 0, now);
            if (flow == null) {
                return;
            }
        }
        carry(flow, buf, ip.offset(), VmFrames.quoteLength(ip), now);
    }

    /**
     * Carries one UDP datagram from a VM in an IPv6 packet (next header UDP, source in the LAN's /64) to the outside;
     * the caller has checked the egress policy and keeps the frame.
     *
     * @return -1, or the ICMPv6 destination unreachable code the gateway answers with (no route: the host has none)
     */
    public int onDatagram6(EthernetFrame ethernet, Ipv6Packet ip) {
        ByteBuf buf = ip.buffer();
        if (udp.wrap(buf, ip.payloadOffset(), ip.payloadLength()) != ParseResult.OK
                || !udp.checksumValidOverIpv6(ip.sourceHigh(), ip.sourceLow(), ip.destinationHigh(),
                        ip.destinationLow())
                || udp.destinationPort() == 0 || udp.sourcePort() == 0) {
            counters.increment(Counter.DROP_NAT_BAD_PACKET);
            return -1;
        }
        long now = clock.nanoTime();
        long high = ip.sourceLow();
        long low = FlowKey.low6(udp.sourcePort(), udp.destinationPort());
        long high6 = ip.destinationHigh();
        long low6 = ip.destinationLow();
        UdpFlow flow = flows.get(high, low, high6, low6);
        if (flow == null) {
            if (!flows.admit(ethernet.source())) {
                return -1;
            }
            flow = open(ethernet.source(), FlowAddresses.ipv6(ip.sourceHigh(), ip.sourceLow(), high6, low6), high,
                    low, high6, low6, now);
            if (flow == null) {
                return noRoute ? Icmpv6Packet.CODE_NO_ROUTE : -1;
            }
        }
        carry(flow, buf, ip.offset(), Math.min(VmFrames.IPV6_QUOTE, Ipv6Packet.HEADER_LENGTH + ip.payloadLength()),
                now);
        return -1;
    }

    /** Writes the datagram {@link #udp} views to the flow's socket, remembering the quote for a port unreachable. */
    private void carry(UdpFlow flow, ByteBuf buf, int ipOffset, int quoteLength, long now) {
        if (!flow.channel().isWritable()) {
            counters.increment(Counter.DROP_NAT_SOCKET_BUSY);
            return;
        }
        flow.touch(now);
        flow.lastQuoteLength = quoteLength;
        flow.lastQuote.setBytes(0, buf, ipOffset, quoteLength);
        counters.increment(Counter.NAT_UDP_DATAGRAMS_OUT);
        flow.channel().writeAndFlush(buf.retainedSlice(udp.dataOffset(), udp.dataLength()),
                flow.channel().voidPromise());
    }

    /** Opens the flow of {@link #udp}'s datagram, admitted just before; null (counted) when its socket fails. */
    private UdpFlow open(long vmMac, FlowAddresses addresses, long high, long low, long high6, long low6, long now) {
        noRoute = false;
        int destinationPort = udp.destinationPort();
        long idle = (destinationPort == DNS_PORT ? config.udpDnsIdleTimeout() : config.udpIdleTimeout()).toNanos();
        UdpFlow flow = new UdpFlow(this, flows, high, low, high6, low6, vmMac, addresses, udp.sourcePort(),
                destinationPort, idle, now);
        flows.add(flow);
        DatagramChannel channel = epoll ? new EpollDatagramChannel() : new NioDatagramChannel();
        // Any datagram whole: one larger than a frame goes to the VM in fragments.
        flow.attach(channel, addresses.ipv6() ? MAX_IPV6_UDP_DATA : MAX_IPV4_UDP_DATA, loop);
        ChannelFuture connected = channel.connect(new InetSocketAddress(addresses.remoteInetAddress(),
                destinationPort));
        if (connected.isDone() && !connected.isSuccess()) {
            // A datagram connect only picks a route: ENETUNREACH (no route) is known at once.
            noRoute = connected.cause() instanceof NoRouteToHostException;
            onSocketError(flow, connected.cause());
            flow.close();
            return null;
        }
        counters.increment(Counter.NAT_UDP_FLOWS_OPENED);
        return flow;
    }

    void onReply(UdpFlow flow, ByteBuf data) {
        if (flow.isClosed()) {
            return;
        }
        flow.touch(clock.nanoTime()); // before the frame leaves: whoever sees it sees the flow used
        if (!flow.addresses.ipv6()) {
            sendToVm(flow.vmMac, flow.addresses.remoteIpv4(), flow.destinationPort, flow.addresses.vmIpv4(),
                    flow.vmPort, data);
            return;
        }
        int length = data.readableBytes();
        if (length > maxReplyData6) {
            sendFragmented6(flow, data);
            return;
        }
        int udpLength = UdpPacket.HEADER_LENGTH + length;
        ByteBuf frame = frames.newFrame(flow.vmMac, flow.addresses, Ipv6Packet.NEXT_HEADER_UDP, udpLength);
        int at = frame.readerIndex() + VmFrames.IPV6_PAYLOAD_OFFSET;
        UdpPacket.writeHeader(frame, at, flow.destinationPort, flow.vmPort, udpLength);
        frame.setBytes(at + UdpPacket.HEADER_LENGTH, data, data.readerIndex(), length);
        UdpPacket.fillChecksum(frame, at, udpLength,
                flow.addresses.pseudoHeaderSumToVm(Ipv6Packet.NEXT_HEADER_UDP, udpLength));
        counters.increment(Counter.NAT_UDP_DATAGRAMS_IN);
        sink.emit(frame);
    }

    /**
     * Sends {@code data} (its readable bytes, not consumed) to a VM as one UDP datagram from
     * {@code source:sourcePort}, counted as a datagram in: a flow's reply, or a datagram a forward carries from
     * outside. One larger than a LAN frame carries goes in IPv4 fragments. Returns false, counted, only for more
     * than an IPv4 datagram holds.
     */
    public boolean sendToVm(long vmMac, int source, int sourcePort, int vmAddress, int vmPort, ByteBuf data) {
        int length = data.readableBytes();
        if (length > maxReplyData) {
            return sendFragmented(vmMac, source, sourcePort, vmAddress, vmPort, data);
        }
        int udpLength = UdpPacket.HEADER_LENGTH + length;
        ByteBuf frame = frames.newFrame(vmMac, source, vmAddress, Ipv4Packet.PROTOCOL_UDP, udpLength);
        int udpOffset = frame.readerIndex() + VmFrames.IP_PAYLOAD_OFFSET;
        UdpPacket.writeHeader(frame, udpOffset, sourcePort, vmPort, udpLength);
        frame.setBytes(udpOffset + UdpPacket.HEADER_LENGTH, data, data.readerIndex(), length);
        UdpPacket.fillChecksum(frame, udpOffset, udpLength, source, vmAddress);
        counters.increment(Counter.NAT_UDP_DATAGRAMS_IN);
        sink.emit(frame);
        return true;
    }

    /** The whole datagram (its checksum covers all of it) built once, then cut into fragments: rare, one copy more. */
    private boolean sendFragmented(long vmMac, int source, int sourcePort, int vmAddress, int vmPort, ByteBuf data) {
        if (data.readableBytes() > MAX_IPV4_UDP_DATA) {
            counters.increment(Counter.DROP_NAT_REPLY_TOO_LARGE);
            return false;
        }
        ByteBuf datagram = wholeDatagram(sourcePort, vmPort, data);
        try {
            UdpPacket.fillChecksum(datagram, 0, datagram.readableBytes(), source, vmAddress);
            countFragmented(frames.emitFragments(vmMac, source, vmAddress, Ipv4Packet.PROTOCOL_UDP, datagram, 0,
                    datagram.readableBytes(), sink));
        } finally {
            datagram.release();
        }
        return true;
    }

    /** As {@link #sendFragmented}, in IPv6 fragments; the flow's socket reads no more than a datagram carries. */
    private void sendFragmented6(UdpFlow flow, ByteBuf data) {
        ByteBuf datagram = wholeDatagram(flow.destinationPort, flow.vmPort, data);
        try {
            int udpLength = datagram.readableBytes();
            UdpPacket.fillChecksum(datagram, 0, udpLength,
                    flow.addresses.pseudoHeaderSumToVm(Ipv6Packet.NEXT_HEADER_UDP, udpLength));
            countFragmented(frames.emitFragments6(flow.vmMac, flow.addresses, Ipv6Packet.NEXT_HEADER_UDP, datagram, 0,
                    udpLength, sink));
        } finally {
            datagram.release();
        }
    }

    /** A UDP header and {@code data} in a buffer of their own, the checksum left to fill. */
    private static ByteBuf wholeDatagram(int sourcePort, int destinationPort, ByteBuf data) {
        int udpLength = UdpPacket.HEADER_LENGTH + data.readableBytes();
        ByteBuf datagram = data.alloc().directBuffer(udpLength);
        datagram.writerIndex(udpLength);
        UdpPacket.writeHeader(datagram, 0, sourcePort, destinationPort, udpLength);
        datagram.setBytes(UdpPacket.HEADER_LENGTH, data, data.readerIndex(), data.readableBytes());
        return datagram;
    }

    private void countFragmented(int fragments) {
        counters.increment(Counter.NAT_UDP_DATAGRAMS_IN);
        counters.increment(Counter.NAT_UDP_DATAGRAMS_FRAGMENTED);
        counters.add(Counter.NAT_UDP_FRAGMENTS_IN, fragments);
    }

    void onSocketError(UdpFlow flow, Throwable cause) {
        if (cause instanceof PortUnreachableException && !flow.isClosed() && flow.lastQuoteLength > 0) {
            // The destination host answered ICMP port unreachable; tell the VM as that host would (RFC 792).
            counters.increment(Counter.NAT_UDP_PORT_UNREACHABLE);
            if (flow.addresses.ipv6()) {
                counters.increment(Counter.NAT_IPV6_UNREACHABLE);
                sink.emit(frames.destinationUnreachable6(flow.vmMac, flow.addresses, true,
                        Icmpv6Packet.CODE_PORT_UNREACHABLE, flow.lastQuote, 0, flow.lastQuoteLength));
            } else {
                sink.emit(frames.destinationUnreachable(flow.vmMac, flow.addresses.vmIpv4(),
                        flow.addresses.remoteIpv4(), VmFrames.CODE_PORT_UNREACHABLE, flow.lastQuote, 0,
                        flow.lastQuoteLength));
            }
            return;
        }
        counters.increment(Counter.DROP_NAT_SOCKET_ERROR);
    }

    /** Closes every flow idle longer than its timeout (60 s, or 10 s towards port 53 by default). */
    public void expireIdle() {
        flows.expireIdle(clock.nanoTime(), DatagramFlow::close);
    }

    /** Closes every flow. */
    public void closeAll() {
        flows.endAll(DatagramFlow::close);
    }

    public int flowCount() {
        return flows.size();
    }

    public int flowCount(long vmMac) {
        return flows.size(vmMac);
    }
}

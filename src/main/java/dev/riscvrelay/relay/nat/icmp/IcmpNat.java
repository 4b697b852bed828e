package dev.riscvrelay.relay.nat.icmp;

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
import dev.riscvrelay.relay.wire.IcmpPacket;
import dev.riscvrelay.relay.wire.Icmpv6Packet;
import dev.riscvrelay.relay.wire.Ipv4Packet;
import dev.riscvrelay.relay.wire.Ipv6Packet;
import dev.riscvrelay.relay.wire.ParseResult;
import io.netty.buffer.ByteBuf;
import io.netty.channel.EventLoop;
import io.netty.channel.IoEventLoop;
import io.netty.channel.epoll.EpollDatagramChannel;
import io.netty.channel.epoll.EpollIoHandler;

/**
 * ICMP NAT for echo requests from VMs to the outside, through unprivileged ping sockets (see {@link PingSockets}):
 * ICMP echo over IPv4, ICMPv6 echo (RFC 4443 section 4) over IPv6, each flow in the family the VM used.
 *
 * <p>One connected ping socket per (VM address, VM echo identifier, destination). The kernel gives each socket its
 * own identifier and hands it only replies from its destination with that identifier, so a reply needs no lookup
 * and maps back to exactly one VM conversation: the identifier is rewritten to the VM's, the sequence number and
 * payload stay as the destination sent them. One socket per VM would need the NAT to demultiplex replies by
 * (source, sequence) itself and would mix two pings from one VM to the same host. The cost is a socket per
 * destination, bounded per VM and in total and closed after an idle timeout.
 *
 * <p>The socket's file descriptor is wrapped in Netty's {@link EpollDatagramChannel} and registered with the NAT's
 * epoll event loop, so replies arrive on the loop like any other read: no poller thread. Hence ICMP NAT needs the
 * epoll transport, and is disabled (echo requests counted as dropped) when it is not in use or when the probe at
 * start finds ping sockets not allowed ({@code net.ipv4.ping_group_range}).
 *
 * <p>Owned by one event loop; every method but the constructor runs on it.
 */
public final class IcmpNat {

    private static final System.Logger LOG = System.getLogger(IcmpNat.class.getName());
    /** The largest echo message an IPv4 packet holds; replies read up to it and go to the VM in fragments. */
    static final int MAX_ICMP_MESSAGE = 0xFFFF - Ipv4Packet.MIN_HEADER_LENGTH;
    /** The largest ICMPv6 echo message an IPv6 packet holds without jumbograms. */
    static final int MAX_ICMPV6_MESSAGE = 0xFFFF;

    private final NatConfig config;
    private final VmFrames frames;
    private final FrameSink sink;
    private final Counters counters;
    private final NanoClock clock;
    private final EventLoop loop;
    private final FlowSet<IcmpFlow> flows;
    private final IcmpPacket icmp = new IcmpPacket();
    private final Icmpv6Packet icmp6 = new Icmpv6Packet();
    private final String disabledReason;
    /** The errno with which the last {@link #open} failed, or 0. */
    private int openErrno;

    /** Probes for ping sockets now; when unavailable, logs one warning and disables ICMP NAT. */
    public IcmpNat(NatConfig config, VmFrames frames, FrameSink sink, Counters counters, NanoClock clock,
            EventLoop loop) {
        this(config, frames, sink, counters, clock, loop, HostBudget.unlimitedShare());
    }

    /** With host sockets from a network's share of the relay's budget. */
    public IcmpNat(NatConfig config, VmFrames frames, FrameSink sink, Counters counters, NanoClock clock,
            EventLoop loop, HostBudget.Share budget) {
        this.config = config;
        this.frames = frames;
        this.sink = sink;
        this.counters = counters;
        this.clock = clock;
        this.loop = loop;
        this.flows = new FlowSet<>(config.icmpMaxFlowsPerVm(), config.icmpMaxFlows(), budget, counters,
                Counter.DROP_NAT_ICMP_VM_LIMIT, Counter.DROP_NAT_ICMP_TABLE_FULL, Counter.NAT_ICMP_FLOWS_EXPIRED);
        String reason = null;
        if (!(loop instanceof IoEventLoop ioLoop && ioLoop.isIoType(EpollIoHandler.class))) {
            reason = "the NAT's event loop is not an epoll loop (ping sockets are registered with epoll)";
        } else {
            reason = PingSockets.probe();
        }
        this.disabledReason = reason;
        if (reason != null) {
            LOG.log(System.Logger.Level.WARNING, "ICMP NAT disabled, pings from VMs to the outside are dropped: "
                    + reason);
        }
    }

    public boolean enabled() {
        return disabledReason == null;
    }

    /** Why ICMP NAT is disabled, or null. */
    public String disabledReason() {
        return disabledReason;
    }

    /**
     * Carries one unfragmented ICMP message from a VM to the outside: echo requests only. The caller has checked
     * the egress policy and keeps its reference to the frame.
     */
    public void onIcmp(EthernetFrame ethernet, Ipv4Packet ip) {
        ByteBuf buf = ip.buffer();
        if (icmp.wrap(buf, ip.payloadOffset(), ip.payloadLength()) != ParseResult.OK) {
            counters.increment(Counter.DROP_NAT_BAD_PACKET);
            return;
        }
        if (icmp.type() != IcmpPacket.TYPE_ECHO_REQUEST || icmp.code() != 0) {
            counters.increment(Counter.DROP_NAT_UNSUPPORTED);
            return;
        }
        if (disabledReason != null) {
            counters.increment(Counter.DROP_NAT_ICMP_DISABLED);
            return;
        }
        long now = clock.nanoTime();
        long high = FlowKey.high(ip.source(), ip.destination());
        long low = icmp.identifier();
        IcmpFlow flow = flows.get(high, low);
        if (flow == null) {
            if (!flows.admit(ethernet.source())) {
                return;
            }
            flow = open(ethernet.source(), FlowAddresses.ipv4(ip.source(), ip.destination()), icmp.identifier(), high,
                    low, 0, 0, now);
            if (flow == null) {
                return;
            }
        }
        send(flow, buf, icmp.offset(), icmp.length(), now);
    }

    /**
     * Carries one ICMPv6 message from a VM in an IPv6 packet (next header ICMPv6, source in the LAN's /64) to the
     * outside: echo requests only. The caller has checked the egress policy and keeps the frame.
     *
     * @return -1, or the ICMPv6 destination unreachable code the gateway answers with (the host has no route)
     */
    public int onIcmp6(EthernetFrame ethernet, Ipv6Packet ip) {
        ParseResult parsed = icmp6.wrap(ip);
        if (parsed != ParseResult.OK || !icmp6.hasEchoHeader()) {
            counters.increment(Counter.DROP_NAT_BAD_PACKET);
            return -1;
        }
        if (icmp6.type() != Icmpv6Packet.TYPE_ECHO_REQUEST || icmp6.code() != 0) {
            counters.increment(Counter.DROP_NAT_UNSUPPORTED);
            return -1;
        }
        if (disabledReason != null) {
            counters.increment(Counter.DROP_NAT_ICMP_DISABLED);
            return -1;
        }
        long now = clock.nanoTime();
        long high = ip.sourceLow();
        long low = FlowKey.low6(0, icmp6.identifier());
        long high6 = ip.destinationHigh();
        long low6 = ip.destinationLow();
        IcmpFlow flow = flows.get(high, low, high6, low6);
        if (flow == null) {
            if (!flows.admit(ethernet.source())) {
                return -1;
            }
            flow = open(ethernet.source(), FlowAddresses.ipv6(ip.sourceHigh(), ip.sourceLow(), high6, low6),
                    icmp6.identifier(), high, low, high6, low6, now);
            if (flow == null) {
                return openErrno == PingSockets.ENETUNREACH ? Icmpv6Packet.CODE_NO_ROUTE
                        : openErrno == PingSockets.EHOSTUNREACH ? Icmpv6Packet.CODE_ADDRESS_UNREACHABLE : -1;
            }
        }
        send(flow, ip.buffer(), icmp6.offset(), icmp6.length(), now);
        return -1;
    }

    private void send(IcmpFlow flow, ByteBuf buf, int offset, int length, long now) {
        if (!flow.channel().isWritable()) {
            counters.increment(Counter.DROP_NAT_SOCKET_BUSY);
            return;
        }
        flow.touch(now);
        counters.increment(Counter.NAT_ICMP_ECHO_OUT);
        // The kernel replaces identifier and checksum; type, code, sequence and data go out as the VM sent them.
        flow.channel().writeAndFlush(buf.retainedSlice(offset, length), flow.channel().voidPromise());
    }

    /** Opens the flow, admitted just before; null (counted, errno in {@link #openErrno}) when the socket fails. */
    private IcmpFlow open(long vmMac, FlowAddresses addresses, int vmIdentifier, long high, long low, long high6,
            long low6, long now) {
        openErrno = 0;
        int fd;
        try {
            fd = addresses.ipv6() ? PingSockets.openConnected6(addresses.remoteHigh(), addresses.remoteLow())
                    : PingSockets.openConnected(addresses.remoteIpv4());
        } catch (PingSockets.PingSocketException e) {
            flows.cancel(vmMac);
            openErrno = e.errno();
            counters.increment(Counter.DROP_NAT_SOCKET_ERROR);
            return null;
        }
        IcmpFlow flow = new IcmpFlow(this, flows, high, low, high6, low6, vmMac, addresses, vmIdentifier,
                config.icmpIdleTimeout().toNanos(), now);
        flows.add(flow);
        // Netty owns and closes the fd from here.
        flow.attach(new EpollDatagramChannel(fd), addresses.ipv6() ? MAX_ICMPV6_MESSAGE : MAX_ICMP_MESSAGE, loop);
        counters.increment(Counter.NAT_ICMP_FLOWS_OPENED);
        return flow;
    }

    void onReply(IcmpFlow flow, ByteBuf message) {
        int length = message.readableBytes();
        boolean ipv6 = flow.addresses.ipv6();
        int replyType = ipv6 ? Icmpv6Packet.TYPE_ECHO_REPLY : IcmpPacket.TYPE_ECHO_REPLY;
        if (flow.isClosed() || length < IcmpPacket.HEADER_LENGTH
                || message.getUnsignedByte(message.readerIndex()) != replyType) {
            counters.increment(Counter.DROP_NAT_BAD_PACKET);
            return;
        }
        if (length > (ipv6 ? MAX_ICMPV6_MESSAGE : MAX_ICMP_MESSAGE)) {
            // The read filled the socket's limit plus one: more than an IP packet holds, so not whole.
            counters.increment(Counter.DROP_NAT_REPLY_TOO_LARGE);
            return;
        }
        flow.touch(clock.nanoTime());
        counters.increment(Counter.NAT_ICMP_ECHO_IN);
        if (length > frames.maxIpPayload(flow.addresses)) {
            sendFragmented(flow, message, length);
            return;
        }
        ByteBuf frame = frames.newFrame(flow.vmMac, flow.addresses,
                ipv6 ? Ipv6Packet.NEXT_HEADER_ICMPV6 : Ipv4Packet.PROTOCOL_ICMP, length);
        int at = frame.readerIndex() + VmFrames.ipPayloadOffset(flow.addresses);
        frame.setBytes(at, message, message.readerIndex(), length);
        toVm(flow, frame, at, length);
        sink.emit(frame);
    }

    /**
     * A reply larger than the LAN MTU (a VM behind a TAP of a larger MTU than the LAN's, pinging with a large
     * payload) goes in IP fragments, as {@link dev.riscvrelay.relay.nat.udp.UdpNat} sends large datagrams: the whole
     * message built once (its checksum covers all of it), then cut. Rare, one copy more.
     */
    private void sendFragmented(IcmpFlow flow, ByteBuf message, int length) {
        ByteBuf whole = message.alloc().directBuffer(length);
        try {
            whole.writeBytes(message, message.readerIndex(), length);
            toVm(flow, whole, 0, length);
            FlowAddresses a = flow.addresses;
            int fragments = a.ipv6()
                    ? frames.emitFragments6(flow.vmMac, a, Ipv6Packet.NEXT_HEADER_ICMPV6, whole, 0, length, sink)
                    : frames.emitFragments(flow.vmMac, a.remoteIpv4(), a.vmIpv4(), Ipv4Packet.PROTOCOL_ICMP, whole,
                            0, length, sink);
            counters.increment(Counter.NAT_ICMP_ECHO_FRAGMENTED);
            counters.add(Counter.NAT_ICMP_FRAGMENTS_IN, fragments);
        } finally {
            whole.release();
        }
    }

    /**
     * Turns the echo reply of {@code length} bytes at absolute {@code at} of {@code buf} into the VM's: back to the
     * VM's identifier, and the checksum recomputed over the whole message (RFC 792), for ICMPv6 with the
     * pseudo-header of the packet to the VM (RFC 4443 section 2.3).
     */
    private static void toVm(IcmpFlow flow, ByteBuf buf, int at, int length) {
        buf.setShort(at + 4, flow.vmIdentifier);
        buf.setShort(at + 2, 0);
        if (flow.addresses.ipv6()) {
            FlowAddresses a = flow.addresses;
            Icmpv6Packet.fillChecksum(buf, at, length, a.remoteHigh(), a.remoteLow(), a.vmHigh(), a.vmLow());
        } else {
            IcmpPacket.fillChecksum(buf, at, length);
        }
    }

    void onSocketError(IcmpFlow flow, Throwable cause) {
        // E.g. EHOSTUNREACH after an ICMP error for a connected ping socket; the VM's ping times out as usual.
        counters.increment(Counter.DROP_NAT_SOCKET_ERROR);
    }

    /** Closes every flow idle longer than the ICMP idle timeout. */
    public void expireIdle() {
        flows.expireIdle(clock.nanoTime(), DatagramFlow::close);
    }

    public void closeAll() {
        flows.endAll(DatagramFlow::close);
    }

    public int flowCount() {
        return flows.size();
    }

    /** Open echo flows of the VM with this MAC. */
    public int flowCount(long vmMac) {
        return flows.size(vmMac);
    }
}

package dev.riscvrelay.relay.nat.icmp;

import dev.riscvrelay.relay.lan.FrameSink;
import dev.riscvrelay.relay.lan.NanoClock;
import dev.riscvrelay.relay.metrics.Counter;
import dev.riscvrelay.relay.metrics.Counters;
import dev.riscvrelay.relay.nat.DatagramFlow;
import dev.riscvrelay.relay.nat.FlowKey;
import dev.riscvrelay.relay.nat.FlowSet;
import dev.riscvrelay.relay.nat.HostBudget;
import dev.riscvrelay.relay.nat.NatConfig;
import dev.riscvrelay.relay.nat.VmFrames;
import dev.riscvrelay.relay.wire.EthernetFrame;
import dev.riscvrelay.relay.wire.IcmpPacket;
import dev.riscvrelay.relay.wire.Ipv4Packet;
import dev.riscvrelay.relay.wire.ParseResult;
import io.netty.buffer.ByteBuf;
import io.netty.channel.EventLoop;
import io.netty.channel.IoEventLoop;
import io.netty.channel.epoll.EpollDatagramChannel;
import io.netty.channel.epoll.EpollIoHandler;

/**
 * ICMP NAT for echo requests from VMs to the outside, through unprivileged ping sockets (see {@link PingSockets}).
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

    private final NatConfig config;
    private final VmFrames frames;
    private final FrameSink sink;
    private final Counters counters;
    private final NanoClock clock;
    private final EventLoop loop;
    private final FlowSet<IcmpFlow> flows;
    private final IcmpPacket icmp = new IcmpPacket();
    private final String disabledReason;

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
            flow = open(ethernet.source(), ip.source(), icmp.identifier(), ip.destination(), high, low, now);
            if (flow == null) {
                return;
            }
        }
        if (!flow.channel().isWritable()) {
            counters.increment(Counter.DROP_NAT_SOCKET_BUSY);
            return;
        }
        flow.touch(now);
        counters.increment(Counter.NAT_ICMP_ECHO_OUT);
        // The kernel replaces identifier and checksum; type, code, sequence and data go out as the VM sent them.
        flow.channel().writeAndFlush(buf.retainedSlice(icmp.offset(), icmp.length()), flow.channel().voidPromise());
    }

    private IcmpFlow open(long vmMac, int vmAddress, int vmIdentifier, int destination, long high, long low,
            long now) {
        if (!flows.admit(vmMac)) {
            return null;
        }
        int fd;
        try {
            fd = PingSockets.openConnected(destination);
        } catch (PingSockets.PingSocketException e) {
            flows.cancel(vmMac);
            counters.increment(Counter.DROP_NAT_SOCKET_ERROR);
            return null;
        }
        IcmpFlow flow = new IcmpFlow(this, flows, high, low, vmMac, vmAddress, vmIdentifier, destination,
                config.icmpIdleTimeout().toNanos(), now);
        flows.add(flow);
        // Netty owns and closes the fd from here.
        flow.attach(new EpollDatagramChannel(fd), frames.maxIpPayload(), loop);
        counters.increment(Counter.NAT_ICMP_FLOWS_OPENED);
        return flow;
    }

    void onReply(IcmpFlow flow, ByteBuf message) {
        int length = message.readableBytes();
        if (flow.isClosed() || length < IcmpPacket.HEADER_LENGTH
                || message.getUnsignedByte(message.readerIndex()) != IcmpPacket.TYPE_ECHO_REPLY) {
            counters.increment(Counter.DROP_NAT_BAD_PACKET);
            return;
        }
        if (length > frames.maxIpPayload()) {
            counters.increment(Counter.DROP_NAT_REPLY_TOO_LARGE);
            return;
        }
        flow.touch(clock.nanoTime());
        ByteBuf frame = frames.newFrame(flow.vmMac, flow.destinationAddress, flow.vmAddress,
                Ipv4Packet.PROTOCOL_ICMP, length);
        int at = frame.readerIndex() + VmFrames.IP_PAYLOAD_OFFSET;
        frame.setBytes(at, message, message.readerIndex(), length);
        // Back to the VM's identifier; the checksum is recomputed over the whole message (RFC 792).
        frame.setShort(at + 4, flow.vmIdentifier);
        frame.setShort(at + 2, 0);
        IcmpPacket.fillChecksum(frame, at, length);
        counters.increment(Counter.NAT_ICMP_ECHO_IN);
        sink.emit(frame);
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

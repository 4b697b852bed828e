package dev.riscvrelay.relay.nat;

import dev.riscvrelay.relay.lan.FrameSink;
import dev.riscvrelay.relay.lan.NanoClock;
import dev.riscvrelay.relay.lan.NetworkConfig;
import dev.riscvrelay.relay.metrics.Counter;
import dev.riscvrelay.relay.metrics.Counters;
import dev.riscvrelay.relay.nat.icmp.IcmpNat;
import dev.riscvrelay.relay.nat.tcp.TcpConfig;
import dev.riscvrelay.relay.nat.tcp.TcpNat;
import dev.riscvrelay.relay.nat.udp.UdpNat;
import dev.riscvrelay.relay.wire.EthernetFrame;
import dev.riscvrelay.relay.wire.IcmpPacket;
import dev.riscvrelay.relay.wire.Ipv4Address;
import dev.riscvrelay.relay.wire.Icmpv6Packet;
import dev.riscvrelay.relay.wire.Ipv4Packet;
import dev.riscvrelay.relay.wire.Ipv6Packet;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.EventLoop;
import java.util.List;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * The NAT: where the gateway hands IPv4 and IPv6 packets from VMs that are not for the gateway itself. It applies the
 * egress policy of the packet's family (a denied IPv4 packet is answered with ICMP destination unreachable, code 13,
 * from the gateway; for a denied IPv6 packet the gateway answers ICMPv6 code 1, rate limited) and passes UDP to
 * {@link UdpNat}, ICMP (or ICMPv6) echo to {@link IcmpNat} and TCP to {@link TcpNat}: one flow table per protocol
 * for both families, with the same limits and counters. Replies and errors leave through the {@link FrameSink}.
 *
 * <p>Owned by one event loop (the switch's): {@link #onPacket}, {@link #expireIdle} and {@link #close} run on it.
 */
public final class Nat implements AutoCloseable {

    /** How often idle flows are looked for; timeouts are seconds long, so a second of slack is fine. */
    public static final long SWEEP_INTERVAL_MILLIS = 1000;

    /** What {@link #onPacket6} returns when there is nothing for the gateway to answer. */
    public static final int IPV6_HANDLED = -1;

    private final EgressPolicy policy;
    private final Ipv6EgressPolicy policy6;
    private final EventLoop loop;
    private final FrameSink sink;
    private final Counters counters;
    private final VmFrames frames;
    private final UdpNat udp;
    private final IcmpNat icmp;
    private final TcpNat tcp;
    private ScheduledFuture<?> sweeper;

    /** Builds the NAT; probes for ping sockets (a warning when not allowed). Any thread. */
    public Nat(NetworkConfig network, NatConfig config, EgressPolicy policy, EventLoop loop, FrameSink sink,
            Counters counters, NanoClock clock, ByteBufAllocator allocator) {
        this(network, config, TcpConfig.defaults(), policy, loop, sink, counters, clock, allocator);
    }

    /** The NAT with TCP limits, timeouts and buffers of its own. Any thread. */
    public Nat(NetworkConfig network, NatConfig config, TcpConfig tcpConfig, EgressPolicy policy, EventLoop loop,
            FrameSink sink, Counters counters, NanoClock clock, ByteBufAllocator allocator) {
        this(network, config, tcpConfig, policy, loop, sink, counters, clock, allocator,
                HostBudget.unlimitedShare());
    }

    /**
     * A network's NAT, its host sockets and TCP buffers drawn from the network's share of the relay's budget; IPv6
     * destinations are judged by the default IPv6 policy alone (no operator rules, no host addresses).
     */
    public Nat(NetworkConfig network, NatConfig config, TcpConfig tcpConfig, EgressPolicy policy, EventLoop loop,
            FrameSink sink, Counters counters, NanoClock clock, ByteBufAllocator allocator, HostBudget.Share budget) {
        this(network, config, tcpConfig, policy, Ipv6EgressPolicy.create(EgressRules.NONE, List.of()), loop, sink,
                counters, clock, allocator, budget);
    }

    /** A network's NAT with an IPv6 egress policy of its own ({@code --allow}/{@code --deny} IPv6 prefixes). */
    public Nat(NetworkConfig network, NatConfig config, TcpConfig tcpConfig, EgressPolicy policy,
            Ipv6EgressPolicy policy6, EventLoop loop, FrameSink sink, Counters counters, NanoClock clock,
            ByteBufAllocator allocator, HostBudget.Share budget) {
        this.policy = policy;
        this.policy6 = policy6;
        this.loop = loop;
        this.sink = sink;
        this.counters = counters;
        this.frames = new VmFrames(allocator, network, config);
        this.udp = new UdpNat(config, frames, sink, counters, clock, loop, budget);
        this.icmp = new IcmpNat(config, frames, sink, counters, clock, loop, budget);
        this.tcp = new TcpNat(network, tcpConfig, frames, sink, counters, clock, loop, budget);
    }

    /** Starts the periodic idle sweep on the event loop. Any thread. */
    public void start() {
        sweeper = loop.scheduleAtFixedRate(this::expireIdle, SWEEP_INTERVAL_MILLIS, SWEEP_INTERVAL_MILLIS,
                TimeUnit.MILLISECONDS);
    }

    /**
     * Handles one IPv4 packet from a VM addressed beyond the gateway. The caller keeps its reference to the frame
     * (and releases it afterwards); whatever the NAT needs beyond this call it retains. Both views must be wrapped
     * and valid ({@code ip} inside {@code ethernet}'s buffer), and {@code ip} no fragment: the gateway drops those
     * before any handler sees them.
     */
    public void onPacket(EthernetFrame ethernet, Ipv4Packet ip) {
        int destination = ip.destination();
        if (!policy.allows(destination)) {
            counters.increment(Counter.NAT_EGRESS_DENIED);
            if (mayAnswerWithError(ethernet, ip)) {
                sink.emit(frames.destinationUnreachable(ethernet.source(), ip.source(),
                        frames.network().gatewayAddress(), VmFrames.CODE_ADMIN_PROHIBITED, ip.buffer(), ip.offset(),
                        VmFrames.quoteLength(ip)));
            }
            return;
        }
        switch (ip.protocol()) {
            case Ipv4Packet.PROTOCOL_UDP -> udp.onDatagram(ethernet, ip);
            case Ipv4Packet.PROTOCOL_ICMP -> icmp.onIcmp(ethernet, ip);
            case Ipv4Packet.PROTOCOL_TCP -> tcp.onSegment(ethernet, ip);
            default -> counters.increment(Counter.DROP_NAT_UNSUPPORTED);
        }
    }

    /**
     * Handles one IPv6 packet from a VM routed beyond the LAN (the gateway has checked: to its MAC, a unicast
     * destination outside the LAN's /64, not link-local). The caller keeps the frame. The packet's source must be
     * in the LAN's /64 (a flow's key holds only its low half), its next header TCP, UDP or ICMPv6: extension headers
     * are not walked (the gateway has put fragments back together).
     *
     * @return {@link #IPV6_HANDLED}, or the ICMPv6 destination unreachable code the gateway answers with:
     *     administratively prohibited when the policy denies the destination, no route when the host has none
     */
    public int onPacket6(EthernetFrame ethernet, Ipv6Packet ip) {
        if (ip.sourceHigh() != frames.network().ipv6Prefix()) {
            // A link-local source may not leave its link (RFC 4291 section 2.5.6); any other is not one of ours.
            counters.increment(Counter.DROP_NAT_IPV6_SOURCE);
            return IPV6_HANDLED;
        }
        if (!policy6.allows(ip.destinationHigh(), ip.destinationLow())) {
            counters.increment(Counter.NAT_EGRESS_DENIED);
            return Icmpv6Packet.CODE_ADMIN_PROHIBITED;
        }
        counters.increment(Counter.NAT_IPV6_PACKETS_OUT);
        switch (ip.nextHeader()) {
            case Ipv6Packet.NEXT_HEADER_UDP -> {
                return udp.onDatagram6(ethernet, ip);
            }
            case Ipv6Packet.NEXT_HEADER_ICMPV6 -> {
                return icmp.onIcmp6(ethernet, ip);
            }
            case Ipv6Packet.NEXT_HEADER_TCP -> {
                tcp.onSegment6(ethernet, ip);
                return IPV6_HANDLED;
            }
            default -> {
                // Extension headers (the gateway reassembled fragments before) and other protocols.
                counters.increment(Counter.DROP_NAT_UNSUPPORTED);
                return IPV6_HANDLED;
            }
        }
    }

    /**
     * RFC 1122 section 3.2.2: no ICMP error about an ICMP error, about a packet to a broadcast or multicast
     * address, or about a packet from an address that does not name one host.
     */
    private static boolean mayAnswerWithError(EthernetFrame ethernet, Ipv4Packet ip) {
        int destination = ip.destination();
        int source = ip.source();
        if (Ipv4Address.isMulticast(destination) || destination == Ipv4Address.BROADCAST
                || (ethernet.destination() & (1L << 40)) != 0) {
            return false;
        }
        if (source == 0 || Ipv4Address.isMulticast(source) || source == Ipv4Address.BROADCAST) {
            return false;
        }
        if (ip.protocol() == Ipv4Packet.PROTOCOL_ICMP && ip.payloadLength() >= 1) {
            int type = ip.buffer().getUnsignedByte(ip.payloadOffset());
            // Errors are 3, 4, 5, 11, 12; the queries (echo, timestamp...) may be answered.
            return type == IcmpPacket.TYPE_ECHO_REQUEST || type == IcmpPacket.TYPE_ECHO_REPLY || type == 13
                    || type == 14 || type == 15 || type == 16 || type == 17 || type == 18;
        }
        return true;
    }

    /** Closes flows idle past their timeout. Runs every {@link #SWEEP_INTERVAL_MILLIS} after {@link #start}. */
    public void expireIdle() {
        udp.expireIdle();
        icmp.expireIdle();
        tcp.expireIdle();
    }

    public UdpNat udp() {
        return udp;
    }

    public IcmpNat icmp() {
        return icmp;
    }

    public TcpNat tcp() {
        return tcp;
    }

    public EgressPolicy policy() {
        return policy;
    }

    public Ipv6EgressPolicy policy6() {
        return policy6;
    }

    /** Stops the sweep and closes every flow's socket. On the event loop. */
    @Override
    public void close() {
        if (sweeper != null) {
            sweeper.cancel(false);
        }
        udp.closeAll();
        icmp.closeAll();
        tcp.closeAll();
    }
}

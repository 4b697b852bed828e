package dev.riscvrelay.relay.gateway;

import dev.riscvrelay.relay.lan.NanoClock;
import dev.riscvrelay.relay.lan.NetworkConfig;
import dev.riscvrelay.relay.metrics.Counter;
import dev.riscvrelay.relay.metrics.Counters;
import dev.riscvrelay.relay.switching.Port;
import dev.riscvrelay.relay.switching.Switch;
import dev.riscvrelay.relay.wire.ArpPacket;
import dev.riscvrelay.relay.wire.EthernetFrame;
import dev.riscvrelay.relay.wire.Ipv4Address;
import dev.riscvrelay.relay.wire.Ipv4Packet;
import dev.riscvrelay.relay.wire.Ipv6Address;
import dev.riscvrelay.relay.wire.Ipv6Packet;
import dev.riscvrelay.relay.wire.MacAddress;
import dev.riscvrelay.relay.wire.ParseResult;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import java.util.Arrays;
import java.util.Objects;

/**
 * The virtual LAN's router, a {@link Port} like any member. It answers ARP for its addresses itself and offers
 * each valid IPv4 packet to its {@link IpHandler}s in order (ping now; DHCP, DNS and NAT plug in the same way), a
 * fragmented one once it has put it back together ({@link Ipv4Reassembly}).
 * On IPv6 it answers neighbour discovery and ping for its addresses and advertises itself as the router of the
 * LAN's /64 ({@link Ipv6Receiver}); fragments sent to it are put back together first ({@link Ipv6Reassembly}).
 * Frames for it that nothing handles are counted by reason; broadcast and multicast frames it does not handle are
 * ignored quietly, since the switch floods them all here.
 *
 * <p>Runs on the switch's event loop: no locks, and no allocation per frame beyond the reply buffers (the views
 * are reused). Replies are handed to {@link Switch#forward} from inside {@link #send}, so the switch must accept a
 * nested {@code forward} call.
 */
public final class Gateway implements Port {

    /** An untagged Ethernet frame carrying a full 1500-byte IP packet. */
    public static final int MAX_FRAME_SIZE = 1514;
    /** Handlers are a short fixed chain (ping, DHCP, DNS, NAT), not a registry. */
    public static final int MAX_IP_HANDLERS = 8;

    private final NetworkConfig config;
    private final Switch lan;
    private final ByteBufAllocator allocator;
    private final Counters counters;
    /** The time of fragments in reassembly; {@link #everySecond} is called with the same clock. */
    private final NanoClock clock;

    private final EthernetFrame ethernet = new EthernetFrame();
    private final ArpPacket arp = new ArpPacket();
    private final Ipv4Packet ip = new Ipv4Packet();
    private final Ipv6Packet ip6 = new Ipv6Packet();
    private final ArpResponder arpResponder = new ArpResponder();
    private final GatewayOutput output = new LanOutput();
    private final Neighbours neighbours = new Neighbours(output);
    private final Ipv6Receiver ipv6 = new Ipv6Receiver();
    private final Ipv4Reassembly reassembly;
    private final Ipv6Reassembly reassembly6;
    /** Whether the packet the handlers are offered is one the gateway put back together. */
    private boolean offeringReassembled;
    private IpHandler[] ipHandlers;

    /** A gateway that answers ARP and ping; add DHCP, DNS, NAT handlers with {@link #addIpHandler}. */
    public Gateway(NetworkConfig config, Switch lan, ByteBufAllocator allocator, Counters counters) {
        this(config, lan, allocator, counters, NanoClock.SYSTEM);
    }

    /** As above, on {@code clock}: the time the network's {@link #everySecond} is given. */
    public Gateway(NetworkConfig config, Switch lan, ByteBufAllocator allocator, Counters counters, NanoClock clock) {
        this.clock = Objects.requireNonNull(clock, "clock");
        this.config = Objects.requireNonNull(config, "config");
        this.lan = Objects.requireNonNull(lan, "lan");
        this.allocator = Objects.requireNonNull(allocator, "allocator");
        this.counters = Objects.requireNonNull(counters, "counters");
        this.ipHandlers = new IpHandler[] {new IcmpEchoResponder(() -> offeringReassembled)};
        this.reassembly = new Ipv4Reassembly(allocator, counters);
        this.reassembly6 = new Ipv6Reassembly(allocator, counters);
    }

    /** Appends a handler after the existing ones. Call before the gateway is attached to the switch. */
    public void addIpHandler(IpHandler handler) {
        Objects.requireNonNull(handler, "handler");
        if (ipHandlers.length == MAX_IP_HANDLERS) {
            throw new IllegalStateException("at most " + MAX_IP_HANDLERS + " IP handlers");
        }
        ipHandlers = Arrays.copyOf(ipHandlers, ipHandlers.length + 1);
        ipHandlers[ipHandlers.length - 1] = handler;
    }

    /** Appends a handler for UDP and TCP to the gateway's IPv6 addresses. Call before attaching the gateway. */
    public void addIpv6Handler(Ipv6Handler handler) {
        ipv6.addHandler(Objects.requireNonNull(handler, "handler"));
    }

    /**
     * Hands IPv6 packets VMs route beyond the LAN to {@code outside} (the NAT) instead of answering them "no route".
     * Call before attaching the gateway.
     */
    public void routeIpv6ToOutside(Ipv6Outside outside) {
        ipv6.routeToOutside(Objects.requireNonNull(outside, "outside"));
    }

    @Override
    public void send(ByteBuf frame) {
        try {
            receive(frame);
        } finally {
            frame.release();
        }
    }

    @Override
    public int maxFrameSize() {
        return MAX_FRAME_SIZE;
    }

    @Override
    public String name() {
        return "gateway";
    }

    private void receive(ByteBuf frame) {
        if (ethernet.wrap(frame) != ParseResult.OK) {
            counters.increment(Counter.DROP_MALFORMED);
            return;
        }
        if (ethernet.source() == config.gatewayMac()) {
            // Only the gateway sends from its MAC: a frame that claims it is forged, and an answer would go to itself.
            counters.increment(Counter.DROP_SPOOFED_MAC);
            return;
        }
        long destination = ethernet.destination();
        boolean unicast = destination == config.gatewayMac();
        // IPv6 multicast (33:33:...) carries neighbour discovery: the IPv6 side picks out what is for the gateway.
        if (!unicast && !MacAddress.isBroadcast(destination) && !Ipv6Address.isMulticastMac(destination)) {
            if (!MacAddress.isMulticast(destination)) {
                counters.increment(Counter.GATEWAY_NOT_ADDRESSED);
            }
            return;
        }
        if (ethernet.hasVlanTag()) {
            // The gateway lives on the untagged LAN only.
            countUnhandled(unicast);
            return;
        }
        switch (ethernet.etherType()) {
            case EthernetFrame.TYPE_ARP -> receiveArp(unicast);
            case EthernetFrame.TYPE_IPV4 -> receiveIpv4(unicast);
            case EthernetFrame.TYPE_IPV6 -> receiveIpv6(unicast);
            default -> countUnhandled(unicast);
        }
    }

    private void receiveArp(boolean unicast) {
        if (arp.wrap(ethernet.buffer(), ethernet.payloadOffset(), ethernet.payloadLength()) != ParseResult.OK) {
            counters.increment(Counter.DROP_MALFORMED);
            return;
        }
        neighbours.learn(arp);
        arpResponder.handle(arp, unicast, output);
    }

    private void receiveIpv4(boolean unicast) {
        ParseResult parsed = ip.wrap(ethernet.buffer(), ethernet.payloadOffset(), ethernet.payloadLength());
        if (parsed != ParseResult.OK) {
            counters.increment(parsed == ParseResult.BAD_CHECKSUM ? Counter.DROP_BAD_CHECKSUM : Counter.DROP_MALFORMED);
            return;
        }
        if (ip.isFragment()) {
            // Every handler needs a whole datagram: it goes on once its last piece is in.
            ByteBuf whole = reassembly.offer(ethernet, ip, clock.nanoTime());
            if (whole != null) {
                try {
                    ethernet.wrap(whole);
                    ip.wrap(whole, ethernet.payloadOffset(), ethernet.payloadLength());
                    offeringReassembled = true;
                    offerIpv4(unicast);
                } finally {
                    offeringReassembled = false;
                    whole.release();
                }
            }
            return;
        }
        offerIpv4(unicast);
    }

    private void receiveIpv6(boolean unicast) {
        // Fragments sent to the gateway's MAC (to it, or routed through it) go on once the packet is whole; the
        // guests' multicast is never fragmented on purpose, and is left to the IPv6 side as it came.
        boolean fragment = unicast
                && ip6.wrap(ethernet.buffer(), ethernet.payloadOffset(), ethernet.payloadLength()) == ParseResult.OK
                && ip6.startsWithFragmentHeader();
        if (!fragment) {
            ipv6.receive(ethernet, output, false);
            return;
        }
        ByteBuf whole = reassembly6.offer(ethernet, ip6, clock.nanoTime());
        if (whole != null) {
            try {
                ethernet.wrap(whole);
                ipv6.receive(ethernet, output, true);
            } finally {
                whole.release();
            }
        }
    }

    /** Offers the whole IPv4 packet in {@link #ip} to the handlers, in order. */
    private void offerIpv4(boolean unicast) {
        for (IpHandler handler : ipHandlers) {
            if (handler.handle(ethernet, ip, output)) {
                return;
            }
        }
        int destination = ip.destination();
        boolean groupDestination = destination == Ipv4Address.BROADCAST || destination == config.broadcastAddress()
                || Ipv4Address.isMulticast(destination);
        countUnhandled(unicast && !groupDestination);
    }

    private void countUnhandled(boolean unicast) {
        if (unicast) {
            counters.increment(Counter.GATEWAY_UNHANDLED);
        }
    }

    public NetworkConfig config() {
        return config;
    }

    /**
     * Call once a second on the loop, {@code now} in nanos of the gateway's clock: sends the periodic router
     * advertisement to all nodes when it is due (the first at once), renews the budget of ICMPv6 errors the gateway
     * may send a second, and drops the IPv4 datagrams and IPv6 packets whose pieces stopped coming.
     */
    public void everySecond(long now) {
        ipv6.everySecond(now, output);
        reassembly.expire(now);
        reassembly6.expire(now);
    }

    /** Lets go of the datagrams and packets still in reassembly. On the loop, when the LAN closes. */
    public void close() {
        reassembly.clear();
        reassembly6.clear();
    }

    /** The LAN's addresses and the MACs holding them, as the gateway learned them from ARP. On the loop. */
    public Neighbours neighbours() {
        return neighbours;
    }

    /** What handlers may do: build frames in pooled direct buffers and put them on the LAN as the gateway. */
    private final class LanOutput implements GatewayOutput {

        @Override
        public ByteBuf allocateFrame(int frameLength) {
            int headroom = config.frameHeadroom();
            ByteBuf buf = allocator.directBuffer(headroom + frameLength, headroom + frameLength);
            buf.writerIndex(headroom + frameLength);
            buf.readerIndex(headroom);
            return buf;
        }

        @Override
        public void emit(ByteBuf frame) {
            lan.forward(Gateway.this, frame);
        }

        @Override
        public NetworkConfig config() {
            return config;
        }

        @Override
        public Counters counters() {
            return counters;
        }
    }
}

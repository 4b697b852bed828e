package dev.riscvrelay.relay.gateway.dhcp;

import dev.riscvrelay.relay.gateway.GatewayOutput;
import dev.riscvrelay.relay.gateway.IpHandler;
import dev.riscvrelay.relay.lan.NanoClock;
import dev.riscvrelay.relay.lan.NetworkConfig;
import dev.riscvrelay.relay.metrics.Counter;
import dev.riscvrelay.relay.metrics.Counters;
import dev.riscvrelay.relay.wire.DhcpMessage;
import dev.riscvrelay.relay.wire.EthernetFrame;
import dev.riscvrelay.relay.wire.Ipv4Address;
import dev.riscvrelay.relay.wire.Ipv4Packet;
import dev.riscvrelay.relay.wire.MacAddress;
import dev.riscvrelay.relay.wire.ParseResult;
import dev.riscvrelay.relay.wire.UdpPacket;
import io.netty.buffer.ByteBuf;
import java.time.Duration;
import java.util.Objects;

/**
 * The LAN's DHCP server (RFC 2131, options RFC 2132), answering as the gateway: it claims UDP to port 67 sent to
 * the limited broadcast address, the LAN's broadcast address or the gateway. Guests get an address from the pool,
 * the gateway as router, the gateway's DNS address, the subnet mask, the LAN MTU (option 26) and a lease with
 * renewal times. A client keeps its address across restarts of its lease while nobody else needed it.
 *
 * <p>Relayed messages (giaddr set) are ignored: the LAN is one segment and has no relay agents.
 *
 * <p>Every offer and lease is held by the session that sent the request ({@link LeaseHolder}, found by the frame's
 * source MAC, not by the chaddr a client may choose freely): a session past its limits gets no new address, and a
 * departed session's addresses go back to the pool after a grace time, or at once when the pool is empty.
 */
public final class DhcpServer implements IpHandler {

    public static final int SERVER_PORT = 67;
    public static final int CLIENT_PORT = 68;

    /** {@link #assign}: every pool address is taken. */
    public static final long ASSIGN_POOL_EXHAUSTED = -1;
    /** {@link #assign}: the holder (its session or its client address) holds its most addresses. */
    public static final long ASSIGN_OVER_LIMIT = -2;

    /** Type, server id, lease, T1, T2, mask, broadcast, router, DNS, MTU: the most a reply carries. */
    private static final int MAX_OPTION_BYTES = 3 + 6 + 6 + 6 + 6 + 6 + 6 + 6 + 6 + 4;
    private static final int REPLY_IP_LENGTH =
            Ipv4Packet.MIN_HEADER_LENGTH + UdpPacket.HEADER_LENGTH + DhcpMessage.replyLength(MAX_OPTION_BYTES);
    private static final int REPLY_TTL = 64;

    private final NetworkConfig config;
    private final NanoClock nanoClock;
    private final DhcpLeases leases;
    private final long leaseNanos;
    private final long offerHoldNanos;
    private final LeaseHolder.Directory holders;
    /** The holder of the message being handled: the session its frame came from, or null. */
    private LeaseHolder holder;
    /** How many of {@link DhcpLeases#reclaimed()} have been counted. */
    private long reclaimedCounted;
    /** How many of {@link DhcpLeases#passedOverInUse()} have been counted. */
    private long passedOverCounted;

    private final UdpPacket udp = new UdpPacket();
    private final DhcpMessage message = new DhcpMessage();
    private int nextIdentification;

    /**
     * @param config the network this server hands out addresses in: its pool, lease times and MTU
     * @param nanoClock a monotonic clock in nanoseconds, like {@link System#nanoTime()}
     */
    public DhcpServer(NetworkConfig config, NanoClock nanoClock) {
        this(config, nanoClock, LeaseHolder.Directory.NONE, Duration.ZERO);
    }

    /**
     * @param holders finds the session behind a request's source MAC, which then holds what it is given
     * @param grace how long a departed holder's leases stay reserved for it
     */
    public DhcpServer(NetworkConfig config, NanoClock nanoClock, LeaseHolder.Directory holders, Duration grace) {
        this.config = Objects.requireNonNull(config, "config");
        this.nanoClock = Objects.requireNonNull(nanoClock, "nanoClock");
        this.holders = Objects.requireNonNull(holders, "holders");
        this.leases = new DhcpLeases(config.dhcpFirstAddress(), config.dhcpPoolSize(), grace.toNanos());
        this.leaseNanos = config.leaseTime().toNanos();
        this.offerHoldNanos = config.offerHoldTime().toNanos();
    }

    public NetworkConfig config() {
        return config;
    }

    /**
     * The address leased to hardware address {@code mac}, or 0 when none (a linear scan: cache it with
     * {@link #leaseGeneration()}).
     */
    public int leasedAddressOf(long mac) {
        return leases.boundAddressOf(mac);
    }

    /** Changes whenever a lease may have been granted, moved or freed. */
    public long leaseGeneration() {
        return leases.generation();
    }

    /** Addresses leased right now (expired leases are noticed on the next DHCP message or {@link #expire}). */
    public int boundLeases() {
        return leases.boundCount();
    }

    /**
     * Returns leases and offers whose time or whose holder's grace ran out to the pool; the network calls it
     * periodically so a departed session's addresses free up without waiting for the next DHCP message.
     */
    public void expire(Counters counters) {
        counters.add(Counter.DHCP_LEASES_EXPIRED, leases.expire(nanoClock.nanoTime()));
        countReclaimed(counters);
    }

    /**
     * Lets the server see addresses the LAN shows in use (the gateway's ARP cache): a new client is given one of
     * them only when the pool has no other. On the loop.
     */
    public void watch(AddressUsers lan) {
        leases.watch(lan);
    }

    /** Shares this network's leases with the same network on the cluster's other relays. On the loop. */
    public void share(SharedLeases cluster) {
        leases.share(cluster);
    }

    /** A session bound {@code mac}: the leases that MAC owns and that no live session holds become its own. */
    public void adopt(long mac, LeaseHolder by) {
        leases.adopt(mac, by);
    }

    /**
     * Leases {@code mac} the address a DHCP client with that hardware address and no client identifier would get
     * (its current or previous address, else a free one) for the lease time, held by {@code by}; called again, it
     * renews that lease. For clients told their address without DHCP; limits, grace and adoption apply as to DHCP.
     *
     * @return the address as an unsigned int, or {@link #ASSIGN_POOL_EXHAUSTED} or {@link #ASSIGN_OVER_LIMIT}
     *     (counted like the DHCP refusals)
     */
    public long assign(long mac, LeaseHolder by, Counters counters) {
        long now = nanoClock.nanoTime();
        counters.add(Counter.DHCP_LEASES_EXPIRED, leases.expire(now));
        int slot = leases.find(mac, null, -1, 0);
        if (slot >= 0 && leases.state(slot) == DhcpLeases.State.FREE && leases.heldElsewhere(slot, mac)) {
            slot = -1; // its old address went to another VM on another relay
        }
        if (slot < 0) {
            slot = leases.rememberedByCluster(mac);
        }
        boolean mayHold = by == null || (slot >= 0 && leases.holder(slot) == by) || by.mayTakeLease();
        if (!mayHold) {
            refuseOverLimit(counters);
            return ASSIGN_OVER_LIMIT;
        }
        if (slot < 0) {
            slot = leases.allocate(mac);
        }
        countReclaimed(counters);
        if (slot < 0) {
            counters.increment(Counter.DHCP_POOL_EXHAUSTED);
            return ASSIGN_POOL_EXHAUSTED;
        }
        leases.bind(slot, mac, null, -1, 0, now + leaseNanos, by);
        return Integer.toUnsignedLong(leases.address(slot));
    }

    private void countReclaimed(Counters counters) {
        long reclaimed = leases.reclaimed();
        counters.add(Counter.DHCP_LEASES_RECLAIMED, reclaimed - reclaimedCounted);
        reclaimedCounted = reclaimed;
        long passedOver = leases.passedOverInUse();
        counters.add(Counter.DHCP_PASSED_OVER_IN_USE, passedOver - passedOverCounted);
        passedOverCounted = passedOver;
    }

    @Override
    public boolean handle(EthernetFrame ethernet, Ipv4Packet ip, GatewayOutput output) {
        int destination = ip.destination();
        if (ip.protocol() != Ipv4Packet.PROTOCOL_UDP || (destination != Ipv4Address.BROADCAST
                && destination != config.gatewayAddress() && destination != config.broadcastAddress())) {
            return false;
        }
        if (udp.wrap(ip.buffer(), ip.payloadOffset(), ip.payloadLength()) != ParseResult.OK
                || udp.destinationPort() != SERVER_PORT) {
            return false;
        }
        Counters counters = output.counters();
        if (!udp.checksumValid(ip.source(), destination)) {
            counters.increment(Counter.DROP_BAD_CHECKSUM);
            return true;
        }
        if (message.wrap(ip.buffer(), udp.dataOffset(), udp.dataLength()) != ParseResult.OK) {
            counters.increment(Counter.DROP_DHCP_MALFORMED);
            return true;
        }
        if (message.op() != DhcpMessage.OP_BOOTREQUEST || message.relayAddress() != 0
                || MacAddress.isMulticast(message.clientMac()) || message.clientMac() == 0
                || message.clientMac() == config.gatewayMac()) {
            counters.increment(Counter.DHCP_IGNORED);
            return true;
        }
        long now = nanoClock.nanoTime();
        counters.add(Counter.DHCP_LEASES_EXPIRED, leases.expire(now));
        holder = holders.holderOf(ethernet.source());
        if (holder != null && !holder.mayAsk(now)) {
            counters.increment(Counter.DROP_DHCP_RATE_LIMITED);
            holder = null;
            return true;
        }
        switch (message.messageType()) {
            case DhcpMessage.DISCOVER -> discover(now, output);
            case DhcpMessage.REQUEST -> request(now, output);
            case DhcpMessage.RELEASE -> release(now, output);
            case DhcpMessage.DECLINE -> decline(now, output);
            case DhcpMessage.INFORM -> inform(output);
            // Plain BOOTP (no type) and server-to-client types are not ours to answer.
            default -> counters.increment(Counter.DHCP_IGNORED);
        }
        countReclaimed(counters);
        holder = null;
        return true;
    }

    /** Whether the sender's session may hold {@code slot}: it has it already, or it is under its limits. */
    private boolean mayHold(int slot) {
        return holder == null || leases.holder(slot) == holder || holder.mayTakeLease();
    }

    private static void refuseOverLimit(Counters counters) {
        counters.increment(Counter.DHCP_REFUSED_OVER_LIMIT);
    }

    /**
     * RFC 2131 section 4.3.1: the client's current or previous address, else the requested one (unless another MAC
     * was seen using it), else any free.
     */
    private void discover(long now, GatewayOutput output) {
        int slot = findClientSlot();
        if (slot >= 0 && leases.state(slot) == DhcpLeases.State.FREE && leases.heldElsewhere(slot, message.clientMac())) {
            slot = -1; // its old address went to another VM on another relay
        }
        if (slot < 0) {
            slot = leases.rememberedByCluster(message.clientMac());
        }
        if (slot < 0 && message.hasRequestedAddress()) {
            int requested = leases.slotOf(message.requestedAddress());
            if (requested >= 0 && leases.isAvailable(requested, message.clientMac())
                    && !leases.usedByOther(requested, message.clientMac())) {
                slot = requested;
            }
        }
        if (slot >= 0 ? !mayHold(slot) : holder != null && !holder.mayTakeLease()) {
            refuseOverLimit(output.counters());
            return;
        }
        if (slot < 0) {
            slot = leases.allocate(message.clientMac());
        }
        if (slot < 0) {
            output.counters().increment(Counter.DHCP_POOL_EXHAUSTED);
            return;
        }
        if (leases.state(slot) != DhcpLeases.State.BOUND) {
            leases.offer(slot, message.clientMac(), message.buffer(), message.clientIdentifierOffset(),
                    message.clientIdentifierLength(), now + offerHoldNanos, holder);
        }
        sendReply(DhcpMessage.OFFER, leases.address(slot), output);
        output.counters().increment(Counter.DHCP_OFFERS);
    }

    /** RFC 2131 section 4.3.2: SELECTING (server id present), INIT-REBOOT (requested address), RENEW/REBIND (ciaddr). */
    private void request(long now, GatewayOutput output) {
        int clientSlot = findClientSlot();
        int wanted;
        if (message.hasServerIdentifier()) {
            if (message.serverIdentifier() != config.gatewayAddress()) {
                // The client took another server's offer: ours is free again.
                if (clientSlot >= 0 && leases.state(clientSlot) == DhcpLeases.State.OFFERED) {
                    leases.free(clientSlot, now);
                }
                output.counters().increment(Counter.DHCP_IGNORED);
                return;
            }
            wanted = message.hasRequestedAddress() ? message.requestedAddress() : message.clientAddress();
        } else {
            wanted = message.clientAddress() != 0 ? message.clientAddress() : message.requestedAddress();
        }
        if (wanted == 0) {
            output.counters().increment(Counter.DHCP_IGNORED);
            return;
        }
        int slot;
        if (clientSlot >= 0 && leases.address(clientSlot) == wanted) {
            slot = clientSlot;
            if (leases.heldElsewhere(slot, message.clientMac())) {
                // Another relay of the cluster gave the address to another VM first: this client starts over.
                leases.free(slot, now);
                sendNak(output);
                return;
            }
        } else {
            // The address of another record (our restart lost it, or the client moved): grant it if nobody holds it.
            slot = leases.slotOf(wanted);
            if (slot < 0 || !leases.isAvailable(slot, message.clientMac())) {
                sendNak(output);
                return;
            }
            if (clientSlot >= 0 && leases.state(clientSlot) != DhcpLeases.State.FREE) {
                leases.free(clientSlot, now);
            }
        }
        if (!mayHold(slot)) {
            refuseOverLimit(output.counters());
            sendNak(output);
            return;
        }
        leases.bind(slot, message.clientMac(), message.buffer(), message.clientIdentifierOffset(),
                message.clientIdentifierLength(), now + leaseNanos, holder);
        sendReply(DhcpMessage.ACK, wanted, output);
        output.counters().increment(Counter.DHCP_ACKS);
    }

    /** RFC 2131 section 4.3.4: the lease named by ciaddr ends; the address stays remembered for the client. */
    private void release(long now, GatewayOutput output) {
        int slot = findClientSlot();
        if (!isForThisServer() || slot < 0 || leases.address(slot) != message.clientAddress()
                || leases.state(slot) == DhcpLeases.State.FREE) {
            output.counters().increment(Counter.DHCP_IGNORED);
            return;
        }
        leases.free(slot, now);
        output.counters().increment(Counter.DHCP_RELEASES);
    }

    /** RFC 2131 section 4.3.3: the offered address is in use by someone else; mark it unavailable. */
    private void decline(long now, GatewayOutput output) {
        int slot = leases.slotOf(message.requestedAddress());
        if (!isForThisServer() || slot < 0 || slot != findClientSlot()) {
            output.counters().increment(Counter.DHCP_IGNORED);
            return;
        }
        leases.decline(slot, now + leaseNanos);
        output.counters().increment(Counter.DHCP_DECLINES);
    }

    /** RFC 2131 section 4.3.5: configuration only, no lease; unicast to ciaddr. */
    private void inform(GatewayOutput output) {
        sendReply(DhcpMessage.ACK, 0, output);
        output.counters().increment(Counter.DHCP_INFORMS);
        output.counters().increment(Counter.DHCP_ACKS);
    }

    private boolean isForThisServer() {
        return !message.hasServerIdentifier() || message.serverIdentifier() == config.gatewayAddress();
    }

    private int findClientSlot() {
        return leases.find(message.clientMac(), message.buffer(), message.clientIdentifierOffset(),
                message.clientIdentifierLength());
    }

    /** RFC 2131 section 4.3.2: NAK without address or options beyond type and server id, always broadcast. */
    private void sendNak(GatewayOutput output) {
        sendReply(DhcpMessage.NAK, 0, output);
        output.counters().increment(Counter.DHCP_NAKS);
    }

    /**
     * Builds and emits a reply to {@link #message}, addressed per RFC 2131 section 4.1 (giaddr is always 0 here):
     * NAK broadcast; otherwise to ciaddr when the client has one; otherwise broadcast when the client set the
     * BROADCAST flag; otherwise unicast to yiaddr at chaddr (the client accepts it before it has an address).
     *
     * @param yourAddress yiaddr: the offered or leased address, 0 for NAK and INFORM
     */
    private void sendReply(int type, int yourAddress, GatewayOutput output) {
        long clientMac = message.clientMac();
        int clientAddress = type == DhcpMessage.ACK ? message.clientAddress() : 0;
        int destinationIp;
        long destinationMac;
        if (type == DhcpMessage.NAK) {
            destinationIp = Ipv4Address.BROADCAST;
            destinationMac = MacAddress.BROADCAST;
        } else if (message.clientAddress() != 0) {
            destinationIp = message.clientAddress();
            destinationMac = clientMac;
        } else if (message.broadcastFlag() || yourAddress == 0) {
            destinationIp = Ipv4Address.BROADCAST;
            destinationMac = MacAddress.BROADCAST;
        } else {
            destinationIp = yourAddress;
            destinationMac = clientMac;
        }

        ByteBuf frame = output.allocateFrame(EthernetFrame.HEADER_LENGTH + REPLY_IP_LENGTH);
        int start = frame.readerIndex();
        int ipAt = start + EthernetFrame.writeHeader(frame, start, destinationMac, config.gatewayMac(),
                EthernetFrame.TYPE_IPV4);
        int udpAt = ipAt + Ipv4Packet.MIN_HEADER_LENGTH;
        int dhcpAt = udpAt + UdpPacket.HEADER_LENGTH;
        int at = dhcpAt + DhcpMessage.writeReplyHeader(frame, dhcpAt, message.transactionId(),
                message.flags() & DhcpMessage.FLAG_BROADCAST, clientAddress, yourAddress, 0, clientMac);
        at = DhcpMessage.writeByteOption(frame, at, DhcpMessage.OPTION_MESSAGE_TYPE, type);
        at = DhcpMessage.writeIntOption(frame, at, DhcpMessage.OPTION_SERVER_IDENTIFIER, config.gatewayAddress());
        if (type != DhcpMessage.NAK) {
            if (yourAddress != 0) {
                at = DhcpMessage.writeIntOption(frame, at, DhcpMessage.OPTION_LEASE_TIME, config.leaseSeconds());
                at = DhcpMessage.writeIntOption(frame, at, DhcpMessage.OPTION_RENEWAL_TIME, config.renewalSeconds());
                at = DhcpMessage.writeIntOption(frame, at, DhcpMessage.OPTION_REBINDING_TIME,
                        config.rebindingSeconds());
            }
            at = DhcpMessage.writeIntOption(frame, at, DhcpMessage.OPTION_SUBNET_MASK, config.netmask());
            at = DhcpMessage.writeIntOption(frame, at, DhcpMessage.OPTION_BROADCAST_ADDRESS,
                    config.broadcastAddress());
            at = DhcpMessage.writeIntOption(frame, at, DhcpMessage.OPTION_ROUTER, config.gatewayAddress());
            at = DhcpMessage.writeIntOption(frame, at, DhcpMessage.OPTION_DNS_SERVERS, config.dnsAddress());
            at = DhcpMessage.writeShortOption(frame, at, DhcpMessage.OPTION_INTERFACE_MTU, config.mtu());
        }
        int end = DhcpMessage.writeEnd(frame, dhcpAt, at);
        int udpLength = end - udpAt;
        int ipLength = end - ipAt;
        Ipv4Packet.writeHeader(frame, ipAt, ipLength, nextIdentification, false, REPLY_TTL,
                Ipv4Packet.PROTOCOL_UDP, config.gatewayAddress(), destinationIp);
        nextIdentification = (nextIdentification + 1) & 0xFFFF;
        UdpPacket.writeHeader(frame, udpAt, SERVER_PORT, CLIENT_PORT, udpLength);
        UdpPacket.fillChecksum(frame, udpAt, udpLength, config.gatewayAddress(), destinationIp);
        frame.writerIndex(end);
        output.emit(frame);
    }
}

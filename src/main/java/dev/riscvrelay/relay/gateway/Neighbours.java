package dev.riscvrelay.relay.gateway;

import dev.riscvrelay.relay.gateway.dhcp.AddressUsers;
import dev.riscvrelay.relay.lan.LongTable;
import dev.riscvrelay.relay.lan.NetworkConfig;
import dev.riscvrelay.relay.metrics.Counter;
import dev.riscvrelay.relay.wire.ArpPacket;
import dev.riscvrelay.relay.wire.EthernetFrame;
import dev.riscvrelay.relay.wire.MacAddress;
import io.netty.buffer.ByteBuf;

/**
 * The gateway's ARP cache (RFC 826): which MAC holds which address of the LAN, learned from every ARP packet the
 * gateway sees (requests guests broadcast, replies to its own {@link #request}s). Connections the relay opens toward
 * a guest (forwards) look the guest up here and ask with {@link #request} when it is unknown. Entries are allocated
 * only for a newly seen address; at capacity new addresses are not learned. The DHCP server reads it too, so it
 * does not lease a static host's address to another client. Owned by the gateway's event loop.
 */
public final class Neighbours implements AddressUsers {

    /** No MAC known for the address. */
    public static final long UNKNOWN = AddressUsers.NONE_SEEN;
    /** The most addresses remembered; a LAN's DHCP pool is at most this large by default. */
    static final int CAPACITY = 4096;
    static final int REQUEST_FRAME_LENGTH = EthernetFrame.HEADER_LENGTH + ArpPacket.LENGTH;

    private final LongTable<Entry> byAddress = new LongTable<>(CAPACITY);
    private final GatewayOutput output;

    Neighbours(GatewayOutput output) {
        this.output = output;
    }

    private static final class Entry {
        long mac;
    }

    /** Learns the sender of a validated ARP packet, if it names one host of the LAN other than the gateway. */
    void learn(ArpPacket arp) {
        NetworkConfig config = output.config();
        int address = arp.senderIp();
        long mac = arp.senderMac();
        if (!config.inNetwork(address) || config.isGatewayAddress(address) || address == config.broadcastAddress()
                || address == config.network() || !MacAddress.isValidSource(mac)) {
            return;
        }
        Entry entry = byAddress.get(address);
        if (entry == null) {
            if (byAddress.isFull()) {
                return;
            }
            entry = new Entry();
            byAddress.put(address, entry);
        }
        entry.mac = mac;
    }

    /** The MAC last seen holding {@code address}, or {@link #UNKNOWN}. */
    @Override
    public long macOf(int address) {
        Entry entry = byAddress.get(address);
        return entry == null ? UNKNOWN : entry.mac;
    }

    /** Forgets {@code address} (its holder stopped answering). */
    public void forget(int address) {
        byAddress.remove(address);
    }

    /** Broadcasts "who has {@code address}?" from the gateway; the answer is learned when it comes. */
    public void request(int address) {
        NetworkConfig config = output.config();
        ByteBuf frame = output.allocateFrame(REQUEST_FRAME_LENGTH);
        int at = frame.readerIndex();
        at += EthernetFrame.writeHeader(frame, at, MacAddress.BROADCAST, config.gatewayMac(), EthernetFrame.TYPE_ARP);
        ArpPacket.write(frame, at, ArpPacket.OPERATION_REQUEST, config.gatewayMac(), config.gatewayAddress(), 0,
                address);
        output.counters().increment(Counter.GATEWAY_ARP_REQUESTS);
        output.emit(frame);
    }
}

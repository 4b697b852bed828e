package dev.riscvrelay.relay.access;

import dev.riscvrelay.relay.transport.webtransport.WebTransportClient;
import dev.riscvrelay.relay.transport.webtransport.WebTransportClientConfig;
import dev.riscvrelay.relay.wire.ArpPacket;
import dev.riscvrelay.relay.wire.EthernetFrame;
import dev.riscvrelay.relay.wire.Ipv4Address;
import dev.riscvrelay.relay.wire.MacAddress;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.PooledByteBufAllocator;
import java.net.URI;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/** A VM on one of the relay's networks as these tests need it: a real WebTransport client with an inbox. */
public final class LanMember implements AutoCloseable {

    public static final long GATEWAY_MAC = MacAddress.parse("52:54:00:12:34:56");
    /** IEEE 802 local experimental EtherType: frames only the switch forwards, nobody answers. */
    public static final int LOCAL_EXPERIMENTAL = 0x88b5;

    public final long mac;
    public final WebTransportClient client;
    final BlockingQueue<byte[]> inbox;
    final AtomicLong received;

    private LanMember(long mac, WebTransportClient client, BlockingQueue<byte[]> inbox, AtomicLong received) {
        this.mac = mac;
        this.client = client;
        this.inbox = inbox;
        this.received = received;
    }

    /** Opens a session at {@code https://127.0.0.1:port<pathAndQuery>}; fails as the client does on a refusal. */
    static LanMember join(int port, String hash, String pathAndQuery, long mac) throws Exception {
        return join(URI.create("https://127.0.0.1:" + port + pathAndQuery), hash, mac);
    }

    /** Opens a session at {@code uri}, trusting the certificate of {@code hash}; fails as the client does. */
    public static LanMember join(URI uri, String hash, long mac) throws Exception {
        BlockingQueue<byte[]> inbox = new LinkedBlockingQueue<>(100_000);
        AtomicLong received = new AtomicLong();
        WebTransportClient client = WebTransportClient.connect(uri, WebTransportClientConfig.pinned(hash),
                frame -> {
                    try {
                        received.incrementAndGet();
                        inbox.offer(ByteBufUtil.getBytes(frame));
                    } finally {
                        frame.release();
                    }
                }).get(10, TimeUnit.SECONDS);
        return new LanMember(mac, client, inbox, received);
    }

    /** Sends these bytes as one frame. */
    public boolean send(byte[] frame) {
        ByteBuf buf = PooledByteBufAllocator.DEFAULT.directBuffer(frame.length);
        buf.writeBytes(frame);
        return client.sendDatagram(buf);
    }

    /** A broadcast frame from {@code sourceMac} whose payload starts with {@code marker}. */
    public static byte[] broadcast(long sourceMac, int marker, int length) {
        byte[] frame = new byte[length];
        ByteBuf buf = io.netty.buffer.Unpooled.wrappedBuffer(frame);
        EthernetFrame.writeHeader(buf, 0, MacAddress.BROADCAST, sourceMac, LOCAL_EXPERIMENTAL);
        buf.setInt(EthernetFrame.HEADER_LENGTH, marker);
        return frame;
    }

    /** An ARP request from {@code sourceMac} claiming {@code senderIp}, asking who has {@code targetIp}. */
    public static byte[] arpRequest(long sourceMac, String senderIp, String targetIp) {
        byte[] frame = new byte[EthernetFrame.HEADER_LENGTH + ArpPacket.LENGTH];
        ByteBuf buf = io.netty.buffer.Unpooled.wrappedBuffer(frame);
        EthernetFrame.writeHeader(buf, 0, MacAddress.BROADCAST, sourceMac, EthernetFrame.TYPE_ARP);
        ArpPacket.write(buf, EthernetFrame.HEADER_LENGTH, ArpPacket.OPERATION_REQUEST, sourceMac,
                Ipv4Address.parse(senderIp), 0, Ipv4Address.parse(targetIp));
        return frame;
    }

    /** The next frame with this EtherType and (for broadcasts) marker, within the timeout; null if none came. */
    public byte[] await(int etherType, long timeoutMillis) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
        long left;
        while ((left = deadline - System.nanoTime()) > 0) {
            byte[] frame = inbox.poll(left, TimeUnit.NANOSECONDS);
            if (frame != null && frame.length >= 14 && ((frame[12] & 0xFF) << 8 | (frame[13] & 0xFF)) == etherType) {
                return frame;
            }
        }
        return null;
    }

    /** Whether a broadcast with {@code marker} arrives within the timeout. */
    public boolean sees(int marker, long timeoutMillis) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
        long left;
        while ((left = deadline - System.nanoTime()) > 0) {
            byte[] frame = await(LOCAL_EXPERIMENTAL, TimeUnit.NANOSECONDS.toMillis(left) + 1);
            if (frame != null && io.netty.buffer.Unpooled.wrappedBuffer(frame).getInt(14) == marker) {
                return true;
            }
        }
        return false;
    }

    /** Asks who has 10.0.2.2; returns the MAC in the ARP reply, or -1 when none came within 5 s. */
    public long resolveGateway(String ownIp) throws InterruptedException {
        return resolveGateway(ownIp, 5000);
    }

    /** Asks who has 10.0.2.2 once; returns the MAC in the ARP reply, or -1 when none came within the timeout. */
    public long resolveGateway(String ownIp, long timeoutMillis) throws InterruptedException {
        send(arpRequest(mac, ownIp, "10.0.2.2"));
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
        long left;
        while ((left = deadline - System.nanoTime()) > 0) {
            byte[] frame = await(EthernetFrame.TYPE_ARP, TimeUnit.NANOSECONDS.toMillis(left) + 1);
            if (frame == null) {
                break;
            }
            ByteBuf buf = io.netty.buffer.Unpooled.wrappedBuffer(frame);
            // A reply (others' requests are flooded here too), addressed to this member.
            if (buf.getUnsignedShort(20) == ArpPacket.OPERATION_REPLY
                    && ((buf.getUnsignedInt(32) << 16) | buf.getUnsignedShort(36)) == mac) {
                return (buf.getUnsignedInt(22) << 16) | buf.getUnsignedShort(26); // ARP sender hardware address
            }
        }
        return -1;
    }

    /**
     * Sends the gateway an ICMP echo request from {@code ownIp} in a frame of {@code frameLength} bytes; true when
     * the reply (same sequence, same length) comes within the timeout.
     */
    public boolean echoFromGateway(String ownIp, int frameLength, int sequence, long timeoutMillis)
            throws InterruptedException {
        byte[] data = new byte[frameLength - EthernetFrame.HEADER_LENGTH - 28];
        ByteBuf request = dev.riscvrelay.relay.nat.TestFrames.echoRequest(mac, Ipv4Address.parse(ownIp),
                Ipv4Address.parse("10.0.2.2"), 0x77, sequence, data);
        if (!client.sendDatagram(request)) {
            return false;
        }
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
        long left;
        while ((left = deadline - System.nanoTime()) > 0) {
            byte[] frame = await(EthernetFrame.TYPE_IPV4, TimeUnit.NANOSECONDS.toMillis(left) + 1);
            if (frame == null) {
                return false;
            }
            ByteBuf buf = io.netty.buffer.Unpooled.wrappedBuffer(frame);
            // ICMP echo reply (type 0) with this sequence, as long as the request.
            if (frame.length == frameLength && buf.getUnsignedByte(23) == 1 && buf.getUnsignedByte(34) == 0
                    && buf.getUnsignedShort(40) == sequence) {
                return true;
            }
        }
        return false;
    }

    @Override
    public void close() {
        if (!client.closed().isDone()) {
            client.close();
        }
    }
}

package dev.riscvrelay.relay.ops;

import dev.riscvrelay.relay.transport.webtransport.WebTransportClient;
import dev.riscvrelay.relay.transport.webtransport.WebTransportClientConfig;
import dev.riscvrelay.relay.wire.ArpPacket;
import dev.riscvrelay.relay.wire.EthernetFrame;
import dev.riscvrelay.relay.wire.Ipv4Address;
import dev.riscvrelay.relay.wire.MacAddress;
import dev.riscvrelay.relay.wire.ParseResult;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import java.net.URI;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/** A VM on the LAN as the tests need it: a real WebTransport client that asks the gateway's MAC and counts frames. */
final class LanClient implements AutoCloseable {

    static final long GATEWAY_MAC = MacAddress.parse("52:54:00:12:34:56");
    /** IEEE 802 local experimental EtherType: frames only the switch forwards, nobody answers. */
    static final int LOCAL_EXPERIMENTAL = 0x88b5;

    final long mac;
    final WebTransportClient client;
    private final Receiver receiver;

    /** What arrives, on the client's loop. */
    private static final class Receiver {
        final AtomicLong framesReceived = new AtomicLong();
        final AtomicReference<CompletableFuture<Long>> arpReply = new AtomicReference<>(new CompletableFuture<>());

        void onFrame(ByteBuf frame) {
            try {
                framesReceived.incrementAndGet();
                EthernetFrame ethernet = new EthernetFrame();
                ArpPacket arp = new ArpPacket();
                if (ethernet.wrap(frame) == ParseResult.OK && ethernet.etherType() == EthernetFrame.TYPE_ARP
                        && arp.wrap(frame, ethernet.payloadOffset(), ethernet.payloadLength()) == ParseResult.OK
                        && arp.operation() == ArpPacket.OPERATION_REPLY) {
                    arpReply.get().complete(arp.senderMac());
                }
            } finally {
                frame.release();
            }
        }
    }

    private LanClient(long mac, WebTransportClient client, Receiver receiver) {
        this.mac = mac;
        this.client = client;
        this.receiver = receiver;
    }

    /** Connects to the relay on 127.0.0.1:{@code port}, trusting only a certificate with {@code hash}. */
    static CompletableFuture<LanClient> connect(int port, String hash, long mac) {
        Receiver receiver = new Receiver();
        return WebTransportClient.connect(URI.create("https://127.0.0.1:" + port + "/"),
                WebTransportClientConfig.pinned(hash), receiver::onFrame)
                .thenApply(client -> new LanClient(mac, client, receiver));
    }

    long framesReceived() {
        return receiver.framesReceived.get();
    }

    /** Asks who has 10.0.2.2 and returns the MAC that answered. */
    long resolveGateway(String ownAddress) throws Exception {
        CompletableFuture<Long> reply = new CompletableFuture<>();
        receiver.arpReply.set(reply);
        ByteBuf frame = PooledByteBufAllocator.DEFAULT.directBuffer(64);
        EthernetFrame.writeHeader(frame, 0, MacAddress.BROADCAST, mac, EthernetFrame.TYPE_ARP);
        ArpPacket.write(frame, EthernetFrame.HEADER_LENGTH, ArpPacket.OPERATION_REQUEST, mac,
                Ipv4Address.parse(ownAddress), 0, Ipv4Address.parse("10.0.2.2"));
        client.sendDatagram(frame.writerIndex(EthernetFrame.HEADER_LENGTH + ArpPacket.LENGTH));
        return reply.get(10, TimeUnit.SECONDS);
    }

    /** A broadcast frame of {@code length} bytes that the switch floods to every other member. */
    boolean sendBroadcast(int length) {
        ByteBuf frame = PooledByteBufAllocator.DEFAULT.directBuffer(length);
        EthernetFrame.writeHeader(frame, 0, MacAddress.BROADCAST, mac, LOCAL_EXPERIMENTAL);
        frame.writerIndex(EthernetFrame.HEADER_LENGTH);
        frame.writeZero(length - EthernetFrame.HEADER_LENGTH);
        return client.sendDatagram(frame);
    }

    @Override
    public void close() {
        if (!client.closed().isDone()) { // a session the relay ended has released its loop already
            client.close();
        }
    }
}

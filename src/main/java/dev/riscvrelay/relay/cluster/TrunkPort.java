package dev.riscvrelay.relay.cluster;

import dev.riscvrelay.relay.lan.LongTable;
import dev.riscvrelay.relay.metrics.Counter;
import dev.riscvrelay.relay.metrics.Counters;
import dev.riscvrelay.relay.switching.LearningSwitch;
import dev.riscvrelay.relay.switching.Port;
import dev.riscvrelay.relay.transport.webtransport.HttpDatagram;
import dev.riscvrelay.relay.wire.MacAddress;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.EventLoop;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

/**
 * One network's port to the same network on the cluster's other relays, over NATS.
 *
 * <p>Out: broadcast, multicast and unknown unicast go to the network's flood subject, which every relay holding the
 * network subscribes to; unicast to a MAC learned behind another relay goes to that relay's own subject only. Each
 * message names its sender's subject, so the receivers learn which relay each source MAC sits behind;
 * when a MAC shows up behind another relay (a VM that reconnected there) the next frame from it moves it, here and
 * in the switch. Frames of one loop turn leave as one message per destination ({@link FrameBatch}). The gateway's
 * frames never leave: every relay runs its own gateway at the same MAC and addresses.
 *
 * <p>In: the NATS link reads on the switch's own loop and hands each message straight to the trunk, whose frames
 * enter the switch at once. A message that arrives on another thread (a link on another loop) is copied and
 * waits for the loop in a bounded hand-off (overflow counted). NATS never echoes a relay's own messages
 * ({@code echo: false}), so nothing comes back out of the trunk it left by.
 */
final class TrunkPort implements Port, Trunks.Trunk {

    /** NATS messages (batches) from another thread waiting for the loop; past this they are dropped and counted. */
    static final int RECEIVE_QUEUE_MESSAGES = 4096;
    /** Relays whose subjects are remembered; beyond this, frames to members of further relays are flooded. */
    static final int MAX_REMOTE_RELAYS = 256;

    private final String network;
    private final LearningSwitch lan;
    private final EventLoop loop;
    private final Counters counters;
    private final ByteBufAllocator alloc;
    private final Bus bus;
    private final long gatewayMac;
    private final String floodSubject;
    private final String ownSubject;
    private final byte[] senderBytes;
    private final byte[] floodSubjectBytes;
    private final FrameBatch flood;
    private final LongTable<RemoteRelay> relayOfMac;
    private final List<RemoteRelay> remoteRelays = new ArrayList<>();
    private final AtomicInteger handedOver = new AtomicInteger();
    private final Runnable flushTask = this::flush;
    private boolean flushScheduled;
    private boolean closed;
    private final Consumer<TrunkPort> onClose;
    private int[] subscriptions = new int[0];

    /** What the trunk needs of NATS: whether it is connected, and a publish that never blocks. */
    interface Bus {
        boolean connected();

        /**
         * Sends {@code body} (its reference passes to the bus) to {@code subject} (ASCII); false when refused: not
         * connected, or too much already waiting for the socket.
         */
        boolean publish(byte[] subject, ByteBuf body);
    }

    TrunkPort(String network, LearningSwitch lan, EventLoop loop, Counters counters, ByteBufAllocator alloc,
            Bus bus, Subjects subjects, Consumer<TrunkPort> onClose) {
        this.network = network;
        this.lan = lan;
        this.loop = loop;
        this.counters = counters;
        this.alloc = alloc;
        this.bus = bus;
        this.gatewayMac = lan.config().gatewayMac();
        this.floodSubject = subjects.flood(network);
        this.ownSubject = subjects.ownRelay(network);
        this.senderBytes = ownSubject.getBytes(StandardCharsets.US_ASCII);
        this.floodSubjectBytes = floodSubject.getBytes(StandardCharsets.US_ASCII);
        this.flood = new FrameBatch(alloc, senderBytes);
        this.relayOfMac = new LongTable<>(lan.config().macTableCapacity());
        this.onClose = onClose;
    }

    String floodSubject() {
        return floodSubject;
    }

    String ownSubject() {
        return ownSubject;
    }

    /** The trunk's two subscriptions on the NATS link, kept to end them with the trunk. */
    void subscriptions(int... current) {
        subscriptions = current;
    }

    int[] subscriptions() {
        return subscriptions;
    }

    // ---- out: the switch hands frames to the trunk (on the loop)

    @Override
    public void send(ByteBuf frame) {
        try {
            int start = frame.readerIndex();
            long source = MacAddress.read(frame, start + 6);
            if (source == gatewayMac || closed) {
                return; // the gateway is every relay's own
            }
            if (!bus.connected()) {
                counters.increment(Counter.DROP_TRUNK_NOT_CONNECTED);
                return;
            }
            long destination = MacAddress.read(frame, start);
            RemoteRelay relay = MacAddress.isMulticast(destination) ? null : relayOfMac.get(destination);
            FrameBatch batch = relay == null ? flood : relay.batch;
            if (!batch.fits(frame.readableBytes())) {
                publish(relay == null ? floodSubjectBytes : relay.subject, batch);
            }
            batch.add(frame);
            if (!flushScheduled) {
                flushScheduled = true;
                // After the rest of this turn: everything the turn sends this way leaves as one message.
                loop.execute(flushTask);
            }
        } finally {
            frame.release();
        }
    }

    private void flush() {
        flushScheduled = false;
        if (!flood.isEmpty()) {
            publish(floodSubjectBytes, flood);
        }
        for (int i = 0; i < remoteRelays.size(); i++) {
            RemoteRelay relay = remoteRelays.get(i);
            if (!relay.batch.isEmpty()) {
                publish(relay.subject, relay.batch);
            }
        }
    }

    private void publish(byte[] subject, FrameBatch batch) {
        int frames = batch.frames();
        ByteBuf body = batch.take();
        if (!bus.connected()) {
            body.release();
            counters.add(Counter.DROP_TRUNK_NOT_CONNECTED, frames);
        } else if (bus.publish(subject, body)) {
            counters.increment(Counter.TRUNK_MESSAGES_OUT);
            counters.add(Counter.TRUNK_FRAMES_OUT, frames);
        } else {
            counters.add(Counter.DROP_TRUNK_SEND_FAILED, frames);
        }
    }

    // ---- in: a message from NATS, on the loop or handed over to it

    /** A message for this trunk; {@code body} is the caller's and valid during the call only. Any thread. */
    void onMessage(ByteBuf body) {
        if (loop.inEventLoop()) {
            receive(body);
            return;
        }
        if (handedOver.incrementAndGet() > RECEIVE_QUEUE_MESSAGES) {
            handedOver.decrementAndGet();
            counters.increment(Counter.DROP_TRUNK_QUEUE_FULL);
            return;
        }
        ByteBuf copy = body.copy();
        loop.execute(() -> {
            handedOver.decrementAndGet();
            try {
                receive(copy);
            } finally {
                copy.release();
            }
        });
    }

    private void receive(ByteBuf body) {
        if (closed) {
            return;
        }
        counters.increment(Counter.TRUNK_MESSAGES_IN);
        RemoteRelay sender = relay(body);
        if (!FrameBatch.forEachFrame(body, LearningSwitch.ETHERNET_HEADER_LENGTH,
                (batch, index, length) -> enter(sender, batch, index, length))) {
            counters.increment(Counter.DROP_TRUNK_MALFORMED);
        }
    }

    private void enter(RemoteRelay sender, ByteBuf body, int offset, int length) {
        long source = MacAddress.read(body, offset + 6);
        if (source == gatewayMac) {
            counters.increment(Counter.DROP_TRUNK_MALFORMED);
            return;
        }
        if (sender != null && relayOfMac.get(source) != sender && !relayOfMac.put(source, sender)) {
            // Full: forget every remote MAC; floods relearn the ones still in use.
            relayOfMac.removeIf(relay -> true, relay -> { });
            relayOfMac.put(source, sender);
        }
        counters.increment(Counter.TRUNK_FRAMES_IN);
        // Headroom as a received datagram has: a WebTransport session prefixes it in place, copying nothing.
        ByteBuf frame = alloc.directBuffer(HttpDatagram.HEADROOM + length);
        frame.writerIndex(HttpDatagram.HEADROOM).readerIndex(HttpDatagram.HEADROOM);
        frame.writeBytes(body, offset, length);
        lan.forward(this, frame);
    }

    /** The relay that sent the batch in {@code body}, remembered; null for none, or when too many are known. */
    private RemoteRelay relay(ByteBuf body) {
        int length = FrameBatch.senderLength(body);
        if (length <= 0) {
            return null;
        }
        for (int i = 0; i < remoteRelays.size(); i++) {
            RemoteRelay relay = remoteRelays.get(i);
            if (FrameBatch.sentBy(body, relay.subject)) {
                return relay;
            }
        }
        if (remoteRelays.size() >= MAX_REMOTE_RELAYS) {
            return null;
        }
        byte[] subject = new byte[length];
        body.getBytes(body.readerIndex() + 2, subject);
        RemoteRelay relay = new RemoteRelay(subject, new FrameBatch(alloc, senderBytes));
        remoteRelays.add(relay);
        return relay;
    }

    @Override
    public int maxFrameSize() {
        return FrameBatch.MAX_FRAME;
    }

    @Override
    public String name() {
        return "trunk " + network;
    }

    /** Leaves the switch, stops receiving, frees the batches. On the loop. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        lan.detach(this);
        onClose.accept(this);
        flood.release();
        remoteRelays.forEach(relay -> relay.batch.release());
        remoteRelays.clear();
    }

    /** Another relay holding this network: its subject, and the frames for it of this turn. */
    private record RemoteRelay(byte[] subject, FrameBatch batch) {
    }
}

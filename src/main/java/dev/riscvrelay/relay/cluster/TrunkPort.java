package dev.riscvrelay.relay.cluster;

import dev.riscvrelay.relay.lan.LongTable;
import dev.riscvrelay.relay.metrics.Counter;
import dev.riscvrelay.relay.metrics.Counters;
import dev.riscvrelay.relay.switching.LearningSwitch;
import dev.riscvrelay.relay.switching.Port;
import dev.riscvrelay.relay.transport.webtransport.HttpDatagram;
import dev.riscvrelay.relay.wire.MacAddress;
import io.nats.client.Message;
import io.nats.client.Subscription;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.EventLoop;
import io.netty.util.internal.PlatformDependent;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.atomic.AtomicBoolean;
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
 * <p>In: NATS delivers on its own thread; messages wait in a bounded queue (overflow counted) that the loop drains
 * once per wake-up, so frames enter the switch on its loop, batched. NATS never echoes a relay's own messages
 * ({@code noEcho}), so nothing comes back out of the trunk it left by.
 */
final class TrunkPort implements Port, Trunks.Trunk {

    /** NATS messages (batches) waiting for the loop; past this they are dropped and counted. */
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
    private final FrameBatch flood;
    private final LongTable<RemoteRelay> relayOfMac;
    private final Map<String, RemoteRelay> relaysBySubject = new HashMap<>();
    private final Queue<Message> received = PlatformDependent.newFixedMpscQueue(RECEIVE_QUEUE_MESSAGES);
    private final AtomicBoolean drainScheduled = new AtomicBoolean();
    private final Runnable drainTask = this::drain;
    private final Runnable flushTask = this::flush;
    private boolean flushScheduled;
    private boolean closed;
    private final Consumer<TrunkPort> onClose;
    private Subscription[] subscriptions = new Subscription[0];

    /** What the trunk needs of NATS: whether it is connected, and a publish that never blocks. */
    interface Bus {
        boolean connected();

        /** @throws IllegalStateException when NATS refuses the message (its outgoing queue full, or closed) */
        void publish(String subject, byte[] body);
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

    /** The trunk's two subscriptions, kept by the cluster (under its lock) to end them with the trunk. */
    void subscriptions(Subscription... current) {
        subscriptions = current;
    }

    Subscription[] subscriptions() {
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
                publish(relay == null ? floodSubject : relay.subject, batch);
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
            publish(floodSubject, flood);
        }
        for (RemoteRelay relay : relaysBySubject.values()) {
            if (!relay.batch.isEmpty()) {
                publish(relay.subject, relay.batch);
            }
        }
    }

    private void publish(String subject, FrameBatch batch) {
        int frames = batch.frames();
        byte[] body = batch.take();
        if (!bus.connected()) {
            counters.add(Counter.DROP_TRUNK_NOT_CONNECTED, frames);
            return;
        }
        try {
            bus.publish(subject, body);
            counters.increment(Counter.TRUNK_MESSAGES_OUT);
            counters.add(Counter.TRUNK_FRAMES_OUT, frames);
        } catch (IllegalStateException fullOrClosed) {
            counters.add(Counter.DROP_TRUNK_SEND_FAILED, frames);
        }
    }

    // ---- in: NATS's thread queues, the loop drains

    /** Called on NATS's dispatcher thread. */
    void onMessage(Message message) {
        if (!received.offer(message)) {
            counters.increment(Counter.DROP_TRUNK_QUEUE_FULL);
            return;
        }
        if (drainScheduled.compareAndSet(false, true)) {
            loop.execute(drainTask);
        }
    }

    private void drain() {
        drainScheduled.set(false);
        Message message;
        while ((message = received.poll()) != null) {
            if (closed) {
                continue;
            }
            counters.increment(Counter.TRUNK_MESSAGES_IN);
            byte[] data = message.getData();
            RemoteRelay sender = relay(FrameBatch.sender(data));
            if (!FrameBatch.forEachFrame(data, LearningSwitch.ETHERNET_HEADER_LENGTH,
                    (body, offset, length) -> enter(sender, body, offset, length))) {
                counters.increment(Counter.DROP_TRUNK_MALFORMED);
            }
        }
    }

    private void enter(RemoteRelay sender, byte[] body, int offset, int length) {
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

    /** The relay behind {@code subject}, remembered; null for no subject, or when too many are known. */
    private RemoteRelay relay(String subject) {
        if (subject == null) {
            return null;
        }
        RemoteRelay relay = relaysBySubject.get(subject);
        if (relay == null && relaysBySubject.size() < MAX_REMOTE_RELAYS) {
            relay = new RemoteRelay(subject, new FrameBatch(alloc, senderBytes));
            relaysBySubject.put(subject, relay);
        }
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
        received.clear();
        flood.release();
        relaysBySubject.values().forEach(relay -> relay.batch.release());
        relaysBySubject.clear();
    }

    /** Another relay holding this network: its subject, and the frames for it of this turn. */
    private record RemoteRelay(String subject, FrameBatch batch) {
    }
}

package dev.riscvrelay.relay.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import dev.riscvrelay.relay.lan.NetworkConfig;
import dev.riscvrelay.relay.metrics.Counter;
import dev.riscvrelay.relay.metrics.Counters;
import dev.riscvrelay.relay.switching.LearningSwitch;
import dev.riscvrelay.relay.switching.Port;
import dev.riscvrelay.relay.wire.MacAddress;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.channel.DefaultEventLoop;
import io.netty.channel.EventLoop;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Three relays' switches of one network joined by their trunks over an in-memory NATS (subjects, no
 * echo), each switch on its own loop as in a relay: what floods, what goes to one relay, what never leaves.
 */
class TrunkPortTest {

    private static final long GATEWAY = NetworkConfig.DEFAULT_GATEWAY_MAC;
    private static final long A1 = 0x0200_0000_0a01L;
    private static final long B1 = 0x0200_0000_0b01L;
    private static final long C1 = 0x0200_0000_0c01L;

    private final FakeNats nats = new FakeNats();
    private final List<Relay> relays = new ArrayList<>();

    @AfterEach
    void stop() throws Exception {
        for (Relay relay : relays) {
            relay.onLoop(() -> {
                relay.trunk.close();
                relay.members.forEach(Member::releaseAll);
                return null;
            });
            relay.loop.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
        }
    }

    @Test
    void aBroadcastReachesEveryOtherRelaysMembersButNotTheirGatewaysNorComesBack() throws Exception {
        Relay a = relay("a");
        Relay b = relay("b");
        Relay c = relay("c");
        Member a1 = a.member("a1");
        Member b1 = b.member("b1");
        Member c1 = c.member("c1");

        broadcastFrom(a, a1, A1, b1, c1);
        assertThat(b1.sources()).containsExactly(A1);
        assertThat(c1.sources()).containsExactly(A1);
        assertThat(b.gateway.received).as("every relay answers its own members: no remote frame reaches it").isEmpty();
        assertThat(c.gateway.received).isEmpty();
        assertThat(a.gateway.received).as("the local gateway sees the local broadcast").hasSize(1);
        assertThat(a1.received).as("never echoed").isEmpty();
        assertThat(nats.published).containsExactly("riscv-relay.lan.net.all");
    }

    @Test
    void unicastToAMemberLearnedBehindARelayGoesToThatRelayOnlyAndFollowsItWhenItMoves() throws Exception {
        Relay a = relay("a");
        Relay b = relay("b");
        Relay c = relay("c");
        Member a1 = a.member("a1");
        Member b1 = b.member("b1");
        Member c1 = c.member("c1");
        broadcastFrom(a, a1, A1, b1, c1);
        nats.published.clear();

        b.send(b1, frame(A1, B1));
        a1.await(1);
        settle(a, b, c);
        assertThat(nats.published).as("B learned A1 behind relay a").containsExactly("riscv-relay.lan.net.relay.a");
        assertThat(c1.received).hasSize(1); // the first broadcast only

        // A1 reconnects through relay c: its next frame comes from there, and B follows it.
        a.onLoop(() -> {
            a.lan.detach(a1);
            return null;
        });
        Member a1AtC = c.member("a1@c");
        c.send(a1AtC, frame(MacAddress.BROADCAST, A1));
        b1.await(1);
        settle(a, b, c);
        nats.published.clear();
        b.send(b1, frame(A1, B1));
        a1AtC.await(1);
        settle(a, b, c);
        assertThat(nats.published).containsExactly("riscv-relay.lan.net.relay.c");
    }

    @Test
    void theGatewaysFramesStayOnItsRelay() throws Exception {
        Relay a = relay("a");
        Relay b = relay("b");
        Member b1 = b.member("b1");

        a.onLoop(() -> {
            a.lan.forward(a.gateway, frame(MacAddress.BROADCAST, GATEWAY));
            return null;
        });
        settle(a, b);
        assertThat(nats.published).isEmpty();
        assertThat(b1.received).isEmpty();
    }

    @Test
    void theFramesOfOneLoopTurnLeaveAsOneMessage() throws Exception {
        Relay a = relay("a");
        Relay b = relay("b");
        Member a1 = a.member("a1");
        Member b1 = b.member("b1");

        a.onLoop(() -> {
            for (int i = 0; i < 10; i++) {
                a.lan.forward(a1, frame(MacAddress.BROADCAST, A1));
            }
            return null;
        });
        b1.await(10);
        settle(a, b);
        assertThat(nats.published).hasSize(1);
        assertThat(a.counters.get(Counter.TRUNK_FRAMES_OUT)).isEqualTo(10);
        assertThat(a.counters.get(Counter.TRUNK_MESSAGES_OUT)).isEqualTo(1);
        assertThat(b.counters.get(Counter.TRUNK_FRAMES_IN)).isEqualTo(10);
    }

    @Test
    void withoutNatsFramesForOtherRelaysAreDroppedAndCounted() throws Exception {
        Relay a = relay("a");
        Member a1 = a.member("a1");
        nats.connected = false;

        a.send(a1, frame(MacAddress.BROADCAST, A1));
        settle(a);
        assertThat(nats.published).isEmpty();
        assertThat(a.counters.get(Counter.DROP_TRUNK_NOT_CONNECTED)).isEqualTo(1);
    }

    @Test
    void garbageFromNatsIsCountedAndTheLanGoesOn() throws Exception {
        Relay a = relay("a");
        Relay b = relay("b");
        Member a1 = a.member("a1");
        Member b1 = b.member("b1");

        for (byte[] garbage : List.of(new byte[0], new byte[] {9, 0, 0, 14}, new byte[] {1, 9, 'a'},
                new byte[] {1, 1, 'x', 0, 14, 1, 2}, new byte[] {1, 1, 'x', 0, 2, 1, 2}, frameBatchFrom(GATEWAY))) {
            b.trunk.onMessage(Unpooled.wrappedBuffer(garbage));
        }
        settle(b);
        assertThat(b.counters.get(Counter.DROP_TRUNK_MALFORMED)).isEqualTo(6);
        assertThat(b1.received).isEmpty();

        a.send(a1, frame(MacAddress.BROADCAST, A1));
        b1.await(1);
    }

    @Test
    void aFullReceiveQueueDropsAndCounts() throws Exception {
        Relay b = relay("b");
        Member b1 = b.member("b1");
        CountDownLatch hold = new CountDownLatch(1);
        b.loop.execute(() -> {
            try {
                hold.await(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        byte[] batch = frameBatchFrom(A1);
        int offered = TrunkPort.RECEIVE_QUEUE_MESSAGES + 100;
        for (int i = 0; i < offered; i++) {
            b.trunk.onMessage(Unpooled.wrappedBuffer(batch));
        }
        hold.countDown();
        b1.await(TrunkPort.RECEIVE_QUEUE_MESSAGES);
        settle(b);
        assertThat(b.counters.get(Counter.DROP_TRUNK_QUEUE_FULL)).isEqualTo(100);
        assertThat(b1.received).hasSize(TrunkPort.RECEIVE_QUEUE_MESSAGES);
    }

    // ---- the bed

    /** {@code member} of {@code relay} broadcasts from {@code mac}; returns once each of {@code others} has it. */
    private void broadcastFrom(Relay relay, Member member, long mac, Member... others) throws Exception {
        relay.send(member, frame(MacAddress.BROADCAST, mac));
        for (Member other : others) {
            other.await(1);
        }
        settle(relays.toArray(Relay[]::new));
    }

    private Relay relay(String id) throws Exception {
        Relay relay = new Relay(id);
        relays.add(relay);
        return relay;
    }

    /** Lets every loop finish what is queued (flushes, drains), twice over, since one may feed another. */
    private static void settle(Relay... relays) throws Exception {
        for (int round = 0; round < 3; round++) {
            for (Relay relay : relays) {
                relay.onLoop(() -> null);
            }
        }
    }

    private static ByteBuf frame(long destination, long source) {
        ByteBuf frame = Unpooled.buffer(64);
        frame.writeShort((int) (destination >>> 32)).writeInt((int) destination);
        frame.writeShort((int) (source >>> 32)).writeInt((int) source);
        frame.writeShort(0x88B5); // local experimental EtherType
        frame.writeZero(46);
        return frame;
    }

    private static byte[] frameBatchFrom(long source) {
        FrameBatch batch = new FrameBatch(PooledByteBufAllocator.DEFAULT,
                "riscv-relay.lan.net.relay.a".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
        ByteBuf frame = frame(MacAddress.BROADCAST, source);
        batch.add(frame);
        frame.release();
        ByteBuf taken = batch.take();
        byte[] body = new byte[taken.readableBytes()];
        taken.readBytes(body);
        taken.release();
        batch.release();
        return body;
    }

    /** One relay's network: a switch on its own loop, a local-only gateway port, the trunk, members. */
    private final class Relay {
        final EventLoop loop = new DefaultEventLoop();
        final Counters counters = new Counters();
        final LearningSwitch lan = new LearningSwitch(NetworkConfig.defaults(), counters);
        final Member gateway = new Member("gateway");
        final List<Member> members = new ArrayList<>(List.of(gateway));
        final TrunkPort trunk;

        Relay(String id) throws Exception {
            Subjects subjects = new Subjects(id);
            trunk = new TrunkPort("net", lan, loop, counters, PooledByteBufAllocator.DEFAULT,
                    nats.bus(subjects.ownRelay("net")), subjects, closed -> nats.unsubscribe(this));
            onLoop(() -> {
                lan.attachLocal(gateway);
                lan.attachTrunk(trunk);
                return null;
            });
            nats.subscribe(subjects.flood("net"), this);
            nats.subscribe(subjects.ownRelay("net"), this);
        }

        Member member(String name) throws Exception {
            Member member = new Member(name);
            members.add(member);
            onLoop(() -> {
                lan.attach(member);
                return null;
            });
            return member;
        }

        void send(Member from, ByteBuf frame) throws Exception {
            onLoop(() -> {
                lan.forward(from, frame);
                return null;
            });
        }

        <T> T onLoop(Callable<T> task) throws Exception {
            return loop.submit(task).get(10, TimeUnit.SECONDS);
        }
    }

    /** Core NATS as the trunks use it: subjects, and no echo of a connection's own messages. */
    private static final class FakeNats {
        final Map<String, List<Relay>> subscribers = new ConcurrentHashMap<>();
        final List<String> published = new CopyOnWriteArrayList<>();
        volatile boolean connected = true;

        void subscribe(String subject, Relay relay) {
            subscribers.computeIfAbsent(subject, s -> new CopyOnWriteArrayList<>()).add(relay);
        }

        void unsubscribe(Relay relay) {
            subscribers.values().forEach(list -> list.remove(relay));
        }

        TrunkPort.Bus bus(String publisherSubject) {
            return new TrunkPort.Bus() {
                @Override
                public boolean connected() {
                    return connected;
                }

                @Override
                public boolean publish(byte[] subjectBytes, ByteBuf body) {
                    try {
                        String subject = new String(subjectBytes, java.nio.charset.StandardCharsets.US_ASCII);
                        assertThat(FrameBatch.sentBy(body, publisherSubject.getBytes(
                                java.nio.charset.StandardCharsets.US_ASCII))).isTrue();
                        published.add(subject);
                        for (Relay relay : subscribers.getOrDefault(subject, List.of())) {
                            if (!relay.trunk.ownSubject().equals(publisherSubject)) {
                                relay.trunk.onMessage(body); // from the publisher's loop: handed over
                            }
                        }
                        return true;
                    } finally {
                        body.release();
                    }
                }
            };
        }
    }

    /** A LAN member that keeps what it receives. */
    private static final class Member implements Port {
        final String name;
        final List<ByteBuf> received = new CopyOnWriteArrayList<>();

        Member(String name) {
            this.name = name;
        }

        @Override
        public void send(ByteBuf frame) {
            received.add(frame);
        }

        @Override
        public int maxFrameSize() {
            return 1514;
        }

        @Override
        public String name() {
            return name;
        }

        List<Long> sources() {
            return received.stream().map(frame -> MacAddress.read(frame, frame.readerIndex() + 6)).toList();
        }

        void await(int frames) throws InterruptedException {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (received.size() < frames && System.nanoTime() < deadline) {
                Thread.sleep(5);
            }
            assertThat(received).as(name + " received").hasSizeGreaterThanOrEqualTo(frames);
        }

        void releaseAll() {
            received.forEach(ByteBuf::release);
            received.clear();
        }
    }
}

package dev.riscvrelay.relay.switching;

import dev.riscvrelay.relay.lan.NetworkConfig;
import dev.riscvrelay.relay.wire.MacAddress;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.riscvrelay.relay.metrics.Counter;
import dev.riscvrelay.relay.metrics.Counters;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class LearningSwitchTest {

    private static final long A = MacAddress.parse("52:54:00:00:00:0a");
    private static final long B = MacAddress.parse("52:54:00:00:00:0b");
    private static final long C = MacAddress.parse("52:54:00:00:00:0c");
    private static final long GATEWAY_MAC = MacAddress.parse("52:54:00:12:34:56");
    private static final long IPV4_MULTICAST = MacAddress.parse("01:00:5e:00:00:fb");
    private static final long IPV6_MULTICAST = MacAddress.parse("33:33:00:00:00:01");
    private static final long SECOND = 1_000_000_000L;
    private static final int HEADROOM = 8;

    private final Counters counters = new Counters();
    private final long[] now = {1_000 * SECOND};
    private final List<RecordingPort> ports = new ArrayList<>();
    private final List<ByteBuf> framesToCheck = new ArrayList<>();
    private LearningSwitch lan = new LearningSwitch(NetworkConfig.defaults(), counters, () -> now[0]);

    @AfterEach
    void releaseEverything() {
        for (RecordingPort port : ports) {
            port.releaseAll();
        }
        for (ByteBuf frame : framesToCheck) {
            assertThat(frame.refCnt()).as("every reference of a forwarded frame released").isZero();
        }
    }

    @Test
    void broadcastFloodsToEveryPortButTheIngress() {
        RecordingPort a = attach("a"), b = attach("b"), c = attach("c");

        lan.forward(a, frame(MacAddress.BROADCAST, A, 28));

        assertThat(a.received).isEmpty();
        assertThat(b.destinations()).containsExactly(MacAddress.BROADCAST);
        assertThat(c.destinations()).containsExactly(MacAddress.BROADCAST);
        assertThat(counters.get(Counter.FRAMES_FLOODED)).isEqualTo(1);
    }

    @Test
    void eachPortCountsWhatItSentAndWhatItWasHandedAndTheirSumsAreTheTotals() {
        RecordingPort a = attach("a"), b = attach("b"), c = attach("c");

        lan.forward(a, frame(MacAddress.BROADCAST, A, 28)); // flooded to b and c
        lan.forward(b, frame(A, B, 100)); // unicast to a, learned there
        lan.forwardFromOutside(c, frame(A, C, 60)); // from beyond the LAN: out to a, but c sent nothing in

        java.util.Map<Port, PortTraffic> traffic = new java.util.IdentityHashMap<>();
        lan.forEachPort(traffic::put);
        assertThat(traffic).containsOnlyKeys(a, b, c);
        assertThat(traffic.get(a).framesFromPort()).isEqualTo(1);
        assertThat(traffic.get(a).bytesFromPort()).isEqualTo(42);
        assertThat(traffic.get(a).framesToPort()).isEqualTo(2);
        assertThat(traffic.get(a).bytesToPort()).isEqualTo(114 + 74);
        assertThat(traffic.get(b).framesFromPort()).isEqualTo(1);
        assertThat(traffic.get(b).framesToPort()).isEqualTo(1);
        assertThat(traffic.get(c).framesFromPort()).isZero();
        assertThat(traffic.get(c).framesToPort()).isEqualTo(1);
        assertThat(traffic.values().stream().mapToLong(PortTraffic::framesFromPort).sum())
                .isEqualTo(counters.get(Counter.FRAMES_IN));
        assertThat(traffic.values().stream().mapToLong(PortTraffic::framesToPort).sum())
                .isEqualTo(counters.get(Counter.FRAMES_OUT));

        java.util.Map<Long, Port> macs = new java.util.HashMap<>();
        lan.forEachLearnedMac(macs::put);
        assertThat(macs).containsOnly(java.util.Map.entry(A, a), java.util.Map.entry(B, b), java.util.Map.entry(C, c));

        lan.detach(b);
        RecordingPort d = attach("d"); // takes b's place, with counts of its own
        traffic.clear();
        lan.forEachPort(traffic::put);
        assertThat(traffic).containsOnlyKeys(a, c, d);
        assertThat(traffic.get(d).framesFromPort()).isZero();
        assertThat(traffic.get(d).framesToPort()).isZero();
        now[0] += NetworkConfig.defaults().macAgingTime().toNanos();
        macs.clear();
        lan.forEachLearnedMac(macs::put);
        assertThat(macs).as("aged MACs are not shown").isEmpty();
    }

    @Test
    void multicastFloodsLikeBroadcastEvenToAKnownMulticastGroup() {
        RecordingPort a = attach("a"), b = attach("b"), c = attach("c");

        lan.forward(a, frame(IPV4_MULTICAST, A, 28));
        lan.forward(b, frame(IPV6_MULTICAST, B, 28));

        assertThat(a.destinations()).containsExactly(IPV6_MULTICAST);
        assertThat(b.destinations()).containsExactly(IPV4_MULTICAST);
        assertThat(c.destinations()).containsExactly(IPV4_MULTICAST, IPV6_MULTICAST);
    }

    @Test
    void unknownUnicastFloodsToEveryPortButTheIngress() {
        RecordingPort a = attach("a"), b = attach("b"), c = attach("c");

        lan.forward(a, frame(B, A, 28));

        assertThat(a.received).isEmpty();
        assertThat(b.destinations()).containsExactly(B);
        assertThat(c.destinations()).containsExactly(B);
    }

    @Test
    void aLearnedMacReceivesUnicastOnItsPortOnly() {
        RecordingPort a = attach("a"), b = attach("b"), c = attach("c");
        lan.forward(b, frame(MacAddress.BROADCAST, B, 28)); // b announces itself
        c.releaseAll();
        a.releaseAll();

        lan.forward(a, frame(B, A, 100));
        lan.forward(b, frame(A, B, 100)); // the reply: A was learned from the first frame

        assertThat(b.destinations()).containsExactly(B);
        assertThat(a.destinations()).containsExactly(A);
        assertThat(c.received).isEmpty();
        assertThat(lan.portOf(A)).isSameAs(a);
        assertThat(lan.portOf(B)).isSameAs(b);
        assertThat(counters.get(Counter.MAC_LEARNED)).isEqualTo(2);
    }

    @Test
    void aMacThatShowsUpOnAnotherPortMovesThere() {
        RecordingPort a = attach("a"), b = attach("b"), c = attach("c");
        lan.forward(a, frame(MacAddress.BROADCAST, A, 28));
        assertThat(lan.portOf(A)).isSameAs(a);

        lan.forward(c, frame(MacAddress.BROADCAST, A, 28)); // the VM reconnected through another session
        releaseAllReceived();

        lan.forward(b, frame(A, B, 60));
        assertThat(c.destinations()).containsExactly(A);
        assertThat(a.received).isEmpty();
        assertThat(lan.portOf(A)).isSameAs(c);
        assertThat(counters.get(Counter.MAC_MOVED)).isEqualTo(1);
    }

    @Test
    void aFrameForAMacLearnedOnTheIngressPortIsFilteredAndCounted() {
        RecordingPort a = attach("a"), b = attach("b");
        lan.forward(a, frame(MacAddress.BROADCAST, A, 28));
        lan.forward(a, frame(MacAddress.BROADCAST, C, 28)); // two MACs behind one port (a bridge)
        releaseAllReceived();

        ByteBuf frame = frame(C, A, 60);
        lan.forward(a, frame);

        assertThat(frame.refCnt()).isZero();
        assertThat(a.received).isEmpty();
        assertThat(b.received).isEmpty();
        assertThat(counters.get(Counter.DROP_SAME_PORT)).isEqualTo(1);
    }

    @Test
    void learnedMacsAgeOutOnLookupAfterTheAgingTime() {
        lan = new LearningSwitch(NetworkConfig.defaults().withMacTable(16, Duration.ofSeconds(30)), counters, () -> now[0]);
        RecordingPort a = attach("a"), b = attach("b"), c = attach("c");
        lan.forward(b, frame(MacAddress.BROADCAST, B, 28));
        releaseAllReceived();

        now[0] += 29 * SECOND;
        lan.forward(a, frame(B, A, 60));
        assertThat(c.received).as("still learned after 29 s").isEmpty();
        assertThat(b.received).hasSize(1);

        now[0] += 1 * SECOND; // B silent for 30 s now
        lan.forward(a, frame(B, A, 60));
        assertThat(c.destinations()).as("aged out: flooded").containsExactly(B);
        assertThat(b.received).hasSize(2);
        assertThat(counters.get(Counter.MAC_AGED_OUT)).isEqualTo(1);
        assertThat(lan.portOf(B)).isNull();
    }

    @Test
    void theSweepForgetsSilentMacsAndFreesRoom() {
        lan = new LearningSwitch(NetworkConfig.defaults().withMacTable(2, Duration.ofSeconds(30)), counters, () -> now[0]);
        RecordingPort a = attach("a"), b = attach("b");
        lan.forward(a, frame(MacAddress.BROADCAST, A, 28));
        now[0] += 20 * SECOND;
        lan.forward(b, frame(MacAddress.BROADCAST, B, 28));

        now[0] += 10 * SECOND;
        assertThat(lan.expireMacs()).as("A is 30 s old, B 10 s").isEqualTo(1);
        assertThat(lan.learnedMacCount()).isEqualTo(1);
        assertThat(lan.portOf(B)).isSameAs(b);

        lan.forward(a, frame(MacAddress.BROADCAST, C, 28));
        assertThat(lan.portOf(C)).as("room for a new MAC after the sweep").isSameAs(a);
        assertThat(counters.get(Counter.MAC_AGED_OUT)).isEqualTo(1);
    }

    @Test
    void whenTheTableIsFullNewMacsAreNotLearnedButTheirFramesStillFlood() {
        lan = new LearningSwitch(NetworkConfig.defaults().withMacTable(2, NetworkConfig.DEFAULT_MAC_AGING_TIME), counters, () -> now[0]);
        RecordingPort a = attach("a"), b = attach("b"), c = attach("c");
        lan.forward(a, frame(MacAddress.BROADCAST, A, 28));
        lan.forward(b, frame(MacAddress.BROADCAST, B, 28));
        releaseAllReceived();

        lan.forward(c, frame(A, C, 60)); // C is not learned
        assertThat(a.destinations()).containsExactly(A);
        assertThat(counters.get(Counter.DROP_MAC_TABLE_FULL)).isEqualTo(1);
        assertThat(lan.portOf(C)).isNull();
        assertThat(lan.learnedMacCount()).isEqualTo(2);

        lan.forward(a, frame(C, A, 60)); // so frames to C flood
        assertThat(b.destinations()).containsExactly(C);
        assertThat(c.destinations()).containsExactly(C);
    }

    @Test
    void runtsAreDroppedAndCounted() {
        RecordingPort a = attach("a"), b = attach("b");
        ByteBuf runt = track(PooledByteBufAllocator.DEFAULT.directBuffer(13).writeZero(13));

        lan.forward(a, runt);

        assertThat(runt.refCnt()).isZero();
        assertThat(b.received).isEmpty();
        assertThat(counters.get(Counter.DROP_RUNT)).isEqualTo(1);
        assertThat(counters.get(Counter.FRAMES_IN)).isEqualTo(1);
    }

    @Test
    void aHeaderOnlyFrameIsForwarded() {
        RecordingPort a = attach("a"), b = attach("b");
        lan.forward(a, frame(MacAddress.BROADCAST, A, 0));
        assertThat(b.received).hasSize(1);
        assertThat(b.received.getFirst().readableBytes()).isEqualTo(14);
    }

    @Test
    void aFrameTooLargeForOnePortSkipsOnlyThatPort() {
        RecordingPort a = attach("a", 1514), small = attach("small", 1199), c = attach("c", 1514);

        ByteBuf frame = frame(MacAddress.BROADCAST, A, 1500 - 14); // 1500 bytes
        lan.forward(a, frame);

        assertThat(small.received).isEmpty();
        assertThat(c.received).hasSize(1);
        assertThat(counters.get(Counter.DROP_TOO_LARGE)).isEqualTo(1);

        lan.forward(c, frame(MacAddress.BROADCAST, C, 1199 - 14)); // exactly fits
        assertThat(small.received).hasSize(1);
        assertThat(counters.get(Counter.DROP_TOO_LARGE)).isEqualTo(1);
    }

    @Test
    void aUnicastFrameTooLargeForItsPortIsDroppedAndCounted() {
        RecordingPort a = attach("a", 1514), small = attach("small", 1199);
        lan.forward(small, frame(MacAddress.BROADCAST, B, 28));
        releaseAllReceived();

        ByteBuf frame = frame(B, A, 1400);
        lan.forward(a, frame);

        assertThat(frame.refCnt()).isZero();
        assertThat(small.received).isEmpty();
        assertThat(counters.get(Counter.DROP_TOO_LARGE)).isEqualTo(1);
    }

    @Test
    void framesFromAGroupOrZeroSourceAreDroppedNotLearned() {
        RecordingPort a = attach("a"), b = attach("b");

        lan.forward(a, frame(B, MacAddress.BROADCAST, 28));
        lan.forward(a, frame(B, IPV4_MULTICAST, 28));
        lan.forward(a, frame(B, 0L, 28));

        assertThat(b.received).isEmpty();
        assertThat(lan.learnedMacCount()).isZero();
        assertThat(counters.get(Counter.DROP_BAD_SOURCE_MAC)).isEqualTo(3);
    }

    @Test
    void aFrameFromAPortThatIsNotAttachedIsDroppedAndCounted() {
        RecordingPort a = attach("a");
        RecordingPort stranger = new RecordingPort("stranger", 1514);

        ByteBuf frame = frame(MacAddress.BROADCAST, B, 28);
        lan.forward(stranger, frame);

        assertThat(frame.refCnt()).isZero();
        assertThat(a.received).isEmpty();
        assertThat(counters.get(Counter.DROP_NOT_ATTACHED)).isEqualTo(1);
    }

    @Test
    void detachForgetsThePortsMacsAndItGetsNothingMore() {
        RecordingPort a = attach("a"), b = attach("b"), c = attach("c");
        lan.forward(b, frame(MacAddress.BROADCAST, B, 28));
        releaseAllReceived();

        lan.detach(b);
        assertThat(lan.portOf(B)).isNull();
        assertThat(lan.learnedMacCount()).isZero();
        assertThat(lan.portCount()).isEqualTo(2);

        lan.forward(a, frame(B, A, 60));
        assertThat(b.received).isEmpty();
        assertThat(c.destinations()).as("B unknown now: flooded").containsExactly(B);

        lan.detach(b); // twice is harmless
        assertThat(lan.portCount()).isEqualTo(2);
    }

    @Test
    void aPortAttachedIntoAFreedSlotDoesNotInheritTheOldPortsMacs() {
        RecordingPort a = attach("a"), b = attach("b");
        lan.forward(b, frame(MacAddress.BROADCAST, B, 28));
        lan.detach(b);
        RecordingPort newcomer = attach("newcomer");
        releaseAllReceived();

        lan.forward(a, frame(B, A, 60));
        assertThat(newcomer.destinations()).as("flooded, not unicast by a stale entry").containsExactly(B);
        assertThat(lan.portOf(B)).isNull();
    }

    @Test
    void attachingTheSamePortTwiceIsRefused() {
        RecordingPort a = attach("a");
        assertThatThrownBy(() -> lan.attach(a)).isInstanceOf(IllegalArgumentException.class);
    }

    /** The gateway answers an ARP broadcast inline, while the switch is still flooding the request. */
    @Test
    void aPortMayForwardFromInsideSendAndTheFloodCarriesOn() {
        RecordingPort a = attach("a");
        RecordingPort gateway = attach("gateway");
        RecordingPort c = attach("c");
        gateway.onSend = request -> {
            if (MacAddress.read(request, request.readerIndex()) == MacAddress.BROADCAST) {
                lan.forward(gateway, frame(MacAddress.read(request, request.readerIndex() + 6), GATEWAY_MAC, 28));
            }
        };

        lan.forward(a, frame(MacAddress.BROADCAST, A, 28));

        assertThat(a.destinations()).as("the reply, unicast to the learned requester").containsExactly(A);
        assertThat(gateway.destinations()).containsExactly(MacAddress.BROADCAST);
        assertThat(c.destinations()).as("the request still reaches the ports after the gateway")
                .containsExactly(MacAddress.BROADCAST);
        assertThat(lan.portOf(GATEWAY_MAC)).isSameAs(gateway);
    }

    @Test
    void aPortDetachedDuringAFloodGetsNothingAndNoReferenceLeaks() {
        RecordingPort a = attach("a"), b = attach("b"), c = attach("c"), d = attach("d");
        b.onSend = frame -> lan.detach(c);

        ByteBuf frame = frame(MacAddress.BROADCAST, A, 28);
        lan.forward(a, frame);

        assertThat(b.received).hasSize(1);
        assertThat(c.received).isEmpty();
        assertThat(d.received).hasSize(1);
        assertThat(frame.refCnt()).isEqualTo(2);
    }

    @Test
    void theLastReceiverDetachedDuringAFloodStillLeavesNoReference() {
        RecordingPort a = attach("a"), b = attach("b"), c = attach("c");
        b.onSend = frame -> lan.detach(c);

        ByteBuf frame = frame(MacAddress.BROADCAST, A, 28);
        lan.forward(a, frame);

        assertThat(c.received).isEmpty();
        assertThat(frame.refCnt()).isEqualTo(1); // b's
    }

    @Test
    void portsThatAnswerEachOtherForeverAreStoppedAtABoundedDepth() {
        RecordingPort a = attach("a"), b = attach("b");
        a.keep = false;
        b.keep = false;
        a.onSend = frame -> lan.forward(a, frame(MacAddress.BROADCAST, A, 28));
        b.onSend = frame -> lan.forward(b, frame(MacAddress.BROADCAST, B, 28));

        lan.forward(a, frame(MacAddress.BROADCAST, A, 28));

        assertThat(counters.get(Counter.DROP_FORWARD_TOO_DEEP)).isEqualTo(1);
        assertThat(counters.get(Counter.FRAMES_OUT)).isEqualTo(LearningSwitch.MAX_FORWARD_DEPTH);
    }

    @Test
    void aPortWhoseSendThrowsDoesNotStopTheOthers() {
        RecordingPort a = attach("a");
        Port broken = new Port() {
            @Override
            public void send(ByteBuf frame) {
                frame.release();
                throw new IllegalStateException("bug in a port");
            }

            @Override
            public int maxFrameSize() {
                return 1514;
            }

            @Override
            public String name() {
                return "broken";
            }
        };
        lan.attach(broken);
        RecordingPort c = attach("c");

        ByteBuf frame = frame(MacAddress.BROADCAST, A, 28);
        lan.forward(a, frame);

        assertThat(c.received).hasSize(1);
        assertThat(counters.get(Counter.PORT_SEND_FAILED)).isEqualTo(1);
        assertThat(frame.refCnt()).isEqualTo(1);
    }

    @ParameterizedTest(name = "{0} ports")
    @ValueSource(ints = {1, 2, 16})
    void aFloodHandsOutExactlyOneReferencePerReceiverWithoutCopying(int portCount) {
        List<RecordingPort> lanPorts = new ArrayList<>();
        for (int i = 0; i < portCount; i++) {
            lanPorts.add(attach("p" + i));
        }
        ByteBuf frame = frame(MacAddress.BROADCAST, A, 46);
        int payloadMarker = frame.getByte(frame.readerIndex() + 14);

        lan.forward(lanPorts.getFirst(), frame);

        int receivers = portCount - 1;
        assertThat(frame.refCnt()).isEqualTo(receivers); // zero for a LAN of one: released
        for (RecordingPort port : lanPorts.subList(1, portCount)) {
            assertThat(port.received).hasSize(1);
            ByteBuf copy = port.received.getFirst();
            assertThat(copy.readableBytes()).isEqualTo(60);
            assertThat((int) copy.getByte(copy.readerIndex() + 14)).isEqualTo(payloadMarker);
            assertThat(copy.unwrap() == null ? copy : copy.unwrap())
                    .as("a view of the same memory, no copy")
                    .matches(buf -> sameMemory(buf, frame));
        }
        for (RecordingPort port : lanPorts) {
            port.releaseAll();
            assertThat(frame.refCnt()).isEqualTo(receivers - Math.min(receivers, lanPorts.indexOf(port)));
        }
        assertThat(frame.refCnt()).isZero();
        assertThat(counters.get(Counter.FRAMES_OUT)).isEqualTo(receivers);
    }

    @Test
    void eachReceiverOwnsItsIndices() {
        RecordingPort a = attach("a"), b = attach("b"), c = attach("c");
        b.onSend = frame -> frame.skipBytes(frame.readableBytes()); // e.g. written out at once

        lan.forward(a, frame(MacAddress.BROADCAST, A, 28));

        assertThat(c.received.getFirst().readableBytes()).isEqualTo(42);
    }

    @Test
    void unicastHandsOverTheCallersReferenceItself() {
        RecordingPort a = attach("a"), b = attach("b");
        lan.forward(b, frame(MacAddress.BROADCAST, B, 28));
        ByteBuf frame = frame(B, A, 28);

        lan.forward(a, frame);

        assertThat(b.received.getLast()).isSameAs(frame);
        assertThat(frame.refCnt()).isEqualTo(1);
    }

    @Test
    void countsFramesAndBytesInAndOut() {
        RecordingPort a = attach("a"), b = attach("b"), c = attach("c");
        lan.forward(a, frame(MacAddress.BROADCAST, A, 86)); // 100 bytes to 2 ports
        lan.forward(b, frame(A, B, 36)); // 50 bytes to 1 port

        assertThat(counters.get(Counter.FRAMES_IN)).isEqualTo(2);
        assertThat(counters.get(Counter.BYTES_IN)).isEqualTo(150);
        assertThat(counters.get(Counter.FRAMES_OUT)).isEqualTo(3);
        assertThat(counters.get(Counter.BYTES_OUT)).isEqualTo(250);
        assertThat(a.received).hasSize(1);
        assertThat(c.received).hasSize(1);
    }

    private static boolean sameMemory(ByteBuf view, ByteBuf original) {
        ByteBuf root = original.unwrap() == null ? original : original.unwrap();
        return view == root || view.unwrap() == root || (view.hasMemoryAddress() && root.hasMemoryAddress()
                && view.memoryAddress() == root.memoryAddress());
    }

    private RecordingPort attach(String name) {
        return attach(name, 1514);
    }

    private RecordingPort attach(String name, int maxFrameSize) {
        RecordingPort port = new RecordingPort(name, maxFrameSize);
        ports.add(port);
        lan.attach(port);
        return port;
    }

    private void releaseAllReceived() {
        for (RecordingPort port : ports) {
            port.releaseAll();
        }
    }

    /** A pooled direct Ethernet frame with headroom before it (readerIndex > 0), as transports deliver them. */
    private ByteBuf frame(long destination, long source, int payloadLength) {
        ByteBuf buf = PooledByteBufAllocator.DEFAULT.directBuffer(HEADROOM + 14 + payloadLength);
        buf.writeZero(HEADROOM).readerIndex(HEADROOM);
        buf.writeShort((int) (destination >>> 32)).writeInt((int) destination);
        buf.writeShort((int) (source >>> 32)).writeInt((int) source);
        buf.writeShort(0x0800);
        for (int i = 0; i < payloadLength; i++) {
            buf.writeByte(0x40 + i);
        }
        return track(buf);
    }

    private ByteBuf track(ByteBuf frame) {
        framesToCheck.add(frame);
        return frame;
    }

    /** A LAN member that records what it receives; releases it when the test is done with it. */
    static final class RecordingPort implements Port {
        final String name;
        final int maxFrameSize;
        final List<ByteBuf> received = new ArrayList<>();
        Consumer<ByteBuf> onSend = frame -> { };
        boolean keep = true;

        RecordingPort(String name, int maxFrameSize) {
            this.name = name;
            this.maxFrameSize = maxFrameSize;
        }

        @Override
        public void send(ByteBuf frame) {
            if (keep) {
                received.add(frame);
                onSend.accept(frame);
            } else {
                onSend.accept(frame);
                frame.release();
            }
        }

        @Override
        public int maxFrameSize() {
            return maxFrameSize;
        }

        @Override
        public String name() {
            return name;
        }

        List<Long> destinations() {
            return received.stream().map(frame -> MacAddress.read(frame, frame.readerIndex())).toList();
        }

        void releaseAll() {
            for (ByteBuf frame : received) {
                frame.release();
            }
            received.clear();
        }
    }
}

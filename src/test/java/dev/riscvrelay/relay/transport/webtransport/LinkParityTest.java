package dev.riscvrelay.relay.transport.webtransport;

import static org.assertj.core.api.Assertions.assertThat;

import dev.riscvrelay.relay.metrics.Counter;
import dev.riscvrelay.relay.metrics.Counters;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.Unpooled;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.IntPredicate;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Link recovery's parity datagrams: a sender on a long path that sends one after each group of
 * {@link LinkRecovery#PARITY_GROUP} frames, a receiver that rebuilds a group's one lost frame from it, and a wire
 * between them that loses what a test says. Frames are random bytes of random lengths, and what the receiver
 * delivers is compared byte for byte with what was sent.
 */
class LinkParityTest {

    private static final int PREFIX = 1;
    private static final int SLOT = 1472;
    private static final int GROUP = LinkRecovery.PARITY_GROUP;

    private final SplittableRandom random = new SplittableRandom(7);
    private long now = 1_000_000_000L;
    private final Counters senderCounters = new Counters();
    private final Counters receiverCounters = new Counters();
    /** Resends, NACKs and parity datagrams from the sender, in the order it wrote them. */
    private final List<ByteBuf> fromSenderLink = new ArrayList<>();
    private final List<ByteBuf> nacks = new ArrayList<>();
    private final List<byte[]> sent = new ArrayList<>();
    private final List<byte[]> delivered = new ArrayList<>();
    private final LinkRecovery sender = new LinkRecovery(SLOT, 0, PREFIX, PooledByteBufAllocator.DEFAULT,
            senderCounters, () -> now, fromSenderLink::add, frame -> {
                frame.release();
                throw new AssertionError("nothing comes back to the sender");
            }, (task, delay) -> {
            }, true);
    private final LinkRecovery receiver = new LinkRecovery(SLOT, 0, PREFIX, PooledByteBufAllocator.DEFAULT,
            receiverCounters, () -> now, nacks::add, frame -> {
                delivered.add(ByteBufUtil.getBytes(frame));
                frame.release();
            }, (task, delay) -> {
            }, false);

    @AfterEach
    void release() {
        sender.release();
        receiver.release();
        fromSenderLink.forEach(ByteBuf::release);
        nacks.forEach(ByteBuf::release);
    }

    @ParameterizedTest
    @ValueSource(ints = {0, 3, 7})
    void aGroupsOneLostFrameIsRebuiltFromItsParityBeforeAnyResend(int position) {
        int base = startParity();
        send(2 * GROUP, true, seq -> seq == base + position, false);
        assertThat(delivered).containsExactlyElementsOf(sent);
        assertThat(receiverCounters.get(Counter.RECOVERY_PARITY_REPAIRED)).isEqualTo(1);
        assertThat(receiverCounters.get(Counter.RECOVERY_REPAIRED)).as("startParity's only").isEqualTo(1);

        // A hole that a later frame showed was asked for at once, and its resend comes second; the group's last
        // frame was rebuilt before any frame showed it lost, and nothing asked for it.
        assertThat(nacks).hasSize(position < GROUP - 1 ? 1 : 0);
        answerNacks();
        assertThat(delivered).containsExactlyElementsOf(sent);
        assertThat(receiverCounters.get(Counter.DROP_RECOVERY_DUPLICATE)).isEqualTo(position < GROUP - 1 ? 1 : 0);
    }

    @Test
    void twoLostFramesOfOneGroupWaitForTheirResendsAndTheParityRebuildsTheSecond() {
        int base = startParity();
        send(2 * GROUP, true, seq -> seq == base + 1 || seq == base + 5, false);
        assertThat(delivered).hasSize(base + 1);
        assertThat(receiverCounters.get(Counter.RECOVERY_PARITY_REPAIRED)).isZero();

        assertThat(nacks).as("each asked for when its gap showed").hasSize(2);
        nacks.forEach(nack -> sender.receive(nack.skipBytes(PREFIX)));
        nacks.clear();
        ByteBuf firstResend = fromSenderLink.removeFirst();
        fromSenderLink.forEach(ByteBuf::release); // the second resend is lost
        fromSenderLink.clear();
        arrive(firstResend);

        assertThat(delivered).containsExactlyElementsOf(sent);
        assertThat(receiverCounters.get(Counter.RECOVERY_REPAIRED)).isEqualTo(2);
        assertThat(receiverCounters.get(Counter.RECOVERY_PARITY_REPAIRED)).isEqualTo(1);
    }

    @Test
    void aLostParityLeavesTheRepairToTheResend() {
        int base = startParity();
        send(2 * GROUP, true, seq -> seq == base + 2, true);
        assertThat(delivered).hasSize(base + 2);
        answerNacks();
        assertThat(delivered).containsExactlyElementsOf(sent);
        assertThat(receiverCounters.get(Counter.RECOVERY_REPAIRED)).isEqualTo(2);
        assertThat(receiverCounters.get(Counter.RECOVERY_PARITY_REPAIRED)).isZero();
    }

    @Test
    void noParityGoesBeforeTheFirstLossNorOnAShortPath() {
        send(3 * GROUP, true, seq -> false, false);
        assertThat(senderCounters.get(Counter.RECOVERY_PARITY_SENT)).as("nothing lost yet").isZero();
        send(GROUP, false, seq -> seq == 3 * GROUP, false);
        answerNacks();
        send(GROUP + 3, false, seq -> false, false);
        assertThat(senderCounters.get(Counter.RECOVERY_PARITY_SENT)).as("a short path").isZero();
        // The path turns long in the middle of a group: that group has no parity, the next has.
        send(2 * GROUP - 3, true, seq -> false, false);
        assertThat(senderCounters.get(Counter.RECOVERY_PARITY_SENT)).isEqualTo(1);
        assertThat(delivered).containsExactlyElementsOf(sent);
    }

    @Test
    void parityStopsWhenNothingWasLostForAWhile() {
        startParity();
        long sentBefore = senderCounters.get(Counter.RECOVERY_PARITY_SENT);
        send(GROUP, true, seq -> false, false);
        assertThat(senderCounters.get(Counter.RECOVERY_PARITY_SENT)).isEqualTo(sentBefore + 1);
        now += LinkRecovery.PARITY_AFTER_LOSS_NANOS;
        send(2 * GROUP, true, seq -> false, false);
        assertThat(senderCounters.get(Counter.RECOVERY_PARITY_SENT)).isEqualTo(sentBefore + 1);
        assertThat(delivered).containsExactlyElementsOf(sent);
    }

    @Test
    void theSenderCountsItsParityBytesForItsPacer() {
        startParity();
        sender.takeParityBytes();
        send(GROUP, true, seq -> false, false);
        int longest = sent.subList(sent.size() - GROUP, sent.size()).stream().mapToInt(f -> f.length).max()
                .orElseThrow();
        assertThat(sender.takeParityBytes()).isEqualTo(PREFIX + LinkRecovery.PARITY_HEADER + longest);
        assertThat(sender.takeParityBytes()).isZero();
    }

    @Test
    void aSenderWithoutTheAgreementSendsNoParity() {
        LinkRecovery plain = new LinkRecovery(SLOT, 0, PREFIX, PooledByteBufAllocator.DEFAULT, senderCounters,
                () -> now, fromSenderLink::add, ByteBuf::release, (task, delay) -> {
                }, false);
        try {
            plain.data(Unpooled.directBuffer(64).writeZero(64), true).release();
            plain.receive(Unpooled.directBuffer().writeByte(LinkRecovery.NACK).writeByte(1).writeInt(0));
            fromSenderLink.forEach(ByteBuf::release); // the resend
            fromSenderLink.clear();
            for (int i = 0; i < 2 * GROUP; i++) {
                plain.data(Unpooled.directBuffer(64).writeZero(64), true).release();
            }
            assertThat(fromSenderLink).isEmpty();
            assertThat(senderCounters.get(Counter.RECOVERY_PARITY_SENT)).isZero();
        } finally {
            plain.release();
        }
    }

    @Test
    void aParityWhoseLengthsDoNotAddUpIsDroppedNotDelivered() {
        int base = startParity();
        send(GROUP, true, seq -> seq == base + 4, true);
        int lengths = 0;
        for (int seq = base; seq < base + GROUP; seq++) {
            lengths ^= seq == base + 4 ? 0 : sent.get(seq).length;
        }
        // The frame it would rebuild is longer than anything in the group.
        receiver.receive(Unpooled.directBuffer().writeByte(LinkRecovery.PARITY).writeShort(base / GROUP)
                .writeShort(lengths ^ 2000).writeZero(100));
        assertThat(delivered).hasSize(base + 4);
        assertThat(receiverCounters.get(Counter.DROP_BAD_DATAGRAM)).isEqualTo(1);
        assertThat(receiverCounters.get(Counter.RECOVERY_PARITY_REPAIRED)).isZero();
        answerNacks();
        assertThat(delivered).containsExactlyElementsOf(sent);
    }

    @Test
    void malformedOrMisplacedParityIsCountedAndChangesNothing() {
        receiver.receive(Unpooled.directBuffer().writeByte(LinkRecovery.PARITY).writeShort(0).writeShort(64)
                .writeZero(64)); // before any frame
        assertThat(receiverCounters.get(Counter.DROP_RECOVERY_TOO_OLD)).isEqualTo(1);
        int base = startParity();
        receiver.receive(Unpooled.directBuffer().writeByte(LinkRecovery.PARITY).writeByte(0)); // too short
        receiver.receive(Unpooled.directBuffer().writeByte(LinkRecovery.PARITY).writeShort(500).writeShort(64)
                .writeZero(64)); // a group far ahead of any frame
        receiver.receive(Unpooled.directBuffer().writeByte(LinkRecovery.PARITY).writeShort(base / GROUP)
                .writeShort(64).writeZero(SLOT + 1)); // longer than any frame
        assertThat(receiverCounters.get(Counter.DROP_BAD_DATAGRAM)).isEqualTo(3);
        receiver.receive(Unpooled.directBuffer().writeByte(LinkRecovery.PARITY).writeShort(base / GROUP - 1)
                .writeShort(64).writeZero(64)); // the last group's, once more
        assertThat(receiverCounters.get(Counter.DROP_RECOVERY_DUPLICATE)).isEqualTo(1);
        assertThat(delivered).containsExactlyElementsOf(sent);
    }

    @Test
    void randomLossOfOnePercentIsRepairedWithoutResendsMostly() {
        SplittableRandom loss = new SplittableRandom(11);
        startParity();
        for (int round = 0; round < 24; round++) { // each access to a frame is slow under paranoid leak detection
            send(12 * GROUP, true, seq -> loss.nextInt(100) == 0, false);
            answerNacks();
        }
        assertThat(delivered).hasSameSizeAs(sent);
        for (int i = 0; i < sent.size(); i++) {
            assertThat(delivered.get(i)).as("frame %d", i).isEqualTo(sent.get(i));
        }
        long byParity = receiverCounters.get(Counter.RECOVERY_PARITY_REPAIRED);
        long byResend = receiverCounters.get(Counter.RECOVERY_REPAIRED);
        assertThat(byParity + byResend).isGreaterThan(20);
        assertThat(byParity).as("a second loss in the same group is rare at 1%").isGreaterThan(4 * byResend);
    }

    @Test
    void groupNumbersWrapWithTheSequenceNumbers() {
        int lastGroup = -1 >>> Integer.numberOfTrailingZeros(GROUP);
        assertThat(LinkRecovery.groupNear(5, 5)).isEqualTo(5);
        assertThat(LinkRecovery.groupNear(0x1_0002, 0xFFFF)).isEqualTo(0xFFFF);
        assertThat(LinkRecovery.groupNear(0x1_FFFE, 0x0001)).isEqualTo(0x2_0001);
        assertThat(LinkRecovery.groupNear(lastGroup, 0x0000)).as("past the last group: group 0").isZero();
        assertThat(LinkRecovery.groupNear(0, 0xFFFF)).as("before group 0: the last group").isEqualTo(lastGroup);
    }

    /**
     * Two groups on a long path: the first loses a frame, whose NACK tells the sender that the path loses frames,
     * and the second's parity is the receiver's first, from which on it keeps groups. Returns the next sequence
     * number (a group's first).
     */
    private int startParity() {
        int first = sent.size();
        send(GROUP, true, seq -> seq == first + 1, false);
        answerNacks();
        send(GROUP, true, seq -> false, false);
        assertThat(senderCounters.get(Counter.RECOVERY_PARITY_SENT)).isPositive();
        return sent.size();
    }

    /**
     * Sends {@code count} random frames on a path long or not; the wire drops the frames {@code lost} names and,
     * when {@code parityLost}, every parity datagram; the rest arrive in order, each parity right after its group.
     */
    private void send(int count, boolean longPath, IntPredicate lost, boolean parityLost) {
        for (int i = 0; i < count; i++) {
            int seq = sent.size();
            byte[] bytes = new byte[60 + random.nextInt(1400)];
            random.nextBytes(bytes);
            sent.add(bytes);
            ByteBuf frame = PooledByteBufAllocator.DEFAULT.directBuffer(bytes.length).writeBytes(bytes);
            ByteBuf datagram = sender.data(frame, longPath);
            if (lost.test(seq)) {
                datagram.release();
            } else {
                arrive(datagram);
            }
            List<ByteBuf> parities = new ArrayList<>(fromSenderLink);
            fromSenderLink.clear();
            for (ByteBuf parity : parities) {
                if (parityLost) {
                    parity.release();
                } else {
                    arrive(parity);
                }
            }
        }
        sender.flushed();
    }

    /** The receiver's NACKs reach the sender, and its resends the receiver. */
    private void answerNacks() {
        List<ByteBuf> asked = new ArrayList<>(nacks);
        nacks.clear();
        asked.forEach(nack -> sender.receive(nack.skipBytes(PREFIX)));
        sender.flushed();
        List<ByteBuf> resends = new ArrayList<>(fromSenderLink);
        fromSenderLink.clear();
        resends.forEach(this::arrive);
    }

    private void arrive(ByteBuf datagram) {
        receiver.receive(datagram.skipBytes(PREFIX));
    }
}

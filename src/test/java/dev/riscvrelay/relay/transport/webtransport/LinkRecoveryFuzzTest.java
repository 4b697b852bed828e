package dev.riscvrelay.relay.transport.webtransport;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.riscvrelay.relay.metrics.Counter;
import dev.riscvrelay.relay.metrics.Counters;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.buffer.UnpooledByteBufAllocator;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;

/**
 * Whatever datagrams a hostile peer sends a link-recovered session that agreed to parity (any sequence numbers,
 * NACKs for anything, parity for any group, bytes that are none of these), interleaved with the session's own frames
 * on a long path or not and time passing: nothing throws, every datagram is released or delivered once, nothing is
 * delivered that was not sent as DATA or counted as rebuilt from parity, every NACK and parity it writes is well
 * formed, and at the end (release) nothing is left held.
 */
class LinkRecoveryFuzzTest {

    private static final int SLOT = 1472;

    @FuzzTest(maxDuration = "60s")
    void receive(byte[] input) {
        long[] now = {1_000_000_000L};
        TreeMap<Long, List<Runnable>> timers = new TreeMap<>();
        List<ByteBuf> delivered = new ArrayList<>();
        List<ByteBuf> toPeer = new ArrayList<>();
        List<ByteBuf> received = new ArrayList<>();
        Counters counters = new Counters();
        LinkRecovery recovery = new LinkRecovery(SLOT, 0, 1, UnpooledByteBufAllocator.DEFAULT, counters,
                () -> now[0], toPeer::add, delivered::add,
                (task, delay) -> timers.computeIfAbsent(now[0] + Math.max(1, delay), t -> new ArrayList<>())
                        .add(task), true);
        int dataDatagrams = 0;
        int at = 0;
        while (at < input.length) {
            int op = input[at++] & 0xFF;
            switch (op % 4) {
                case 0 -> { // the session sends a frame of its own (a slot to resend)
                    ByteBuf frame = Unpooled.directBuffer(64).writeZero(op);
                    ByteBuf datagram = recovery.data(frame, (op & 4) == 0);
                    assertThat(datagram).isNotNull();
                    datagram.release();
                    recovery.flushed();
                }
                case 1 -> { // time passes and the timers due run
                    now[0] += (long) op * 1_000_000L;
                    while (!timers.isEmpty() && timers.firstKey() <= now[0]) {
                        timers.pollFirstEntry().getValue().forEach(Runnable::run);
                    }
                }
                default -> { // a datagram from the peer: length, then that many bytes
                    int length = at < input.length ? Math.min(input[at++] & 0xFF, input.length - at) : 0;
                    ByteBuf datagram = Unpooled.directBuffer(8 + length);
                    datagram.writerIndex(8).readerIndex(8).writeBytes(input, at, length);
                    at += length;
                    if (length >= 5 && datagram.getByte(8) == LinkRecovery.DATA) {
                        dataDatagrams++;
                    }
                    received.add(datagram);
                    recovery.receive(datagram.retain());
                }
            }
        }
        long rebuilt = counters.get(Counter.RECOVERY_PARITY_REPAIRED);
        assertThat((long) delivered.size()).as("only DATA is delivered, and frames rebuilt from parity")
                .isLessThanOrEqualTo(dataDatagrams + rebuilt);
        long notReceived = delivered.stream().filter(frame -> received.stream().noneMatch(r -> r == frame)).count();
        assertThat(notReceived).as("a delivered frame is a received one, or one counted as rebuilt")
                .isLessThanOrEqualTo(rebuilt);
        for (ByteBuf out : toPeer) {
            assertThat(out.getByte(0)).as("the prefix").isZero();
            if (out.getByte(1) == LinkRecovery.NACK) {
                int count = out.getUnsignedByte(2);
                assertThat(count).isBetween(1, LinkRecovery.MAX_NACK_SEQS);
                assertThat(out.readableBytes()).isEqualTo(3 + count * Integer.BYTES);
            } else if (out.getByte(1) == LinkRecovery.PARITY) {
                assertThat(out.readableBytes()).isBetween(1 + LinkRecovery.PARITY_HEADER, SLOT);
            } else {
                assertThat(out.getByte(1)).as("else a resend").isEqualTo(LinkRecovery.DATA);
            }
            out.release();
        }
        recovery.release();
        for (ByteBuf frame : delivered) {
            assertThat(frame.release()).as("delivered frames carry one reference").isFalse();
        }
        for (ByteBuf datagram : received) {
            assertThat(datagram.refCnt()).as("every datagram given back or delivered (and released above)")
                    .isEqualTo(1);
            datagram.release();
        }
    }
}

package dev.riscvrelay.relay.switching;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.riscvrelay.relay.lan.NetworkConfig;
import dev.riscvrelay.relay.metrics.Counter;
import dev.riscvrelay.relay.metrics.Counters;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Deque;
import java.util.List;

/**
 * Any sequence of frames members put on the LAN, with members leaving and joining and time passing:
 * {@link LearningSwitch#forward} never throws, never hands a frame back to the port it came from or to a port too
 * small for it, delivers the bytes unchanged, and accounts for every reference (each frame's count reaches exactly
 * zero once the receivers released theirs). One port answers re-entrantly by putting the frame straight back on
 * the LAN, as the gateway does with replies.
 *
 * <p>Input: records of an op byte and, for a frame, a length byte and the frame. Op bits 0..1 pick the port; bits
 * 2..3: 0 or 1 forward a frame, 2 detaches the port (or attaches it again), 3 moves the clock by 16^k seconds (k from
 * bits 4..6) and sweeps the MAC table.
 */
class LearningSwitchFuzzTest {

    private static final int[] MAX_FRAME_SIZES = {1514, 64, 9000, 100};

    @FuzzTest(maxDuration = "60s")
    void forward(byte[] input) {
        long[] now = {1_000_000_000L};
        Counters counters = new Counters();
        LearningSwitch lan = new LearningSwitch(NetworkConfig.defaults().withMacTable(8, Duration.ofSeconds(300)), counters,
                () -> now[0]);
        Deque<Port> ingress = new ArrayDeque<>();
        RecordingPort[] ports = new RecordingPort[MAX_FRAME_SIZES.length];
        for (int i = 0; i < ports.length; i++) {
            ports[i] = new RecordingPort(lan, ingress, "port" + i, MAX_FRAME_SIZES[i], i == 3);
            lan.attach(ports[i]);
        }
        boolean[] attached = {true, true, true, true};
        List<ByteBuf> sent = new ArrayList<>();
        long forwards = 0;

        int at = 0;
        while (at < input.length) {
            int op = input[at++] & 0xFF;
            int port = op & 0x03;
            switch (op >>> 2 & 0x03) {
                case 0, 1 -> {
                    if (at >= input.length) {
                        return;
                    }
                    int length = Math.min(input[at++] & 0xFF, input.length - at);
                    byte[] bytes = Arrays.copyOfRange(input, at, at + length);
                    at += length;
                    ByteBuf frame = Unpooled.directBuffer(length);
                    frame.writeBytes(bytes);
                    sent.add(frame);
                    for (RecordingPort p : ports) {
                        p.expect(bytes);
                    }
                    long echoesBefore = ports[3].echoes;
                    ingress.push(ports[port]);
                    lan.forward(ports[port], frame);
                    ingress.pop();
                    forwards += 1 + ports[3].echoes - echoesBefore;
                    assertThat(frame.refCnt()).as("every receiver released or passed on its reference").isZero();
                }
                case 2 -> {
                    if (attached[port]) {
                        lan.detach(ports[port]);
                    } else {
                        lan.attach(ports[port]);
                    }
                    attached[port] = !attached[port];
                }
                default -> {
                    now[0] += Duration.ofSeconds(1L << (4 * (op >>> 4 & 0x07))).toNanos();
                    lan.expireMacs();
                }
            }
            assertThat(lan.learnedMacCount()).isBetween(0, 8);
            assertThat(counters.get(Counter.FRAMES_IN)).isEqualTo(forwards);
        }
        for (ByteBuf frame : sent) {
            assertThat(frame.refCnt()).isZero();
        }
    }

    /** A member that checks what it gets and releases it, or (the answering one) puts odd frames back on the LAN. */
    private static final class RecordingPort implements Port {
        private final LearningSwitch lan;
        private final Deque<Port> ingress;
        private final String name;
        private final int maxFrameSize;
        private final boolean answers;
        private byte[] expected;
        private long echoes;

        RecordingPort(LearningSwitch lan, Deque<Port> ingress, String name, int maxFrameSize, boolean answers) {
            this.lan = lan;
            this.ingress = ingress;
            this.name = name;
            this.maxFrameSize = maxFrameSize;
            this.answers = answers;
        }

        void expect(byte[] bytes) {
            expected = bytes;
        }

        @Override
        public void send(ByteBuf frame) {
            assertThat(frame.refCnt()).isPositive();
            boolean echo;
            try {
                assertThat(ingress.peek()).as("never back to the port it came from").isNotSameAs(this);
                assertThat(frame.readableBytes()).isLessThanOrEqualTo(maxFrameSize)
                        .isGreaterThanOrEqualTo(LearningSwitch.ETHERNET_HEADER_LENGTH);
                assertThat(ByteBufUtil.getBytes(frame)).as("bytes unchanged").isEqualTo(expected);
                echo = answers && (frame.getByte(frame.readerIndex() + 13) & 1) != 0;
            } catch (AssertionError | RuntimeException e) {
                frame.release();
                throw e;
            }
            if (echo) {
                echoes++;
                ingress.push(this);
                lan.forward(this, frame); // hands its reference on, as the gateway's inline replies do
                ingress.pop();
            } else {
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
    }
}

package dev.riscvrelay.relay.transport.webtransport;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Any capsule stream a client sends on its CONNECT stream (RFC 9297 §3.2), split into chunks anywhere as HTTP/3
 * DATA frames split it: {@link CapsuleDecoder#decode} never throws, consumes every chunk, and reports the same
 * events and the same reject whether the stream comes whole, byte by byte or in random pieces. A close capsule
 * written by {@link Capsules#writeClose} from the input decodes to its code and (cut) reason.
 */
class CapsuleDecoderFuzzTest {

    @FuzzTest(maxDuration = "60s")
    void decode(byte[] input) {
        List<String> whole = decodeInChunks(input, new int[] {input.length});
        int[] ones = new int[input.length];
        Arrays.fill(ones, 1);
        assertThat(decodeInChunks(input, ones)).as("byte by byte").isEqualTo(whole);
        assertThat(decodeInChunks(input, randomSplit(input))).as("random chunks").isEqualTo(whole);
        closeDecodesBack(input);
    }

    /** Chunk sizes from a generator seeded by the input, so a failing input reproduces. */
    private static int[] randomSplit(byte[] input) {
        SplittableRandom random = new SplittableRandom(Arrays.hashCode(input));
        List<Integer> sizes = new ArrayList<>();
        int left = input.length;
        while (left > 0) {
            int size = Math.min(left, 1 + random.nextInt(Math.max(1, Math.min(left, 40))));
            sizes.add(size);
            left -= size;
        }
        return sizes.stream().mapToInt(Integer::intValue).toArray();
    }

    private static List<String> decodeInChunks(byte[] input, int[] sizes) {
        List<String> events = new ArrayList<>();
        CapsuleDecoder decoder = new CapsuleDecoder(new CapsuleDecoder.Listener() {
            @Override
            public void onCloseSession(long errorCode, String reason) {
                assertThat(errorCode).isBetween(0L, 0xFFFF_FFFFL);
                events.add("close " + errorCode + " " + reason);
            }

            @Override
            public void onDrainSession() {
                events.add("drain");
            }
        });
        CapsuleDecoder.Reject reject = CapsuleDecoder.Reject.NONE;
        int at = 0;
        for (int size : sizes) {
            ByteBuf chunk = Unpooled.directBuffer(size);
            chunk.writeBytes(input, at, size);
            at += size;
            try {
                reject = decoder.decode(chunk);
                assertThat(chunk.isReadable()).as("every chunk is consumed").isFalse();
            } finally {
                chunk.release();
            }
        }
        events.add("reject " + reject + " closed " + decoder.closeReceived());
        return events;
    }

    private static void closeDecodesBack(byte[] input) {
        long code = input.length >= 4
                ? ((input[0] & 0xFFL) << 24 | (input[1] & 0xFF) << 16 | (input[2] & 0xFF) << 8 | (input[3] & 0xFF))
                : input.length;
        String reason = new String(input, StandardCharsets.UTF_8);
        ByteBuf out = Unpooled.buffer();
        try {
            Capsules.writeClose(out, code, reason);
            List<Object> closes = new ArrayList<>();
            CapsuleDecoder decoder = new CapsuleDecoder(new CapsuleDecoder.Listener() {
                @Override
                public void onCloseSession(long errorCode, String decoded) {
                    closes.add(errorCode);
                    closes.add(decoded);
                }

                @Override
                public void onDrainSession() {
                    closes.add("drain");
                }
            });
            assertThat(decoder.decode(out)).isEqualTo(CapsuleDecoder.Reject.NONE);
            assertThat(closes).hasSize(2);
            assertThat(closes.get(0)).isEqualTo(code);
            String decoded = (String) closes.get(1);
            assertThat(reason).startsWith(decoded);
            assertThat(decoded.getBytes(StandardCharsets.UTF_8).length)
                    .isLessThanOrEqualTo(Capsules.MAX_CLOSE_REASON_BYTES);
        } finally {
            out.release();
        }
    }
}

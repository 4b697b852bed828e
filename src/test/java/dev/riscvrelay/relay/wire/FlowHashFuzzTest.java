package dev.riscvrelay.relay.wire;

import static dev.riscvrelay.relay.wire.GuardedBytes.FILL_HIGH;
import static dev.riscvrelay.relay.wire.GuardedBytes.FILL_LOW;
import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.netty.buffer.ByteBuf;

/**
 * Any bytes a guest sends as a frame reach a port's queue, which hashes them: {@link FlowHash#of} never throws,
 * reads only the frame (a read past its end throws in a guarded buffer) and depends on nothing before it.
 */
class FlowHashFuzzTest {

    @FuzzTest(maxDuration = "30s")
    void of(byte[] input) {
        assertThat(hash(input, FILL_HIGH)).as("hash must not depend on bytes before the frame")
                .isEqualTo(hash(input, FILL_LOW));
    }

    private static int hash(byte[] input, int fill) {
        ByteBuf buf = GuardedBytes.guarded(input, fill);
        try {
            return new FlowHash().of(buf);
        } finally {
            buf.release();
        }
    }
}

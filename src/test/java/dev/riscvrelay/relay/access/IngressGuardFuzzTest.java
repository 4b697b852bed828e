package dev.riscvrelay.relay.access;

import static dev.riscvrelay.relay.wire.GuardedBytes.FILL_HIGH;
import static dev.riscvrelay.relay.wire.GuardedBytes.FILL_LOW;
import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.riscvrelay.relay.metrics.Counters;
import dev.riscvrelay.relay.wire.GuardedBytes;
import io.netty.buffer.ByteBuf;
import org.junit.jupiter.api.Test;

/**
 * Any frame a session sends as IPv6 (an Ethernet header with type 0x86DD, then the fuzzer's bytes): the guard's
 * IPv6 rules never throw, read only the frame, and decide the same whatever lies before it.
 */
class IngressGuardFuzzTest {

    private static final byte[] HEADER = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01,
            (byte) 0x86, (byte) 0xDD};

    @FuzzTest(maxDuration = "60s")
    void admitIpv6(byte[] input) {
        assertThat(admit(input, FILL_HIGH)).isEqualTo(admit(input, FILL_LOW));
    }

    @Test
    void shortAndEmptyPayloadsAreDropped() {
        assertThat(admit(new byte[0], FILL_LOW)).isFalse();
        assertThat(admit(new byte[39], FILL_LOW)).isFalse();
    }

    private static boolean admit(byte[] input, int fill) {
        byte[] frame = new byte[HEADER.length + input.length];
        System.arraycopy(HEADER, 0, frame, 0, HEADER.length);
        System.arraycopy(input, 0, frame, HEADER.length, input.length);
        ByteBuf buf = GuardedBytes.guarded(frame, fill);
        try {
            IngressGuard guard = new IngressGuard(SessionLimits.defaults(), IngressGuard.Leases.NONE, new Counters(),
                    () -> 1L, IngressGuard.MacBindings.NONE, IngressGuard.Ipv6Claims.ANY);
            return guard.admit(buf);
        } finally {
            buf.release();
        }
    }
}

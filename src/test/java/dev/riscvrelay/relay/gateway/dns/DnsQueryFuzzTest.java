package dev.riscvrelay.relay.gateway.dns;

import static dev.riscvrelay.relay.wire.GuardedBytes.FILL_HIGH;
import static dev.riscvrelay.relay.wire.GuardedBytes.FILL_LOW;
import static dev.riscvrelay.relay.wire.GuardedBytes.GUARD;
import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.riscvrelay.relay.wire.GuardedBytes;
import io.netty.buffer.ByteBuf;

/**
 * Any UDP data a guest sends to the DNS address, as the forwarder parses it ({@link DnsForwarder#questionEnd}):
 * never throws, reads only the message, and an accepted question is a well-formed name (labels of 1..63 octets,
 * at most 255 octets in all, no compression) followed by type and class, inside the message.
 */
class DnsQueryFuzzTest {

    private static final int HEADER_LENGTH = 12;

    @FuzzTest(maxDuration = "60s")
    void questionEnd(byte[] input) {
        if (input.length < HEADER_LENGTH) {
            return; // the forwarder rejects these before looking for the question
        }
        int low = parse(input, FILL_LOW);
        int high = parse(input, FILL_HIGH);
        assertThat(high).as("result must not depend on bytes before the message").isEqualTo(low);
        int expected = expectedQuestionEnd(input);
        assertThat(low).isEqualTo(expected < 0 ? -1 : GUARD + expected);
    }

    private static int parse(byte[] input, int fill) {
        ByteBuf buf = GuardedBytes.guarded(input, fill);
        try {
            return DnsForwarder.questionEnd(buf, GUARD, input.length);
        } finally {
            buf.release();
        }
    }

    /** RFC 1035 section 4.1.2 and 3.1, read straight from the array: the index after QTYPE and QCLASS, or -1. */
    private static int expectedQuestionEnd(byte[] message) {
        int at = HEADER_LENGTH;
        int nameLength = 1; // the root label's length octet
        while (at < message.length) {
            int label = message[at] & 0xFF;
            if (label == 0) {
                int end = at + 1 + 4;
                return end <= message.length ? end : -1;
            }
            if (label > 63) {
                return -1;
            }
            nameLength += label + 1;
            if (nameLength > 255) {
                return -1;
            }
            at += label + 1;
        }
        return -1;
    }
}

package dev.riscvrelay.relay.wire;

import static dev.riscvrelay.relay.wire.GuardedBytes.FILL_HIGH;
import static dev.riscvrelay.relay.wire.GuardedBytes.FILL_LOW;
import static dev.riscvrelay.relay.wire.GuardedBytes.GUARD;
import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.util.List;

/**
 * Any UDP data a guest sends to the DHCP port: {@link DhcpMessage#wrap} never throws, reads only its range (option
 * overload included), every option position it remembers lies inside the message, and a reply built with the
 * {@code write*} methods from an accepted request's fields parses back to them.
 */
class DhcpMessageFuzzTest {

    @FuzzTest(maxDuration = "60s")
    void wrap(byte[] input) {
        assertThat(parse(input, FILL_HIGH)).as("result must not depend on bytes before the message")
                .isEqualTo(parse(input, FILL_LOW));
    }

    private static List<Object> parse(byte[] input, int fill) {
        ByteBuf buf = GuardedBytes.guarded(input, fill);
        try {
            DhcpMessage message = new DhcpMessage();
            ParseResult result = message.wrap(buf, GUARD, input.length);
            if (input.length < DhcpMessage.MIN_LENGTH) {
                assertThat(result).isEqualTo(ParseResult.TRUNCATED);
                return List.of(result);
            }
            if (!result.ok()) {
                assertThat(result).isIn(ParseResult.UNSUPPORTED_HARDWARE, ParseResult.BAD_MAGIC_COOKIE,
                        ParseResult.BAD_OPTIONS);
                return List.of(result);
            }
            int end = GUARD + input.length;
            if (message.hasClientIdentifier()) {
                assertThat(message.clientIdentifierLength()).isBetween(2, 255);
                assertThat(message.clientIdentifierOffset()).isGreaterThanOrEqualTo(GUARD);
                assertThat(message.clientIdentifierOffset() + message.clientIdentifierLength())
                        .isLessThanOrEqualTo(end);
            } else {
                assertThat(message.clientIdentifierOffset()).isEqualTo(-1);
            }
            assertThat(message.messageType()).isBetween(0, 255);
            List<Object> fields = List.of(result, message.op(), message.hops(), message.transactionId(),
                    message.secs(), message.flags(), message.broadcastFlag(), message.clientAddress(),
                    message.yourAddress(), message.serverAddress(), message.relayAddress(), message.clientMac(),
                    message.messageType(), message.hasRequestedAddress(), message.requestedAddress(),
                    message.hasServerIdentifier(), message.serverIdentifier(), message.clientIdentifierLength(),
                    message.maxMessageSize());
            replyReadsBack(message);
            return fields;
        } finally {
            buf.release();
        }
    }

    private static void replyReadsBack(DhcpMessage request) {
        int length = DhcpMessage.replyLength(3 + 6 + 4);
        ByteBuf reply = Unpooled.directBuffer(length);
        try {
            reply.writeZero(length);
            int at = DhcpMessage.writeReplyHeader(reply, 0, request.transactionId(), request.flags(),
                    request.clientAddress(), request.requestedAddress(), request.relayAddress(), request.clientMac());
            at = DhcpMessage.writeByteOption(reply, at, DhcpMessage.OPTION_MESSAGE_TYPE, request.messageType());
            at = DhcpMessage.writeIntOption(reply, at, DhcpMessage.OPTION_SERVER_IDENTIFIER,
                    request.serverIdentifier());
            at = DhcpMessage.writeShortOption(reply, at, DhcpMessage.OPTION_MAX_MESSAGE_SIZE,
                    request.maxMessageSize());
            int end = DhcpMessage.writeEnd(reply, 0, at);
            assertThat(end).isLessThanOrEqualTo(length);
            DhcpMessage back = new DhcpMessage();
            assertThat(back.wrap(reply, 0, end)).isEqualTo(ParseResult.OK);
            assertThat(List.of(back.op(), back.transactionId(), back.flags(), back.clientAddress(),
                    back.yourAddress(), back.relayAddress(), back.clientMac(), back.messageType(),
                    back.hasServerIdentifier(), back.serverIdentifier(), back.maxMessageSize()))
                    .isEqualTo(List.of(DhcpMessage.OP_BOOTREPLY, request.transactionId(), request.flags(),
                            request.clientAddress(), request.requestedAddress(), request.relayAddress(),
                            request.clientMac(), request.messageType(), true, request.serverIdentifier(),
                            request.maxMessageSize()));
        } finally {
            reply.release();
        }
    }
}

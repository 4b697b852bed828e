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
 * Any UDP data a guest sends to the DHCPv6 server port: {@link Dhcpv6Message#wrap} never throws, reads only its
 * range, the client identifier it remembers lies inside the message and within a DUID's bounds, and a Reply built
 * with the {@code write*} methods from an accepted message's fields parses back to them.
 */
class Dhcpv6MessageFuzzTest {

    private static final long GATEWAY_MAC = 0x5254_0012_3456L;

    @FuzzTest(maxDuration = "60s")
    void wrap(byte[] input) {
        assertThat(parse(input, FILL_HIGH)).as("result must not depend on bytes before the message")
                .isEqualTo(parse(input, FILL_LOW));
    }

    private static List<Object> parse(byte[] input, int fill) {
        ByteBuf buf = GuardedBytes.guarded(input, fill);
        try {
            Dhcpv6Message message = new Dhcpv6Message();
            ParseResult result = message.wrap(buf, GUARD, input.length);
            if (input.length < Dhcpv6Message.HEADER_LENGTH) {
                assertThat(result).isEqualTo(ParseResult.TRUNCATED);
                return List.of(result);
            }
            if (!result.ok()) {
                assertThat(result).isIn(ParseResult.UNSUPPORTED_TYPE, ParseResult.BAD_OPTIONS);
                return List.of(result);
            }
            int end = GUARD + input.length;
            if (message.hasClientIdentifier()) {
                assertThat(message.clientIdentifierLength()).isBetween(3, Dhcpv6Message.MAX_DUID_LENGTH);
                assertThat(message.clientIdentifierOffset()).isGreaterThanOrEqualTo(GUARD + 8);
                assertThat(message.clientIdentifierOffset() + message.clientIdentifierLength())
                        .isLessThanOrEqualTo(end);
            } else {
                assertThat(message.clientIdentifierOffset()).isEqualTo(-1);
            }
            List<Object> fields = List.of(result, message.messageType(), message.transactionId(),
                    message.hasClientIdentifier(), message.clientIdentifierLength(), message.hasServerIdentifier(),
                    message.serverIdentifierLength(), message.serverIdentifierIs(GATEWAY_MAC),
                    message.hasIdentityAssociation(), message.requestsDnsServers());
            replyReadsBack(message, buf);
            return fields;
        } finally {
            buf.release();
        }
    }

    private static void replyReadsBack(Dhcpv6Message request, ByteBuf requestBuf) {
        int clientId = request.hasClientIdentifier()
                ? Dhcpv6Message.OPTION_HEADER_LENGTH + request.clientIdentifierLength() : 0;
        int length = Dhcpv6Message.HEADER_LENGTH + Dhcpv6Message.SERVER_IDENTIFIER_LENGTH + clientId
                + Dhcpv6Message.DNS_SERVERS_LENGTH + Dhcpv6Message.INFORMATION_REFRESH_TIME_LENGTH;
        ByteBuf reply = Unpooled.directBuffer(length, length);
        try {
            reply.writeZero(length);
            int at = Dhcpv6Message.writeHeader(reply, 0, Dhcpv6Message.REPLY, request.transactionId());
            at += Dhcpv6Message.writeServerIdentifier(reply, at, GATEWAY_MAC);
            if (request.hasClientIdentifier()) {
                at += Dhcpv6Message.writeClientIdentifier(reply, at, requestBuf, request.clientIdentifierOffset(),
                        request.clientIdentifierLength());
            }
            at += Dhcpv6Message.writeDnsServers(reply, at, 0xFD00_0010_0000_0002L, 3);
            at += Dhcpv6Message.writeInformationRefreshTime(reply, at, 1800);
            assertThat(at).isEqualTo(length);
            Dhcpv6Message back = new Dhcpv6Message();
            assertThat(back.wrap(reply, 0, length)).isEqualTo(ParseResult.OK);
            assertThat(List.of(back.messageType(), back.transactionId(), back.serverIdentifierIs(GATEWAY_MAC),
                    back.hasClientIdentifier(), back.clientIdentifierLength(), back.hasIdentityAssociation()))
                    .isEqualTo(List.of(Dhcpv6Message.REPLY, request.transactionId(), true,
                            request.hasClientIdentifier(), request.clientIdentifierLength(), false));
        } finally {
            reply.release();
        }
    }
}

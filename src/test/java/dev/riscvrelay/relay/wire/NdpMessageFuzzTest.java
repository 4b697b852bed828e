package dev.riscvrelay.relay.wire;

import static dev.riscvrelay.relay.wire.GuardedBytes.FILL_HIGH;
import static dev.riscvrelay.relay.wire.GuardedBytes.FILL_LOW;
import static dev.riscvrelay.relay.wire.GuardedBytes.GUARD;
import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.netty.buffer.ByteBuf;
import java.util.List;

/**
 * Any IPv6 packet a guest sends (its checksum fixed up so the fuzzer reaches the options): {@link NdpMessage#wrap}
 * never throws, reads only the message, accepts only router and neighbour solicitations with hop limit 255 and code
 * 0, and an accepted message's options all lie inside it with a link-layer address only from a specified source.
 */
class NdpMessageFuzzTest {

    @FuzzTest(maxDuration = "60s")
    void wrap(byte[] input) {
        assertThat(parse(input, FILL_HIGH)).as("result must not depend on bytes before the packet")
                .isEqualTo(parse(input, FILL_LOW));
    }

    private static List<Object> parse(byte[] input, int fill) {
        ByteBuf buf = GuardedBytes.guarded(input, fill);
        try {
            Ipv6Packet ip = new Ipv6Packet();
            if (!ip.wrap(buf, GUARD, input.length).ok() || ip.nextHeader() != Ipv6Packet.NEXT_HEADER_ICMPV6
                    || ip.payloadLength() < Icmpv6Packet.HEADER_LENGTH) {
                return List.of();
            }
            buf.setShort(ip.payloadOffset() + 2, 0);
            Icmpv6Packet.fillChecksum(buf, ip.payloadOffset(), ip.payloadLength(), ip.sourceHigh(), ip.sourceLow(),
                    ip.destinationHigh(), ip.destinationLow());
            Icmpv6Packet icmp = new Icmpv6Packet();
            assertThat(icmp.wrap(ip)).isEqualTo(ParseResult.OK);
            NdpMessage ndp = new NdpMessage();
            ParseResult result = ndp.wrap(ip, icmp);
            int type = icmp.type();
            boolean solicitation = type == Icmpv6Packet.TYPE_ROUTER_SOLICITATION
                    || type == Icmpv6Packet.TYPE_NEIGHBOR_SOLICITATION;
            assertThat(result == ParseResult.UNSUPPORTED_TYPE).isEqualTo(!solicitation);
            if (!result.ok()) {
                return List.of(result);
            }
            assertThat(ip.hopLimit()).isEqualTo(NdpMessage.HOP_LIMIT);
            assertThat(icmp.code()).isZero();
            if (ndp.sourceLinkLayer() != NdpMessage.NO_LINK_LAYER_ADDRESS) {
                assertThat(Ipv6Address.isUnspecified(ip.sourceHigh(), ip.sourceLow())).isFalse();
                assertThat(MacAddress.isValidSource(ndp.sourceLinkLayer())).isTrue();
            }
            if (type == Icmpv6Packet.TYPE_NEIGHBOR_SOLICITATION) {
                assertThat(icmp.length()).isGreaterThanOrEqualTo(NdpMessage.NEIGHBOR_MESSAGE_LENGTH);
                assertThat(Ipv6Address.isMulticast(ndp.targetHigh())).isFalse();
                return List.of(result, type, ndp.targetHigh(), ndp.targetLow(), ndp.sourceLinkLayer());
            }
            return List.of(result, type, ndp.sourceLinkLayer());
        } finally {
            buf.release();
        }
    }
}

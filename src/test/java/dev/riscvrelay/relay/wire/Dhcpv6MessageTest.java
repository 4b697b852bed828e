package dev.riscvrelay.relay.wire;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import org.junit.jupiter.api.Test;

/** DHCPv6 messages laid out by hand from RFC 8415 sections 8 and 21. */
class Dhcpv6MessageTest {

    /** DUID-LLT (type 1, Ethernet, time, MAC), as dhclient makes it. */
    static final String CLIENT_DUID = "0001 0001 2c5e1234 525500aabbcc";
    /** An Information-request as dhclient -6 -S sends it: client id, option request (23, 24), elapsed time. */
    static final String INFORMATION_REQUEST = "0b 6a2b1c" + "0001 000e " + CLIENT_DUID + "0006 0004 0017 0018"
            + "0008 0002 0000";

    private final Dhcpv6Message message = new Dhcpv6Message();

    @Test
    void anInformationRequestIsRead() {
        ByteBuf buf = at(7, INFORMATION_REQUEST);
        assertThat(message.wrap(buf, 7, buf.capacity() - 7)).isEqualTo(ParseResult.OK);
        assertThat(message.messageType()).isEqualTo(Dhcpv6Message.INFORMATION_REQUEST);
        assertThat(message.transactionId()).isEqualTo(0x6a2b1c);
        assertThat(message.hasClientIdentifier()).isTrue();
        assertThat(message.clientIdentifierOffset()).isEqualTo(7 + 8);
        assertThat(message.clientIdentifierLength()).isEqualTo(14);
        assertThat(message.hasServerIdentifier()).isFalse();
        assertThat(message.hasIdentityAssociation()).isFalse();
        assertThat(message.requestsDnsServers()).isTrue();
    }

    @Test
    void aSolicitWithAnAddressRequestIsReadAsSuch() {
        ByteBuf buf = at(0, "01 000001" + "0001 000e " + CLIENT_DUID + "0003 000c 00000001 00000000 00000000"
                + "0006 0002 0018");
        assertThat(message.wrap(buf, 0, buf.capacity())).isEqualTo(ParseResult.OK);
        assertThat(message.messageType()).isEqualTo(Dhcpv6Message.SOLICIT);
        assertThat(message.hasIdentityAssociation()).isTrue();
        assertThat(message.requestsDnsServers()).isFalse();
    }

    @Test
    void theServerIdentifierIsComparedWithTheGatewaysDuid() {
        ByteBuf buf = at(0, "0b 000001" + "0002 000a 0003 0001 525400123456");
        assertThat(message.wrap(buf, 0, buf.capacity())).isEqualTo(ParseResult.OK);
        assertThat(message.hasServerIdentifier()).isTrue();
        assertThat(message.serverIdentifierIs(MacAddress.parse("52:54:00:12:34:56"))).isTrue();
        assertThat(message.serverIdentifierIs(MacAddress.parse("52:54:00:12:34:57"))).isFalse();
        buf = at(0, "0b 000001" + "0002 000e " + CLIENT_DUID);
        assertThat(message.wrap(buf, 0, buf.capacity())).isEqualTo(ParseResult.OK);
        assertThat(message.serverIdentifierIs(MacAddress.parse("52:55:00:aa:bb:cc"))).as("DUID-LLT is not ours")
                .isFalse();
    }

    @Test
    void badInputIsRefusedWithAReason() {
        assertThat(wrap("0b 6a2b")).isEqualTo(ParseResult.TRUNCATED);
        assertThat(wrap("0b 6a2b1c 0001")).as("option header cut").isEqualTo(ParseResult.BAD_OPTIONS);
        assertThat(wrap("0b 6a2b1c 0001 000f " + CLIENT_DUID)).as("option past the end")
                .isEqualTo(ParseResult.BAD_OPTIONS);
        assertThat(wrap("0b 6a2b1c 0006 0003 001700")).as("odd option request").isEqualTo(ParseResult.BAD_OPTIONS);
        assertThat(wrap("0b 6a2b1c 0001 000e " + CLIENT_DUID + "0001 000e " + CLIENT_DUID))
                .as("two client identifiers").isEqualTo(ParseResult.BAD_OPTIONS);
        assertThat(wrap("0b 6a2b1c 0001 0002 0003")).as("a DUID type alone").isEqualTo(ParseResult.BAD_OPTIONS);
        assertThat(wrap("0b 6a2b1c 0002 0083 " + "00".repeat(131))).as("a DUID over 130 bytes")
                .isEqualTo(ParseResult.BAD_OPTIONS);
        assertThat(wrap("0b 6a2b1c 0001 0082 " + "00".repeat(130))).as("the longest DUID")
                .isEqualTo(ParseResult.OK);
        assertThat(wrap("0c 00 " + "00".repeat(32))).as("relay-forward").isEqualTo(ParseResult.UNSUPPORTED_TYPE);
        assertThat(wrap("0b 6a2b1c")).as("no options at all").isEqualTo(ParseResult.OK);
    }

    @Test
    void aReplyIsWrittenAsTheRfcLaysItOut() {
        ByteBuf request = at(0, INFORMATION_REQUEST);
        assertThat(message.wrap(request, 0, request.capacity())).isEqualTo(ParseResult.OK);
        ByteBuf buf = Unpooled.buffer(64);
        buf.writeZero(64);
        int at = Dhcpv6Message.writeHeader(buf, 0, Dhcpv6Message.REPLY, message.transactionId());
        at += Dhcpv6Message.writeServerIdentifier(buf, at, MacAddress.parse("52:54:00:12:34:56"));
        at += Dhcpv6Message.writeClientIdentifier(buf, at, request, message.clientIdentifierOffset(),
                message.clientIdentifierLength());
        long[] dns = Ipv6Address.parse("fd00:10:0:2::3");
        at += Dhcpv6Message.writeDnsServers(buf, at, dns[0], dns[1]);
        at += Dhcpv6Message.writeInformationRefreshTime(buf, at, 1800);
        assertThat(ByteBufUtil.hexDump(buf, 0, at)).isEqualTo(hex("07 6a2b1c" + "0002 000a 0003 0001 525400123456"
                + "0001 000e " + CLIENT_DUID + "0017 0010 fd000010000000020000000000000003" + "0020 0004 00000708"));
        Dhcpv6Message back = new Dhcpv6Message();
        assertThat(back.wrap(buf, 0, at)).isEqualTo(ParseResult.OK);
        assertThat(back.messageType()).isEqualTo(Dhcpv6Message.REPLY);
        assertThat(back.serverIdentifierIs(MacAddress.parse("52:54:00:12:34:56"))).isTrue();
        assertThat(back.clientIdentifierLength()).isEqualTo(14);
    }

    private ParseResult wrap(String hex) {
        ByteBuf buf = at(3, hex);
        return message.wrap(buf, 3, buf.capacity() - 3);
    }

    /** The message's bytes at absolute {@code offset}, after junk, in a buffer that ends with them. */
    private static ByteBuf at(int offset, String hex) {
        byte[] bytes = Ipv6Fixtures.hex(hex);
        ByteBuf buf = Unpooled.buffer(offset + bytes.length, offset + bytes.length);
        buf.writeBytes(new byte[offset]).writeBytes(bytes);
        return buf;
    }

    private static String hex(String spaced) {
        return spaced.replace(" ", "");
    }
}

package dev.riscvrelay.relay.wire;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import org.junit.jupiter.api.Test;

class NdpMessageTest {

    private static final long GUEST_MAC = MacAddress.parse("52:55:0a:00:02:0f");
    private static final long SOLICITED_MAC = MacAddress.parse("33:33:ff:00:00:02");
    private static final String GUEST = "fe80::5055:aff:fe00:20f";
    private static final String SOLICITED = "ff02::1:ff00:2";

    /** Who has fd00:10:0:2::2, from 52:55:0a:00:02:0f (a source link-layer option). */
    static byte[] neighborSolicitation(String target, byte[] options) {
        return Ipv6Fixtures.concat(Ipv6Fixtures.hex("8700 0000 0000 0000"), Ipv6Fixtures.address(target), options);
    }

    static final byte[] SOURCE_OPTION = Ipv6Fixtures.hex("0101 52550a00020f");

    @Test
    void readsASolicitationsTargetAndSourceLinkLayerAddress() {
        NdpMessage ndp = new NdpMessage();
        assertThat(wrap(ndp, GUEST, 255, neighborSolicitation("fd00:10:0:2::2", SOURCE_OPTION)))
                .isEqualTo(ParseResult.OK);
        assertThat(ndp.type()).isEqualTo(Icmpv6Packet.TYPE_NEIGHBOR_SOLICITATION);
        assertThat(Ipv6Address.format(ndp.targetHigh(), ndp.targetLow())).isEqualTo("fd00:10:0:2::2");
        assertThat(ndp.sourceLinkLayer()).isEqualTo(GUEST_MAC);

        assertThat(wrap(ndp, GUEST, 255, neighborSolicitation("fd00:10:0:2::2", new byte[0])))
                .isEqualTo(ParseResult.OK);
        assertThat(ndp.sourceLinkLayer()).isEqualTo(NdpMessage.NO_LINK_LAYER_ADDRESS);
    }

    @Test
    void discardsWhatRfc4861SectionSevenOneOneDiscards() {
        NdpMessage ndp = new NdpMessage();
        byte[] solicitation = neighborSolicitation("fd00:10:0:2::2", SOURCE_OPTION);
        assertThat(wrap(ndp, GUEST, 64, solicitation)).as("forwarded").isEqualTo(ParseResult.NOT_FROM_LINK);
        byte[] coded = solicitation.clone();
        coded[1] = 1;
        assertThat(wrap(ndp, GUEST, 255, coded)).as("code 1").isEqualTo(ParseResult.NOT_FROM_LINK);
        assertThat(wrap(ndp, GUEST, 255, neighborSolicitation("ff02::1", SOURCE_OPTION))).as("multicast target")
                .isEqualTo(ParseResult.BAD_OPTIONS);
        assertThat(wrap(ndp, "::", 255, solicitation)).as("link-layer option from ::")
                .isEqualTo(ParseResult.BAD_OPTIONS);
        assertThat(wrap(ndp, GUEST, 255, neighborSolicitation("fd00:10:0:2::2", Ipv6Fixtures.hex("0100 0000 0000 0000"))))
                .as("an option of length 0").isEqualTo(ParseResult.BAD_OPTIONS);
        assertThat(wrap(ndp, GUEST, 255, neighborSolicitation("fd00:10:0:2::2", Ipv6Fixtures.hex("0102 52550a00020f"))))
                .as("an option past the end").isEqualTo(ParseResult.BAD_OPTIONS);
        assertThat(wrap(ndp, GUEST, 255, neighborSolicitation("fd00:10:0:2::2", Ipv6Fixtures.hex("01"))))
                .as("one stray byte").isEqualTo(ParseResult.BAD_OPTIONS);
        assertThat(wrap(ndp, GUEST, 255, neighborSolicitation("fd00:10:0:2::2", Ipv6Fixtures.hex("0101 333300000001"))))
                .as("a multicast link-layer address").isEqualTo(ParseResult.BAD_OPTIONS);
        assertThat(wrap(ndp, GUEST, 255, Ipv6Fixtures.hex("8700 0000 0000 0000 fd00"))).isEqualTo(ParseResult.TRUNCATED);
        assertThat(wrap(ndp, GUEST, 255, Ipv6Fixtures.hex("8500 0000 0000"))).isEqualTo(ParseResult.TRUNCATED);
        assertThat(wrap(ndp, GUEST, 255, Ipv6Fixtures.hex("8000 0000 0000 0000"))).isEqualTo(ParseResult.UNSUPPORTED_TYPE);
    }

    @Test
    void aRouterSolicitationFromTheUnspecifiedAddressIsValidWithoutOptions() {
        NdpMessage ndp = new NdpMessage();
        assertThat(wrap(ndp, "::", 255, Ipv6Fixtures.hex("8500 0000 0000 0000"))).isEqualTo(ParseResult.OK);
        assertThat(ndp.type()).isEqualTo(Icmpv6Packet.TYPE_ROUTER_SOLICITATION);
        assertThat(wrap(ndp, GUEST, 255, Ipv6Fixtures.concat(Ipv6Fixtures.hex("8500 0000 0000 0000"), SOURCE_OPTION)))
                .isEqualTo(ParseResult.OK);
        assertThat(ndp.sourceLinkLayer()).isEqualTo(GUEST_MAC);
    }

    @Test
    void writesAdvertisementsAndOptionsAsRfc4861LaysThemOut() {
        ByteBuf buf = Unpooled.buffer(64);
        buf.writeZero(64);
        long[] target = Ipv6Address.parse("fd00:10:0:2::2");
        assertThat(NdpMessage.writeNeighborAdvertisement(buf, 0, NdpMessage.FLAG_ROUTER | NdpMessage.FLAG_SOLICITED
                | NdpMessage.FLAG_OVERRIDE, target[0], target[1], MacAddress.parse("52:54:00:12:34:56"))).isEqualTo(32);
        assertThat(ByteBufUtil.hexDump(buf, 0, 32)).isEqualTo(
                "88000000e0000000fd000010000000020000000000000002" + "0201525400123456");

        buf.setZero(0, 64);
        int at = NdpMessage.writeRouterAdvertisement(buf, 0, 64, NdpMessage.RA_OTHER_CONFIGURATION, 1800);
        at += NdpMessage.writeMtuOption(buf, at, 1280);
        at += NdpMessage.writePrefixInformation(buf, at, 0xFD00_0010_0000_0002L,
                NdpMessage.PREFIX_ON_LINK | NdpMessage.PREFIX_AUTONOMOUS, 86_400, 14_400);
        assertThat(at).isEqualTo(16 + 8 + 32);
        assertThat(ByteBufUtil.hexDump(buf, 0, at)).isEqualTo("86000000" + "40400708" + "00000000" + "00000000"
                + "0501000000000500" + "0304" + "40c0" + "00015180" + "00003840" + "00000000"
                + "fd000010000000020000000000000000");
    }

    private static ParseResult wrap(NdpMessage ndp, String source, int hopLimit, byte[] message) {
        byte[] frame = Ipv6Fixtures.frame(SOLICITED_MAC, GUEST_MAC, source, SOLICITED, hopLimit, 58, message);
        ByteBuf buf = Unpooled.wrappedBuffer(frame);
        Ipv6Packet ip = new Ipv6Packet();
        assertThat(ip.wrap(buf, 14, frame.length - 14)).isEqualTo(ParseResult.OK);
        Icmpv6Packet icmp = new Icmpv6Packet();
        if (message.length >= 4) {
            assertThat(icmp.wrap(ip)).isEqualTo(ParseResult.OK);
        }
        return ndp.wrap(ip, icmp);
    }
}

package dev.riscvrelay.relay.wire;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.net.InetAddress;
import org.junit.jupiter.api.Test;

class Ipv6AddressTest {

    @Test
    void parsesIntoTheHighAndLowHalves() {
        assertThat(Ipv6Address.parse("fd00:10:0:2::2")).containsExactly(0xFD00_0010_0000_0002L, 2L);
        assertThat(Ipv6Address.parse("::")).containsExactly(0L, 0L);
        assertThat(Ipv6Address.parse("fe80::5054:ff:fe12:3456")).containsExactly(0xFE80_0000_0000_0000L,
                0x5054_00FF_FE12_3456L);
        assertThat(Ipv6Address.parse("FFFF:FFFF:FFFF:FFFF:FFFF:FFFF:FFFF:FFFF")).containsExactly(-1L, -1L);
        assertThat(Ipv6Address.parse("::ffff:10.0.2.2")).as("IPv4-mapped").containsExactly(0L, 0xFFFF_0A00_0202L);
        assertThat(Ipv6Address.parse("::ffff:0:0")).containsExactly(0L, 0xFFFF_0000_0000L);
    }

    @Test
    void refusesWhatIsNotAnIpv6Literal() {
        for (String bad : new String[] {"10.0.2.2", "fd00::g", "fd00:::1", "[fd00::1]", "fe80::1%eth0", "", "1:2:3"}) {
            assertThatThrownBy(() -> Ipv6Address.parse(bad)).as(bad).isInstanceOf(IllegalArgumentException.class);
        }
    }

    @Test
    void formatsAsRfc5952Says() {
        assertThat(format("fd00:10:0:2::2")).isEqualTo("fd00:10:0:2::2");
        assertThat(format("2001:db8:0:0:1:0:0:1")).as("the first of two equal runs").isEqualTo("2001:db8::1:0:0:1");
        assertThat(format("2001:db8:0:1:1:1:1:1")).as("one zero group is not shortened")
                .isEqualTo("2001:db8:0:1:1:1:1:1");
        assertThat(format("::")).isEqualTo("::");
        assertThat(format("::1")).isEqualTo("::1");
        assertThat(format("fe80::")).isEqualTo("fe80::");
        assertThat(format("2001:0:0:1:0:0:0:1")).as("the longest run").isEqualTo("2001:0:0:1::1");
        assertThat(format("ABCD:EF01:2345:6789:ABCD:EF01:2345:6789")).isEqualTo("abcd:ef01:2345:6789:abcd:ef01:2345:6789");
    }

    @Test
    void theInterfaceIdentifierIsTheModifiedEui64OfTheMac() {
        // RFC 4291 appendix A: insert ff:fe, invert the universal/local bit.
        assertThat(Ipv6Address.interfaceIdentifier(MacAddress.parse("52:54:00:12:34:56")))
                .isEqualTo(Ipv6Address.parse("::5054:ff:fe12:3456")[1]);
        assertThat(Ipv6Address.interfaceIdentifier(MacAddress.parse("00:1b:21:aa:bb:cc")))
                .isEqualTo(Ipv6Address.parse("::21b:21ff:feaa:bbcc")[1]);
    }

    @Test
    void solicitedNodeGroupsAndTheirMacs() {
        long low = Ipv6Address.parse("fd00:10:0:2::1:2345:6789")[1];
        assertThat(Ipv6Address.format(Ipv6Address.LINK_SCOPE_MULTICAST_HIGH, Ipv6Address.solicitedNodeLow(low)))
                .isEqualTo("ff02::1:ff45:6789");
        assertThat(Ipv6Address.multicastMac(Ipv6Address.solicitedNodeLow(low)))
                .isEqualTo(MacAddress.parse("33:33:ff:45:67:89"));
        assertThat(Ipv6Address.multicastMac(Ipv6Address.ALL_NODES_LOW)).isEqualTo(MacAddress.parse("33:33:00:00:00:01"));
        assertThat(Ipv6Address.isMulticastMac(MacAddress.parse("33:33:ff:45:67:89"))).isTrue();
        assertThat(Ipv6Address.isMulticastMac(MacAddress.parse("01:00:5e:00:00:01"))).isFalse();
    }

    @Test
    void classifiesMulticastLinkLocalAndUnspecified() {
        assertThat(Ipv6Address.isMulticast(Ipv6Address.parse("ff02::1")[0])).isTrue();
        assertThat(Ipv6Address.isMulticast(Ipv6Address.parse("fe80::1")[0])).isFalse();
        assertThat(Ipv6Address.isLinkLocal(Ipv6Address.parse("fe80::1")[0])).isTrue();
        assertThat(Ipv6Address.isLinkLocal(Ipv6Address.parse("febf::1")[0])).isTrue();
        assertThat(Ipv6Address.isLinkLocal(Ipv6Address.parse("fec0::1")[0])).isFalse();
        assertThat(Ipv6Address.isUnspecified(0, 0)).isTrue();
        assertThat(Ipv6Address.isUnspecified(0, 1)).isFalse();
    }

    @Test
    void readsWritesAndConvertsSixteenBytes() throws Exception {
        ByteBuf buf = Unpooled.buffer(20);
        buf.writeZero(20);
        long[] address = Ipv6Address.parse("2001:db8::abcd:1");
        Ipv6Address.write(buf, 2, address[0], address[1]);
        assertThat(Ipv6Address.readHigh(buf, 2)).isEqualTo(address[0]);
        assertThat(Ipv6Address.readLow(buf, 2)).isEqualTo(address[1]);
        byte[] bytes = new byte[16];
        buf.getBytes(2, bytes);
        assertThat(bytes).isEqualTo(InetAddress.getByName("2001:db8::abcd:1").getAddress());
        assertThat(Ipv6Address.toInetAddress(address[0], address[1]))
                .isEqualTo(InetAddress.getByName("2001:db8::abcd:1"));
    }

    private static String format(String text) {
        long[] address = Ipv6Address.parse(text);
        return Ipv6Address.format(address[0], address[1]);
    }
}

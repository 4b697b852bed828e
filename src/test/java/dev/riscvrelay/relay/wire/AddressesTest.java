package dev.riscvrelay.relay.wire;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import org.junit.jupiter.api.Test;

class AddressesTest {

    @Test
    void macAddressParsesAndFormatsRoundTrip() {
        long mac = MacAddress.parse("52:54:00:12:34:56");
        assertThat(mac).isEqualTo(0x5254_0012_3456L);
        assertThat(MacAddress.format(mac)).isEqualTo("52:54:00:12:34:56");
        assertThat(MacAddress.parse("FF-FF-FF-FF-FF-FF")).isEqualTo(MacAddress.BROADCAST);
        assertThat(MacAddress.format(0x0000_0000_0001L)).isEqualTo("00:00:00:00:00:01");
    }

    @Test
    void macAddressRefusesMalformedText() {
        for (String bad : new String[] {"52:54:00:12:34", "52:54:00:12:34:5g", "52545400123456789", "52:54:00.12:34:56",
                ""}) {
            assertThatThrownBy(() -> MacAddress.parse(bad)).as(bad).isInstanceOf(IllegalArgumentException.class);
        }
    }

    @Test
    void groupBitMakesMulticastAndBroadcastIsAllOnes() {
        assertThat(MacAddress.isBroadcast(MacAddress.BROADCAST)).isTrue();
        assertThat(MacAddress.isMulticast(MacAddress.BROADCAST)).isTrue();
        assertThat(MacAddress.isMulticast(MacAddress.parse("33:33:00:00:00:02"))).isTrue();
        assertThat(MacAddress.isMulticast(MacAddress.parse("01:00:5e:00:00:fb"))).isTrue();
        assertThat(MacAddress.isMulticast(MacAddress.parse("52:54:00:12:34:56"))).isFalse();
        assertThat(MacAddress.isBroadcast(MacAddress.parse("52:54:00:12:34:56"))).isFalse();
    }

    @Test
    void macAddressReadsAndWritesSixBytesInPlace() {
        ByteBuf buf = Unpooled.buffer(10).writeZero(10);
        try {
            MacAddress.write(buf, 2, 0x5255_0A00_020FL);
            assertThat(buf.getByte(1)).isZero();
            assertThat(buf.getByte(8)).isZero();
            assertThat(MacAddress.read(buf, 2)).isEqualTo(0x5255_0A00_020FL);
        } finally {
            buf.release();
        }
    }

    @Test
    void ipv4AddressParsesAndFormatsRoundTrip() {
        assertThat(Ipv4Address.parse("10.0.2.2")).isEqualTo(0x0A000202);
        assertThat(Ipv4Address.format(0x0A000202)).isEqualTo("10.0.2.2");
        assertThat(Ipv4Address.parse("255.255.255.255")).isEqualTo(Ipv4Address.BROADCAST);
        assertThat(Ipv4Address.format(0xCB007105)).isEqualTo("203.0.113.5");
        assertThat(Ipv4Address.parse("0.0.0.0")).isZero();
    }

    @Test
    void ipv4AddressRefusesMalformedText() {
        for (String bad : new String[] {"10.0.2", "10.0.2.2.1", "10.0.2.256", "10..2.2", "10.0.2.x", "010.0.2.2",
                "", "10.0.2.2."}) {
            assertThatThrownBy(() -> Ipv4Address.parse(bad)).as(bad).isInstanceOf(IllegalArgumentException.class);
        }
    }

    @Test
    void multicastRangeIs224Slash4() {
        assertThat(Ipv4Address.isMulticast(Ipv4Address.parse("224.0.0.251"))).isTrue();
        assertThat(Ipv4Address.isMulticast(Ipv4Address.parse("239.255.255.250"))).isTrue();
        assertThat(Ipv4Address.isMulticast(Ipv4Address.parse("240.0.0.1"))).isFalse();
        assertThat(Ipv4Address.isMulticast(Ipv4Address.parse("10.0.2.255"))).isFalse();
    }
}

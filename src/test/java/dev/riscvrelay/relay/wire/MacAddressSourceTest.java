package dev.riscvrelay.relay.wire;


import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import org.junit.jupiter.api.Test;

class MacAddressSourceTest {

    @Test
    void readsSixOctetsInNetworkOrderAtAnIndex() {
        ByteBuf buf = Unpooled.wrappedBuffer(new byte[] {0, 0, 0x52, 0x54, 0x00, 0x12, 0x34, 0x56, 1});
        try {
            long mac = MacAddress.read(buf, 2);
            assertThat(mac).isEqualTo(0x5254_0012_3456L);
            assertThat(MacAddress.format(mac)).isEqualTo("52:54:00:12:34:56");
            assertThat(buf.readerIndex()).isZero();
        } finally {
            buf.release();
        }
    }

    @Test
    void parsesAndFormatsBothWays() {
        assertThat(MacAddress.parse("ff:ff:ff:ff:ff:ff")).isEqualTo(MacAddress.BROADCAST);
        assertThat(MacAddress.parse("0A-0b-0c-0d-0e-0f")).isEqualTo(0x0A0B_0C0D_0E0FL);
        assertThat(MacAddress.format(0x0200_0000_0001L)).isEqualTo("02:00:00:00:00:01");
        assertThatThrownBy(() -> MacAddress.parse("52:54:00:12:34")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> MacAddress.parse("52:54:00:12:34:5")).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void theGroupBitIsTheLowBitOfTheFirstOctet() {
        assertThat(MacAddress.isMulticast(MacAddress.BROADCAST)).isTrue();
        assertThat(MacAddress.isMulticast(MacAddress.parse("01:00:5e:00:00:01"))).isTrue();
        assertThat(MacAddress.isMulticast(MacAddress.parse("33:33:00:00:00:01"))).isTrue();
        assertThat(MacAddress.isMulticast(MacAddress.parse("52:54:00:12:34:56"))).isFalse();
        assertThat(MacAddress.isMulticast(MacAddress.parse("02:00:00:00:00:01"))).as("local, individual").isFalse();
        assertThat(MacAddress.isValidSource(0)).isFalse();
        assertThat(MacAddress.isValidSource(MacAddress.parse("52:54:00:12:34:56"))).isTrue();
    }
}

package dev.riscvrelay.relay.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.riscvrelay.relay.transport.webtransport.HttpDatagram;
import dev.riscvrelay.relay.wire.EthernetFrame;
import dev.riscvrelay.relay.wire.MacAddress;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import org.junit.jupiter.api.Test;

class BenchFramesTest {

    @Test
    void aMeasuredFrameCarriesItsFlowSequenceAndStampBehindARealEthernetHeader() {
        ByteBuf frame = BenchFrames.measured(PooledByteBufAllocator.DEFAULT, 1200, 4, 5, 77, 123_456_789L);
        try {
            assertThat(frame.readableBytes()).isEqualTo(1200);
            assertThat(frame.readerIndex()).as("headroom for the datagram prefix").isEqualTo(HttpDatagram.HEADROOM);
            assertThat(HttpDatagram.hasHeadroom(frame, HttpDatagram.HEADROOM)).isTrue();
            EthernetFrame view = new EthernetFrame();
            assertThat(view.wrap(frame).ok()).isTrue();
            assertThat(view.destination()).isEqualTo(BenchFrames.macOf(5));
            assertThat(view.source()).isEqualTo(BenchFrames.macOf(4));
            assertThat(view.etherType()).isEqualTo(BenchFrames.TYPE_MEASURED);
            assertThat(BenchFrames.type(frame)).isEqualTo(BenchFrames.TYPE_MEASURED);
            assertThat(BenchFrames.destination(frame)).isEqualTo(BenchFrames.macOf(5));
            assertThat(BenchFrames.flow(frame)).isEqualTo(4);
            assertThat(BenchFrames.sequence(frame)).isEqualTo(77);
            assertThat(BenchFrames.stampNanos(frame)).isEqualTo(123_456_789L);
        } finally {
            frame.release();
        }
    }

    @Test
    void macsAreUnicastLocallyAdministeredAndDistinct() {
        for (int i = 0; i < 20_000; i += 997) {
            long mac = BenchFrames.macOf(i);
            assertThat(MacAddress.isValidSource(mac)).isTrue();
            assertThat(MacAddress.isMulticast(mac)).isFalse();
            assertThat(mac & 0x0200_0000_0000L).as("locally administered bit").isNotZero();
            assertThat(BenchFrames.macOf(i + 1)).isNotEqualTo(mac);
        }
    }

    @Test
    void aHelloIsBroadcast() {
        ByteBuf hello = BenchFrames.hello(PooledByteBufAllocator.DEFAULT, 3);
        try {
            assertThat(BenchFrames.destination(hello)).isEqualTo(MacAddress.BROADCAST);
            assertThat(BenchFrames.type(hello)).isEqualTo(BenchFrames.TYPE_HELLO);
            assertThat(hello.readableBytes()).isEqualTo(BenchFrames.MIN_SIZE);
        } finally {
            hello.release();
        }
    }

    @Test
    void framesTooSmallForTheFieldsAreRefused() {
        assertThatThrownBy(() -> BenchFrames.measured(PooledByteBufAllocator.DEFAULT, 33, 0, 1, 0, 0))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void partnersArePairs() {
        assertThat(PairedLoad.partnerOf(0)).isEqualTo(1);
        assertThat(PairedLoad.partnerOf(1)).isEqualTo(0);
        assertThat(PairedLoad.partnerOf(14)).isEqualTo(15);
    }
}

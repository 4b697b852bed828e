package dev.riscvrelay.relay.transport.webtransport;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class CapsuleDecoderTest {

    private final List<String> events = new ArrayList<>();
    private final CapsuleDecoder decoder = new CapsuleDecoder(new CapsuleDecoder.Listener() {
        @Override
        public void onCloseSession(long errorCode, String reason) {
            events.add("close " + errorCode + " " + reason);
        }

        @Override
        public void onDrainSession() {
            events.add("drain");
        }
    });

    @Test
    void skipsGreaseThenReadsCloseSplitAcrossChunks() {
        ByteBuf stream = Unpooled.buffer();
        // A GREASE capsule with a 3-byte value, as Chromium may send first.
        QuicVarint.write(stream, 0x29L * 3 + 0x17);
        QuicVarint.write(stream, 3);
        stream.writeBytes(new byte[] {9, 9, 9});
        Capsules.writeDrain(stream);
        Capsules.writeClose(stream, 0xfffffffeL, "bye ✓");
        try {
            byte[] bytes = ByteBufUtil.getBytes(stream);
            for (byte b : bytes) { // one byte per chunk: the worst split
                ByteBuf chunk = Unpooled.wrappedBuffer(new byte[] {b});
                assertThat(decoder.decode(chunk)).isEqualTo(CapsuleDecoder.Reject.NONE);
                assertThat(chunk.isReadable()).isFalse();
            }
        } finally {
            stream.release();
        }
        assertThat(events).containsExactly("drain", "close 4294967294 bye ✓");
        assertThat(decoder.closeReceived()).isTrue();
    }

    @Test
    void skipsALargeUnknownCapsuleWithoutBufferingIt() {
        ByteBuf stream = Unpooled.buffer();
        QuicVarint.write(stream, 0x1234);
        QuicVarint.write(stream, 100_000);
        stream.writeZero(100_000);
        Capsules.writeClose(stream, 7, "");
        try {
            assertThat(decoder.decode(stream)).isEqualTo(CapsuleDecoder.Reject.NONE);
        } finally {
            stream.release();
        }
        assertThat(events).containsExactly("close 7 ");
    }

    @Test
    void rejectsMalformedCloseAndDrainWithoutThrowing() {
        assertThat(decodeHex("6843" + "02" + "0000")).isEqualTo(CapsuleDecoder.Reject.CLOSE_TOO_SHORT);
        assertThat(fresh().decode(hex("6843" + "4800"))).isEqualTo(CapsuleDecoder.Reject.CLOSE_TOO_LONG);
        assertThat(fresh().decode(hex("80" + "0078ae" + "01" + "00"))).isEqualTo(CapsuleDecoder.Reject.DRAIN_NOT_EMPTY);
        assertThat(fresh().decode(hex("6843" + "05" + "00000000" + "ff")))
                .isEqualTo(CapsuleDecoder.Reject.CLOSE_REASON_NOT_UTF8);
        assertThat(fresh().decode(hex("6843" + "04" + "00000000" + "00")))
                .isEqualTo(CapsuleDecoder.Reject.DATA_AFTER_CLOSE);
    }

    @Test
    void truncatedInputWaitsForMore() {
        assertThat(decodeHex("6843" + "08" + "0000")).isEqualTo(CapsuleDecoder.Reject.NONE);
        assertThat(events).isEmpty();
    }

    private CapsuleDecoder.Reject decodeHex(String hex) {
        return decoder.decode(hex(hex));
    }

    private CapsuleDecoder fresh() {
        return new CapsuleDecoder(new CapsuleDecoder.Listener() {
            @Override
            public void onCloseSession(long errorCode, String reason) {
            }

            @Override
            public void onDrainSession() {
            }
        });
    }

    private static ByteBuf hex(String hex) {
        return Unpooled.wrappedBuffer(ByteBufUtil.decodeHexDump(hex));
    }
}

package dev.riscvrelay.relay.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.DecoderException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The server's protocol as NATS sends it, whole or in pieces, and what ends a connection. */
class NatsProtocolDecoderTest {

    private final RecordingNatsHandler recorder = new RecordingNatsHandler();
    private final List<String> seen = recorder.seen;
    private final EmbeddedChannel channel = new EmbeddedChannel(new NatsProtocolDecoder(recorder, 64));

    private void write(String text) {
        channel.writeInbound(Unpooled.copiedBuffer(text, StandardCharsets.ISO_8859_1));
    }

    @Test
    void everyOperationOfTheServerIsSeen() {
        write("INFO {\"server_id\":\"x\",\"max_payload\":1048576}\r\nPING\r\nPONG\r\n+OK\r\n"
                + "MSG riscv-relay.lan.net.all 7 5\r\nhello\r\nMSG a.b 12 reply.to 0\r\n\r\n-ERR 'Stale Connection'\r\n");
        assertThat(seen).containsExactly("info {\"server_id\":\"x\",\"max_payload\":1048576}", "ping", "pong",
                "msg 7 hello", "msg 12 ", "error 'Stale Connection'");
    }

    @Test
    void aMessageSplitAnywhereIsSeenOnceWhole() {
        String wire = "MSG s 3 10\r\n0123\r\n6789\r\nPING\r\n";
        for (int split = 1; split < wire.length(); split++) {
            seen.clear();
            write(wire.substring(0, split));
            write(wire.substring(split));
            assertThat(seen).as("split at %d", split).containsExactly("msg 3 0123\r\n6789", "ping");
        }
    }

    @Test
    void aPayloadLargerThanTheLimitEndsTheConnection() {
        assertThatThrownBy(() -> write("MSG s 1 65\r\n")).isInstanceOf(DecoderException.class)
                .hasMessageContaining("65 bytes");
    }

    @Test
    void aControlLineWithoutEndOrAnUnknownOperationEndsTheConnection() {
        assertThatThrownBy(() -> write("X".repeat(NatsProtocolDecoder.MAX_CONTROL_LINE + 2)))
                .isInstanceOf(DecoderException.class);
        EmbeddedChannel other = new EmbeddedChannel(new NatsProtocolDecoder(null, 64));
        assertThatThrownBy(() -> other.writeInbound(Unpooled.copiedBuffer("HMSG a 1 2 3\r\n",
                StandardCharsets.US_ASCII))).isInstanceOf(DecoderException.class);
    }

    @Test
    void malformedMessageLinesEndTheConnection() {
        for (String line : List.of("MSG s 1\r\n", "MSG s x 1\r\n", "MSG s 1 r extra 2\r\n", "MSG s 1 -2\r\n",
                "MSG s 1 99999999999\r\n")) {
            EmbeddedChannel fresh = new EmbeddedChannel(new NatsProtocolDecoder(null, 64));
            assertThatThrownBy(() -> fresh.writeInbound(Unpooled.copiedBuffer(line, StandardCharsets.US_ASCII)))
                    .as(line).isInstanceOf(DecoderException.class);
        }
    }

    @Test
    void aPayloadNotEndedByCrlfEndsTheConnection() {
        assertThatThrownBy(() -> write("MSG s 1 2\r\nabXY")).isInstanceOf(DecoderException.class);
    }
}

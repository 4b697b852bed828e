package dev.riscvrelay.relay.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.DecoderException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Anything a NATS server (or something posing as one) sends the trunk link: the decoder ends the connection with a
 * {@link DecoderException} or reads it, never anything else, and reads the same however the bytes are split into
 * reads. A frame batch in a message is walked within its bounds.
 */
class NatsProtocolDecoderFuzzTest {

    @FuzzTest(maxDuration = "60s")
    void decode(byte[] input) {
        int split = input.length == 0 ? 0 : (input[0] & 0xFF) % (input.length + 1);
        List<String> whole = feed(List.of(input));
        List<String> inTwo = feed(List.of(Arrays.copyOfRange(input, 0, split),
                Arrays.copyOfRange(input, split, input.length)));
        assertThat(inTwo).isEqualTo(whole);
    }

    /** What the decoder showed, ending with "end" when it ended the connection. */
    private static List<String> feed(List<byte[]> reads) {
        RecordingNatsHandler recorder = new RecordingNatsHandler() {
            @Override
            public void message(int sid, ByteBuf payload) {
                seen.add("msg " + sid + " " + ByteBufUtil.hexDump(payload));
                List<String> frames = new ArrayList<>();
                boolean batch = FrameBatch.forEachFrame(payload, 14,
                        (body, index, length) -> frames.add(index + ":" + length));
                assertThat(frames).allSatisfy(frame -> {
                    int index = Integer.parseInt(frame.substring(0, frame.indexOf(':')));
                    int length = Integer.parseInt(frame.substring(frame.indexOf(':') + 1));
                    assertThat(index).isGreaterThanOrEqualTo(payload.readerIndex());
                    assertThat(index + length).isLessThanOrEqualTo(payload.writerIndex());
                });
                seen.add("batch " + batch + " " + frames.size());
            }
        };
        List<String> seen = recorder.seen;
        EmbeddedChannel channel = new EmbeddedChannel(new NatsProtocolDecoder(recorder, 4096));
        try {
            for (byte[] read : reads) {
                channel.writeInbound(Unpooled.wrappedBuffer(read));
            }
        } catch (DecoderException ended) {
            seen.add("end");
            channel.pipeline().remove(NatsProtocolDecoder.class); // the link closes the connection here
        }
        try {
            channel.finishAndReleaseAll();
        } catch (DecoderException atClose) {
            // a partial line left at the end: nothing more is shown
        }
        return seen;
    }
}

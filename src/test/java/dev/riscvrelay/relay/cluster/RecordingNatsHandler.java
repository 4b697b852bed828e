package dev.riscvrelay.relay.cluster;

import io.netty.buffer.ByteBuf;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/** Writes down what a {@link NatsProtocolDecoder} shows, one line per operation. */
class RecordingNatsHandler implements NatsProtocolDecoder.Handler {

    final List<String> seen = new ArrayList<>();

    @Override
    public void info(String json) {
        seen.add("info " + json);
    }

    @Override
    public void message(int sid, ByteBuf payload) {
        seen.add("msg " + sid + " " + payload.toString(StandardCharsets.ISO_8859_1));
    }

    @Override
    public void ping() {
        seen.add("ping");
    }

    @Override
    public void pong() {
        seen.add("pong");
    }

    @Override
    public void error(String text) {
        seen.add("error " + text);
    }
}

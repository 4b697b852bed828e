package dev.riscvrelay.relay.wire;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;

/**
 * Loads captured packets from {@code src/test/resources/fixtures/NAME.hex}: {@code #} comment lines say where the
 * bytes came from, the rest is whitespace-separated hex.
 */
public final class HexFixtures {

    private HexFixtures() {
    }

    public static byte[] bytes(String name) {
        String resource = "/fixtures/" + name + ".hex";
        try (InputStream in = HexFixtures.class.getResourceAsStream(resource)) {
            if (in == null) {
                throw new IllegalStateException("missing test fixture " + resource);
            }
            StringBuilder hex = new StringBuilder();
            for (String line : new String(in.readAllBytes(), StandardCharsets.US_ASCII).split("\n")) {
                if (!line.startsWith("#")) {
                    hex.append(line.replaceAll("\\s+", ""));
                }
            }
            return HexFormat.of().parseHex(hex);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * The fixture in a direct buffer, placed after {@code lead} junk bytes so views that ignore their offset fail.
     * The frame is the buffer's readable bytes.
     */
    public static ByteBuf directBuffer(String name, int lead) {
        return directBuffer(bytes(name), lead);
    }

    public static ByteBuf directBuffer(byte[] frame, int lead) {
        ByteBuf buf = Unpooled.directBuffer(lead + frame.length);
        for (int i = 0; i < lead; i++) {
            buf.writeByte(0xA5);
        }
        buf.writeBytes(frame);
        buf.readerIndex(lead);
        return buf;
    }
}

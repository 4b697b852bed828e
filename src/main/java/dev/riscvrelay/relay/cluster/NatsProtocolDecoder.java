package dev.riscvrelay.relay.cluster;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.netty.handler.codec.DecoderException;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * The server's side of the core NATS client protocol, read in place: {@code INFO}, {@code MSG}, {@code PING},
 * {@code PONG}, {@code +OK}, {@code -ERR}. A message's payload is shown to the handler as a slice of the read
 * buffer, valid during the call: nothing is copied or allocated per message. A control line longer than
 * {@value #MAX_CONTROL_LINE} bytes, a payload larger than {@link #maxPayload}, or an operation the link never asked
 * for ends the connection with a {@link DecoderException}.
 */
final class NatsProtocolDecoder extends ByteToMessageDecoder {

    /** NATS's own default limit for a control line. */
    static final int MAX_CONTROL_LINE = 4096;

    /** What the server said. On the channel's loop. */
    interface Handler {
        void info(String json);

        /** A message on subscription {@code sid}; {@code payload} is valid during the call only. */
        void message(int sid, ByteBuf payload);

        void ping();

        void pong();

        void error(String text);
    }

    private final Handler handler;
    private final int maxPayload;
    /** The payload size of the MSG whose control line was read, or -1 between messages. */
    private int payloadSize = -1;
    private int payloadSid;

    NatsProtocolDecoder(Handler handler, int maxPayload) {
        this.handler = handler;
        this.maxPayload = maxPayload;
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        while (in.isReadable()) {
            if (payloadSize >= 0) {
                if (in.readableBytes() < payloadSize + 2) {
                    return;
                }
                int at = in.readerIndex();
                if (in.getByte(at + payloadSize) != '\r' || in.getByte(at + payloadSize + 1) != '\n') {
                    throw new DecoderException("NATS message payload not followed by CRLF");
                }
                int size = payloadSize;
                payloadSize = -1;
                handler.message(payloadSid, in.slice(at, size));
                in.skipBytes(size + 2);
                continue;
            }
            int start = in.readerIndex();
            int newline = in.indexOf(start, Math.min(in.writerIndex(), start + MAX_CONTROL_LINE + 2), (byte) '\n');
            if (newline < 0) {
                if (in.readableBytes() > MAX_CONTROL_LINE + 1) {
                    throw new DecoderException("NATS control line longer than " + MAX_CONTROL_LINE + " bytes");
                }
                return;
            }
            int end = newline > start && in.getByte(newline - 1) == '\r' ? newline - 1 : newline;
            in.readerIndex(newline + 1);
            line(in, start, end);
        }
    }

    private void line(ByteBuf in, int start, int end) {
        int length = end - start;
        if (startsWith(in, start, length, "MSG ")) {
            message(in, start + 4, end);
        } else if (startsWith(in, start, length, "PING")) {
            handler.ping();
        } else if (startsWith(in, start, length, "PONG")) {
            handler.pong();
        } else if (startsWith(in, start, length, "+OK")) {
            return;
        } else if (startsWith(in, start, length, "INFO ")) {
            handler.info(in.toString(start + 5, length - 5, StandardCharsets.UTF_8));
        } else if (startsWith(in, start, length, "-ERR")) {
            handler.error(in.toString(start + 4, length - 4, StandardCharsets.UTF_8).strip());
        } else {
            throw new DecoderException("unexpected NATS operation: "
                    + in.toString(start, Math.min(length, 32), StandardCharsets.US_ASCII));
        }
    }

    /** {@code MSG <subject> <sid> [reply-to] <#bytes>}: the sid is the second field, the size the last. */
    private void message(ByteBuf in, int at, int end) {
        int fields = 0;
        int sid = -1;
        int last = -1;
        int i = at;
        while (i < end) {
            while (i < end && isBlank(in.getByte(i))) {
                i++;
            }
            if (i == end) {
                break;
            }
            int fieldStart = i;
            while (i < end && !isBlank(in.getByte(i))) {
                i++;
            }
            fields++;
            if (fields == 2) {
                sid = decimal(in, fieldStart, i);
            }
            last = decimal(in, fieldStart, i);
        }
        if (fields < 3 || fields > 4 || sid < 0 || last < 0) {
            throw new DecoderException("malformed NATS MSG line");
        }
        if (last > maxPayload) {
            throw new DecoderException("NATS message of " + last + " bytes, more than " + maxPayload);
        }
        payloadSid = sid;
        payloadSize = last;
    }

    /** The non-negative decimal number in [from, to), or -1 when it is none (or too large). */
    private static int decimal(ByteBuf in, int from, int to) {
        if (from == to || to - from > 9) {
            return -1;
        }
        int value = 0;
        for (int i = from; i < to; i++) {
            int digit = in.getByte(i) - '0';
            if (digit < 0 || digit > 9) {
                return -1;
            }
            value = value * 10 + digit;
        }
        return value;
    }

    private static boolean isBlank(byte b) {
        return b == ' ' || b == '\t';
    }

    private static boolean startsWith(ByteBuf in, int start, int length, String op) {
        if (length < op.length()) {
            return false;
        }
        for (int i = 0; i < op.length(); i++) {
            int c = in.getByte(start + i);
            if (c != op.charAt(i) && !(c >= 'a' && c <= 'z' && c - 32 == op.charAt(i))) {
                return false;
            }
        }
        return true;
    }
}

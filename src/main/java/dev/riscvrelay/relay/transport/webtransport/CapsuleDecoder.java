package dev.riscvrelay.relay.transport.webtransport;

import io.netty.buffer.ByteBuf;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/**
 * Parses the capsule stream of a CONNECT stream (RFC 9297 §3.2) from chunks that split capsules anywhere.
 * CLOSE_WEBTRANSPORT_SESSION and DRAIN_WEBTRANSPORT_SESSION are reported to a {@link Listener}; every other type
 * is skipped without being buffered (RFC 9297 §3.2: unknown capsule types are ignored), so memory stays bounded.
 * Malformed input returns a {@link Reject} reason and never throws. One instance per stream; not thread-safe.
 */
public final class CapsuleDecoder {

    /** What the session learns from its peer's capsules. */
    public interface Listener {
        void onCloseSession(long errorCode, String reason);

        void onDrainSession();
    }

    /** Why a capsule stream was rejected; {@link #NONE} while it is fine. */
    public enum Reject {
        NONE,
        CLOSE_TOO_SHORT,
        CLOSE_TOO_LONG,
        CLOSE_REASON_NOT_UTF8,
        DRAIN_NOT_EMPTY,
        DATA_AFTER_CLOSE
    }

    private enum State { HEADER, VALUE, SKIP, CLOSED, REJECTED }

    private static final int MAX_HEADER = 2 * QuicVarint.MAX_LENGTH;
    private static final int MAX_CLOSE_VALUE = 4 + Capsules.MAX_CLOSE_REASON_BYTES;

    private final Listener listener;
    private final byte[] header = new byte[MAX_HEADER];
    private final byte[] value = new byte[MAX_CLOSE_VALUE];
    private int headerLength;
    private long type;
    private int valueLength;
    private int valueFilled;
    private long skipRemaining;
    private State state = State.HEADER;
    private Reject reject = Reject.NONE;

    public CapsuleDecoder(Listener listener) {
        this.listener = listener;
    }

    /** Consumes all readable bytes of {@code chunk} (the caller keeps and releases it). */
    public Reject decode(ByteBuf chunk) {
        while (chunk.isReadable() && state != State.REJECTED) {
            switch (state) {
                case HEADER -> readHeader(chunk);
                case VALUE -> readValue(chunk);
                case SKIP -> {
                    int n = (int) Math.min(skipRemaining, chunk.readableBytes());
                    chunk.skipBytes(n);
                    skipRemaining -= n;
                    if (skipRemaining == 0) {
                        state = State.HEADER;
                    }
                }
                case CLOSED -> reject(Reject.DATA_AFTER_CLOSE);
                default -> throw new IllegalStateException(state.name());
            }
        }
        chunk.skipBytes(chunk.readableBytes());
        return reject;
    }

    /** True once a CLOSE_WEBTRANSPORT_SESSION capsule was read. */
    public boolean closeReceived() {
        return state == State.CLOSED;
    }

    private void readHeader(ByteBuf chunk) {
        // Gather bytes one at a time until both varints are complete; at most 16 bytes, so this stays cheap.
        header[headerLength++] = chunk.readByte();
        int typeLength = QuicVarint.lengthOfFirstByte(header[0]);
        if (headerLength < typeLength + 1) {
            return;
        }
        int lengthLength = QuicVarint.lengthOfFirstByte(header[typeLength]);
        if (headerLength < typeLength + lengthLength) {
            return;
        }
        type = varint(header, 0, typeLength);
        long length = varint(header, typeLength, lengthLength);
        headerLength = 0;
        if (type == Capsules.CLOSE_WEBTRANSPORT_SESSION) {
            if (length < 4) {
                reject(Reject.CLOSE_TOO_SHORT);
            } else if (length > MAX_CLOSE_VALUE) {
                reject(Reject.CLOSE_TOO_LONG);
            } else {
                startValue((int) length);
            }
        } else if (type == Capsules.DRAIN_WEBTRANSPORT_SESSION) {
            if (length != 0) {
                reject(Reject.DRAIN_NOT_EMPTY);
            } else {
                listener.onDrainSession();
            }
        } else if (length > 0) {
            skipRemaining = length;
            state = State.SKIP;
        }
    }

    private void startValue(int length) {
        valueLength = length;
        valueFilled = 0;
        state = State.VALUE;
    }

    private void readValue(ByteBuf chunk) {
        int n = Math.min(valueLength - valueFilled, chunk.readableBytes());
        chunk.readBytes(value, valueFilled, n);
        valueFilled += n;
        if (valueFilled < valueLength) {
            return;
        }
        // Only CLOSE_WEBTRANSPORT_SESSION is buffered.
        long errorCode = ((value[0] & 0xffL) << 24) | ((value[1] & 0xff) << 16) | ((value[2] & 0xff) << 8)
                | (value[3] & 0xff);
        String reason;
        try {
            reason = StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(value, 4, valueLength - 4))
                    .toString();
        } catch (CharacterCodingException e) {
            reject(Reject.CLOSE_REASON_NOT_UTF8);
            return;
        }
        state = State.CLOSED;
        listener.onCloseSession(errorCode, reason);
    }

    private void reject(Reject why) {
        reject = why;
        state = State.REJECTED;
    }

    private static long varint(byte[] bytes, int offset, int length) {
        long v = bytes[offset] & 0x3f;
        for (int i = 1; i < length; i++) {
            v = (v << 8) | (bytes[offset + i] & 0xff);
        }
        return v;
    }
}

package dev.riscvrelay.relay.transport.framed;

import io.netty.buffer.ByteBuf;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A strict JSON (RFC 8259) reader for short control messages: objects become {@code Map<String, Object>}, arrays
 * {@code List<Object>}, numbers {@code Long} (integers only: no control message carries another kind), strings
 * {@code String}, {@code true}/{@code false} {@code Boolean}, {@code null} {@link #NULL}. The caller bounds the
 * length; nesting is bounded here, so a hostile message costs at most its length in work and memory. Returns null
 * for anything that is not exactly one valid value, surrounded by optional whitespace.
 */
final class BoundedJson {

    /** JSON's null, which a map cannot hold as a value. */
    static final Object NULL = new Object();

    private static final int MAX_DEPTH = 8;

    private final ByteBuf in;
    private final int end;
    private int at;

    private BoundedJson(ByteBuf in, int from, int end) {
        this.in = in;
        this.at = from;
        this.end = end;
    }

    /** The value in {@code in[from, from + length)}, or null when that is not one valid JSON value. */
    static Object parse(ByteBuf in, int from, int length) {
        BoundedJson reader = new BoundedJson(in, from, from + length);
        try {
            Object value = reader.value(0);
            reader.whitespace();
            return reader.at == reader.end ? value : null;
        } catch (Malformed e) {
            return null;
        }
    }

    private Object value(int depth) {
        if (depth > MAX_DEPTH) {
            throw Malformed.INSTANCE;
        }
        whitespace();
        int c = peek();
        return switch (c) {
            case '{' -> object(depth);
            case '[' -> array(depth);
            case '"' -> string();
            case 't' -> literal("true", Boolean.TRUE);
            case 'f' -> literal("false", Boolean.FALSE);
            case 'n' -> literal("null", NULL);
            default -> number();
        };
    }

    private Map<String, Object> object(int depth) {
        at++;
        Map<String, Object> members = new LinkedHashMap<>();
        whitespace();
        if (peek() == '}') {
            at++;
            return members;
        }
        while (true) {
            whitespace();
            if (peek() != '"') {
                throw Malformed.INSTANCE;
            }
            String key = string();
            whitespace();
            expect(':');
            Object value = value(depth + 1);
            if (members.put(key, value) != null) {
                throw Malformed.INSTANCE; // a repeated key: serde refuses it too
            }
            whitespace();
            int c = next();
            if (c == '}') {
                return members;
            }
            if (c != ',') {
                throw Malformed.INSTANCE;
            }
        }
    }

    private List<Object> array(int depth) {
        at++;
        List<Object> items = new ArrayList<>();
        whitespace();
        if (peek() == ']') {
            at++;
            return items;
        }
        while (true) {
            items.add(value(depth + 1));
            whitespace();
            int c = next();
            if (c == ']') {
                return items;
            }
            if (c != ',') {
                throw Malformed.INSTANCE;
            }
        }
    }

    private String string() {
        at++;
        StringBuilder out = new StringBuilder();
        int startOfRun = at;
        while (true) {
            int c = next();
            if (c == '"') {
                return out.append(utf8(startOfRun, at - 1)).toString();
            }
            if (c < 0x20) {
                throw Malformed.INSTANCE;
            }
            if (c == '\\') {
                out.append(utf8(startOfRun, at - 1));
                out.append(escape());
                startOfRun = at;
            }
        }
    }

    private String utf8(int from, int to) {
        return in.toString(from, to - from, java.nio.charset.StandardCharsets.UTF_8);
    }

    private char escape() {
        int c = next();
        return switch (c) {
            case '"' -> '"';
            case '\\' -> '\\';
            case '/' -> '/';
            case 'b' -> '\b';
            case 'f' -> '\f';
            case 'n' -> '\n';
            case 'r' -> '\r';
            case 't' -> '\t';
            case 'u' -> (char) hex4();
            default -> throw Malformed.INSTANCE;
        };
    }

    private int hex4() {
        int value = 0;
        for (int i = 0; i < 4; i++) {
            int digit = Character.digit(next(), 16);
            if (digit < 0) {
                throw Malformed.INSTANCE;
            }
            value = value << 4 | digit;
        }
        return value;
    }

    /** An integer of at most 18 digits (a fraction or exponent is refused: no field here takes one). */
    private Long number() {
        boolean negative = peek() == '-';
        if (negative) {
            at++;
        }
        int first = at;
        long value = 0;
        while (at < end && peek() >= '0' && peek() <= '9') {
            value = value * 10 + (next() - '0');
        }
        int digits = at - first;
        if (digits == 0 || digits > 18 || (digits > 1 && in.getByte(first) == '0')) {
            throw Malformed.INSTANCE;
        }
        return negative ? -value : value;
    }

    private Object literal(String word, Object value) {
        for (int i = 0; i < word.length(); i++) {
            if (next() != word.charAt(i)) {
                throw Malformed.INSTANCE;
            }
        }
        return value;
    }

    private void whitespace() {
        while (at < end) {
            int c = in.getByte(at);
            if (c != ' ' && c != '\t' && c != '\n' && c != '\r') {
                return;
            }
            at++;
        }
    }

    private void expect(int c) {
        if (next() != c) {
            throw Malformed.INSTANCE;
        }
    }

    private int peek() {
        if (at >= end) {
            throw Malformed.INSTANCE;
        }
        return in.getByte(at) & 0xFF;
    }

    private int next() {
        int c = peek();
        at++;
        return c;
    }

    /** Ends a parse early; one instance, no stack trace: bad input is expected, not exceptional. */
    private static final class Malformed extends RuntimeException {
        static final Malformed INSTANCE = new Malformed();

        private Malformed() {
            super(null, null, false, false);
        }
    }
}

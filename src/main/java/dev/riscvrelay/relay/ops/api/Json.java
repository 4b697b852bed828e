package dev.riscvrelay.relay.ops.api;

/** The bits of JSON (RFC 8259) the admin server writes by hand: strings quoted and escaped. */
public final class Json {

    private Json() {
    }

    /** A JSON string (RFC 8259 §7): quote, backslash and control characters escaped. */
    public static StringBuilder quote(StringBuilder out, String value) {
        out.append('"');
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                case '\n' -> out.append("\\n");
                case '\r' -> out.append("\\r");
                case '\t' -> out.append("\\t");
                default -> {
                    if (c < 0x20) {
                        out.append(String.format("\\u%04x", (int) c));
                    } else {
                        out.append(c);
                    }
                }
            }
        }
        return out.append('"');
    }
}

package dev.riscvrelay.relay.ops.api;

import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;

/**
 * Which members a request asks for: {@code offset} members skipped, then at most {@code limit}. Parsed from a query
 * string such as {@code offset=200&limit=100}.
 */
public record MemberPage(int offset, int limit) {

    public static final int DEFAULT_LIMIT = 100;
    /** A page of this many members is still one quick answer; more is asked page by page. */
    public static final int MAX_LIMIT = 1000;

    public MemberPage {
        if (offset < 0) {
            throw new IllegalArgumentException("offset must not be negative: " + offset);
        }
        if (limit < 0 || limit > MAX_LIMIT) {
            throw new IllegalArgumentException("limit must be in 0.." + MAX_LIMIT + ": " + limit);
        }
    }

    public static MemberPage first() {
        return new MemberPage(0, DEFAULT_LIMIT);
    }

    /** The page a raw query string asks for (null: the first); unknown parameters are ignored. */
    public static MemberPage parse(String rawQuery) {
        int offset = 0;
        int limit = DEFAULT_LIMIT;
        if (rawQuery != null) {
            for (String pair : rawQuery.split("&")) {
                int equals = pair.indexOf('=');
                String name = equals < 0 ? pair : pair.substring(0, equals);
                String value = equals < 0 ? "" : URLDecoder.decode(pair.substring(equals + 1), StandardCharsets.UTF_8);
                switch (name) {
                    case "offset" -> offset = number(name, value);
                    case "limit" -> limit = number(name, value);
                    default -> {
                    }
                }
            }
        }
        return new MemberPage(offset, limit);
    }

    private static int number(String name, String value) {
        try {
            return Integer.parseInt(value);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(name + " must be a number: " + value);
        }
    }
}

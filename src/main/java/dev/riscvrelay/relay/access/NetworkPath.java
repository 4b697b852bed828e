package dev.riscvrelay.relay.access;

import io.netty.handler.codec.http.QueryStringDecoder;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.regex.Pattern;

/**
 * The network and token a request target names: {@code /net/<name>} picks the network {@code name}; any other path
 * ({@code /} above all) the default network. The token is the {@code token} query parameter, since browsers cannot
 * set headers on a WebTransport CONNECT.
 *
 * @param network the network's name, or null when the path names an invalid one (the caller answers 404)
 * @param token the presented token, or null
 */
public record NetworkPath(String network, String token) {

    public static final String DEFAULT_NETWORK = "default";
    private static final Pattern NAME = Pattern.compile("[a-z0-9-]{1,32}");
    /** The path under which requests name a network: {@code /net/<name>}. */
    public static final String PREFIX = "/net/";

    public static boolean validName(String name) {
        return NAME.matcher(name).matches();
    }

    /** The network and token a request target names; a target that does not decode names no network (404). */
    public static NetworkPath parse(String pathAndQuery) {
        QueryStringDecoder decoder = new QueryStringDecoder(pathAndQuery == null ? "/" : pathAndQuery,
                StandardCharsets.UTF_8, true, 8);
        String token;
        String path;
        try {
            List<String> tokens = decoder.parameters().get("token");
            token = tokens == null || tokens.isEmpty() ? null : tokens.getFirst();
            path = decoder.path();
        } catch (IllegalArgumentException badEscape) { // "%" or "%zz": Netty's decoder refuses it
            return new NetworkPath(null, null);
        }
        if (!path.startsWith(PREFIX)) {
            return new NetworkPath(DEFAULT_NETWORK, token);
        }
        String name = path.substring(PREFIX.length());
        if (name.endsWith("/")) {
            name = name.substring(0, name.length() - 1);
        }
        return new NetworkPath(validName(name) ? name : null, token);
    }
}

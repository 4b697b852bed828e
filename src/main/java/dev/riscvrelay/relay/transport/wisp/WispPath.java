package dev.riscvrelay.relay.transport.wisp;

import dev.riscvrelay.relay.access.NetworkPath;
import io.netty.handler.codec.http.QueryStringDecoder;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Where a WISP client connects: {@code /wisp/} (the default network) or {@code /net/NAME/wisp/} (network NAME), with
 * the network's token as the {@code token} query parameter, as for sessions. The network decides the token, the
 * share of the host budget and the per-address session count that a WISP connection uses.
 *
 * @param network the network's name, or null when the path names an invalid one (404)
 * @param token the token of the query, or null
 */
record WispPath(String network, String token) {

    private static final Pattern PATH = Pattern.compile("/(?:net/([^/]*)/)?wisp/?");

    /** The WISP endpoint the target names, or null when it names none (the request is not WISP's). */
    static WispPath parse(String pathAndQuery) {
        QueryStringDecoder uri = new QueryStringDecoder(pathAndQuery, StandardCharsets.UTF_8, true, 8);
        Matcher m = PATH.matcher(uri.rawPath());
        if (!m.matches()) {
            return null;
        }
        String token;
        try {
            List<String> tokens = uri.parameters().get("token");
            token = tokens == null || tokens.isEmpty() ? null : tokens.getFirst();
        } catch (IllegalArgumentException badEscape) { // "?token=%": Netty's decoder refuses it
            return new WispPath(null, null);
        }
        String name = m.group(1) == null ? NetworkPath.DEFAULT_NETWORK : m.group(1);
        return new WispPath(NetworkPath.validName(name) ? name : null, token);
    }
}

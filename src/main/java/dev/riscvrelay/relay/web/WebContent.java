package dev.riscvrelay.relay.web;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * What the relay serves over plain HTTP(S) requests: the demo page from the jar ({@code /web/} on the class path),
 * the emulator and VM image files from a directory (built by {@code scripts/build-v86-image.sh}) under
 * {@code /v86/}, and {@code /cert-hash} and {@code /relay.json}, which tell the page how to reach the relay.
 *
 * <p>Names are looked up, never joined into paths: only a flat name of letters, digits, dot, dash and underscore
 * is served, so no request can leave the two roots.
 *
 * @param v86Directory where the v86 files are, or null to serve none
 * @param relayInfo what {@code /relay.json} and {@code /cert-hash} answer
 */
public record WebContent(Path v86Directory, RelayInfo relayInfo) {

    private static final Pattern FLAT_NAME = Pattern.compile("[A-Za-z0-9_][A-Za-z0-9._-]{0,127}");
    private static final Map<String, String> TYPES = Map.of(
            "html", "text/html; charset=utf-8",
            "js", "text/javascript; charset=utf-8",
            "mjs", "text/javascript; charset=utf-8",
            "css", "text/css; charset=utf-8",
            "json", "application/json",
            "wasm", "application/wasm",
            "txt", "text/plain; charset=utf-8");

    /**
     * How a page reaches the relay.
     *
     * @param certificateHash SHA-256 of the relay's current certificate, lowercase hex (for
     *     serverCertificateHashes); read at each request, so it follows renewals
     * @param port the relay's port: UDP for WebTransport, TCP for WebSocket
     * @param webSocketScheme {@code "ws"}, {@code "wss"}, or {@code "off"}
     * @param relays the relays the page tries after its own ({@code --page-relays}), in order; may be empty
     */
    public record RelayInfo(java.util.function.Supplier<String> certificateHash, int port, String webSocketScheme,
            List<URI> relays) {

        public RelayInfo {
            relays = List.copyOf(relays);
        }

        public RelayInfo(java.util.function.Supplier<String> certificateHash, int port, String webSocketScheme) {
            this(certificateHash, port, webSocketScheme, List.of());
        }

        public String toJson() {
            StringBuilder json = new StringBuilder("{\"certificateHash\":\"").append(certificateHash.get())
                    .append("\",\"port\":").append(port).append(",\"webSocket\":\"").append(webSocketScheme)
                    .append("\",\"relays\":[");
            for (int i = 0; i < relays.size(); i++) {
                json.append(i == 0 ? "\"" : ",\"");
                jsonString(json, relays.get(i).toString());
                json.append('"');
            }
            return json.append("]}").toString();
        }

        /** A URI has no quotes or control characters, but a backslash or quote must never end the string early. */
        private static void jsonString(StringBuilder json, String text) {
            for (int i = 0; i < text.length(); i++) {
                char c = text.charAt(i);
                if (c == '"' || c == '\\') {
                    json.append('\\');
                }
                if (c < 0x20) {
                    json.append(String.format("\\u%04x", (int) c));
                } else {
                    json.append(c);
                }
            }
        }
    }

    /** A file found for a request path. Exactly one of {@code bytes} and {@code file} is set. */
    public record Resource(String contentType, byte[] bytes, Path file) {}

    /** The resource for a request path, or null (404). */
    public Resource lookup(String path) throws IOException {
        return switch (path) {
            case "/cert-hash" -> new Resource(TYPES.get("txt"), (relayInfo.certificateHash().get() + "\n").getBytes(), null);
            case "/relay.json" -> new Resource(TYPES.get("json"), relayInfo.toJson().getBytes(), null);
            case "/", "/index.html" -> classpath("index.html");
            default -> {
                if (path.startsWith("/v86/")) {
                    yield v86File(path.substring("/v86/".length()));
                }
                yield path.indexOf('/', 1) < 0 ? classpath(path.substring(1)) : null;
            }
        };
    }

    private Resource classpath(String name) throws IOException {
        if (!FLAT_NAME.matcher(name).matches()) {
            return null;
        }
        try (InputStream in = WebContent.class.getResourceAsStream("/web/" + name)) {
            return in == null ? null : new Resource(typeOf(name), in.readAllBytes(), null);
        }
    }

    private Resource v86File(String name) {
        if (v86Directory == null || !FLAT_NAME.matcher(name).matches()) {
            return null;
        }
        Path file = v86Directory.resolve(name);
        return Files.isRegularFile(file) ? new Resource(typeOf(name), null, file) : null;
    }

    private static String typeOf(String name) {
        int dot = name.lastIndexOf('.');
        return TYPES.getOrDefault(dot < 0 ? "" : name.substring(dot + 1), "application/octet-stream");
    }
}

package dev.riscvrelay.relay.cluster;

import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ThreadLocalRandom;
import java.util.regex.Pattern;

/**
 * How a relay joins a cluster ({@code --cluster}): the NATS servers it may use, its credentials, and its id among the
 * relays, which names the subject where other relays send frames for the members it holds.
 *
 * @param servers NATS server URLs ({@code nats://HOST:PORT}, or {@code tls://HOST:PORT} for TLS with the JVM's
 *                trusted CAs); the client tries them in turn and learns the rest of a NATS cluster from them
 * @param credentials a NATS credentials file (JWT and NKey seed), or null
 * @param ca PEM certificates of the CAs that sign the servers' TLS certificates, or null for the JVM's
 * @param relayId unique among the relays of the cluster
 */
public record ClusterOptions(List<String> servers, Path credentials, Path ca, String relayId) {

    private static final Pattern RELAY_ID = Pattern.compile("[A-Za-z0-9_-]{1,64}");

    public ClusterOptions {
        servers = List.copyOf(servers);
        if (servers.isEmpty()) {
            throw new IllegalArgumentException("--cluster needs at least one nats://HOST:PORT");
        }
        for (String server : servers) {
            checkUrl(server);
        }
        if (credentials != null && !Files.isReadable(credentials)) {
            throw new IllegalArgumentException("--cluster-credentials: cannot read " + credentials);
        }
        if (ca != null && !Files.isReadable(ca)) {
            throw new IllegalArgumentException("--cluster-ca: cannot read " + ca);
        }
        if (ca != null) {
            NatsTls.fromPem(ca); // a file of no certificates is said now, not at the first TLS handshake
        }
        if (!RELAY_ID.matcher(relayId).matches()) {
            throw new IllegalArgumentException("--relay-id must be 1 to 64 letters, digits, '-' or '_': " + relayId);
        }
    }

    /** Parses {@code --cluster}'s comma-separated URLs; {@code relayId} null picks a random one. */
    public static ClusterOptions parse(String urls, Path credentials, Path ca, String relayId) {
        List<String> servers = new ArrayList<>();
        for (String part : urls.split(",")) {
            if (!part.isBlank()) {
                servers.add(part.strip());
            }
        }
        return new ClusterOptions(servers, credentials, ca, relayId == null ? randomId() : relayId);
    }

    /** Eight hex digits: unique enough among the relays of one cluster, and short in subjects and logs. */
    static String randomId() {
        return String.format(Locale.ROOT, "%08x", ThreadLocalRandom.current().nextInt());
    }

    private static void checkUrl(String server) {
        URI uri;
        try {
            uri = new URI(server);
        } catch (URISyntaxException e) {
            throw new IllegalArgumentException("--cluster: not a URL: " + server);
        }
        String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
        if (!(scheme.equals("nats") || scheme.equals("tls")) || uri.getHost() == null) {
            throw new IllegalArgumentException("--cluster wants nats://HOST:PORT or tls://HOST:PORT: " + server);
        }
    }
}

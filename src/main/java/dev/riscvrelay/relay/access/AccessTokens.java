package dev.riscvrelay.relay.access;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.List;

/**
 * The tokens of {@code --token-file}: lines {@code <network> <token>}, or {@code * <token>} for every network;
 * blank lines and {@code #} comments are ignored. With a token file, a session joins a network only with a token
 * listed for that network or for {@code *}; without one ({@link #NONE}) every session is admitted.
 *
 * <p>Only SHA-256 hashes are kept, and a presented token is hashed and compared with every entry using
 * {@link MessageDigest#isEqual} on fixed-length digests, so neither the comparison nor the loop reveals through
 * timing how much of a token was right or which entry came close.
 */
public final class AccessTokens {

    public static final AccessTokens NONE = new AccessTokens(List.of());
    public static final String ANY_NETWORK = "*";

    /** The outcome of a check, as an HTTP status: 0 admitted, 401 no token, 403 wrong token. */
    public static final int ADMITTED = 0;
    public static final int MISSING = 401;
    public static final int WRONG = 403;

    private record Entry(String network, byte[] digest) {
    }

    private final List<Entry> entries;

    private AccessTokens(List<Entry> entries) {
        this.entries = List.copyOf(entries);
    }

    public boolean required() {
        return !entries.isEmpty();
    }

    /** Reads a token file; a malformed line fails with its number. */
    public static AccessTokens read(Path file) throws IOException {
        List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        List<Entry> entries = new ArrayList<>();
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i).strip();
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            String[] fields = line.split("\\s+");
            if (fields.length != 2 || (!fields[0].equals(ANY_NETWORK) && !NetworkPath.validName(fields[0]))) {
                throw new IllegalArgumentException(file + " line " + (i + 1)
                        + ": want '<network> <token>' or '* <token>', network names [a-z0-9-]{1,32}");
            }
            entries.add(new Entry(fields[0], sha256(fields[1])));
        }
        if (entries.isEmpty()) {
            throw new IllegalArgumentException(file + " lists no token");
        }
        return new AccessTokens(entries);
    }

    /** For tests and embedding: tokens by network ({@code *} for all). */
    public static AccessTokens of(List<String[]> networkAndToken) {
        return new AccessTokens(networkAndToken.stream().map(p -> new Entry(p[0], sha256(p[1]))).toList());
    }

    /** Whether {@code token} (null when none was presented) opens {@code network}: {@link #ADMITTED}, 401 or 403. */
    public int check(String network, String token) {
        if (entries.isEmpty()) {
            return ADMITTED;
        }
        if (token == null || token.isEmpty()) {
            return MISSING;
        }
        byte[] presented = sha256(token);
        boolean match = false;
        for (Entry entry : entries) {
            // No early exit: every entry is compared whatever matched before.
            boolean applies = entry.network.equals(ANY_NETWORK) || entry.network.equals(network);
            match |= MessageDigest.isEqual(entry.digest, presented) & applies;
        }
        return match ? ADMITTED : WRONG;
    }

    private static byte[] sha256(String token) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(token.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is part of every JDK", e);
        }
    }
}

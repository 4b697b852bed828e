package dev.riscvrelay.relay.transport.webtransport;

import dev.riscvrelay.relay.lan.NanoClock;
import io.netty.buffer.ByteBuf;
import io.netty.handler.codec.quic.QuicTokenHandler;
import java.net.InetSocketAddress;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.concurrent.TimeUnit;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * QUIC address validation with Retry (RFC 9000 §8.1.2): a first Initial without a token is answered only with a small
 * Retry packet carrying a token, so a spoofed source address gets no handshake flight (and no amplification, §8); the
 * client must come back with the token from the address it was sent to.
 *
 * <p>A token is {@code [issued at, monotonic ns: 8][HMAC-SHA256(key, issued at | address | port | odcid), first 16 bytes][odcid]}
 * with a random key made at start, so only this process can mint them, they bind the client's address and port, and
 * they expire after {@link #LIFETIME_NANOS}. One key for every worker's codec, so a token is good on any of them;
 * their loops take turns on the one {@link Mac} (a lock per Initial packet, never per frame).
 */
final class AddressValidationTokens implements QuicTokenHandler {

    /** A Retry token is used within one round trip; a few seconds cover slow paths and clock steps. */
    static final long LIFETIME_NANOS = TimeUnit.SECONDS.toNanos(10);
    private static final int TIME_LENGTH = 8;
    private static final int TAG_LENGTH = 16;
    private static final int PREFIX = TIME_LENGTH + TAG_LENGTH;
    /** RFC 9000 §17.2: connection IDs are at most 20 bytes. */
    private static final int MAX_CID = 20;

    private final Mac mac;
    /** Tokens come back to the process that issued them (the key is per process), so its monotonic clock serves. */
    private final NanoClock clock;

    AddressValidationTokens(NanoClock clock) {
        this.clock = clock;
        byte[] key = new byte[32];
        new SecureRandom().nextBytes(key);
        try {
            mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(key, "HmacSHA256"));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 is part of every JDK", e);
        }
    }

    @Override
    public boolean writeToken(ByteBuf out, ByteBuf dcid, InetSocketAddress address) {
        long issuedAt = clock.nanoTime();
        byte[] tag = tag(issuedAt, address, dcid, dcid.readerIndex(), dcid.readableBytes());
        out.writeLong(issuedAt);
        out.writeBytes(tag, 0, TAG_LENGTH);
        out.writeBytes(dcid, dcid.readerIndex(), dcid.readableBytes());
        return true;
    }

    @Override
    public int validateToken(ByteBuf token, InetSocketAddress address) {
        int length = token.readableBytes();
        if (length < PREFIX || length > PREFIX + MAX_CID) {
            return -1;
        }
        int at = token.readerIndex();
        long issuedAt = token.getLong(at);
        long age = clock.nanoTime() - issuedAt;
        if (age < 0 || age > LIFETIME_NANOS) {
            return -1;
        }
        byte[] expected = tag(issuedAt, address, token, at + PREFIX, length - PREFIX);
        byte[] presented = new byte[TAG_LENGTH];
        token.getBytes(at + TIME_LENGTH, presented);
        byte[] truncated = new byte[TAG_LENGTH];
        System.arraycopy(expected, 0, truncated, 0, TAG_LENGTH);
        return MessageDigest.isEqual(truncated, presented) ? PREFIX : -1;
    }

    @Override
    public int maxTokenLength() {
        return PREFIX + MAX_CID;
    }

    private synchronized byte[] tag(long issuedAt, InetSocketAddress address, ByteBuf cid, int cidAt, int cidLength) {
        for (int shift = 56; shift >= 0; shift -= 8) {
            mac.update((byte) (issuedAt >>> shift));
        }
        mac.update(address.getAddress().getAddress());
        mac.update((byte) (address.getPort() >>> 8));
        mac.update((byte) address.getPort());
        byte[] cidBytes = new byte[cidLength];
        cid.getBytes(cidAt, cidBytes);
        mac.update(cidBytes);
        return mac.doFinal();
    }
}

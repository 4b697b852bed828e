package dev.riscvrelay.relay.access;

/**
 * What one session may send and how many sessions one address may hold.
 *
 * @param framesPerSecond sustained frames a session may send; a burst of one second's worth is allowed
 * @param bytesPerSecond sustained bytes a session may send (Ethernet frames, headers included)
 * @param macsPerSession source MACs bound to one session (the first ones it sends from); frames from others drop
 * @param sessionsPerAddress sessions one source IP address may hold at once, WebTransport and WebSocket together
 */
public record SessionLimits(long framesPerSecond, long bytesPerSecond, int macsPerSession, int sessionsPerAddress) {

    /**
     * Above what one busy session moves at full speed (a TAP connector's bulk TCP), so by default the limit stops
     * floods without slowing real work; a public relay lowers both.
     */
    public static final long DEFAULT_FRAMES_PER_SECOND = 200_000;
    /** 2 Gbit/s. */
    public static final long DEFAULT_BYTES_PER_SECOND = 250_000_000;
    /** A VM bridging a few containers or a nested VM has more than one MAC; four is enough for most. */
    public static final int DEFAULT_MACS_PER_SESSION = 4;
    public static final int DEFAULT_SESSIONS_PER_ADDRESS = 64;

    /** Keeps the token arithmetic within a long. */
    public static final long MAX_RATE = 1_000_000_000;

    public SessionLimits {
        if (framesPerSecond > MAX_RATE || bytesPerSecond > MAX_RATE) {
            throw new IllegalArgumentException("rates above " + MAX_RATE + " per second are not supported");
        }
        if (framesPerSecond < 1 || bytesPerSecond < 1 || macsPerSession < 1 || sessionsPerAddress < 1) {
            throw new IllegalArgumentException("session limits must be positive: " + framesPerSecond + " frames/s, "
                    + bytesPerSecond + " bytes/s, " + macsPerSession + " MACs, " + sessionsPerAddress + " sessions");
        }
    }

    public static SessionLimits defaults() {
        return new SessionLimits(DEFAULT_FRAMES_PER_SECOND, DEFAULT_BYTES_PER_SECOND, DEFAULT_MACS_PER_SESSION,
                DEFAULT_SESSIONS_PER_ADDRESS);
    }
}

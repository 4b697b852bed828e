package dev.riscvrelay.relay.transport.webtransport;

/** A WebTransport session could not be opened or ended abnormally; the message is one line for a person. */
public final class WebTransportException extends Exception {

    /** What kind of failure, so a caller can decide whether retrying can help. */
    public enum Kind {
        /** No answer in time, or the name did not resolve: the server may come back. */
        UNREACHABLE,
        /** The server answered, but the session did not open in time: a slow path, where a longer wait may do. */
        SLOW,
        /** The server's certificate did not match the pinned hash (or is not valid now). */
        UNTRUSTED_CERTIFICATE,
        /** The server answered but refused the session or does not speak WebTransport. */
        REFUSED,
        /** Anything else: a bad URL, a local socket failure, a protocol error. */
        OTHER
    }

    private final Kind kind;

    public WebTransportException(String message) {
        this(Kind.OTHER, message, null);
    }

    public WebTransportException(String message, Throwable cause) {
        this(Kind.OTHER, message, cause);
    }

    public WebTransportException(Kind kind, String message, Throwable cause) {
        super(message, cause);
        this.kind = kind;
    }

    public Kind kind() {
        return kind;
    }
}

package dev.riscvrelay.relay.transport.webtransport;

/** A WebTransport session could not be opened or ended abnormally; the message is one line for a person. */
public final class WebTransportException extends Exception {

    public WebTransportException(String message) {
        super(message);
    }

    public WebTransportException(String message, Throwable cause) {
        super(message, cause);
    }
}

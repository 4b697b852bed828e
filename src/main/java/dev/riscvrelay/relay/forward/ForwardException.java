package dev.riscvrelay.relay.forward;

import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;

/** A forward could not be opened; the message is one line for the operator. */
public final class ForwardException extends Exception {

    public ForwardException(String message) {
        super(message);
    }

    /** Waits for {@code bound} (not on the loop) and returns its channel, or says in one line why it failed. */
    static Channel bind(ForwardSpec spec, ChannelFuture bound) throws ForwardException {
        bound.awaitUninterruptibly();
        if (!bound.isSuccess()) {
            Throwable cause = bound.cause();
            String reason = cause.getMessage() == null ? cause.getClass().getSimpleName() : cause.getMessage();
            throw new ForwardException("cannot open forward " + spec + ": " + spec.protocol().label() + " "
                    + spec.bind().getHostAddress() + ":" + spec.port() + ": " + reason);
        }
        return bound.channel();
    }
}

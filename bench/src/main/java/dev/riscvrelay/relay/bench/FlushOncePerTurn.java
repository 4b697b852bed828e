package dev.riscvrelay.relay.bench;

import io.netty.channel.Channel;

/**
 * Flushes a channel once per event-loop turn however many writes the turn made, as the relay's ports do: a burst
 * of frames leaves in one batch of syscalls (sendmmsg, and GSO for the frames {@link GsoBatch} gathered). Used on
 * the channel's own loop only.
 */
final class FlushOncePerTurn {

    private final Channel channel;
    private final Runnable flush;
    private boolean scheduled;

    FlushOncePerTurn(Channel channel) {
        this(channel, () -> { });
    }

    /** {@code beforeFlush} writes out what the turn gathered (its open GSO batches) just before the flush. */
    FlushOncePerTurn(Channel channel, Runnable beforeFlush) {
        this.channel = channel;
        this.flush = () -> {
            scheduled = false;
            beforeFlush.run();
            channel.flush();
        };
    }

    /** Asks for a flush after the rest of this loop turn, unless one is asked for already. */
    void request() {
        if (!scheduled) {
            scheduled = true;
            channel.eventLoop().execute(flush);
        }
    }
}

package dev.riscvrelay.relay.transport.websocket;

import dev.riscvrelay.relay.metrics.Counter;
import dev.riscvrelay.relay.metrics.Counters;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.FullHttpRequest;
import java.time.Duration;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * Closes a web connection whose first request is not complete (head and body) within a deadline: a slowloris
 * client, trickling its request a byte at a time, holds a connection for that long and no longer. Sits after the
 * aggregator; leaves the pipeline at the first complete request (the page, an upgrade or a preview).
 */
final class FirstRequestDeadline extends ChannelInboundHandlerAdapter {

    static final Duration DEFAULT = Duration.ofSeconds(10);

    private final Duration deadline;
    private final Counters counters;
    private ScheduledFuture<?> timer;

    FirstRequestDeadline(Duration deadline, Counters counters) {
        this.deadline = deadline;
        this.counters = counters;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        timer = ctx.executor().schedule(() -> {
            counters.increment(Counter.WEB_FIRST_REQUEST_TIMEOUTS);
            ctx.close();
        }, deadline.toNanos(), TimeUnit.NANOSECONDS);
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof FullHttpRequest) {
            ctx.pipeline().remove(this);
        }
        ctx.fireChannelRead(msg);
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        timer.cancel(false);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        timer.cancel(false);
        ctx.fireChannelInactive();
    }
}

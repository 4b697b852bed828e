package dev.riscvrelay.relay.transport.websocket;

import dev.riscvrelay.relay.metrics.Counter;
import dev.riscvrelay.relay.metrics.Counters;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.IoEventLoop;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.util.ReferenceCountUtil;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import java.util.function.Predicate;

/**
 * Moves a web connection from the web loop to the loop of a LAN at its first request that needs one (a WebSocket
 * upgrade, to join a LAN or to speak WISP, or a web preview), the loop that owns the network the request names: TLS
 * handshakes, HTTP parsing and the page's files stay off the loops that switch frames, and what joins a LAN then
 * runs on the LAN's own loop, with no hand-off per frame.
 *
 * <p>The channel leaves the web loop's epoll and registers with the LAN's loop; the request, and
 * anything the decoders had already taken from the same read, continue down the pipeline there, in order. The
 * connection stays on that loop for the rest of its life.
 */
final class LanLoopHandOver extends ChannelInboundHandlerAdapter {

    private final Function<FullHttpRequest, IoEventLoop> lanLoopFor;
    private final Predicate<FullHttpRequest> needsLan;
    private final Counters counters;
    /** Messages that arrived since the move began, to be passed on once on the LAN loop; null when not moving. */
    private List<Object> held;

    /** @param lanLoopFor the loop of the LAN a request names */
    LanLoopHandOver(Function<FullHttpRequest, IoEventLoop> lanLoopFor, Predicate<FullHttpRequest> needsLan,
            Counters counters) {
        this.lanLoopFor = lanLoopFor;
        this.needsLan = needsLan;
        this.counters = counters;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (held != null) {
            held.add(msg);
        } else if (msg instanceof FullHttpRequest request && needsLan.test(request)) {
            held = new ArrayList<>(2);
            held.add(msg);
            move(ctx, lanLoopFor.apply(request));
        } else {
            ctx.fireChannelRead(msg);
        }
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        if (held == null) {
            ctx.fireChannelReadComplete();
        }
    }

    private void move(ChannelHandlerContext ctx, IoEventLoop lanLoop) {
        Channel channel = ctx.channel();
        // Deregistering completes after the current read returns: the decoders finish what they hold first, and
        // this handler holds whatever else they pass on.
        channel.deregister().addListener(left -> {
            if (!left.isSuccess()) {
                fail(channel);
                return;
            }
            lanLoop.register(channel).addListener(joined -> {
                if (!joined.isSuccess()) {
                    fail(channel);
                    return;
                }
                // On the LAN loop now: the pipeline goes on from here, without this handler. This runs before the
                // registration starts reading again, so a handler that turns reading off (a preview waiting for its
                // VM) does so in time.
                counters.increment(Counter.WEB_MOVED_TO_LAN_LOOP);
                List<Object> messages = held;
                held = null;
                ctx.pipeline().remove(this);
                for (Object message : messages) {
                    ctx.fireChannelRead(message);
                }
                ctx.fireChannelReadComplete();
            });
        });
    }

    /** The connection could not move (a loop shutting down): it ends, and what it held is freed. */
    private void fail(Channel channel) {
        List<Object> messages = held;
        held = null;
        if (messages != null) {
            messages.forEach(ReferenceCountUtil::release);
        }
        channel.close();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        if (held != null) {
            held.forEach(ReferenceCountUtil::release);
            held = null;
        }
        ctx.fireChannelInactive();
    }
}

package dev.riscvrelay.relay.forward;

import dev.riscvrelay.relay.access.AccessTokens;
import dev.riscvrelay.relay.metrics.Counters;
import io.netty.channel.ChannelHandler;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;

/**
 * Web previews: {@code /net/NAME/vm/VMADDR:PORT/...} on the relay's web listeners reaches a VM's web server, behind
 * the network's token, so a page (or a teacher) opens a VM's web app in a tab. Each preview request becomes one
 * connection to the VM through the network's TCP NAT ({@link PreviewRequest}); at most {@link #MAX_ACTIVE} at once,
 * each closed after {@link #IDLE_TIMEOUT} without traffic. Hands one handler per web connection; previews run on the
 * loops of their networks, so the count of active ones is atomic.
 */
public final class WebPreviews implements Supplier<ChannelHandler> {

    public static final int MAX_ACTIVE = 256;
    public static final Duration IDLE_TIMEOUT = Duration.ofMinutes(5);

    final AccessTokens tokens;
    final ForwardTarget.Lookup networks;
    final Counters counters;
    /** Previews open now, over every network's loop. */
    final AtomicInteger active = new AtomicInteger();

    public WebPreviews(AccessTokens tokens, ForwardTarget.Lookup networks, Counters counters) {
        this.tokens = tokens;
        this.networks = networks;
        this.counters = counters;
    }

    /** Whether {@code uri} asks for a preview (the request may still be refused: token, address, busy). */
    public static boolean isPreview(String uri) {
        return PreviewRequest.isPreviewPath(new io.netty.handler.codec.http.QueryStringDecoder(uri).rawPath());
    }

    /** The handler for one web connection, placed after the HTTP codec and aggregator. */
    @Override
    public ChannelHandler get() {
        return new PreviewRequest(this);
    }
}

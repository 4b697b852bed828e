package dev.riscvrelay.relay.transport.webtransport;

import dev.riscvrelay.relay.metrics.Counter;
import dev.riscvrelay.relay.metrics.Counters;
import dev.riscvrelay.relay.switching.FrameQueue;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.IoEventLoop;
import io.netty.channel.IoEventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.handler.codec.http3.DefaultHttp3DataFrame;
import io.netty.handler.codec.http3.DefaultHttp3HeadersFrame;
import io.netty.handler.codec.http3.Http3;
import io.netty.handler.codec.http3.Http3ClientConnectionHandler;
import io.netty.handler.codec.http3.Http3DataFrame;
import io.netty.handler.codec.http3.Http3HeadersFrame;
import io.netty.handler.codec.http3.Http3RequestStreamInboundHandler;
import io.netty.handler.codec.http3.Http3SettingsFrame;
import io.netty.handler.codec.quic.QuicChannel;
import io.netty.handler.codec.quic.QuicConnectionCloseEvent;
import io.netty.handler.codec.quic.QuicDatagramExtensionEvent;
import io.netty.handler.codec.quic.QuicStreamChannel;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.BufferUnderflowException;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * A WebTransport client on the same Netty QUIC/HTTP/3 stack as the server, speaking like Chromium: it waits for
 * the server's SETTINGS, sends the extended CONNECT, and then exchanges HTTP/3 datagrams, each one Ethernet frame.
 *
 * <p>Everything runs on one event loop ({@link #eventLoop()}); {@link #sendDatagram} may be called from any thread
 * but is cheapest on that loop, where frames written during one loop turn leave in one flush. Received frames go
 * to a {@link FrameHandler} on the loop.
 */
public final class WebTransportClient implements AutoCloseable {

    private static final Logger LOG = Logger.getLogger(WebTransportClient.class.getName());

    /** Receives each frame (the datagram payload) on the event loop and takes over its one reference. */
    @FunctionalInterface
    public interface FrameHandler {
        void onFrame(ByteBuf frame);

        /**
         * Once per loop turn that delivered frames, after all of them, on the loop: a handler that batches its output
         * sends it now.
         */
        default void onBurstEnd() {
        }
    }

    /** How a session ended: who closed it, with which WebTransport error code and reason. */
    public record CloseInfo(boolean byPeer, long errorCode, String reason) {
    }

    /** How long close() lets the capsule and FIN leave before the connection closes anyway. */
    private static final long CLOSE_GRACE_MILLIS = 200;

    /** How long opening waits for path MTU discovery: a probe per round trip, a few tries per size. */
    private static final long PATH_MTU_SETTLE_NANOS = TimeUnit.SECONDS.toNanos(2);
    /** Once the path is validated, a look a second: a black hole shows within about a second of traffic. */
    private static final long SETTLED_POLL_MILLIS = 1_000;
    /** Frames waiting for the pacer or quiche's backlog at most; more are dropped and counted ({@code queue_full}). */
    static final int PACED_FRAMES = 1024;

    private final URI uri;
    private final WebTransportClientConfig config;
    private final FrameHandler frames;
    private final Counters counters = new Counters();
    private final IoEventLoopGroup ownedGroup;
    private final IoEventLoop loop;
    private final CompletableFuture<WebTransportClient> opened = new CompletableFuture<>();
    private final CompletableFuture<CloseInfo> closed = new CompletableFuture<>();
    private final AtomicInteger pendingHandoffs = new AtomicInteger();
    private final Runnable flushTask = this::flushDatagrams;
    /** Set while the end of a read burst waits for the end of the loop turn (see {@link DatagramHandler}). */
    private boolean burstEndScheduled;
    private final Runnable burstEndTask = this::endBurst;
    /** Datagrams written since the last flush (see {@link WebTransportClientConfig#flushEveryDatagrams()}). */
    private int writtenSinceFlush;
    private final QuicDialer dialer;

    private QuicChannel quic;
    private QuicStreamChannel connectStream;
    private int maxDatagramLength = -1;
    private volatile int maxDatagramPayload;
    /** The largest UDP payload this client sends: its route's link MTU less the headers, at most the configured. */
    /** The MTU of the route to the relay as the kernel knows it (Ethernet's 1500 where it cannot be read). */
    private PathMtuWatch pathMtu;
    private long quarterStreamId = -1;
    private int prefixLength;
    /** Set when the server granted link recovery at the CONNECT; null otherwise. On the loop. */
    private LinkRecovery recovery;
    /** Whether the server agreed to parity datagrams with link recovery, both ways. */
    private volatile boolean linkParity;
    private final java.util.function.Consumer<ByteBuf> writeRecoveryDatagram = datagram -> {
        writeDatagram(datagram);
        scheduleControlFlush();
    };
    /** Spreads datagrams over the round trip; the frames it holds back wait in {@link #paced}. On the loop. */
    private final DatagramPacer pacer = new DatagramPacer();
    /**
     * Keeps quiche's datagram queue short of full (where Netty would drop the rest of a flush unseen): the frames
     * beyond it wait in {@link #paced}, whose drops are counted. Set with the connection; on the loop.
     */
    private DatagramBacklog backlog;
    private final FrameQueue paced = new FrameQueue(PACED_FRAMES, counters);
    private final Runnable controlFlushTask = this::flushControl;
    private boolean flushScheduled;
    private boolean controlFlushScheduled;
    private boolean sessionOpen;
    private ScheduledFuture<?> keepAlive;
    private ScheduledFuture<?> connectTimer;

    private WebTransportClient(URI uri, WebTransportClientConfig config, FrameHandler frames, IoEventLoop loop) {
        this.uri = uri;
        this.config = config;
        this.frames = frames;
        if (loop == null) {
            this.ownedGroup = new MultiThreadIoEventLoopGroup(1,
                    Epoll.isAvailable() ? EpollIoHandler.newFactory() : NioIoHandler.newFactory());
            this.loop = ownedGroup.next();
        } else {
            this.ownedGroup = null;
            this.loop = loop;
        }
        this.dialer = new QuicDialer(hostWithoutBrackets(), port(), authority(), config, this.loop, counters);
    }

    /**
     * Opens a session to {@code https://host:port/path} on an event loop of its own. The future fails with a
     * {@link WebTransportException} saying why: unreachable relay, wrong certificate hash, refused CONNECT.
     */
    public static CompletableFuture<WebTransportClient> connect(URI uri, WebTransportClientConfig config,
            FrameHandler frames) {
        return connect(uri, config, frames, null);
    }

    /** As {@link #connect(URI, WebTransportClientConfig, FrameHandler)} on a shared loop (not owned). */
    public static CompletableFuture<WebTransportClient> connect(URI uri, WebTransportClientConfig config,
            FrameHandler frames, IoEventLoop loop) {
        if (!"https".equalsIgnoreCase(uri.getScheme()) || uri.getHost() == null) {
            return CompletableFuture.failedFuture(
                    new WebTransportException("a WebTransport URL looks like https://host:port/path: " + uri));
        }
        WebTransportClient client = new WebTransportClient(uri, config, frames, loop);
        client.loop.execute(client::start);
        return client.opened;
    }

    private int port() {
        return uri.getPort() == -1 ? 443 : uri.getPort();
    }

    /** The URL's host as a name or address literal: {@link URI#getHost()} keeps an IPv6 literal's brackets. */
    private String hostWithoutBrackets() {
        String host = uri.getHost();
        return host.startsWith("[") && host.endsWith("]") ? host.substring(1, host.length() - 1) : host;
    }

    private String authority() {
        String host = uri.getHost();
        return (host.contains(":") && !host.startsWith("[") ? "[" + host + "]" : host) + ":" + port();
    }

    private String path() {
        String path = uri.getRawPath() == null || uri.getRawPath().isEmpty() ? "/" : uri.getRawPath();
        return uri.getRawQuery() == null ? path : path + "?" + uri.getRawQuery();
    }

    private void start() {
        connectTimer = loop.schedule(this::connectTimedOut, config.connectTimeout().toMillis(),
                TimeUnit.MILLISECONDS);
        InetSocketAddress remote;
        try {
            remote = new InetSocketAddress(hostWithoutBrackets(), port());
        } catch (RuntimeException e) {
            fail(new WebTransportException("cannot start the WebTransport client: " + e.getMessage(), e));
            return;
        }
        if (remote.isUnresolved()) {
            fail(new WebTransportException(WebTransportException.Kind.UNREACHABLE, "cannot resolve " + uri.getHost(),
                    null));
            return;
        }
        dialer.dial(remote, ch -> {
            ch.pipeline().addLast(new Http3ClientConnectionHandler(new SettingsHandler(), null, null,
                    WebTransportSettings.clientSettings(), true, (id, value) -> true));
            ch.pipeline().addLast(new DatagramHandler());
        }).addListener(q -> {
            if (q.isSuccess()) {
                quic = (QuicChannel) q.getNow();
                backlog = DatagramBacklog.of(quic, config.datagramQueueLength());
                quic.closeFuture().addListener(c -> onConnectionClosed());
            } else {
                fail(q.cause() instanceof WebTransportException why ? why
                        : new WebTransportException("cannot start the WebTransport client: " + q.cause(), q.cause()));
            }
        });
    }

    /** No session in time: nothing came back (unreachable), or the server answered but the path is slow. */
    private void connectTimedOut() {
        long millis = config.connectTimeout().toMillis();
        fail(dialer.heardFromPeer()
                ? new WebTransportException(WebTransportException.Kind.SLOW, uri + " answered, but no WebTransport "
                        + "session opened within " + millis + " ms (a long or congested path?)", null)
                : new WebTransportException(WebTransportException.Kind.UNREACHABLE, "no WebTransport session with "
                        + uri + " within " + millis + " ms (is the relay running and reachable?)", null));
    }

    /** Sees the server's SETTINGS on its control stream, then sends the extended CONNECT (RFC 9220 §3). */
    private final class SettingsHandler extends ChannelInboundHandlerAdapter {
        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            try {
                if (msg instanceof Http3SettingsFrame settings) {
                    serverSettings = settings.settings();
                    if (!WebTransportSettings.serverSupportsWebTransport(settings)) {
                        fail(new WebTransportException(WebTransportException.Kind.REFUSED, authority()
                                + " speaks HTTP/3 but its SETTINGS do not enable WebTransport (ENABLE_WEBTRANSPORT"
                                + " and H3_DATAGRAM): " + settings, null));
                        return;
                    }
                    sendConnect();
                }
            } finally {
                ReferenceCountUtil.release(msg);
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            LOG.log(Level.FINE, "control stream of " + authority() + ": " + cause, cause);
        }
    }

    private void sendConnect() {
        if (opened.isDone() || quic == null) {
            if (quic == null) {
                // SETTINGS can arrive in the handshake's last flight, before connect() completed.
                loop.execute(this::sendConnect);
            }
            return;
        }
        Http3.newRequestStream(quic, new ConnectStreamClientHandler()).addListener(f -> {
            if (!f.isSuccess()) {
                fail(new WebTransportException("cannot open the CONNECT stream: " + f.cause(), f.cause()));
                return;
            }
            connectStream = (QuicStreamChannel) f.getNow();
            Http3HeadersFrame request = new DefaultHttp3HeadersFrame();
            request.headers().method("CONNECT").protocol(ConnectStreamHandler.WEBTRANSPORT).scheme("https")
                    .authority(authority()).path(path());
            request.headers().add("sec-webtransport-http3-draft02", "1");
            request.headers().add("origin", config.origin());
            if (config.linkRecovery()) {
                request.headers().add(LinkRecovery.HEADER, LinkRecovery.VERSION);
                request.headers().add(LinkRecovery.PARITY_HEADER_NAME, LinkRecovery.PARITY_VERSION);
            }
            connectStream.writeAndFlush(request);
        });
    }

    /** The CONNECT stream: the response, then the server's capsules. */
    private final class ConnectStreamClientHandler extends Http3RequestStreamInboundHandler
            implements CapsuleDecoder.Listener {

        private final CapsuleDecoder capsules = new CapsuleDecoder(this);
        private boolean responded;

        @Override
        protected void channelRead(ChannelHandlerContext ctx, Http3HeadersFrame frame) {
            if (responded) {
                return;
            }
            responded = true;
            CharSequence status = frame.headers().status();
            if (status == null || !"200".contentEquals(status)) {
                fail(new WebTransportException(WebTransportException.Kind.REFUSED,
                        authority() + " refused the WebTransport session: HTTP " + status, null));
                return;
            }
            if (maxDatagramLength <= HttpDatagram.HEADROOM) {
                fail(new WebTransportException(authority() + " accepted the session but offers no QUIC datagrams"));
                return;
            }
            quarterStreamId = HttpDatagram.quarterStreamIdOf(connectStream.streamId());
            prefixLength = QuicVarint.encodedLength(quarterStreamId);
            CharSequence granted = frame.headers().get(LinkRecovery.HEADER);
            if (config.linkRecovery() && granted != null && LinkRecovery.VERSION.contentEquals(granted)) {
                CharSequence parity = frame.headers().get(LinkRecovery.PARITY_HEADER_NAME);
                linkParity = parity != null && LinkRecovery.PARITY_VERSION.contentEquals(parity);
                recovery = new LinkRecovery(dialer.udpPayload(), quarterStreamId, prefixLength, quic.alloc(),
                        counters, System::nanoTime, writeRecoveryDatagram, WebTransportClient.this::deliver,
                        (task, delayNanos) -> loop.schedule(task, delayNanos, TimeUnit.NANOSECONDS), linkParity);
            }
            int overhead = prefixLength + (recovery == null ? 0 : LinkRecovery.DATA_HEADER);
            pathMtu = new PathMtuWatch(quic, dialer.udpPayload(), SETTLED_POLL_MILLIS,
                    length -> maxDatagramPayload = length - overhead, WebTransportClient.this::pathBlackHole);
            maxDatagramPayload = pathMtu.maxDatagramLength() - overhead;
            sessionOpen = true;
            connectTimer.cancel(false); // the session is open; the wait for the path below has its own bound
            long interval = config.keepAliveInterval().toNanos();
            if (interval > 0) {
                keepAlive = loop.scheduleAtFixedRate(WebTransportClient.this::sendKeepAlive, interval, interval,
                        TimeUnit.NANOSECONDS);
            }
            pathMtu.start();
            awaitPathMtu(System.nanoTime() + PATH_MTU_SETTLE_NANOS);
        }

        @Override
        protected void channelRead(ChannelHandlerContext ctx, Http3DataFrame frame) {
            try {
                if (sessionOpen && capsules.decode(frame.content()) != CapsuleDecoder.Reject.NONE) {
                    counters.increment(Counter.DROP_BAD_CAPSULE);
                    end(new CloseInfo(true, 0, "malformed capsule from the server"));
                }
            } finally {
                frame.release();
            }
        }

        @Override
        public void onCloseSession(long errorCode, String reason) {
            end(new CloseInfo(true, errorCode, reason));
        }

        @Override
        public void onDrainSession() {
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            if (!opened.isDone()) {
                fail(new WebTransportException(authority() + " closed the CONNECT stream without a response"));
            } else {
                end(new CloseInfo(true, 0, "the CONNECT stream closed"));
            }
            ctx.fireChannelInactive();
        }

        @Override
        protected void handleQuicException(ChannelHandlerContext ctx, io.netty.handler.codec.quic.QuicException e) {
            // RESET_STREAM or STOP_SENDING on the CONNECT stream: the session is gone (WebTransport over HTTP/3 §5).
            end(new CloseInfo(true, 0, "the CONNECT stream was reset: " + e.getMessage()));
        }

        @Override
        protected void channelInputClosed(ChannelHandlerContext ctx) {
            if (!opened.isDone()) {
                fail(new WebTransportException(authority() + " closed the CONNECT stream without a response"));
            } else {
                end(new CloseInfo(true, 0, "the server finished the CONNECT stream"));
            }
        }
    }

    /**
     * Completes {@link #opened} once path MTU discovery validated the largest size this side probes for, or at
     * {@code deadline} with what it validated by then: a caller that sizes its link from {@link #maxDatagramPayload()}
     * (relay connect's TAP MTU) then gets the size the path carries, not QUIC's 1200-byte floor.
     */
    private void awaitPathMtu(long deadline) {
        if (opened.isDone()) {
            return;
        }
        if (pathMtu.settled() || System.nanoTime() >= deadline || !sessionOpen) {
            opened.complete(WebTransportClient.this);
            return;
        }
        loop.schedule(() -> awaitPathMtu(deadline), 10, TimeUnit.MILLISECONDS);
    }

    /** The path lost most packets of the size it had validated: end the session so a new one rediscovers it. */
    private void pathBlackHole(String seen) {
        counters.increment(Counter.PATH_BLACK_HOLES);
        close(0, "path MTU black hole: " + seen);
    }

    /** QUIC datagrams of the connection: the session's frames. */
    private final class DatagramHandler extends ChannelInboundHandlerAdapter {
        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
            if (evt instanceof QuicDatagramExtensionEvent datagrams) {
                maxDatagramLength = datagrams.maxLength();
            } else if (evt instanceof QuicConnectionCloseEvent close) {
                peerCloseReason = " (" + (close.isApplicationClose() ? "application" : "transport") + " error 0x"
                        + Integer.toHexString(close.error())
                        + (close.reason() == null || close.reason().length == 0 ? ""
                                : ": " + new String(close.reason(), StandardCharsets.UTF_8)) + ")";
            }
            ctx.fireUserEventTriggered(evt);
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (!(msg instanceof ByteBuf datagram)) {
                // A new QuicStreamChannel: the pipeline tail registers it with the event loop.
                ctx.fireChannelRead(msg);
                return;
            }
            long id = HttpDatagram.quarterStreamId(datagram);
            if (id == HttpDatagram.BAD_PREFIX) {
                datagram.release();
                counters.increment(Counter.DROP_BAD_DATAGRAM);
                return;
            }
            if (!sessionOpen || id != quarterStreamId) {
                datagram.release();
                counters.increment(Counter.DROP_UNKNOWN_SESSION);
                return;
            }
            datagram.skipBytes(prefixLength);
            if (recovery != null) {
                recovery.receive(datagram); // frames come to deliver() in order
            } else {
                deliver(datagram);
            }
        }

        /**
         * Netty ends a QUIC channel's read every 16 datagrams (its messages per read), and once more after the first
         * datagram of a UDP read; a relay's GSO burst of 40 would be four bursts to the handler. The burst ends at
         * the end of the loop turn instead, after every datagram the turn read.
         */
        @Override
        public void channelReadComplete(ChannelHandlerContext ctx) {
            if (!burstEndScheduled) {
                burstEndScheduled = true;
                loop.execute(burstEndTask);
            }
            ctx.fireChannelReadComplete();
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            if (cause instanceof BufferUnderflowException) {
                counters.increment(Counter.DROP_DATAGRAM_SEND_FAILED);
            } else {
                LOG.log(Level.FINE, "QUIC connection to " + authority() + ": " + cause, cause);
            }
        }
    }

    /**
     * Sends one frame as one datagram and takes over its reference. Returns false (frame released, drop counted)
     * when it is larger than {@link #maxDatagramPayload()}, the session is closed, or too many frames from other
     * threads wait for the loop. Like UDP, a true result does not promise delivery.
     */
    public boolean sendDatagram(ByteBuf frame) {
        if (frame.readableBytes() > maxDatagramPayload) {
            frame.release();
            counters.increment(Counter.DROP_TOO_LARGE);
            return false;
        }
        if (!loop.inEventLoop()) {
            if (pendingHandoffs.incrementAndGet() > config.maxPendingHandoffs()) {
                pendingHandoffs.decrementAndGet();
                frame.release();
                counters.increment(Counter.DROP_QUEUE_FULL);
                return false;
            }
            try {
                loop.execute(() -> {
                    pendingHandoffs.decrementAndGet();
                    sendDatagram(frame);
                });
            } catch (RejectedExecutionException closed) {
                // The client was closed and its loop has stopped: nothing will send, or release, this frame.
                pendingHandoffs.decrementAndGet();
                frame.release();
                counters.increment(Counter.DROP_PORT_CLOSED);
                return false;
            }
            return true;
        }
        if (!sessionOpen) {
            frame.release();
            counters.increment(Counter.DROP_PORT_CLOSED);
            return false;
        }
        long now = System.nanoTime();
        pacer.refresh(quic, now);
        if (paced.size() > 0 || !pacer.maySend(now) || !backlog.hasRoom()) {
            boolean queued = paced.offer(frame); // a full queue drops and counts
            scheduleFlush(backlog.flushDelayNanos(pacer.delayNanos()));
            return queued;
        }
        pacer.sent(frame.readableBytes());
        boolean written = write(frame);
        scheduleFlush();
        return written;
    }

    /** Writes one frame to the connection as a datagram (flushed at the end of the loop turn, or now if due). */
    private boolean write(ByteBuf frame) {
        ByteBuf datagram;
        if (recovery != null) {
            datagram = recovery.data(frame, pacer.longPath());
            pacer.sent(recovery.takeParityBytes());
            if (datagram == null) {
                return false;
            }
        } else if (HttpDatagram.hasHeadroom(frame, prefixLength)) {
            datagram = HttpDatagram.prefixInPlace(frame, quarterStreamId, prefixLength);
        } else {
            counters.increment(Counter.DATAGRAMS_COPIED);
            datagram = HttpDatagram.copyWithPrefix(frame, quarterStreamId, prefixLength, quic.alloc());
        }
        writeDatagram(datagram);
        if (++writtenSinceFlush == config.flushEveryDatagrams()
                // Now, not at the end of the turn: the ring must not wrap over slices still waiting for a flush.
                || recovery != null && recovery.flushDue()) {
            flushNow();
        }
        return true;
    }

    /** Every datagram goes to quiche through here, so that {@link #backlog} knows what quiche holds. */
    private void writeDatagram(ByteBuf datagram) {
        backlog.written(datagram.readableBytes());
        quic.write(datagram, quic.voidPromise());
    }

    private void flushNow() {
        writtenSinceFlush = 0;
        quic.flush();
        if (recovery != null) {
            recovery.flushed();
        }
    }

    private void scheduleFlush() {
        if (!flushScheduled) {
            flushScheduled = true;
            loop.execute(flushTask);
        }
    }

    /** A flush after {@code delayNanos} (0: after this loop turn); frames queued meanwhile wait for it. */
    private void scheduleFlush(long delayNanos) {
        if (delayNanos == 0) {
            scheduleFlush();
        } else if (!flushScheduled) {
            flushScheduled = true;
            loop.schedule(flushTask, delayNanos, TimeUnit.NANOSECONDS);
        }
    }

    /** NACKs and resends leave after this loop turn, whatever the pacer holds back. */
    private void scheduleControlFlush() {
        if (!controlFlushScheduled) {
            controlFlushScheduled = true;
            loop.execute(controlFlushTask);
        }
    }

    private void flushControl() {
        controlFlushScheduled = false;
        if (quic != null) {
            flushNow();
        }
    }

    private void endBurst() {
        burstEndScheduled = false;
        try {
            frames.onBurstEnd();
        } catch (RuntimeException e) {
            LOG.log(Level.WARNING, "frame handler failed", e);
        }
    }

    private void deliver(ByteBuf frame) {
        try {
            frames.onFrame(frame);
        } catch (RuntimeException e) {
            LOG.log(Level.WARNING, "frame handler failed", e);
        }
    }

    /**
     * Whether the session has carried enough traffic (two seconds of it) for its round trip to say what the path is;
     * before, it may still carry the handshake of cold processes. On the client's event loop.
     */
    public boolean pathSettled() {
        return pacer.settled();
    }

    /**
     * Whether the path to the server has shown itself a long one once {@link #pathSettled()} (its shortest smoothed
     * RTT while datagrams flowed is 10 ms or more), where this client paces its datagrams over the round trip.
     * On the client's event loop.
     */
    public boolean longPath() {
        return pacer.longPath();
    }

    /** The shortest smoothed RTT seen while datagrams flowed, in ms; 0 before any. On the client's event loop. */
    public double minRttMillis() {
        long nanos = pacer.minRttNanos();
        return nanos == Long.MAX_VALUE ? 0 : nanos / 1e6;
    }

    /** Whether the server granted link recovery for this session. */
    public boolean linkRecovery() {
        return recovery != null;
    }

    /** Whether the server agreed to link recovery's parity datagrams (sent on long lossy paths), both ways. */
    public boolean linkParity() {
        return linkParity;
    }

    /** Link recovery's measured repair time (asking for a lost frame until it arrives) in ms; 0 without it. */
    public double linkRepairMillis() {
        LinkRecovery current = recovery;
        return current == null ? 0 : current.repairNanos() / 1e6;
    }

    /** Resets both directions of the CONNECT stream (H3_REQUEST_CANCELLED), as a crashing peer's stack would. */
    void resetConnectStream() {
        loop.execute(() -> connectStream.shutdown(0x10c));
    }

    /** The QUIC connection, for tests that read its statistics. */
    QuicChannel quicChannel() {
        return quic;
    }

    /** Sends {@code datagram} as it is, without a prefix: lets tests feed the server malformed datagrams. */
    void sendRawDatagram(ByteBuf datagram) {
        loop.execute(() -> quic.writeAndFlush(datagram, quic.voidPromise()));
    }

    private void flushDatagrams() {
        flushScheduled = false;
        if (quic == null) {
            return;
        }
        if (sessionOpen) {
            long now = System.nanoTime();
            pacer.refresh(quic, now);
            backlog.flushStarts();
            ByteBuf frame;
            while (pacer.maySend(now) && backlog.hasRoom() && (frame = paced.poll()) != null) {
                pacer.sent(frame.readableBytes());
                write(frame);
            }
        } else {
            paced.clear();
        }
        flushNow();
        if (paced.size() > 0) {
            scheduleFlush(backlog.flushDelayNanos(pacer.delayNanos())); // the pacer, or quiche's backlog, holds them
        }
    }

    private void sendKeepAlive() {
        if (sessionOpen && connectStream.isActive()) {
            ByteBuf capsule = connectStream.alloc().buffer(4);
            Capsules.writeGrease(capsule);
            connectStream.writeAndFlush(new DefaultHttp3DataFrame(capsule), connectStream.voidPromise());
        }
    }

    /**
     * The largest frame {@link #sendDatagram} accepts: what one QUIC packet of the validated path size carries,
     * minus the prefix. It grows when path MTU discovery validates a larger size.
     */
    public int maxDatagramPayload() {
        return maxDatagramPayload;
    }

    /** The largest UDP payload this client sends once validated: its route's MTU less the IP and UDP headers. */
    public int udpPayload() {
        return dialer.udpPayload();
    }

    /** The MTU of the route to the relay, as the kernel reported it when the client started. */
    public int routeMtu() {
        return dialer.routeMtu();
    }

    /** The UDP payload size path MTU discovery has validated so far (1200 until a probe got through). */
    public int validatedUdpPayload() {
        return pathMtu == null ? PathMtu.QUIC_MIN_UDP_PAYLOAD : pathMtu.pathMtu();
    }

    public IoEventLoop eventLoop() {
        return loop;
    }

    /** This client's own counts of drops (too large, bad datagrams, copies). */
    public Counters counters() {
        return counters;
    }

    /** Completes when the session has ended and every resource is released, with who ended it and why. */
    public CompletableFuture<CloseInfo> closed() {
        return closed;
    }

    /** Closes with error code 0 and no reason; see {@link #close(long, String)}. */
    @Override
    public void close() {
        close(0, "");
    }

    /**
     * Sends CLOSE_WEBTRANSPORT_SESSION and FIN (WebTransport over HTTP/3 §5), then closes the QUIC connection.
     * Returns at once; {@link #closed()} completes when everything is released.
     */
    public CompletableFuture<CloseInfo> close(long errorCode, String reason) {
        if (closed.isDone() || loop.isShuttingDown()) {
            // Already ended (the relay closed the session, or an earlier close): nothing left to send.
            return closed;
        }
        try {
            loop.execute(() -> {
                if (sessionOpen && connectStream.isActive()) {
                    ByteBuf capsule = connectStream.alloc().buffer(16 + reason.length() * 3);
                    Capsules.writeClose(capsule, errorCode, reason);
                    // Let the capsule and FIN leave before the connection closes, or the server sees only the close.
                    CloseInfo info = new CloseInfo(false, errorCode, reason);
                    connectStream.writeAndFlush(new DefaultHttp3DataFrame(capsule))
                            .addListener(QuicStreamChannel.SHUTDOWN_OUTPUT)
                            .addListener(f -> end(info));
                    // A write on a stream that was reset never completes: do not let close() hang on it.
                    loop.schedule(() -> end(info), CLOSE_GRACE_MILLIS, TimeUnit.MILLISECONDS);
                } else {
                    end(new CloseInfo(false, errorCode, reason));
                }
            });
        } catch (java.util.concurrent.RejectedExecutionException e) {
            // The loop ended between the check and here: the session is over already.
        }
        return closed;
    }

    private void onConnectionClosed() {
        if (!opened.isDone()) {
            fail(new WebTransportException(WebTransportException.Kind.UNREACHABLE, "the QUIC connection to "
                    + authority() + " closed before the session opened" + peerCloseReason, null));
        } else {
            end(new CloseInfo(true, 0, "the QUIC connection closed" + peerCloseReason));
        }
    }

    private void fail(WebTransportException why) {
        if (opened.completeExceptionally(why)) {
            end(new CloseInfo(false, 0, why.getMessage()));
        }
    }

    /** Ends the session once: stops timers, closes the connection and socket, then completes {@link #closed()}. */
    private void end(CloseInfo info) {
        if (closed.isDone() || endStarted) {
            return;
        }
        endStarted = true;
        sessionOpen = false;
        paced.clear();
        if (recovery != null) {
            recovery.release();
        }
        opened.completeExceptionally(new WebTransportException("closed before the session with " + authority()
                + " opened: " + info.reason()));
        if (keepAlive != null) {
            keepAlive.cancel(false);
        }
        if (pathMtu != null) {
            pathMtu.stop();
        }
        if (connectTimer != null) {
            connectTimer.cancel(false);
        }
        ChannelFuture quicClosed = quic != null ? quic.close() : null;
        Runnable finish = () -> {
            io.netty.util.concurrent.Future<?> udpClosed = dialer.close();
            udpClosed.addListener(u -> {
                if (ownedGroup != null) {
                    ownedGroup.shutdownGracefully(0, 1, TimeUnit.SECONDS)
                            .addListener(t -> closed.complete(info));
                } else {
                    closed.complete(info);
                }
            });
        };
        if (quicClosed != null) {
            quicClosed.addListener(f -> finish.run());
        } else {
            finish.run();
        }
    }

    private boolean endStarted;
    private volatile io.netty.handler.codec.http3.Http3Settings serverSettings;

    /** The SETTINGS the server announced, unknown ids included (null before they arrived). */
    public io.netty.handler.codec.http3.Http3Settings serverSettings() {
        return serverSettings;
    }
    private String peerCloseReason = "";
}

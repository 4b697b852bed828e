package dev.riscvrelay.relay.connect;

import dev.riscvrelay.relay.LoopThreads;
import dev.riscvrelay.relay.metrics.Counter;
import dev.riscvrelay.relay.metrics.Counters;
import dev.riscvrelay.relay.switching.Port;
import dev.riscvrelay.relay.transport.tap.QemuDgramEndpoint;
import dev.riscvrelay.relay.transport.tap.TapDevice;
import dev.riscvrelay.relay.transport.tap.TapException;
import dev.riscvrelay.relay.transport.tap.TapPort;
import dev.riscvrelay.relay.transport.webtransport.HttpDatagram;
import dev.riscvrelay.relay.transport.webtransport.WebTransportClient;
import dev.riscvrelay.relay.transport.webtransport.WebTransportException;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.IoEventLoop;
import io.netty.channel.IoEventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.util.concurrent.ScheduledFuture;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * {@code relay connect}: bridges one local LAN member (a TAP device or a QEMU socket backend) to the relay over a
 * WebTransport session, one Ethernet frame per datagram, and keeps the session up.
 *
 * <p>The first session tells how large a frame one datagram carries; the local member is then opened with the
 * matching MTU (max datagram payload − 14) and stays up across reconnects, so hosts behind it keep their
 * addresses. When the session ends the connector reconnects with exponential backoff and logs one line per state
 * change. Frames larger than a datagram are dropped and counted ({@link Counter#DROP_TAP_TOO_LARGE}), never split.
 *
 * <p>Threading: the WebTransport client, the reconnect state machine and the local member (a TAP read when epoll
 * says it is readable, or a QEMU endpoint) all run on one event loop owned by the connector, so a frame crosses from
 * the TAP to QUIC and back without a thread hand-off. Where epoll is missing a TAP's frames come from a reader
 * thread and reach the loop through {@link WebTransportClient#sendDatagram}, which hands them over without locks.
 * Only {@link #relay} is read across threads (volatile).
 */
public final class Connector implements AutoCloseable {

    /** Where the connector stands; every change is logged once. */
    public enum State { CONNECTING, CONNECTED, WAITING_TO_RECONNECT, CLOSED }

    /** The local member is up: its MTU, and the largest frame the first session carried. */
    public record Ready(String localName, int mtu, int maxDatagramFrame) {
    }

    /** A failure the operator must fix (wrong hash, no TAP permission); the message is one line for a person. */
    public static final class ConnectException extends Exception {
        public ConnectException(String message, Throwable cause) {
            super(message, cause);
        }
    }

    /** The longest a session may take to open once attempts keep hearing a relay that is slow to answer. */
    static final Duration MAX_CONNECT_TIMEOUT = Duration.ofSeconds(30);
    private static final long OVERSIZE_REPORT_INTERVAL_SECONDS = 5;
    private static final int PACKET_TOO_BIG_PER_SECOND = 100;
    /** How often an adaptive TAP queue looks at the session's path. */
    private static final long TAP_QUEUE_CHECK_MILLIS = 1000;

    private final ConnectorConfig config;
    private final Consumer<String> log;
    private final Counters counters = new Counters();
    private final IoEventLoopGroup group;
    private final IoEventLoop loop;
    private final Backoff backoff;
    /** The relays to try, in turn; {@link #current} is the one connected or being tried. */
    private final java.util.List<ConnectorConfig.RelayEndpoint> relays;
    private int current;
    private final CompletableFuture<Ready> ready = new CompletableFuture<>();
    private final CompletableFuture<Void> terminated = new CompletableFuture<>();

    /** The open session, or null while there is none; read by the TAP reader thread. */
    private volatile WebTransportClient relay;

    // Owned by the loop.
    private State state = State.CONNECTING;
    private Port local;
    private TapPort tapPort;
    private int localMaxFrame;
    private long disconnectedSinceNanos;
    /** Attempts in a row that heard the relay but timed out; each doubles the next one's wait. */
    private int slowAttemptsInARow;
    private long oversizeReported;
    // Owned by the thread that reads the local member (the TAP reader, or the loop for QEMU).
    private final PacketTooBig packetTooBig = new PacketTooBig(PooledByteBufAllocator.DEFAULT);
    private long packetTooBigWindowStart;
    private int packetTooBigInWindow;
    private WebTransportClient reportedSession;
    private long sendErrorsReported;
    private long framesDroppedReported;
    private long recoveryReported;
    private ScheduledFuture<?> retry;
    private ScheduledFuture<?> watch;
    /** With an adaptive queue: the TAP, its queue now, and the check that follows the path. */
    private TapDevice tapDevice;
    private int tapQueueFrames;
    private ScheduledFuture<?> tapQueueCheck;

    private Connector(ConnectorConfig config, Consumer<String> log) {
        this.config = config;
        this.log = log;
        this.backoff = new Backoff(config.backoffInitial(), config.backoffCap());
        this.relays = config.relays();
        // Named, so that top -H and profilers show the connector's loop as they show the relay's workers.
        this.group = new MultiThreadIoEventLoopGroup(1, new LoopThreads("relay-connect"),
                Epoll.isAvailable() ? EpollIoHandler.newFactory() : NioIoHandler.newFactory());
        this.loop = (IoEventLoop) group.next();
    }

    /**
     * Starts connecting. {@link #ready()} completes once the first session is open and the local member is up, or
     * fails with a {@link ConnectException} when retrying cannot help (wrong certificate hash, bad URL, no
     * permission for /dev/net/tun). An unreachable relay is retried with backoff, logged through {@code log}.
     */
    public static Connector start(ConnectorConfig config, Consumer<String> log) {
        Connector connector = new Connector(config, log);
        connector.loop.execute(connector::attempt);
        return connector;
    }

    public CompletableFuture<Ready> ready() {
        return ready;
    }

    /** Completes when the connector has stopped: closed, or failed beyond repair (exceptionally). */
    public CompletableFuture<Void> terminated() {
        return terminated;
    }

    public Counters counters() {
        return counters;
    }

    // ---- the reconnect state machine, on the loop ----

    private void attempt() {
        if (state == State.CLOSED) {
            return;
        }
        state = State.CONNECTING;
        ConnectorConfig.RelayEndpoint target = relays.get(current);
        WebTransportClient.connect(target.url(), target.client().withConnectTimeout(connectTimeout(target)),
                        new FromRelay(), loop)
                .whenComplete((client, failure) -> {
                    if (loop.inEventLoop()) {
                        onAttemptDone(client, failure);
                    } else {
                        loop.execute(() -> onAttemptDone(client, failure));
                    }
                });
    }

    private void onAttemptDone(WebTransportClient client, Throwable failure) {
        if (state == State.CLOSED) {
            if (client != null) {
                client.close();
            }
            return;
        }
        if (failure != null) {
            onAttemptFailed(unwrap(failure));
            return;
        }
        if (local == null && !openLocal(client)) {
            return;
        }
        counters.increment(Counter.CONNECT_SESSIONS_OPENED);
        int payload = client.maxDatagramPayload();
        String downtime = disconnectedSinceNanos == 0 ? ""
                : " after " + Backoff.describe(Duration.ofMillis(
                        TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - disconnectedSinceNanos)));
        log.accept((disconnectedSinceNanos == 0 ? "connected to " : "reconnected to ") + relays.get(current).url()
                + downtime
                + "; QUIC packets of " + client.validatedUdpPayload() + " bytes validated on the path (route MTU "
                + client.routeMtu() + ", at most " + client.udpPayload() + "); one datagram carries " + payload
                + "-byte frames");
        if (config.client().linkRecovery() && !client.linkRecovery()) {
            log.accept("the relay does not offer link recovery: frames lost on the path stay lost");
        }
        if (payload < localMaxFrame) {
            log.accept("warning: this session carries at most " + payload + "-byte frames but " + local.name()
                    + " may send " + localMaxFrame + "-byte frames; larger ones are dropped and counted");
        }
        backoff.reset();
        slowAttemptsInARow = 0;
        state = State.CONNECTED;
        relay = client;
        client.closed().whenComplete((info, ignored) -> loop.execute(() -> onSessionEnded(client, info)));
    }

    /**
     * How long this attempt's handshake, SETTINGS and CONNECT may take: the configured time, doubled for each
     * attempt in a row that heard the relay but did not get a session in time (a path with a round trip of a second
     * needs about four of them), at most {@link #MAX_CONNECT_TIMEOUT}. A relay that does not answer at all keeps the
     * short wait, so a restarted one is found again within seconds.
     */
    private Duration connectTimeout(ConnectorConfig.RelayEndpoint target) {
        Duration configured = target.client().connectTimeout();
        if (slowAttemptsInARow == 0 || configured.compareTo(MAX_CONNECT_TIMEOUT) >= 0) {
            return configured;
        }
        Duration longer = configured.multipliedBy(1L << slowAttemptsInARow);
        return longer.compareTo(MAX_CONNECT_TIMEOUT) > 0 ? MAX_CONNECT_TIMEOUT : longer;
    }

    private void onAttemptFailed(Throwable failure) {
        boolean firstAttempt = local == null;
        if (failure instanceof WebTransportException wt && wt.kind() == WebTransportException.Kind.SLOW) {
            Duration waited = connectTimeout(relays.get(current));
            if (waited.compareTo(MAX_CONNECT_TIMEOUT) < 0) {
                slowAttemptsInARow++;
            }
            Duration next = connectTimeout(relays.get(current));
            scheduleRetry(describe(wt) + (next.equals(waited) ? ""
                    : "; the next attempt waits up to " + Backoff.describe(next)));
            return;
        }
        if (failure instanceof WebTransportException wt) {
            boolean hopeless = wt.kind() == WebTransportException.Kind.OTHER
                    || wt.kind() == WebTransportException.Kind.UNTRUSTED_CERTIFICATE;
            if (firstAttempt && hopeless && relays.size() == 1) {
                fatal(new ConnectException(describe(wt), wt));
                return;
            }
            scheduleRetry(describe(wt));
            return;
        }
        if (firstAttempt && relays.size() == 1) {
            fatal(new ConnectException("cannot connect to " + config.relay() + ": " + failure, failure));
        } else {
            scheduleRetry(String.valueOf(failure));
        }
    }

    private static String describe(WebTransportException failure) {
        return switch (failure.kind()) {
            case UNREACHABLE -> "relay unreachable: " + failure.getMessage();
            case SLOW -> "relay slow to answer: " + failure.getMessage();
            case UNTRUSTED_CERTIFICATE -> "wrong certificate hash: " + failure.getMessage()
                    + " (pass the hash the relay prints at start with --cert-hash)";
            case REFUSED -> "relay refused the session: " + failure.getMessage();
            case OTHER -> failure.getMessage();
        };
    }

    private void onSessionEnded(WebTransportClient client, WebTransportClient.CloseInfo info) {
        if (relay != client) {
            return;
        }
        // What the session's last interval saw is said before the session goes: its counts die with it.
        reportSession(client);
        relay = null;
        if (state == State.CLOSED) {
            return;
        }
        disconnectedSinceNanos = System.nanoTime();
        String why = info == null ? "ended" : (info.byPeer() ? "closed by the relay" : "closed")
                + (info.reason() == null || info.reason().isEmpty() ? "" : " (" + info.reason() + ")");
        scheduleRetry("relay session " + why);
    }

    private void scheduleRetry(String why) {
        if (disconnectedSinceNanos == 0 && local != null) {
            disconnectedSinceNanos = System.nanoTime();
        }
        Duration wait = backoff.next();
        state = State.WAITING_TO_RECONNECT;
        String failed = relays.size() == 1 ? "" : " (" + relays.get(current).url() + ")";
        // The next relay of the cluster gets the next attempt: one that is down costs one backoff, not all.
        current = (current + 1) % relays.size();
        log.accept(why + failed + "; retrying in " + Backoff.describe(wait)
                + (relays.size() == 1 ? "" : " with " + relays.get(current).url()));
        retry = loop.schedule(this::attempt, wait.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** Opens the local member sized for {@code client}'s datagrams; false (and fatal) when it cannot. */
    private boolean openLocal(WebTransportClient client) {
        int payload = client.maxDatagramPayload();
        int mtu = config.mtuOverride() != 0 ? config.mtuOverride() : payload - TapDevice.ETHERNET_HEADER;
        if (mtu < 68) {
            client.close();
            fatal(new ConnectException("the relay's datagrams carry only " + payload + "-byte frames: too small for"
                    + " an IPv4 MTU of 68", null));
            return false;
        }
        localMaxFrame = mtu + TapDevice.ETHERNET_HEADER;
        String mtuNote = "MTU " + mtu + " (one datagram carries " + payload + "-byte frames)";
        try {
            switch (config.local()) {
                case ConnectorConfig.Tap tap -> {
                    // Segment offload: TCP segments of one burst from the relay reach the host's stack as one packet.
                    int queue = tap.adaptiveTxQueue() ? TapDevice.TX_QUEUE_FRAMES : tap.txQueueFrames();
                    TapDevice.Config tapConfig = TapDevice.Config.forMtu(tap.name(), mtu).withSegmentOffload()
                            .withTxQueue(queue);
                    TapDevice device = tap.netns() == null ? TapDevice.open(tapConfig, counters)
                            : TapDevice.openInNamespace(tap.netns(), tapConfig, counters);
                    tapPort = new TapPort(device, PooledByteBufAllocator.DEFAULT, HttpDatagram.HEADROOM,
                            this::fromLocal).startOn(loop);
                    local = tapPort;
                    log.accept("TAP " + tap.name() + " up" + (tap.netns() == null ? "" : " in " + tap.netns())
                            + ", " + mtuNote);
                    if (tap.adaptiveTxQueue()) {
                        tapDevice = device;
                        tapQueueFrames = queue;
                        tapQueueCheck = loop.scheduleAtFixedRate(this::adaptTapQueue, TAP_QUEUE_CHECK_MILLIS,
                                TAP_QUEUE_CHECK_MILLIS, TimeUnit.MILLISECONDS);
                    }
                }
                case ConnectorConfig.QemuDgram qemu -> {
                    // On the loop: bind without waiting, and give up if the bind fails.
                    QemuDgramEndpoint endpoint = QemuDgramEndpoint.startBind(
                            new QemuDgramEndpoint.Config(qemu.listen(), qemu.qemu(), localMaxFrame), loop, counters,
                            this::fromLocal);
                    endpoint.bound().addListener(f -> {
                        if (!f.isSuccess()) {
                            fatal(new ConnectException("cannot listen for QEMU on udp " + qemu.listen() + ": "
                                    + f.cause().getMessage(), f.cause()));
                        }
                    });
                    local = endpoint;
                    log.accept("QEMU dgram endpoint on " + qemu.listen() + " for QEMU at " + qemu.qemu()
                            + ", guest " + mtuNote);
                }
            }
        } catch (TapException e) {
            client.close();
            fatal(new ConnectException(e.getMessage(), e));
            return false;
        } catch (RuntimeException e) {
            client.close();
            fatal(new ConnectException("cannot open the local end " + config.local() + ": " + e.getMessage(), e));
            return false;
        }
        ready.complete(new Ready(local.name(), mtu, payload));
        watch = loop.scheduleAtFixedRate(this::watchLocal, OVERSIZE_REPORT_INTERVAL_SECONDS,
                OVERSIZE_REPORT_INTERVAL_SECONDS, TimeUnit.SECONDS);
        return true;
    }

    /**
     * The session's packets the kernel refused, the frames it dropped and its link recovery, when they changed since
     * the last report.
     */
    private void reportSession(WebTransportClient session) {
        if (session != reportedSession) {
            reportedSession = session;
            sendErrorsReported = 0;
            framesDroppedReported = 0;
            recoveryReported = 0;
        }
        Counters quic = session.counters();
        long tooLarge = quic.get(Counter.DROP_UDP_SEND_TOO_LARGE);
        long noBuffer = quic.get(Counter.DROP_UDP_SEND_NO_BUFFER);
        long other = quic.get(Counter.DROP_UDP_SEND_FAILED);
        long errors = tooLarge + noBuffer + other;
        if (errors > sendErrorsReported) {
            log.accept("the kernel refused " + (errors - sendErrorsReported) + " QUIC packets to the relay ("
                    + errors + " in this session: " + tooLarge + " larger than the link, " + noBuffer
                    + " for full buffers, " + other + " other)");
            sendErrorsReported = errors;
        }
        // Frames the local member sent faster than the session could carry them: its TCP sees these as losses.
        long queueFull = quic.get(Counter.DROP_QUEUE_FULL);
        long refused = quic.get(Counter.DROP_DATAGRAM_SEND_FAILED);
        long dropped = queueFull + refused;
        if (dropped > framesDroppedReported) {
            log.accept("dropped " + (dropped - framesDroppedReported) + " frames for the relay (" + dropped
                    + " in this session: " + queueFull + " with the queue to QUIC full, " + refused
                    + " refused by QUIC)");
            framesDroppedReported = dropped;
        }
        reportLinkRecovery(session, quic);
    }

    /**
     * One line when link recovery saw new losses since the last report: what it repaired, what it could not and
     * why, and its repair time.
     */
    private void reportLinkRecovery(WebTransportClient session, Counters quic) {
        long resendRepaired = quic.get(Counter.RECOVERY_REPAIRED);
        long parityRepaired = quic.get(Counter.RECOVERY_PARITY_REPAIRED);
        long repaired = resendRepaired + parityRepaired;
        long givenUp = quic.get(Counter.RECOVERY_UNREPAIRED);
        long heldFull = quic.get(Counter.RECOVERY_UNREPAIRED_HELD_FULL);
        long outage = quic.get(Counter.RECOVERY_UNREPAIRED_OUTAGE);
        long overBudget = quic.get(Counter.RECOVERY_OVER_BUDGET);
        long outages = quic.get(Counter.RECOVERY_OUTAGES);
        long resent = quic.get(Counter.RECOVERY_RESENT);
        long seen = repaired + givenUp + overBudget + resent + outages;
        if (seen > recoveryReported) {
            log.accept("link recovery in this session: " + repaired + " frames from the relay lost on the path and"
                    + " repaired (" + parityRepaired + " rebuilt from parity, " + resendRepaired + " sent again), "
                    + givenUp + " given up (" + (givenUp - heldFull - outage) + " timed out, "
                    + heldFull + " with the most frames waiting behind them, " + outage + " before an outage), "
                    + overBudget + " left lost as congestion (over the budget); " + outages + " outages ("
                    + quic.get(Counter.RECOVERY_OUTAGE_FRAMES) + " frames); repair time "
                    + String.format(Locale.ROOT, "%.1f", session.linkRepairMillis()) + " ms; " + resent
                    + " frames sent again for the relay");
            recoveryReported = seen;
        }
    }

    /**
     * On the loop, every {@link #TAP_QUEUE_CHECK_MILLIS}: the TAP's queue follows the session's path once its traffic
     * has shown it ({@link WebTransportClient#pathSettled()}): {@link TapDevice#LONG_PATH_TX_QUEUE_FRAMES} on a long
     * one, {@link TapDevice#TX_QUEUE_FRAMES} on a short one. Each change is logged. A kernel that refuses the change
     * keeps the queue as it is, and is not asked again.
     */
    private void adaptTapQueue() {
        WebTransportClient session = relay;
        if (session == null || !session.pathSettled()) {
            return;
        }
        boolean longPath = session.longPath();
        int wanted = longPath ? TapDevice.LONG_PATH_TX_QUEUE_FRAMES : TapDevice.TX_QUEUE_FRAMES;
        if (wanted == tapQueueFrames) {
            return;
        }
        String path = String.format(Locale.ROOT, "the path to the relay is %s (shortest round trip %.1f ms)",
                longPath ? "long" : "short", session.minRttMillis());
        if (tapDevice.setTxQueue(wanted)) {
            log.accept(local.name() + " queue now " + wanted + " frames: " + path);
            tapQueueFrames = wanted;
        } else if (!tapDevice.isClosed()) {
            log.accept(local.name() + " queue stays " + tapQueueFrames + " frames (the kernel refused " + wanted
                    + "): " + path);
            tapQueueCheck.cancel(false);
        }
    }

    /**
     * Reports new oversize drops and packets the kernel refused to send (one line per interval, not per frame) and
     * a TAP reader that died.
     */
    private void watchLocal() {
        long oversize = counters.get(Counter.DROP_TAP_TOO_LARGE);
        if (oversize > oversizeReported) {
            WebTransportClient current = relay;
            log.accept("dropped " + (oversize - oversizeReported) + " frames from " + local.name()
                    + " larger than one datagram carries ("
                    + (current == null ? localMaxFrame : Math.min(localMaxFrame, current.maxDatagramPayload()))
                    + " bytes); is the MTU of the interface behind it too large? (" + oversize + " in total; "
                    + counters.get(Counter.CONNECT_PACKET_TOO_BIG_SENT)
                    + " answered with ICMP fragmentation needed)");
            oversizeReported = oversize;
        }
        if (relay != null) {
            reportSession(relay);
        }
        if (tapPort != null && tapPort.readerFailure() != null) {
            fatal(new ConnectException("reading the TAP failed: " + tapPort.readerFailure().getMessage(),
                    tapPort.readerFailure()));
        }
    }

    private void fatal(ConnectException why) {
        ready.completeExceptionally(why);
        shutDown().whenComplete((ignored, e) -> terminated.completeExceptionally(why));
    }

    // ---- the data path ----

    /** A frame from the local member (on the loop, or a TAP reader thread without epoll); takes its reference. */
    private void fromLocal(ByteBuf frame) {
        WebTransportClient session = relay;
        if (session == null) {
            frame.release();
            counters.increment(Counter.CONNECT_DROP_DISCONNECTED);
            return;
        }
        if (frame.readableBytes() > session.maxDatagramPayload()) {
            // Never split: a frame is one datagram or nothing; the sender hears what fits, as from a router.
            tellPacketTooBig(frame, session.maxDatagramPayload() - TapDevice.ETHERNET_HEADER);
            frame.release();
            counters.increment(Counter.DROP_TAP_TOO_LARGE);
            return;
        }
        if (session.sendDatagram(frame)) {
            counters.increment(Counter.CONNECT_FRAMES_TO_RELAY);
        }
    }

    /**
     * Answers an oversized IPv4 packet with DF set with ICMP "fragmentation needed" naming {@code mtu}, at most
     * {@link #PACKET_TOO_BIG_PER_SECOND} a second (RFC 1812 section 4.3.2.8 asks routers to limit ICMP errors).
     * On the thread that reads the local member.
     */
    private void tellPacketTooBig(ByteBuf frame, int mtu) {
        long now = System.nanoTime();
        if (now - packetTooBigWindowStart > TimeUnit.SECONDS.toNanos(1)) {
            packetTooBigWindowStart = now;
            packetTooBigInWindow = 0;
        }
        if (packetTooBigInWindow >= PACKET_TOO_BIG_PER_SECOND) {
            return;
        }
        ByteBuf answer = packetTooBig.answer(frame, mtu);
        if (answer == null) {
            return;
        }
        packetTooBigInWindow++;
        counters.increment(Counter.CONNECT_PACKET_TOO_BIG_SENT);
        loop.execute(() -> {
            Port member = local;
            if (member == null) {
                answer.release();
                return;
            }
            member.send(answer);
            if (tapPort != null) {
                tapPort.flush();
            }
        });
    }

    /** Frames from the relay, on the loop. */
    private final class FromRelay implements WebTransportClient.FrameHandler {
        /** Takes over the frame's reference. */
        @Override
        public void onFrame(ByteBuf frame) {
            Port member = local;
            if (member == null) {
                frame.release();
                return;
            }
            counters.increment(Counter.CONNECT_FRAMES_FROM_RELAY);
            member.send(frame);
        }

        /** Once per loop turn: the turn's TCP segments leave in super-frames of up to 64 KiB. */
        @Override
        public void onBurstEnd() {
            if (tapPort != null) {
                tapPort.flush();
            }
        }
    }

    // ---- shutting down ----

    /** Closes the session (the relay sees a clean close), the local member and the loop; waits up to 10 s. */
    @Override
    public void close() {
        shutDown().orTimeout(10, TimeUnit.SECONDS).exceptionally(e -> null).join();
        terminated.complete(null);
    }

    private CompletableFuture<Void> shutDown() {
        CompletableFuture<Void> done = new CompletableFuture<>();
        if (group.isShuttingDown()) {
            group.terminationFuture().addListener(f -> done.complete(null));
            return done;
        }
        try {
            loop.execute(() -> closeOnLoop(done));
        } catch (java.util.concurrent.RejectedExecutionException e) {
            done.complete(null); // the loop is already gone
        }
        return done;
    }

    private void closeOnLoop(CompletableFuture<Void> done) {
        if (state == State.CLOSED) {
            group.terminationFuture().addListener(f -> done.complete(null));
            return;
        }
        state = State.CLOSED;
        if (retry != null) {
            retry.cancel(false);
        }
        if (watch != null) {
            watch.cancel(false);
        }
        if (tapQueueCheck != null) {
            tapQueueCheck.cancel(false);
        }
        WebTransportClient session = relay;
        relay = null;
        CompletableFuture<?> sessionClosed = session == null ? CompletableFuture.completedFuture(null)
                : session.close(0, "connector stopping");
        sessionClosed.orTimeout(3, TimeUnit.SECONDS).whenComplete((i, e) -> {
            // TapPort.close joins its reader thread: not on the loop.
            Thread.ofPlatform().name("connector-close").start(() -> {
                if (local instanceof AutoCloseable closeable) {
                    try {
                        closeable.close();
                    } catch (Exception ignored) {
                        // closing anyway
                    }
                }
                group.shutdownGracefully(0, 1, TimeUnit.SECONDS).addListener(f -> done.complete(null));
            });
        });
    }

    private static Throwable unwrap(Throwable failure) {
        Throwable cause = failure;
        while (cause instanceof java.util.concurrent.CompletionException && cause.getCause() != null) {
            cause = cause.getCause();
        }
        return cause;
    }
}

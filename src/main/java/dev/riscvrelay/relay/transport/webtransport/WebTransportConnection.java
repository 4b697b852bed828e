package dev.riscvrelay.relay.transport.webtransport;

import dev.riscvrelay.relay.access.Admission;
import dev.riscvrelay.relay.access.SessionGate;
import dev.riscvrelay.relay.metrics.Counter;
import dev.riscvrelay.relay.metrics.Counters;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.quic.QuicChannel;
import io.netty.handler.codec.quic.QuicDatagramExtensionEvent;
import io.netty.handler.codec.quic.QuicPathEvent;
import io.netty.handler.codec.quic.QuicStreamChannel;
import io.netty.util.collection.LongObjectHashMap;
import io.netty.util.collection.LongObjectMap;
import java.nio.BufferUnderflowException;
import java.nio.channels.ClosedChannelException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * One QUIC connection on the server side, placed after {@code Http3ServerConnectionHandler} in the connection's
 * pipeline: it owns the connection's sessions (keyed by Quarter Stream ID) and hands each incoming datagram to the
 * session it names. A browser may open several connections (Firefox opens two for one page), so nothing here
 * assumes one connection per client.
 */
final class WebTransportConnection extends ChannelInboundHandlerAdapter {

    private static final Logger LOG = Logger.getLogger(WebTransportConnection.class.getName());

    /** How long a CONNECT waits for path MTU discovery before its session opens with what is validated. */
    private static final long PATH_WAIT_MILLIS = 1_000;
    private static final long PATH_CHECK_MILLIS = 5;
    /** Once a path is validated, a look every 5 s per connection: cheap with thousands of idle sessions. */
    private static final long SETTLED_POLL_MILLIS = 5_000;

    private final WebTransportServer server;
    private final ServerWorker worker;
    private final SessionGate gate;
    private final Counters counters;
    private final LongObjectMap<WebTransportSession> sessions = new LongObjectHashMap<>(4);
    private QuicChannel quic;
    /** Largest QUIC datagram payload quiche may ever send on this connection, told at the handshake; -1 until then. */
    private int maxDatagramLength = -1;
    /** The datagram size the path has been shown to carry (PMTUD); sessions keep their frames within it. */
    private PathMtuWatch pathMtu;
    /** What waits in quiche's datagram queue, shared by the sessions that write to it. */
    private DatagramBacklog backlog;
    private boolean counted;

    WebTransportConnection(WebTransportServer server, ServerWorker worker, SessionGate gate, Counters counters) {
        this.server = server;
        this.worker = worker;
        this.gate = gate;
        this.counters = counters;
    }

    /** The worker this connection lives on. */
    ServerWorker worker() {
        return worker;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        quic = (QuicChannel) ctx.channel();
        backlog = DatagramBacklog.of(quic, server.config().datagramQueueLength());
    }

    DatagramBacklog backlog() {
        return backlog;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        if (!server.connectionOpened()) {
            counters.increment(Counter.CONNECTIONS_REFUSED);
            // An application close with H3_EXCESSIVE_LOAD (RFC 9114 §8.1).
            quic.close(true, 0x0107, Unpooled.copiedBuffer("too many connections", StandardCharsets.US_ASCII));
        } else {
            counted = true;
        }
        ctx.fireChannelActive();
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof QuicPathEvent.PeerMigrated) {
            // quiche moved to the client's new address: the session goes on, on that path's own RTT, window and size.
            counters.increment(Counter.PATH_MIGRATIONS);
        } else if (evt instanceof QuicDatagramExtensionEvent datagrams) {
            maxDatagramLength = datagrams.maxLength();
            if (pathMtu == null && maxDatagramLength > HttpDatagram.HEADROOM) {
                pathMtu = new PathMtuWatch(quic, server.udpPayload(), SETTLED_POLL_MILLIS,
                        this::pathMtuChanged, this::pathBlackHole);
                pathMtu.start();
            }
        }
        ctx.fireUserEventTriggered(evt);
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof ByteBuf datagram) {
            onDatagram(datagram);
        } else {
            // A new QuicStreamChannel: the QUIC channel's pipeline tail registers it with the event loop, so it
            // must travel on, or the stream never reads.
            ctx.fireChannelRead(msg);
        }
    }

    /** Fires before the codec sends the read's acknowledgements (Netty's QuicheQuicChannel.recvComplete). */
    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        if (!sessions.isEmpty()) {
            for (WebTransportSession session : sessions.values()) {
                session.flushWithAcknowledgements();
            }
        }
        ctx.fireChannelReadComplete();
    }

    private void onDatagram(ByteBuf datagram) {
        long quarterStreamId = HttpDatagram.quarterStreamId(datagram);
        if (quarterStreamId == HttpDatagram.BAD_PREFIX) {
            datagram.release();
            counters.increment(Counter.DROP_BAD_DATAGRAM);
            return;
        }
        WebTransportSession session = sessions.get(quarterStreamId);
        if (session == null) {
            datagram.release();
            counters.increment(Counter.DROP_UNKNOWN_SESSION);
            return;
        }
        // The frame keeps its prefix as headroom in front of the reader index: if it goes to exactly one other
        // session, that session writes its own prefix there and sends this very buffer.
        datagram.skipBytes(HttpDatagram.prefixLength(datagram));
        session.fromClient(datagram);
    }

    /** Why a CONNECT cannot become a session right now, as an HTTP status; 0 when it can. */
    int admissionStatus() {
        if (!counted) {
            return 503; // a connection over the limit, still being closed
        }
        if (maxDatagramLength <= HttpDatagram.HEADROOM) {
            return 400; // the peer did not offer QUIC datagrams (RFC 9221), so no frame could flow
        }
        if (sessions.size() >= server.config().maxSessionsPerConnection()) {
            return 429;
        }
        if (!server.sessionCanOpen()) {
            return 503;
        }
        return 0;
    }

    /** The route from this connection's worker to the loop that owns the LAN a CONNECT to {@code pathAndQuery} joins. */
    ServerWorker.LanRoute routeFor(String pathAndQuery) {
        return worker.route(server.lanOwner(gate, pathAndQuery));
    }

    /**
     * Asks the gate (on the loop of the LAN, {@code route}) which LAN a CONNECT to {@code pathAndQuery} joins, or why
     * it may not; asked once admissionStatus() is 0. The answer comes to {@code then} on this connection's worker: at
     * once when that is the LAN's loop.
     */
    void admit(String pathAndQuery, ServerWorker.LanRoute route, java.util.function.Consumer<Admission> then) {
        java.net.InetAddress peer = quic.remoteSocketAddress() instanceof java.net.InetSocketAddress inet
                ? inet.getAddress() : java.net.InetAddress.getLoopbackAddress();
        if (route.local()) {
            then.accept(gate.admit(pathAndQuery, peer));
        } else {
            route.onLan(() -> {
                Admission admission = gate.admit(pathAndQuery, peer);
                worker.onWorker(() -> then.accept(admission));
            });
        }
    }

    /** Gives back what an admission holds that never became a session; on the LAN's loop. */
    void release(Admission.Admitted admitted, ServerWorker.LanRoute route) {
        route.onLan(admitted.release());
    }

    /**
     * Whether a session that asked for link recovery gets it: one of the server's {@link
     * WebTransportServer#MAX_RECOVERY_SESSIONS}, given back when the session ends. Counted either way.
     */
    boolean grantRecovery() {
        boolean granted = server.recoveryGranted();
        counters.increment(granted ? Counter.RECOVERY_SESSIONS : Counter.RECOVERY_DECLINED);
        return granted;
    }

    /**
     * Opens the session of an admitted CONNECT; {@code respond} writes its 200 once the switch has the session as a
     * port (on this connection's worker), so a frame any member sends after the client saw the answer reaches it. The
     * join runs on the LAN's loop: answered before it, a broadcast sent at once by another member could pass the
     * join while this worker waited for a core.
     */
    WebTransportSession openSession(QuicStreamChannel connectStream, Admission.Admitted admitted,
            ServerWorker.LanRoute route, boolean recovery, boolean parity, Runnable respond) {
        // A datagram fits one QUIC packet of the largest UDP payload the server sends, whatever the path validates
        // later: that is a slot's size.
        int slotSize = recovery ? server.udpPayload() : 0;
        WebTransportSession session = new WebTransportSession(this, connectStream, pathMtu.maxDatagramLength(),
                server.config().sendQueueFrames(), counters, admitted, route, slotSize, parity);
        sessions.put(session.quarterStreamId(), session);
        server.sessionOpened();
        counters.increment(Counter.SESSIONS_OPENED);
        long keepAliveNanos = server.config().keepAliveInterval().toNanos();
        route.onLan(() -> {
            session.joinLan();
            worker.onWorker(() -> session.answer(respond, keepAliveNanos));
        });
        return session;
    }

    /**
     * Runs {@code then} on the event loop once path MTU discovery validated the largest size it probes for, or
     * after {@link #PATH_WAIT_MILLIS}: discovery starts right after the handshake, so a CONNECT usually finds it done.
     */
    void whenPathKnown(Runnable then) {
        awaitPath(then, System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(PATH_WAIT_MILLIS));
    }

    private void awaitPath(Runnable then, long deadline) {
        if (pathMtu.settled() || System.nanoTime() >= deadline || !quic.isActive()) {
            then.run();
        } else {
            quic.eventLoop().schedule(() -> awaitPath(then, deadline), PATH_CHECK_MILLIS, TimeUnit.MILLISECONDS);
        }
    }

    private void pathBlackHole(String seen) {
        counters.increment(Counter.PATH_BLACK_HOLES);
        LOG.info("QUIC connection " + quic.remoteSocketAddress() + ": the path no longer carries its packets ("
                + seen + "); closing it so the peer reconnects and discovers the path anew");
        quic.close(true, 0x0100, Unpooled.copiedBuffer("path MTU black hole", StandardCharsets.UTF_8));
    }

    private void pathMtuChanged(int datagramLength) {
        for (WebTransportSession session : sessions.values()) {
            session.maxDatagramLength(datagramLength);
        }
    }

    /** Called once by a session that ended, whatever the reason. */
    void sessionEnded(WebTransportSession session) {
        if (sessions.remove(session.quarterStreamId()) != null) {
            server.sessionClosed();
            if (session.hasLinkRecovery()) {
                server.recoveryEnded();
            }
            counters.increment(Counter.SESSIONS_CLOSED);
            session.route().onLan(session::leaveLan);
        }
    }

    /** {@code [frames queued over all sessions, the deepest session queue]}; on the event loop. */
    int[] queuedFrames() {
        int total = 0;
        int deepest = 0;
        for (WebTransportSession session : sessions.values()) {
            int depth = session.queuedFrames();
            total += depth;
            deepest = Math.max(deepest, depth);
        }
        return new int[] {total, deepest};
    }

    int sessionCount() {
        return sessions.size();
    }

    /** Closes the QUIC connection with H3_NO_ERROR (RFC 9114 §8.1), telling the peer at once. */
    void closeConnection(String reason) {
        if (quic != null && quic.isOpen()) {
            quic.close(true, 0x0100, Unpooled.copiedBuffer(reason, StandardCharsets.UTF_8));
        }
    }

    /** Closes every session of this connection with the capsule and FIN (server shutdown). */
    void closeSessions(long errorCode, String reason) {
        for (WebTransportSession session : new ArrayList<>(sessions.values())) {
            session.close(errorCode, reason);
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        if (pathMtu != null) {
            pathMtu.stop();
        }
        List<WebTransportSession> ended = new ArrayList<>(sessions.values());
        for (WebTransportSession session : ended) {
            session.detach();
        }
        if (counted) {
            counted = false;
            server.connectionClosed();
        }
        ctx.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (cause instanceof BufferUnderflowException) {
            // quiche refused a datagram larger than the path allows (QUICHE_ERR_BUFFER_TOO_SHORT).
            counters.increment(Counter.DROP_DATAGRAM_SEND_FAILED);
        } else if (cause instanceof ClosedChannelException) {
            counters.increment(Counter.DROP_PORT_CLOSED);
        } else {
            LOG.log(Level.FINE, "QUIC connection " + quic.remoteSocketAddress() + ": " + cause, cause);
        }
    }
}

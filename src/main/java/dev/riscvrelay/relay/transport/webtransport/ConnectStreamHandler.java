package dev.riscvrelay.relay.transport.webtransport;

import dev.riscvrelay.relay.access.Admission;
import dev.riscvrelay.relay.metrics.Counter;
import dev.riscvrelay.relay.metrics.Counters;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http3.DefaultHttp3HeadersFrame;
import io.netty.handler.codec.http3.Http3DataFrame;
import io.netty.handler.codec.http3.Http3Exception;
import io.netty.handler.codec.http3.Http3Headers;
import io.netty.handler.codec.http3.Http3HeadersFrame;
import io.netty.handler.codec.http3.Http3RequestStreamInboundHandler;
import io.netty.handler.codec.quic.QuicException;
import io.netty.handler.codec.quic.QuicStreamChannel;
import io.netty.util.AsciiString;

/**
 * A request stream on the server. An extended CONNECT with {@code :protocol = webtransport} (RFC 9220) becomes a
 * session and the stream then carries its capsules; every other request gets an error status and the stream ends.
 */
final class ConnectStreamHandler extends Http3RequestStreamInboundHandler implements CapsuleDecoder.Listener {

    static final AsciiString WEBTRANSPORT = AsciiString.cached("webtransport");

    /** WebTransport over HTTP/3 §4.5: WEBTRANSPORT_SESSION_GONE-like code used for our own protocol errors. */
    private static final long ERROR_MALFORMED_CAPSULE = 0x1;

    private final WebTransportConnection connection;
    private final Counters counters;
    private final CapsuleDecoder capsules = new CapsuleDecoder(this);
    private WebTransportSession session;
    private boolean answered;
    /** Whether the CONNECT asked for {@link LinkRecovery link recovery}. */
    private boolean wantsRecovery;
    /** Whether the CONNECT offered parity datagrams with link recovery. */
    private boolean wantsParity;

    ConnectStreamHandler(WebTransportConnection connection, Counters counters) {
        this.connection = connection;
        this.counters = counters;
    }

    @Override
    protected void channelRead(ChannelHandlerContext ctx, Http3HeadersFrame frame) {
        if (answered) {
            return; // trailers: nothing to do
        }
        answered = true;
        CharSequence recovery = frame.headers().get(LinkRecovery.HEADER);
        wantsRecovery = recovery != null && LinkRecovery.VERSION.contentEquals(recovery);
        CharSequence parity = frame.headers().get(LinkRecovery.PARITY_HEADER_NAME);
        wantsParity = parity != null && LinkRecovery.PARITY_VERSION.contentEquals(parity);
        int status = requestStatus(frame.headers());
        if (status != 0) {
            reject(ctx, status, false);
        } else {
            int refusal = connection.admissionStatus();
            if (refusal != 0) {
                reject(ctx, refusal, true);
            } else {
                CharSequence path = frame.headers().path();
                String pathAndQuery = path == null ? "/" : path.toString();
                ServerWorker.LanRoute route = connection.routeFor(pathAndQuery);
                connection.admit(pathAndQuery, route, admission -> {
                    switch (admission) {
                        case Admission.Admitted admitted -> accept(ctx, admitted, route);
                        case Admission.Refused refused -> {
                            counters.increment(refused.reason());
                            reject(ctx, refused.status(), true);
                        }
                    }
                });
            }
        }
    }

    /**
     * What the request headers a client sent ask for: 0 for an extended CONNECT with {@code :protocol =
     * webtransport} (RFC 9220), else the error status. Only {@code :method} and {@code :protocol} decide here; the
     * path (which network, which token) is the admission's business.
     */
    static int requestStatus(Http3Headers headers) {
        CharSequence method = headers.method();
        CharSequence protocol = headers.protocol();
        if (!HttpMethod.CONNECT.asciiName().contentEquals(method)) {
            return 404;
        }
        if (protocol == null) {
            return 400; // a plain CONNECT (RFC 9114 §4.4) would be a proxy request
        }
        if (!WEBTRANSPORT.contentEquals(protocol)) {
            return 501;
        }
        return 0;
    }

    private void accept(ChannelHandlerContext ctx, Admission.Admitted admitted, ServerWorker.LanRoute route) {
        // The session opens once the path's packet size is known (or after a bounded wait), so its first full-size
        // frame is not dropped for a size that discovery would have validated a moment later.
        connection.whenPathKnown(() -> {
            if (!ctx.channel().isActive()) {
                connection.release(admitted, route);
                return;
            }
            int refusal = connection.admissionStatus(); // other sessions may have opened meanwhile
            if (refusal != 0) {
                connection.release(admitted, route);
                reject(ctx, refusal, true);
                return;
            }
            boolean recovery = wantsRecovery && connection.grantRecovery();
            boolean parity = recovery && wantsParity;
            Runnable respond = () -> {
                Http3HeadersFrame response = new DefaultHttp3HeadersFrame();
                response.headers().status("200");
                if (recovery) {
                    response.headers().set(LinkRecovery.HEADER, LinkRecovery.VERSION);
                }
                if (parity) {
                    response.headers().set(LinkRecovery.PARITY_HEADER_NAME, LinkRecovery.PARITY_VERSION);
                }
                // No FIN: the stream stays open for capsules and marks the session's lifetime.
                ctx.writeAndFlush(response);
            };
            session = connection.openSession((QuicStreamChannel) ctx.channel(), admitted, route, recovery, parity,
                    respond);
        });
    }

    private void reject(ChannelHandlerContext ctx, int status, boolean sessionRefused) {
        counters.increment(sessionRefused ? Counter.SESSIONS_REFUSED : Counter.REQUESTS_REJECTED);
        Http3HeadersFrame response = new DefaultHttp3HeadersFrame();
        response.headers().status(Integer.toString(status));
        ctx.writeAndFlush(response).addListener(QuicStreamChannel.SHUTDOWN_OUTPUT);
    }

    @Override
    protected void channelRead(ChannelHandlerContext ctx, Http3DataFrame frame) {
        try {
            if (session == null || !session.isOpen()) {
                return; // a request body or data after close: ignored
            }
            CapsuleDecoder.Reject reject = capsules.decode(frame.content());
            if (reject != CapsuleDecoder.Reject.NONE) {
                counters.increment(Counter.DROP_BAD_CAPSULE);
                session.close(ERROR_MALFORMED_CAPSULE, "malformed capsule: " + reject);
            }
        } finally {
            frame.release();
        }
    }

    @Override
    public void onCloseSession(long errorCode, String reason) {
        // WebTransport over HTTP/3 §5: the peer closed; we end the session and finish our side of the stream.
        WebTransportSession ended = session;
        ended.detach();
        QuicStreamChannel stream = ended.connectStream();
        if (stream.isActive()) {
            stream.shutdownOutput();
        }
    }

    @Override
    public void onDrainSession() {
        // The peer will close soon; nothing to hand over, the frames keep flowing until it does.
    }

    @Override
    protected void channelInputClosed(ChannelHandlerContext ctx) {
        // FIN from the peer ends the session (WebTransport over HTTP/3 §5), with or without a close capsule.
        if (session != null && session.isOpen()) {
            session.detach();
            ((QuicStreamChannel) ctx.channel()).shutdownOutput();
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        if (session != null) {
            session.detach();
        }
        ctx.fireChannelInactive();
    }

    @Override
    protected void handleQuicException(ChannelHandlerContext ctx, QuicException exception) {
        endOnError(ctx);
    }

    @Override
    protected void handleHttp3Exception(ChannelHandlerContext ctx, Http3Exception exception) {
        endOnError(ctx);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (cause instanceof QuicException || cause instanceof Http3Exception) {
            super.exceptionCaught(ctx, cause);
        } else {
            // Http3HeadersValidationException (a RuntimeException) and anything else from this stream's codec.
            endOnError(ctx);
        }
    }

    private void endOnError(ChannelHandlerContext ctx) {
        // Malformed headers (RFC 9114 §4.1.2) arrive here too; Netty has already reset the stream then.
        if (!answered) {
            answered = true;
            counters.increment(Counter.REQUESTS_REJECTED);
        }
        if (session != null) {
            session.detach();
        }
        ctx.close();
    }
}

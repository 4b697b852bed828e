package dev.riscvrelay.relay.cluster;

import io.nats.client.AuthHandler;
import io.nats.client.api.ServerInfo;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslHandler;
import io.netty.util.concurrent.ScheduledFuture;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLParameters;

/**
 * The trunks' connection to NATS: the core NATS client protocol (INFO, CONNECT, SUB, PUB, MSG, PING and PONG) on
 * the switch's own event loop. A frame crosses to another relay without leaving the loop's thread: the batch is
 * written to the socket as it was built, and a received message enters the switch from the read buffer. (jnats,
 * which the relay keeps for JetStream, passes every message through a writer thread on the way out and a reader
 * and a dispatcher thread on the way in, copying it each way.)
 *
 * <p>Like jnats it tries the servers in turn, learns the rest of a NATS cluster from their INFO, reconnects for ever
 * (at once to the next server after a loss, then every {@link #RECONNECT_WAIT}), subscribes again after each
 * connect, and pings every {@link #PING_INTERVAL} to notice a dead server within {@link #MAX_PINGS_OUT} intervals.
 * It speaks TLS for {@code tls://} URLs or when the server requires it (the JVM's trusted CAs or
 * {@code --cluster-ca}'s, the host name checked), and authenticates with a URL's user and password or token, or a
 * credentials file (JWT and signed nonce). It never asks for its own messages back ({@code echo: false}).
 * Everything but {@link #start} and {@link #close} runs on the loop.
 */
final class NatsLink {

    static final Duration PING_INTERVAL = Duration.ofSeconds(2);
    static final int MAX_PINGS_OUT = 3;
    static final Duration RECONNECT_WAIT = Duration.ofSeconds(1);
    static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(2);
    /** From the TCP connect to the server's answer to the first PING. */
    static final Duration HANDSHAKE_TIMEOUT = Duration.ofSeconds(5);
    /** Bytes waiting for the socket past which a publish is refused (and counted by the trunk). */
    static final int HIGH_WATER_BYTES = 4 << 20;
    /** The largest message accepted from the server: NATS's default limit. */
    static final int MAX_PAYLOAD = 1 << 20;
    /** Servers remembered, the configured ones and those a NATS cluster told of. */
    static final int MAX_SERVERS = 64;

    private static final byte[] PUB = "PUB ".getBytes(StandardCharsets.US_ASCII);
    private static final ByteBuf CRLF = Unpooled.unreleasableBuffer(
            Unpooled.directBuffer(2).writeByte('\r').writeByte('\n')).asReadOnly();
    private static final ByteBuf PING = Unpooled.unreleasableBuffer(
            Unpooled.copiedBuffer("PING\r\n", StandardCharsets.US_ASCII)).asReadOnly();
    private static final ByteBuf PONG = Unpooled.unreleasableBuffer(
            Unpooled.copiedBuffer("PONG\r\n", StandardCharsets.US_ASCII)).asReadOnly();

    /** What the cluster hears of the link. On the loop. */
    interface Events {
        /** Connected (and subscribed) through {@code url}; {@code first} for the link's first connection. */
        void connected(String url, boolean first);

        /** The connection through {@code url} was lost; the link reconnects by itself. */
        void lost(String url);

        /** The server refused the link ({@code -ERR}, e.g. bad credentials); said once per distinct reason. */
        void refused(String url, String reason);
    }

    /** One subscription's messages; the payload is valid during the call only. On the loop. */
    interface Subscriber {
        void message(ByteBuf payload);
    }

    private record Subscription(String subject, Subscriber subscriber) {
    }

    private final List<URI> servers = new ArrayList<>();
    private final String name;
    private final AuthHandler credentials;
    private final NatsTls trust;
    private final EventLoop loop;
    private final Events events;
    private final Consumer<String> log;
    private final Bootstrap bootstrap;
    private final Map<Integer, Subscription> subscriptions = new LinkedHashMap<>();
    private final Runnable flushTask = this::flush;
    private SslContext tls;
    private int nextSid = 1;
    private int nextServer;
    private Channel channel;
    private URI server;
    private boolean handshaking;
    private boolean connected;
    private boolean everConnected;
    private boolean flushScheduled;
    private boolean closed;
    private int pingsOut;
    private String lastRefusal;
    private ScheduledFuture<?> pinger;
    private ScheduledFuture<?> handshakeTimer;

    /**
     * @param servers {@code nats://} or {@code tls://} URLs, tried in turn, first {@code preferred} when not null
     * @param credentials a credentials file's JWT and signer, or null
     * @param trust the CAs that sign the servers' TLS certificates
     * @param log where the link's own problems go (a server that could not be reached is not one)
     */
    NatsLink(List<String> servers, String preferred, String name, AuthHandler credentials, NatsTls trust,
            EventLoop loop, Events events, Consumer<String> log) {
        for (String url : servers) {
            addServer(url);
        }
        if (preferred != null) {
            int index = indexOfServer(preferred);
            nextServer = Math.max(index, 0);
        }
        this.name = name;
        this.credentials = credentials;
        this.trust = trust;
        this.loop = loop;
        this.events = events;
        this.log = log;
        this.bootstrap = new Bootstrap().group(loop)
                .channel(Epoll.isAvailable() ? EpollSocketChannel.class : NioSocketChannel.class)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) CONNECT_TIMEOUT.toMillis())
                .option(ChannelOption.TCP_NODELAY, true)
                .option(ChannelOption.WRITE_BUFFER_WATER_MARK,
                        new WriteBufferWaterMark(HIGH_WATER_BYTES / 2, HIGH_WATER_BYTES))
                .handler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        ch.pipeline().addLast("nats", new NatsProtocolDecoder(new ServerOps(ch), MAX_PAYLOAD));
                        ch.pipeline().addLast("link", new ChannelEvents());
                    }
                });
    }

    /** Starts connecting; any thread. */
    void start() {
        loop.execute(() -> {
            pinger = loop.scheduleAtFixedRate(this::keepAlive, PING_INTERVAL.toMillis(), PING_INTERVAL.toMillis(),
                    TimeUnit.MILLISECONDS);
            connectNext();
        });
    }

    boolean connected() {
        return connected;
    }

    /** The server connected to, or null. */
    String serverUrl() {
        return connected && server != null ? server.toString() : null;
    }

    /** Subscribes {@code subscriber} to {@code subject} (now if connected, else at the next connect); its sid. */
    int subscribe(String subject, Subscriber subscriber) {
        int sid = nextSid++;
        subscriptions.put(sid, new Subscription(subject, subscriber));
        if (connected) {
            channel.write(Unpooled.copiedBuffer("SUB " + subject + " " + sid + "\r\n", StandardCharsets.US_ASCII),
                    channel.voidPromise());
            flushSoon();
        }
        return sid;
    }

    void unsubscribe(int sid) {
        if (subscriptions.remove(sid) != null && connected) {
            channel.write(Unpooled.copiedBuffer("UNSUB " + sid + "\r\n", StandardCharsets.US_ASCII),
                    channel.voidPromise());
            flushSoon();
        }
    }

    /**
     * Publishes {@code body} (its reference passes to the link) to {@code subject} (ASCII); flushed after the loop's
     * current task. False when not connected, or when the socket is behind by {@link #HIGH_WATER_BYTES}.
     */
    boolean publish(byte[] subject, ByteBuf body) {
        if (!connected || !channel.isWritable()) {
            body.release();
            return false;
        }
        ByteBuf header = channel.alloc().directBuffer(PUB.length + subject.length + 16);
        header.writeBytes(PUB).writeBytes(subject).writeByte(' ');
        writeDecimal(header, body.readableBytes());
        header.writeByte('\r').writeByte('\n');
        channel.write(header, channel.voidPromise());
        channel.write(body, channel.voidPromise());
        channel.write(CRLF.duplicate(), channel.voidPromise());
        flushSoon();
        return true;
    }

    /** Closes the connection and stops reconnecting; any thread. Not a loss: nothing is said. */
    void close() {
        if (loop.isShuttingDown()) {
            return; // the loop's end closes the connection with it
        }
        try {
            loop.execute(() -> {
                closed = true;
                if (pinger != null) {
                    pinger.cancel(false);
                }
                if (channel != null) {
                    channel.flush();
                    channel.close();
                }
            });
        } catch (java.util.concurrent.RejectedExecutionException shuttingDown) {
            // the loop began its shutdown just now: the same
        }
    }

    // ---- connecting

    private void connectNext() {
        if (closed) {
            return;
        }
        URI target = servers.get(nextServer % servers.size());
        nextServer = (nextServer + 1) % servers.size();
        server = target;
        int port = target.getPort() < 0 ? 4222 : target.getPort();
        bootstrap.connect(target.getHost(), port).addListener(future -> {
            if (!future.isSuccess()) {
                retryLater();
                return;
            }
            Channel ch = ((io.netty.channel.ChannelFuture) future).channel();
            if (closed) {
                ch.close();
                return;
            }
            channel = ch;
            handshaking = true;
            pingsOut = 0;
            handshakeTimer = loop.schedule(() -> {
                if (channel == ch && handshaking) {
                    ch.close();
                }
            }, HANDSHAKE_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        });
    }

    /** The next server: at once after a loss, then every {@link #RECONNECT_WAIT}. */
    private void retryLater() {
        if (!closed) {
            loop.schedule(this::connectNext, RECONNECT_WAIT.toMillis(), TimeUnit.MILLISECONDS);
        }
    }

    private void onInfo(Channel ch, String json) {
        ServerInfo info = new ServerInfo(json);
        for (String url : info.getConnectURLs()) {
            addServer((isTls(server) ? "tls://" : "nats://") + url);
        }
        if (!handshaking) {
            return; // an update: new servers of the NATS cluster, taken above
        }
        if (isTls(server) || info.isTLSRequired()) {
            if (ch.pipeline().get(SslHandler.class) != null) {
                return;
            }
            SslHandler handler;
            try {
                handler = tlsHandler(ch);
            } catch (SSLException e) {
                log.accept("Cluster: no TLS for NATS (" + e.getMessage() + ")");
                ch.close();
                return;
            }
            ch.pipeline().addFirst("tls", handler);
            handler.handshakeFuture().addListener(done -> {
                if (done.isSuccess()) {
                    sendConnect(ch, info);
                } else {
                    refused("TLS: " + done.cause().getMessage());
                    ch.close();
                }
            });
        } else {
            sendConnect(ch, info);
        }
    }

    private SslHandler tlsHandler(Channel ch) throws SSLException {
        if (tls == null) {
            tls = trust.nettyContext();
        }
        SslHandler handler = tls.newHandler(ch.alloc(), server.getHost(), server.getPort());
        SSLEngine engine = handler.engine();
        SSLParameters parameters = engine.getSSLParameters();
        parameters.setEndpointIdentificationAlgorithm("HTTPS");
        engine.setSSLParameters(parameters);
        return handler;
    }

    private void sendConnect(Channel ch, ServerInfo info) {
        StringBuilder connect = new StringBuilder("CONNECT {\"verbose\":false,\"pedantic\":false,"
                + "\"lang\":\"java\",\"version\":\"riscv-relay\",\"protocol\":1,\"echo\":false,"
                + "\"headers\":false,\"no_responders\":false");
        connect.append(",\"tls_required\":").append(ch.pipeline().get(SslHandler.class) != null);
        field(connect, "name", name);
        String userInfo = server.getRawUserInfo();
        if (userInfo != null) {
            int colon = userInfo.indexOf(':');
            if (colon < 0) {
                field(connect, "auth_token", decode(userInfo));
            } else {
                field(connect, "user", decode(userInfo.substring(0, colon)));
                field(connect, "pass", decode(userInfo.substring(colon + 1)));
            }
        }
        if (credentials != null) {
            field(connect, "jwt", new String(credentials.getJWT()));
            byte[] nonce = info.getNonce();
            if (nonce != null) {
                field(connect, "sig", Base64.getUrlEncoder().withoutPadding().encodeToString(credentials.sign(nonce)));
            }
        }
        connect.append("}\r\nPING\r\n");
        ch.writeAndFlush(Unpooled.copiedBuffer(connect, StandardCharsets.UTF_8), ch.voidPromise());
    }

    /** The server answered the handshake's PING: connected; subscribe everything again. */
    private void established(Channel ch) {
        handshaking = false;
        connected = true;
        if (handshakeTimer != null) {
            handshakeTimer.cancel(false);
        }
        lastRefusal = null;
        StringBuilder subs = new StringBuilder();
        subscriptions.forEach((sid, subscription) -> subs.append("SUB ").append(subscription.subject()).append(' ')
                .append(sid).append("\r\n"));
        if (!subs.isEmpty()) {
            ch.writeAndFlush(Unpooled.copiedBuffer(subs, StandardCharsets.US_ASCII), ch.voidPromise());
        }
        boolean first = !everConnected;
        everConnected = true;
        events.connected(server.toString(), first);
    }

    private void closed(Channel ch) {
        if (channel != ch) {
            return;
        }
        channel = null;
        handshaking = false;
        boolean was = connected;
        connected = false;
        if (handshakeTimer != null) {
            handshakeTimer.cancel(false);
        }
        if (closed) {
            return; // the relay closed the link: no loss to say, nothing to reconnect
        }
        if (was) {
            events.lost(server.toString());
            loop.execute(this::connectNext); // a lost server: the next one at once
        } else {
            retryLater();
        }
    }

    private void refused(String reason) {
        if (!reason.equals(lastRefusal)) {
            lastRefusal = reason;
            events.refused(server.toString(), reason);
        }
    }

    private void keepAlive() {
        Channel ch = channel;
        if (!connected || ch == null) {
            return;
        }
        if (pingsOut >= MAX_PINGS_OUT) {
            ch.close(); // a server that stopped answering: reconnect elsewhere
            return;
        }
        pingsOut++;
        ch.writeAndFlush(PING.duplicate(), ch.voidPromise());
    }

    private void flushSoon() {
        if (!flushScheduled) {
            flushScheduled = true;
            // After the rest of this turn's work: every trunk's batches leave in one write.
            loop.execute(flushTask);
        }
    }

    private void flush() {
        flushScheduled = false;
        if (channel != null) {
            channel.flush();
        }
    }

    // ---- servers

    private void addServer(String url) {
        if (servers.size() >= MAX_SERVERS || indexOfServer(url) >= 0) {
            return;
        }
        try {
            URI uri = new URI(url);
            if (uri.getHost() != null) {
                servers.add(uri);
            }
        } catch (URISyntaxException ignored) {
            // a server that advertises garbage is not one to connect to
        }
    }

    private int indexOfServer(String url) {
        for (int i = 0; i < servers.size(); i++) {
            URI known = servers.get(i);
            if (known.toString().equals(url) || url.endsWith("://" + known.getHost() + ":" + known.getPort())) {
                return i;
            }
        }
        return -1;
    }

    private static boolean isTls(URI uri) {
        return uri != null && "tls".equals(uri.getScheme().toLowerCase(Locale.ROOT));
    }

    private static String decode(String part) {
        return URLDecoder.decode(part, StandardCharsets.UTF_8);
    }

    /** Appends {@code ,"key":"value"} with the value escaped as JSON. */
    static void field(StringBuilder json, String key, String value) {
        json.append(",\"").append(key).append("\":\"");
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            switch (c) {
                case '"' -> json.append("\\\"");
                case '\\' -> json.append("\\\\");
                default -> {
                    if (c < 0x20) {
                        json.append(String.format(Locale.ROOT, "\\u%04x", (int) c));
                    } else {
                        json.append(c);
                    }
                }
            }
        }
        json.append('"');
    }

    static void writeDecimal(ByteBuf out, int value) {
        if (value >= 10) {
            writeDecimal(out, value / 10);
        }
        out.writeByte('0' + value % 10);
    }

    /** The server's operations on one connection. */
    private final class ServerOps implements NatsProtocolDecoder.Handler {
        private final Channel ch;

        ServerOps(Channel ch) {
            this.ch = ch;
        }

        @Override
        public void info(String json) {
            onInfo(ch, json);
        }

        @Override
        public void message(int sid, ByteBuf payload) {
            Subscription subscription = subscriptions.get(sid);
            if (subscription != null) {
                subscription.subscriber().message(payload);
            }
        }

        @Override
        public void ping() {
            ch.writeAndFlush(PONG.duplicate(), ch.voidPromise());
        }

        @Override
        public void pong() {
            if (handshaking && ch == channel) {
                established(ch);
            } else {
                pingsOut = 0;
            }
        }

        @Override
        public void error(String text) {
            refused(text);
        }
    }

    /** The connection's end, and decoder errors (which end it too). */
    private final class ChannelEvents extends ChannelInboundHandlerAdapter {
        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            closed(ctx.channel());
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close();
        }
    }
}

package dev.riscvrelay.relay.access;

import dev.riscvrelay.relay.gateway.dhcp.DhcpFrames;
import dev.riscvrelay.relay.transport.webtransport.CertificateHashTrustManager;
import dev.riscvrelay.relay.transport.webtransport.WebTransportClient;
import dev.riscvrelay.relay.transport.webtransport.WebTransportClientConfig;
import dev.riscvrelay.relay.transport.webtransport.WebTransportException;
import dev.riscvrelay.relay.transport.websocket.WebSocketInbox;
import dev.riscvrelay.relay.wire.DhcpMessage;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.IoEventLoop;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.net.http.WebSocketHandshakeException;
import java.nio.ByteBuffer;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManager;

/**
 * A client as a hostile (or merely careless) one would write it: sessions over WebSocket ({@code wss://}, the JDK's
 * client) or WebTransport (the relay's own client), raw frames, and DHCP by hand for any MAC it likes.
 */
final class HostileClient {

    enum Transport { WEBSOCKET, WEBTRANSPORT }

    /** The relay answered the session request with an HTTP error. */
    static final class Refused extends Exception {
        final int status;

        Refused(int status, String message) {
            super(message);
            this.status = status;
        }
    }

    /** One session: frames out, frames in. */
    interface Session extends AutoCloseable {
        void send(byte[] frame) throws Exception;

        /** The next frame received within {@code millis}, or null. */
        byte[] poll(long millis) throws InterruptedException;

        @Override
        void close();
    }

    /** The gateway answers within milliseconds across the field bed; silence for this long is a refusal. */
    static final long REPLY_WAIT_MILLIS = 1000;

    private static final Pattern WEBTRANSPORT_STATUS = Pattern.compile("HTTP (\\d{3})");

    private final String host;
    private final int port;
    private final String certificateHash;
    private final HttpClient http;
    private final IoEventLoop loop;

    /** @param loop the event loop WebTransport sessions run on (shared: thousands of sessions, one thread) */
    HostileClient(String host, int port, String certificateHash, IoEventLoop loop) throws Exception {
        this.host = host;
        this.port = port;
        this.certificateHash = certificateHash;
        this.loop = loop;
        SSLContext tls = SSLContext.getInstance("TLS");
        tls.init(null, new TrustManager[] {new CertificateHashTrustManager(certificateHash)}, null);
        this.http = HttpClient.newBuilder().sslContext(tls).connectTimeout(java.time.Duration.ofSeconds(10)).build();
    }

    Session open(Transport transport, String path) throws Exception {
        return transport == Transport.WEBSOCKET ? webSocket(path) : webTransport(path);
    }

    private Session webSocket(String path) throws Exception {
        WebSocketInbox inbox = new WebSocketInbox();
        WebSocket ws;
        try {
            ws = http.newWebSocketBuilder().buildAsync(URI.create("wss://" + host + ":" + port + path), inbox)
                    .get(15, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof WebSocketHandshakeException refused) {
                throw new Refused(refused.getResponse().statusCode(), "WebSocket " + path + " refused");
            }
            throw e;
        }
        return new Session() {
            @Override
            public void send(byte[] frame) throws Exception {
                ws.sendBinary(ByteBuffer.wrap(frame), true).get(5, TimeUnit.SECONDS);
            }

            @Override
            public byte[] poll(long millis) throws InterruptedException {
                return inbox.frames.poll(millis, TimeUnit.MILLISECONDS);
            }

            @Override
            public void close() {
                ws.abort();
            }
        };
    }

    private Session webTransport(String path) throws Exception {
        BlockingQueue<byte[]> inbox = new LinkedBlockingQueue<>();
        WebTransportClient client;
        try {
            client = WebTransportClient.connect(URI.create("https://" + host + ":" + port + path),
                    WebTransportClientConfig.pinned(certificateHash), frame -> {
                        byte[] bytes = new byte[frame.readableBytes()];
                        frame.readBytes(bytes);
                        frame.release();
                        inbox.add(bytes);
                    }, loop).get(15, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof WebTransportException refused
                    && refused.kind() == WebTransportException.Kind.REFUSED) {
                Matcher status = WEBTRANSPORT_STATUS.matcher(String.valueOf(refused.getMessage()));
                if (status.find()) {
                    throw new Refused(Integer.parseInt(status.group(1)), refused.getMessage());
                }
            }
            throw e;
        }
        return new Session() {
            @Override
            public void send(byte[] frame) {
                ByteBuf buf = Unpooled.wrappedBuffer(frame);
                loop.execute(() -> client.sendDatagram(buf));
            }

            @Override
            public byte[] poll(long millis) throws InterruptedException {
                return inbox.poll(millis, TimeUnit.MILLISECONDS);
            }

            @Override
            public void close() {
                if (!client.closed().isDone()) {
                    client.close();
                }
            }
        };
    }

    /** A random locally administered unicast MAC. */
    static long randomMac() {
        return 0x0200_0000_0000L | (ThreadLocalRandom.current().nextLong() & 0x00FF_FFFF_FFFFL);
    }

    /**
     * DISCOVER, OFFER, REQUEST, ACK for {@code mac} (the frames' source MAC too) through {@code session}.
     *
     * @return the leased address, or 0 when the relay offered none or did not acknowledge
     */
    static int lease(Session session, long mac) throws Exception {
        int xid = ThreadLocalRandom.current().nextInt();
        session.send(DhcpFrames.clientFrame(mac, 0, -1, xid, 0, 0,
                DhcpFrames.options(DhcpMessage.OPTION_MESSAGE_TYPE, DhcpMessage.DISCOVER)));
        DhcpFrames.Reply offer = reply(session, mac, xid, REPLY_WAIT_MILLIS);
        if (offer == null || offer.messageType() != DhcpMessage.OFFER) {
            return 0;
        }
        session.send(DhcpFrames.clientFrame(mac, 0, -1, xid, 0, 0, DhcpFrames.options(
                DhcpMessage.OPTION_MESSAGE_TYPE, DhcpMessage.REQUEST,
                DhcpMessage.OPTION_SERVER_IDENTIFIER, offer.sourceIp(),
                DhcpMessage.OPTION_REQUESTED_ADDRESS, offer.yiaddr())));
        DhcpFrames.Reply ack = reply(session, mac, xid, REPLY_WAIT_MILLIS);
        return ack != null && ack.messageType() == DhcpMessage.ACK ? ack.yiaddr() : 0;
    }

    /** The gateway's DHCP reply to {@code mac}'s transaction {@code xid}, skipping whatever else floods in. */
    private static DhcpFrames.Reply reply(Session session, long mac, int xid, long millis) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(millis);
        while (true) {
            long left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
            if (left <= 0) {
                return null;
            }
            byte[] frame = session.poll(left);
            if (frame == null) {
                return null;
            }
            DhcpFrames.Reply reply;
            try {
                reply = DhcpFrames.parseReply(frame);
            } catch (RuntimeException | AssertionError notDhcp) {
                continue;
            }
            if (reply.op() == DhcpMessage.OP_BOOTREPLY && reply.chaddr() == mac && reply.xid() == xid) {
                return reply;
            }
        }
    }
}

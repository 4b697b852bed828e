package dev.riscvrelay.relay.transport.wisp;

import dev.riscvrelay.relay.transport.websocket.WebSocketInbox;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A WISP client for tests, on the JDK's WebSocket client: sends packets as the specification lays them out and sorts
 * what the relay sends by stream id (stream 0: the handshake's CONTINUE, INFO and CLOSE).
 */
final class WispTestClient implements AutoCloseable {

    /** One packet from the relay. */
    record Packet(int type, int streamId, byte[] payload) {
        int u32() {
            return ByteBuffer.wrap(payload).order(ByteOrder.LITTLE_ENDIAN).getInt();
        }

        int reason() {
            return payload[0] & 0xFF;
        }
    }

    final WebSocket socket;
    final WebSocketInbox inbox = new WebSocketInbox();
    private final ConcurrentHashMap<Integer, BlockingQueue<Packet>> byStream = new ConcurrentHashMap<>();
    private final Thread sorter;

    WispTestClient(HttpClient http, String url, String subprotocol) throws Exception {
        WebSocket.Builder builder = http.newWebSocketBuilder();
        if (subprotocol != null) {
            builder.subprotocols(subprotocol);
        }
        socket = builder.buildAsync(URI.create(url), inbox).get(10, TimeUnit.SECONDS);
        sorter = Thread.ofVirtual().start(() -> {
            try {
                while (true) {
                    byte[] message = inbox.frames.take();
                    ByteBuffer b = ByteBuffer.wrap(message).order(ByteOrder.LITTLE_ENDIAN);
                    int type = b.get() & 0xFF;
                    int id = b.getInt();
                    byte[] payload = new byte[b.remaining()];
                    b.get(payload);
                    queue(id).add(new Packet(type, id, payload));
                }
            } catch (InterruptedException e) {
                // closed
            }
        });
    }

    BlockingQueue<Packet> queue(int streamId) {
        return byStream.computeIfAbsent(streamId, id -> new LinkedBlockingQueue<>());
    }

    Packet next(int streamId) throws InterruptedException {
        return next(streamId, 10);
    }

    Packet next(int streamId, long seconds) throws InterruptedException {
        Packet packet = queue(streamId).poll(seconds, TimeUnit.SECONDS);
        if (packet == null) {
            throw new AssertionError("nothing from the relay on stream " + streamId + " within " + seconds + " s");
        }
        return packet;
    }

    static byte[] packet(int type, int streamId, byte[] payload) {
        return ByteBuffer.allocate(5 + payload.length).order(ByteOrder.LITTLE_ENDIAN).put((byte) type)
                .putInt(streamId).put(payload).array();
    }

    static byte[] connectPayload(int type, int port, String host) {
        byte[] name = host.getBytes(StandardCharsets.UTF_8);
        return ByteBuffer.allocate(3 + name.length).order(ByteOrder.LITTLE_ENDIAN).put((byte) type)
                .putShort((short) port).put(name).array();
    }

    CompletableFuture<WebSocket> send(byte[] message) {
        return socket.sendBinary(ByteBuffer.wrap(message), true);
    }

    void sendNow(byte[] message) throws Exception {
        send(message).get(10, TimeUnit.SECONDS);
    }

    void connectTcp(int streamId, String host, int port) throws Exception {
        sendNow(packet(WispPacket.CONNECT, streamId, connectPayload(WispPacket.STREAM_TCP, port, host)));
    }

    void data(int streamId, byte[] data) throws Exception {
        sendNow(packet(WispPacket.DATA, streamId, data));
    }

    @Override
    public void close() {
        sorter.interrupt();
        socket.abort();
    }
}

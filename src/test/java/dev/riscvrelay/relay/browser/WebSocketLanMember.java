package dev.riscvrelay.relay.browser;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;

/**
 * A LAN member on the relay's WebSocket transport ({@code wss://RELAY:4433/}, one binary message = one Ethernet
 * frame), from the JDK's own client, TLS pinned to the relay's certificate hash. It sends frames of any size up to
 * the relay's WebSocket limit (1514): a QUIC sender on a 1500-byte path could not produce frames as large as the
 * relay may pass to a browser, so this is the sender that can find a browser's own limit. What it receives is
 * ignored.
 */
final class WebSocketLanMember implements AutoCloseable {

    private final HttpClient http;
    private final WebSocket socket;

    private WebSocketLanMember(HttpClient http, WebSocket socket) {
        this.http = http;
        this.socket = socket;
    }

    static WebSocketLanMember connect(URI wss, String certificateSha256Hex) throws Exception {
        HttpClient http = HttpClient.newBuilder().sslContext(PinnedTls.context(certificateSha256Hex))
                .connectTimeout(Duration.ofSeconds(10)).build();
        try {
            WebSocket socket = http.newWebSocketBuilder().buildAsync(wss, new WebSocket.Listener() {
                @Override
                public CompletionStage<?> onBinary(WebSocket ws, ByteBuffer data, boolean last) {
                    ws.request(1);
                    return null;
                }
            }).get(15, TimeUnit.SECONDS);
            return new WebSocketLanMember(http, socket);
        } catch (Exception e) {
            http.shutdownNow();
            throw e;
        }
    }

    /** Sends one frame and waits until the client handed it to TCP (the JDK allows one send at a time). */
    void send(byte[] frame) throws Exception {
        socket.sendBinary(ByteBuffer.wrap(frame), true).get(10, TimeUnit.SECONDS);
    }

    @Override
    public void close() {
        socket.abort();
        http.shutdownNow();
    }
}

package dev.riscvrelay.relay.transport.websocket;

import java.net.http.WebSocket;
import java.nio.ByteBuffer;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.LinkedBlockingQueue;

/** The JDK WebSocket client's listener as the tests need it: each binary message (one frame), joined, in a queue. */
public final class WebSocketInbox implements WebSocket.Listener {

    public final BlockingQueue<byte[]> frames = new LinkedBlockingQueue<>();
    public final CompletableFuture<Integer> closeCode = new CompletableFuture<>();
    private ByteBuffer partial = ByteBuffer.allocate(0);

    @Override
    public CompletionStage<?> onBinary(WebSocket ws, ByteBuffer data, boolean last) {
        ByteBuffer joined = ByteBuffer.allocate(partial.remaining() + data.remaining());
        joined.put(partial).put(data).flip();
        partial = joined;
        if (last) {
            byte[] bytes = new byte[partial.remaining()];
            partial.get(bytes);
            frames.add(bytes);
            partial = ByteBuffer.allocate(0);
        }
        ws.request(1);
        return null;
    }

    @Override
    public CompletionStage<?> onClose(WebSocket ws, int statusCode, String reason) {
        closeCode.complete(statusCode);
        return null;
    }

    @Override
    public void onError(WebSocket ws, Throwable error) {
        closeCode.completeExceptionally(error);
    }
}

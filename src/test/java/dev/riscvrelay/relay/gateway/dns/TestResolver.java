package dev.riscvrelay.relay.gateway.dns;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketException;
import java.util.Arrays;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.function.BiFunction;

/**
 * A real UDP DNS responder on 127.0.0.1 for forwarder tests: it records every query and answers with whatever its
 * answer function returns for it (null: stay silent).
 */
final class TestResolver implements AutoCloseable {

    /** Answers every query with one A record 203.0.113.10, TTL 60, name by compression pointer. */
    static byte[] answerA(byte[] query) {
        int questionEnd = DnsForwarder.questionEnd(io.netty.buffer.Unpooled.wrappedBuffer(query), 0, query.length);
        byte[] answer = Arrays.copyOf(query, questionEnd + 16);
        answer[2] = (byte) 0x81;
        answer[3] = (byte) 0x80;
        answer[7] = 1;
        answer[10] = 0;
        answer[11] = 0;
        byte[] record = {(byte) 0xC0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, (byte) 203, 0, 113, 10};
        System.arraycopy(record, 0, answer, questionEnd, 16);
        return answer;
    }

    final BlockingQueue<byte[]> queries = new LinkedBlockingQueue<>();
    private final DatagramSocket socket;
    private final Thread thread;
    private volatile BiFunction<byte[], Integer, byte[]> answers;

    TestResolver(BiFunction<byte[], Integer, byte[]> answers) {
        this.answers = answers;
        try {
            socket = new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
        } catch (SocketException e) {
            throw new UncheckedIOException(e);
        }
        thread = Thread.ofPlatform().daemon().name("test-resolver").start(this::serve);
    }

    InetSocketAddress address() {
        return (InetSocketAddress) socket.getLocalSocketAddress();
    }

    private void serve() {
        byte[] buffer = new byte[65_535];
        int count = 0;
        while (!socket.isClosed()) {
            DatagramPacket packet = new DatagramPacket(buffer, buffer.length);
            try {
                socket.receive(packet);
            } catch (IOException e) {
                return;
            }
            byte[] query = Arrays.copyOf(packet.getData(), packet.getLength());
            queries.add(query);
            byte[] answer = answers.apply(query, count++);
            if (answer != null) {
                try {
                    socket.send(new DatagramPacket(answer, answer.length, packet.getSocketAddress()));
                } catch (IOException e) {
                    return;
                }
            }
        }
    }

    @Override
    public void close() throws InterruptedException {
        socket.close();
        thread.join(5_000);
    }
}

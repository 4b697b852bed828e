package dev.riscvrelay.relay.transport.webtransport;

import static org.assertj.core.api.Assertions.assertThat;

import dev.riscvrelay.relay.lan.NetworkConfig;
import dev.riscvrelay.relay.metrics.Counters;
import dev.riscvrelay.relay.switching.LearningSwitch;
import dev.riscvrelay.relay.tls.RelayCertificate;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.nio.ByteBuffer;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * QUIC address validation (RFC 9000 §8.1.2): the first Initial from an address gets nothing but a small Retry, so a
 * spoofed source cannot make the relay send a handshake flight to a victim; a real client follows the Retry and
 * connects.
 */
class QuicRetryIT {

    private static final InetAddress LOOPBACK = InetAddress.getLoopbackAddress();

    @Test
    void anInitialWithoutATokenGetsOnlyASmallRetryAndARealClientStillConnects() throws Exception {
        RelayCertificate certificate = RelayCertificate.selfSignedForLocalhost();
        Counters counters = new Counters();
        LearningSwitch lan = new LearningSwitch(NetworkConfig.defaults(), counters);
        WebTransportServer server = new WebTransportServer(LOOPBACK, 0, certificate, lan, counters,
                WebTransportServerConfig.defaults());
        try (DatagramSocket attacker = new DatagramSocket(new InetSocketAddress(LOOPBACK, 0))) {
            attacker.setSoTimeout(2000);
            byte[] initial = fakeInitial();
            attacker.send(new DatagramPacket(initial, initial.length, server.localAddress()));
            byte[] buffer = new byte[2048];
            DatagramPacket answer = new DatagramPacket(buffer, buffer.length);
            attacker.receive(answer);
            int first = buffer[0] & 0xFF;
            assertThat(first & 0xF0).as("long header, type Retry (RFC 9000 §17.2.5)").isEqualTo(0xF0);
            assertThat(answer.getLength()).as("Retry bytes for a %d-byte Initial", initial.length)
                    .isLessThan(150);
            System.out.println("[facts] a " + initial.length + "-byte Initial without a token got a "
                    + answer.getLength() + "-byte Retry");
            attacker.setSoTimeout(500);
            try {
                attacker.receive(answer);
                throw new AssertionError("a second packet after the Retry: " + answer.getLength() + " bytes");
            } catch (SocketTimeoutException expected) {
                // nothing more: no handshake work for an unvalidated address
            }

            WebTransportClient client = WebTransportClient.connect(
                    URI.create("https://127.0.0.1:" + server.localAddress().getPort() + "/"),
                    WebTransportClientConfig.pinned(certificate.sha256Hex()), frame -> frame.release())
                    .get(10, TimeUnit.SECONDS);
            client.close();
            client.closed().orTimeout(5, TimeUnit.SECONDS).join();
        } finally {
            server.close();
        }
    }

    /** A QUIC v1 Initial (RFC 9000 §17.2.2) padded to 1200 bytes, no token; its payload is noise. */
    private static byte[] fakeInitial() {
        ByteBuffer packet = ByteBuffer.allocate(1200);
        packet.put((byte) 0xC3); // long header, fixed bit, Initial, 4-byte packet number
        packet.putInt(1); // version 1
        packet.put((byte) 8).putLong(0x1122334455667788L); // destination connection ID
        packet.put((byte) 8).putLong(0x0102030405060708L); // source connection ID
        packet.put((byte) 0); // token length 0
        int remaining = packet.remaining() - 2;
        packet.putShort((short) (0x4000 | remaining)); // two-byte varint length
        while (packet.hasRemaining()) {
            packet.put((byte) 0x5A);
        }
        return packet.array();
    }
}

package dev.riscvrelay.relay.transport.webtransport;

import static org.assertj.core.api.Assertions.assertThat;

import dev.riscvrelay.relay.metrics.Counter;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.unix.Errors;
import io.netty.handler.codec.quic.QuicConnectionAddress;
import java.io.IOException;
import java.net.InetAddress;
import org.junit.jupiter.api.Test;

class PathMtuTest {

    @Test
    void aLinkCarriesItsMtuLessTheIpAndUdpHeaders() {
        assertThat(PathMtu.udpPayloadFor(1500, false, 1500)).isEqualTo(1472);
        assertThat(PathMtu.udpPayloadFor(1500, true, 1500)).isEqualTo(1452);
        assertThat(PathMtu.udpPayloadFor(1492, false, 1500)).as("PPPoE").isEqualTo(1464);
        assertThat(PathMtu.udpPayloadFor(65536, false, 1500)).as("loopback, capped").isEqualTo(1500);
        assertThat(PathMtu.udpPayloadFor(1280, false, 1500)).as("never below QUIC's 1200").isEqualTo(1252);
        assertThat(PathMtu.udpPayloadFor(576, false, 1500)).as("never below QUIC's 1200").isEqualTo(1200);
    }

    @Test
    void aServerOnLoopbackProbesUpToItsCap() {
        assertThat(PathMtu.serverUdpPayload(InetAddress.getLoopbackAddress(), 1472)).isEqualTo(1472);
    }

    @Test
    void aDatagramIsThePacketLessQuicheOverheadAndTheDestinationConnectionId() {
        // 1456 on a 1500-byte path with quiche's 20-byte connection IDs, as Netty reports at the handshake.
        assertThat(PathMtu.datagramPayload(1500, 20)).isEqualTo(1456);
        // Chromium's empty connection ID: 1448 (a 1447-byte frame behind a 1-byte prefix) in 1472 bytes.
        assertThat(PathMtu.datagramPayload(1472, 0)).isEqualTo(1448);
    }

    @Test
    void theConnectionIdLengthIsReadFromTheAddress() {
        assertThat(PathMtu.connectionIdLength(new QuicConnectionAddress(new byte[8]))).isEqualTo(8);
        assertThat(PathMtu.connectionIdLength(new QuicConnectionAddress(new byte[0]))).isZero();
        assertThat(PathMtu.connectionIdLength(new QuicConnectionAddress(new byte[20]))).isEqualTo(20);
        assertThat(PathMtu.connectionIdLength(null)).isEqualTo(20);
    }

    @Test
    void sendErrorsAreCountedByReason() {
        Epoll.ensureAvailability(); // Netty's errno constants live in the native transport
        assertThat(UdpSendErrors.reasonOf(Errors.newIOException("sendmmsg", -90)))
                .isEqualTo(Counter.DROP_UDP_SEND_TOO_LARGE);
        assertThat(UdpSendErrors.reasonOf(Errors.newIOException("sendmsg", -105)))
                .isEqualTo(Counter.DROP_UDP_SEND_NO_BUFFER);
        assertThat(UdpSendErrors.reasonOf(new IOException("Message too long")))
                .isEqualTo(Counter.DROP_UDP_SEND_TOO_LARGE);
        assertThat(UdpSendErrors.reasonOf(new IOException("No route to host")))
                .isEqualTo(Counter.DROP_UDP_SEND_FAILED);
    }
}

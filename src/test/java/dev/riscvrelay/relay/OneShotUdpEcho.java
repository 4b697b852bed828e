package dev.riscvrelay.relay;

import dev.riscvrelay.relay.nat.Cidr;
import dev.riscvrelay.relay.nat.EgressRules;
import dev.riscvrelay.relay.wire.Ipv4Address;
import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketException;
import java.util.List;

/**
 * A UDP server on 127.0.0.2 that sends its first datagram back, and a relay configuration whose egress policy lets
 * a VM reach it: the outside end of the tests that run one whole network on loopback.
 */
final class OneShotUdpEcho implements AutoCloseable {

    static final String ADDRESS = "127.0.0.2";

    private final DatagramSocket socket;

    OneShotUdpEcho() throws SocketException {
        socket = new DatagramSocket(new InetSocketAddress(ADDRESS, 0));
        Thread.ofPlatform().daemon().start(() -> {
            byte[] buffer = new byte[2048];
            try {
                DatagramPacket packet = new DatagramPacket(buffer, buffer.length);
                socket.receive(packet);
                socket.send(packet);
            } catch (IOException closed) {
                // the test is over
            }
        });
    }

    int address() {
        return Ipv4Address.parse(ADDRESS);
    }

    int port() {
        return socket.getLocalPort();
    }

    /** The relay's defaults on loopback, DNS to loopback, and an egress policy that allows 127.0.0.0/8. */
    static RelayConfig relayConfig() {
        return RelayConfig.defaults(InetAddress.getLoopbackAddress(), 0)
                .withDnsResolvers(List.of(new InetSocketAddress(InetAddress.getLoopbackAddress(), 53)))
                .withEgress(new EgressRules(List.of(Cidr.parse("127.0.0.0/8")), List.of()));
    }

    @Override
    public void close() {
        socket.close();
    }
}

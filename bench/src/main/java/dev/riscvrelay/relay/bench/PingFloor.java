package dev.riscvrelay.relay.bench;

import dev.riscvrelay.relay.lan.NetworkConfig;
import dev.riscvrelay.relay.metrics.Counters;
import dev.riscvrelay.relay.transport.tap.TapDevice;
import dev.riscvrelay.relay.wire.ArpPacket;
import dev.riscvrelay.relay.wire.Checksums;
import dev.riscvrelay.relay.wire.EthernetFrame;
import dev.riscvrelay.relay.wire.IcmpPacket;
import dev.riscvrelay.relay.wire.Ipv4Packet;
import dev.riscvrelay.relay.wire.ParseResult;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;

/**
 * Baseline of the field part's ping through the relay: the least a user-space path of the same shape does, in Java.
 * A host's TAP; a pump in the host's namespace that carries each frame as one plain UDP datagram (no QUIC, no
 * crypto, no switch) to a gateway process on the relay's address, which answers ARP and ICMP echo for 10.0.2.2 in
 * the frame it read and sends that back. Each hop is one thread blocked in its read, with no event loop. A ping
 * wakes the same three hops as through the relay (the pump, the gateway, the pump again) on the same links, so the
 * relay's time above this floor is what its transport and switch cost, and the floor itself is what the machine
 * and a JVM cost.
 *
 * <p>Run as {@code PingFloor gateway ADDRESS:PORT} in the relay's namespace and {@code PingFloor pump TAP
 * ADDRESS:PORT} in the host's; each prints a ready line ({@link #GATEWAY_READY}, {@link #PUMP_READY}) and runs
 * until it is killed.
 */
public final class PingFloor {

    static final String GATEWAY_READY = "PingFloor gateway listening on ";
    static final String PUMP_READY = "PingFloor pump up: TAP ";
    /** The TAP's MTU: the connectors' on a 1500-byte path, so the pings' frames are alike. */
    static final int TAP_MTU = 1408;
    private static final int BUFFER_BYTES = 2048;

    private static final NetworkConfig LAN = NetworkConfig.defaults();

    private final EthernetFrame ethernet = new EthernetFrame();
    private final ArpPacket arp = new ArpPacket();
    private final Ipv4Packet ip = new Ipv4Packet();
    private final IcmpPacket icmp = new IcmpPacket();

    /**
     * Turns {@code frame} (its readable bytes) into the gateway's answer in place: an ARP request for the gateway's
     * address into the reply, an ICMP echo request to it into the echo reply.
     *
     * @return whether {@code frame} now holds an answer to send back; false for anything else, left as it was
     */
    boolean answer(ByteBuf frame) {
        if (ethernet.wrap(frame) != ParseResult.OK || ethernet.hasVlanTag()) {
            return false;
        }
        long requester = ethernet.source();
        if (ethernet.etherType() == EthernetFrame.TYPE_ARP) {
            if (arp.wrap(frame, ethernet.payloadOffset(), ethernet.payloadLength()) != ParseResult.OK
                    || arp.operation() != ArpPacket.OPERATION_REQUEST || arp.targetIp() != LAN.gatewayAddress()) {
                return false;
            }
            long senderMac = arp.senderMac();
            int senderIp = arp.senderIp();
            ArpPacket.write(frame, ethernet.payloadOffset(), ArpPacket.OPERATION_REPLY, LAN.gatewayMac(),
                    LAN.gatewayAddress(), senderMac, senderIp);
        } else if (ethernet.etherType() == EthernetFrame.TYPE_IPV4) {
            if (ip.wrap(frame, ethernet.payloadOffset(), ethernet.payloadLength()) != ParseResult.OK
                    || ip.protocol() != Ipv4Packet.PROTOCOL_ICMP || ip.destination() != LAN.gatewayAddress()
                    || icmp.wrap(frame, ip.payloadOffset(), ip.payloadLength()) != ParseResult.OK
                    || icmp.type() != IcmpPacket.TYPE_ECHO_REQUEST || icmp.code() != 0) {
                return false;
            }
            int requesterIp = ip.source();
            ip.setSource(LAN.gatewayAddress());
            ip.setDestination(requesterIp);
            frame.setShort(icmp.offset() + 2, Checksums.afterTypeChange(icmp.checksum(),
                    IcmpPacket.TYPE_ECHO_REQUEST, IcmpPacket.TYPE_ECHO_REPLY));
            frame.setByte(icmp.offset(), IcmpPacket.TYPE_ECHO_REPLY);
        } else {
            return false;
        }
        EthernetFrame.writeHeader(frame, ethernet.offset(), requester, LAN.gatewayMac(), ethernet.etherType());
        return true;
    }

    public static void main(String[] args) throws Exception {
        if (args.length == 2 && args[0].equals("gateway")) {
            runGateway(address(args[1]));
        } else if (args.length == 3 && args[0].equals("pump")) {
            runPump(args[1], address(args[2]));
        } else {
            System.err.println("usage: PingFloor gateway ADDRESS:PORT | PingFloor pump TAP ADDRESS:PORT");
            System.exit(2);
        }
    }

    private static InetSocketAddress address(String hostPort) {
        int colon = hostPort.lastIndexOf(':');
        if (colon < 1) {
            throw new IllegalArgumentException("not ADDRESS:PORT: " + hostPort);
        }
        return new InetSocketAddress(hostPort.substring(0, colon), Integer.parseInt(hostPort.substring(colon + 1)));
    }

    /** Answers each datagram that holds a frame for the gateway, to its sender; ignores the rest. */
    private static void runGateway(InetSocketAddress listen) throws IOException {
        PingFloor floor = new PingFloor();
        try (DatagramChannel socket = DatagramChannel.open()) {
            socket.bind(listen);
            System.out.println(GATEWAY_READY + listen.getHostString() + ":" + listen.getPort());
            System.out.flush();
            ByteBuffer datagram = ByteBuffer.allocateDirect(BUFFER_BYTES);
            ByteBuf frame = Unpooled.wrappedBuffer(datagram);
            while (true) {
                datagram.clear();
                SocketAddress sender = socket.receive(datagram);
                frame.setIndex(0, datagram.position());
                if (floor.answer(frame)) {
                    datagram.flip();
                    socket.send(datagram, sender);
                }
            }
        }
    }

    /** The TAP's frames to the gateway, one a datagram, on this thread; its answers to the TAP on another. */
    private static void runPump(String tapName, InetSocketAddress gateway) throws Exception {
        TapDevice tap = TapDevice.open(TapDevice.Config.forMtu(tapName, TAP_MTU), new Counters());
        DatagramChannel socket = DatagramChannel.open();
        socket.connect(gateway);
        Thread answers = new Thread(() -> {
            ByteBuf frame = Unpooled.directBuffer(BUFFER_BYTES);
            try {
                while (true) {
                    int length = socket.read(frame.nioBuffer(0, frame.capacity()));
                    frame.setIndex(0, length);
                    tap.write(frame);
                }
            } catch (IOException e) {
                System.err.println("PingFloor pump: reading from the gateway failed: " + e);
                System.exit(1);
            }
        }, "ping-floor-answers");
        answers.setDaemon(true);
        answers.start();
        System.out.println(PUMP_READY + tap.name() + ", MTU " + TAP_MTU + ", to " + gateway.getHostString() + ":"
                + gateway.getPort());
        System.out.flush();
        ByteBuf frame = Unpooled.directBuffer(BUFFER_BYTES);
        while (true) {
            frame.clear();
            if (tap.read(frame) < 0) {
                return;
            }
            socket.write(frame.nioBuffer());
        }
    }
}

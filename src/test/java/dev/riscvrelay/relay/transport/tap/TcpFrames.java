package dev.riscvrelay.relay.transport.tap;

import dev.riscvrelay.relay.wire.EthernetFrame;
import dev.riscvrelay.relay.wire.Ipv4Packet;
import dev.riscvrelay.relay.wire.TcpPacket;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.Unpooled;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/** TCP frames from 10.0.2.2:40000 to 10.0.2.15:5001, for tests that play the peer by hand or feed a coalescer. */
final class TcpFrames {

    static final int SYN = TcpPacket.FLAG_SYN;
    static final int ACK = TcpPacket.FLAG_ACK;
    static final int PSH = TcpPacket.FLAG_PSH;
    static final int FIN = TcpPacket.FLAG_FIN;

    private static final long PEER_MAC = 0x5254_0012_3456L;
    static final int PEER = 0x0A00_0202;
    static final int GUEST = 0x0A00_020F;
    private static final int PEER_PORT = 40000;
    private static final int GUEST_PORT = 5001;

    private TcpFrames() {
    }

    /** A segment to the guest's MAC {@code guestMac}; a SYN carries an MSS option of 1000. */
    static ByteBuf segment(long guestMac, int seq, int ack, int ipId, int flags, byte[] payload) {
        int tcpHeader = (flags & SYN) != 0 ? 24 : 20;
        int length = 14 + 20 + tcpHeader + payload.length;
        ByteBuf frame = Unpooled.directBuffer(length).writerIndex(length);
        EthernetFrame.writeHeader(frame, 0, guestMac, PEER_MAC, 0x0800);
        Ipv4Packet.writeHeader(frame, 14, 20 + tcpHeader + payload.length, ipId, true, 64, 6, PEER, GUEST);
        TcpPacket.writeHeader(frame, 34, PEER_PORT, GUEST_PORT, seq, ack, tcpHeader, flags, 65535);
        if (tcpHeader == 24) {
            TcpPacket.writeMssOption(frame, 54, 1000);
        }
        frame.setBytes(34 + tcpHeader, payload);
        TcpPacket.fillChecksum(frame, 34, tcpHeader + payload.length, PEER, GUEST);
        return frame;
    }

    /** Reads frames from {@code tap} until the guest's SYN-ACK to the peer; returns its sequence number. */
    static int awaitSynAck(TapDevice tap, Duration timeout) throws Exception {
        CompletableFuture<Integer> synAck = CompletableFuture.supplyAsync(() -> {
            ByteBuf frame = PooledByteBufAllocator.DEFAULT.directBuffer(tap.maxFrameSize() + 1);
            try {
                while (true) {
                    frame.clear();
                    if (tap.read(frame) < 0) {
                        throw new IllegalStateException("TAP closed before the SYN-ACK");
                    }
                    if (frame.readableBytes() >= 54 && frame.getUnsignedShort(12) == 0x0800
                            && frame.getUnsignedByte(23) == 6 && frame.getUnsignedShort(34) == GUEST_PORT
                            && (frame.getUnsignedByte(34 + 13) & (SYN | ACK)) == (SYN | ACK)) {
                        return frame.getInt(34 + 4);
                    }
                }
            } catch (TapException e) {
                throw new IllegalStateException(e);
            } finally {
                frame.release();
            }
        }, Thread::startVirtualThread);
        return synAck.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** The MAC address of {@code link} from {@code ip -o link show} output. */
    static long macOf(String ipLinkOutput) {
        int at = ipLinkOutput.indexOf("link/ether ");
        if (at < 0) {
            throw new IllegalArgumentException("no link/ether in: " + ipLinkOutput);
        }
        return Long.parseLong(ipLinkOutput.substring(at + 11, at + 28).replace(":", ""), 16);
    }
}

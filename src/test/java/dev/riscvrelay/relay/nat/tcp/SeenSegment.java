package dev.riscvrelay.relay.nat.tcp;

import dev.riscvrelay.relay.nat.TestFrames;
import dev.riscvrelay.relay.wire.Ipv4Packet;
import dev.riscvrelay.relay.wire.ParseResult;
import dev.riscvrelay.relay.wire.TcpPacket;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;

/** A TCP segment the NAT sent to a VM, read from its frame (checked: to the VM, TCP, valid checksum). */
final class SeenSegment {

    final int sourceAddress;
    final int flags;
    final int seq;
    final int ack;
    final int window;
    final int sourcePort;
    final int destinationPort;
    final int mss;
    final int windowScale;
    final boolean sackPermitted;
    final int sackBlocks;
    final int[] sackLeft;
    final int[] sackRight;
    /** RFC 7323's option: whether present, TSval and TSecr. */
    final boolean timestamps;
    final int tsValue;
    final int tsEcho;
    final int headerLength;
    final byte[] data;

    /** Reads the frame and releases it. */
    SeenSegment(ByteBuf frame, long vmMac, int vmAddress) {
        try {
            // Plain checks, not AssertJ: property tests read many thousands of segments.
            TestFrames.Parsed parsed = new TestFrames.Parsed(frame);
            check(parsed.ethernet.destination() == vmMac, "to the VM's MAC");
            check(parsed.ip.protocol() == Ipv4Packet.PROTOCOL_TCP, "TCP");
            check(parsed.ip.destination() == vmAddress, "to the VM's address");
            TcpPacket tcp = new TcpPacket();
            check(tcp.wrap(frame, parsed.ip.payloadOffset(), parsed.ip.payloadLength()) == ParseResult.OK,
                    "a TCP segment that parses");
            check(tcp.checksumValid(parsed.ip.source(), parsed.ip.destination()), "a valid TCP checksum");
            check(tcp.parseOptions() == ParseResult.OK, "options that parse");
            sourceAddress = parsed.ip.source();
            flags = tcp.flags();
            seq = tcp.sequenceNumber();
            ack = tcp.acknowledgementNumber();
            window = tcp.window();
            sourcePort = tcp.sourcePort();
            destinationPort = tcp.destinationPort();
            mss = tcp.mss();
            windowScale = tcp.windowScale();
            sackPermitted = tcp.sackPermitted();
            sackBlocks = tcp.sackBlockCount();
            sackLeft = new int[sackBlocks];
            sackRight = new int[sackBlocks];
            for (int i = 0; i < sackBlocks; i++) {
                sackLeft[i] = tcp.sackLeft(i);
                sackRight[i] = tcp.sackRight(i);
            }
            timestamps = tcp.hasTimestamps();
            tsValue = tcp.timestampValue();
            tsEcho = tcp.timestampEcho();
            headerLength = tcp.headerLength();
            data = ByteBufUtil.getBytes(frame, tcp.dataOffset(), tcp.dataLength());
        } finally {
            frame.release();
        }
    }

    private static void check(boolean condition, String what) {
        if (!condition) {
            throw new AssertionError("a segment to the VM: expected " + what);
        }
    }

    boolean has(int flag) {
        return (flags & flag) != 0;
    }

    /** Sequence numbers the segment occupies: data, plus one for SYN and one for FIN. */
    int sequenceLength() {
        return data.length + (has(TcpPacket.FLAG_SYN) ? 1 : 0) + (has(TcpPacket.FLAG_FIN) ? 1 : 0);
    }

    @Override
    public String toString() {
        StringBuilder s = new StringBuilder("seg");
        for (String[] flag : new String[][] {{"S", "2"}, {"F", "1"}, {"R", "4"}, {"P", "8"}, {".", "16"}}) {
            if (has(Integer.parseInt(flag[1]))) {
                s.append(flag[0]);
            }
        }
        s.append(" seq=").append(Integer.toUnsignedString(seq)).append(" ack=").append(Integer.toUnsignedString(ack))
                .append(" win=").append(window).append(" len=").append(data.length);
        for (int i = 0; i < sackBlocks; i++) {
            s.append(" sack=").append(Integer.toUnsignedString(sackLeft[i])).append('-')
                    .append(Integer.toUnsignedString(sackRight[i]));
        }
        return s.toString();
    }
}

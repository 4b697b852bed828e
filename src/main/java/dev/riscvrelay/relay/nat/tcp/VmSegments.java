package dev.riscvrelay.relay.nat.tcp;

import dev.riscvrelay.relay.metrics.Counter;
import dev.riscvrelay.relay.metrics.Counters;
import dev.riscvrelay.relay.lan.FrameSink;
import dev.riscvrelay.relay.nat.FlowAddresses;
import dev.riscvrelay.relay.nat.VmFrames;
import dev.riscvrelay.relay.wire.Ipv4Packet;
import dev.riscvrelay.relay.wire.TcpPacket;
import io.netty.buffer.ByteBuf;

/**
 * Builds the TCP segments of one connection toward its VM, each in one pooled frame from the host's address and
 * port (the destination the VM dialled) to the VM's, and hands them to the NAT's sink. IPv4 or IPv6 as the
 * connection's {@link FlowAddresses} are: the IP header and the checksum's pseudo-header follow them, the rest is
 * the same.
 */
final class VmSegments {

    private final VmFrames frames;
    private final FrameSink sink;
    private final Counters counters;
    private final long vmMac;
    private final FlowAddresses addresses;
    private final int vmPort;
    private final int hostPort;
    private final int payloadOffset;

    VmSegments(VmFrames frames, FrameSink sink, Counters counters, long vmMac, FlowAddresses addresses, int vmPort,
            int hostPort) {
        this.frames = frames;
        this.sink = sink;
        this.counters = counters;
        this.vmMac = vmMac;
        this.addresses = addresses;
        this.vmPort = vmPort;
        this.hostPort = hostPort;
        this.payloadOffset = VmFrames.ipPayloadOffset(addresses);
    }

    /**
     * The SYN-ACK: MSS (the clamp: every segment the VM sends must fit one frame of the LAN), window scale when
     * {@code windowScale >= 0}, SACK-permitted when asked, timestamps when {@code timestamps} (RFC 7323: the VM
     * offered them). RFC 7323 section 2.2: the window in a SYN is not scaled.
     */
    void synAck(int iss, int ack, int window, int mss, int windowScale, boolean sackPermitted, boolean timestamps,
            int tsValue, int tsEcho) {
        handshake(TcpPacket.FLAG_SYN | TcpPacket.FLAG_ACK, iss, ack, window, mss, windowScale, sackPermitted,
                timestamps, tsValue, tsEcho);
    }

    /** The SYN of an active open (a forwarded connection): the same options as a SYN-ACK, offered, not answered. */
    void syn(int iss, int window, int mss, int windowScale, boolean sackPermitted, int tsValue) {
        handshake(TcpPacket.FLAG_SYN, iss, 0, window, mss, windowScale, sackPermitted, true, tsValue, 0);
    }

    private void handshake(int flags, int iss, int ack, int window, int mss, int windowScale,
            boolean sackPermitted, boolean timestamps, int tsValue, int tsEcho) {
        int options = 4 + (windowScale >= 0 ? 4 : 0) + (sackPermitted ? 4 : 0)
                + (timestamps ? TcpPacket.TIMESTAMPS_OPTION_LENGTH : 0);
        int headerLength = TcpPacket.MIN_HEADER_LENGTH + options;
        ByteBuf frame = frames.newFrame(vmMac, addresses, Ipv4Packet.PROTOCOL_TCP, headerLength);
        int at = frame.readerIndex() + payloadOffset;
        TcpPacket.writeHeader(frame, at, hostPort, vmPort, iss, ack, headerLength, flags, window);
        int option = at + TcpPacket.MIN_HEADER_LENGTH;
        option += TcpPacket.writeMssOption(frame, option, mss);
        if (windowScale >= 0) {
            option += TcpPacket.writeWindowScaleOption(frame, option, windowScale);
        }
        if (sackPermitted) {
            option += TcpPacket.writeSackPermittedOption(frame, option);
        }
        if (timestamps) {
            TcpPacket.writeTimestampsOption(frame, option, tsValue, tsEcho);
        }
        TcpPacket.fillChecksum(frame, at, headerLength,
                addresses.pseudoHeaderSumToVm(Ipv4Packet.PROTOCOL_TCP, headerLength));
        emit(counters, sink, frame);
    }

    /**
     * One segment: {@code length} bytes of {@code data} from {@code dataOffset} (none when 0), the timestamps
     * option when {@code timestamps}, then SACK blocks when {@code sackBlocks > 0}. The caller keeps the options
     * within what the frame has room for.
     */
    void segment(int sequence, int ack, int window, int flags, boolean timestamps, int tsValue, int tsEcho,
            int[] sackLeft, int[] sackRight, int sackBlocks, SendBuffer data, int dataOffset, int length) {
        int headerLength = TcpPacket.MIN_HEADER_LENGTH + (timestamps ? TcpPacket.TIMESTAMPS_OPTION_LENGTH : 0)
                + (sackBlocks > 0 ? 4 + 8 * sackBlocks : 0);
        int tcpLength = headerLength + length;
        ByteBuf frame = frames.newFrame(vmMac, addresses, Ipv4Packet.PROTOCOL_TCP, tcpLength);
        int at = frame.readerIndex() + payloadOffset;
        TcpPacket.writeHeader(frame, at, hostPort, vmPort, sequence, ack, headerLength, flags, window);
        int option = at + TcpPacket.MIN_HEADER_LENGTH;
        if (timestamps) {
            option += TcpPacket.writeTimestampsOption(frame, option, tsValue, tsEcho);
        }
        if (sackBlocks > 0) {
            TcpPacket.writeSackOption(frame, option, sackLeft, sackRight, sackBlocks);
        }
        if (length > 0) {
            data.copy(dataOffset, length, frame, at + headerLength);
        }
        TcpPacket.fillChecksum(frame, at, tcpLength, addresses.pseudoHeaderSumToVm(Ipv4Packet.PROTOCOL_TCP, tcpLength));
        emit(counters, sink, frame);
    }

    /** A segment without data or options on this connection (a RST). */
    void control(int sequence, int ack, int flags) {
        control(frames, sink, counters, vmMac, addresses, hostPort, vmPort, sequence, ack, flags);
    }

    /** Sends a segment without data or options (a RST or a bare ACK) from the remote end of {@code addresses}. */
    static void control(VmFrames frames, FrameSink sink, Counters counters, long vmMac, FlowAddresses addresses,
            int sourcePort, int vmPort, int sequence, int ack, int flags) {
        ByteBuf frame = frames.newFrame(vmMac, addresses, Ipv4Packet.PROTOCOL_TCP, TcpPacket.MIN_HEADER_LENGTH);
        int at = frame.readerIndex() + VmFrames.ipPayloadOffset(addresses);
        TcpPacket.writeHeader(frame, at, sourcePort, vmPort, sequence, ack, TcpPacket.MIN_HEADER_LENGTH, flags, 0);
        TcpPacket.fillChecksum(frame, at, TcpPacket.MIN_HEADER_LENGTH,
                addresses.pseudoHeaderSumToVm(Ipv4Packet.PROTOCOL_TCP, TcpPacket.MIN_HEADER_LENGTH));
        if ((flags & TcpPacket.FLAG_RST) != 0) {
            counters.increment(Counter.NAT_TCP_RESETS_TO_VM);
        }
        emit(counters, sink, frame);
    }

    /** Sends a segment without data or options (a RST or a bare ACK) from {@code source} to a VM. */
    static void control(VmFrames frames, FrameSink sink, Counters counters, long vmMac, int source, int sourcePort,
            int vmAddress, int vmPort, int sequence, int ack, int flags) {
        ByteBuf frame = frames.newFrame(vmMac, source, vmAddress, Ipv4Packet.PROTOCOL_TCP,
                TcpPacket.MIN_HEADER_LENGTH);
        int at = frame.readerIndex() + VmFrames.IP_PAYLOAD_OFFSET;
        TcpPacket.writeHeader(frame, at, sourcePort, vmPort, sequence, ack, TcpPacket.MIN_HEADER_LENGTH, flags, 0);
        TcpPacket.fillChecksum(frame, at, TcpPacket.MIN_HEADER_LENGTH, source, vmAddress);
        if ((flags & TcpPacket.FLAG_RST) != 0) {
            counters.increment(Counter.NAT_TCP_RESETS_TO_VM);
        }
        emit(counters, sink, frame);
    }

    /** Every frame the TCP NAT sends to a VM goes out here, counted. */
    static void emit(Counters counters, FrameSink sink, ByteBuf frame) {
        counters.increment(Counter.NAT_TCP_SEGMENTS_OUT);
        sink.emit(frame);
    }
}

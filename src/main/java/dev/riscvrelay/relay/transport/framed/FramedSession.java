package dev.riscvrelay.relay.transport.framed;

import dev.riscvrelay.relay.access.AddressAssignment;
import dev.riscvrelay.relay.lan.NanoClock;
import dev.riscvrelay.relay.metrics.Counter;
import dev.riscvrelay.relay.metrics.Counters;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;

/**
 * The framed protocol's side of one session: reads each datagram's type byte, hands Ethernet frames (whole or
 * reassembled from chunks) back to the transport for the switch, and answers control messages: Register with the
 * Assigned address (or an Error, then the session ends), Heartbeat with HeartbeatAck (renewing the lease),
 * Disconnect by ending the session. On the session's event loop; a data frame costs a byte check and a skip.
 */
public final class FramedSession {

    /** What the session's transport does for the protocol. */
    public interface Link {
        /** Sends one control message: the transport writes its prefix, then {@code 0x00}, then {@code json}. */
        void sendControl(byte[] json);

        /** Ends the session, telling the client {@code reason} where the transport can. */
        void end(String reason);
    }

    /** The largest frame carried in chunks, either way. */
    public static final int MAX_FRAME = ChunkReassembly.MAX_FRAME;

    private final Link link;
    private final AddressAssignment addresses;
    private final Counters counters;
    private final NanoClock clock;
    private final ChunkReassembly chunks;
    /** The MAC the client registered and the address it was told; -1 and 0 until then. */
    private long registeredMac = -1;
    private int assignedAddress;

    /**
     * @param headroom bytes to keep free in front of reassembled frames, for the receivers' datagram prefixes
     */
    public FramedSession(Link link, AddressAssignment addresses, Counters counters, NanoClock clock,
            ByteBufAllocator alloc, int headroom) {
        this.link = link;
        this.addresses = addresses;
        this.counters = counters;
        this.clock = clock;
        this.chunks = new ChunkReassembly(counters, clock, alloc, headroom);
    }

    /**
     * Whether a session's first datagram (its payload, after the HTTP datagram prefix) opens the framed protocol:
     * {@code 0x00} followed by a valid JSON Register. Anything else, a raw Ethernet frame included, leaves the
     * session raw (see the package documentation for why this cannot mistake a real frame).
     */
    public static boolean opensFramedSession(ByteBuf payload) {
        int at = payload.readerIndex();
        return payload.readableBytes() > 1 && payload.getByte(at) == FramedTypes.CONTROL
                && ControlCodec.decode(payload, at + 1, payload.readableBytes() - 1)
                        instanceof ControlMessage.Register;
    }

    /**
     * Takes one datagram payload (this takes over its reference). Returns the Ethernet frame it carried, reader
     * index on the frame, for the caller to check and forward; null when it carried none (a control message, a
     * chunk of an incomplete frame, or something dropped and counted).
     */
    public ByteBuf receive(ByteBuf payload) {
        if (!payload.isReadable()) {
            return badType(payload);
        }
        int type = payload.getByte(payload.readerIndex());
        switch (type) {
            case FramedTypes.DATA -> {
                payload.skipBytes(1);
                return payload;
            }
            case FramedTypes.CHUNK -> {
                return chunks.add(payload);
            }
            case FramedTypes.CONTROL -> {
                try {
                    control(payload);
                } finally {
                    payload.release();
                }
                return null;
            }
            default -> {
                return badType(payload);
            }
        }
    }

    /** The session ended: releases held chunks. */
    public void close() {
        chunks.clear();
    }

    /** Frames in chunk reassembly now. */
    int chunksPending() {
        return chunks.pendingFrames();
    }

    /** The address the client was told, 0 when none yet. */
    public int assignedAddress() {
        return assignedAddress;
    }

    private ByteBuf badType(ByteBuf payload) {
        payload.release();
        counters.increment(Counter.DROP_FRAMED_BAD_TYPE);
        return null;
    }

    private void control(ByteBuf payload) {
        int at = payload.readerIndex();
        ControlMessage message = ControlCodec.decode(payload, at + 1, payload.readableBytes() - 1);
        switch (message) {
            case null -> counters.increment(Counter.DROP_FRAMED_CONTROL_MALFORMED);
            case ControlMessage.Register register -> register(register.mac());
            case ControlMessage.Heartbeat heartbeat -> heartbeat();
            case ControlMessage.Disconnect disconnect -> link.end("client disconnected");
            default -> counters.increment(Counter.DROP_FRAMED_CONTROL_UNEXPECTED);
        }
    }

    private void register(long mac) {
        switch (addresses.assign(mac)) {
            case AddressAssignment.Assigned a -> {
                registeredMac = mac;
                assignedAddress = a.address();
                counters.increment(Counter.FRAMED_ASSIGNED);
                link.sendControl(ControlCodec.encode(
                        new ControlMessage.Assigned(a.address(), a.gateway(), a.netmask(), a.dns())));
            }
            case AddressAssignment.Refused refused -> {
                counters.increment(refused.reason());
                link.sendControl(ControlCodec.encode(new ControlMessage.Error(refused.message())));
                link.end(refused.message());
            }
        }
    }

    /** Answers, renews the lease (a client told its address never asks DHCP to renew) and sweeps stale chunks. */
    private void heartbeat() {
        counters.increment(Counter.FRAMED_HEARTBEATS);
        chunks.expire(clock.nanoTime());
        link.sendControl(ControlCodec.encode(new ControlMessage.HeartbeatAck()));
        if (registeredMac >= 0 && addresses.assign(registeredMac) instanceof AddressAssignment.Assigned a
                && a.address() != assignedAddress) {
            assignedAddress = a.address();
            link.sendControl(ControlCodec.encode(
                    new ControlMessage.Assigned(a.address(), a.gateway(), a.netmask(), a.dns())));
        }
    }
}

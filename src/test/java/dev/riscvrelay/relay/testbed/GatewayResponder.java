package dev.riscvrelay.relay.testbed;

import dev.riscvrelay.relay.transport.tap.TapDevice;
import dev.riscvrelay.relay.transport.tap.TapException;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A stand-in for the relay's gateway in TAP tests, built by hand on purpose so the TAP path can be tested without
 * the wire layer: on its own thread it reads frames from a {@link TapDevice} and answers ARP requests for the
 * gateway address (RFC 826) and ICMP echo requests to it (RFC 792) with replies written back to the TAP.
 */
public final class GatewayResponder implements Runnable {

    public static final byte[] GATEWAY_MAC = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};
    public static final byte[] GATEWAY_IP = {10, 0, 2, 2};

    private static final int ETH_HEADER = 14;
    private static final int ETHERTYPE_ARP = 0x0806;
    private static final int ETHERTYPE_IPV4 = 0x0800;

    private final TapDevice tap;
    private final AtomicLong arpReplies = new AtomicLong();
    private final AtomicLong echoReplies = new AtomicLong();
    private final AtomicLong framesRead = new AtomicLong();
    private volatile Throwable failure;

    public GatewayResponder(TapDevice tap) {
        this.tap = tap;
    }

    public Thread start() {
        return Thread.ofPlatform().daemon().name("gateway-responder-" + tap.name()).start(this);
    }

    @Override
    public void run() {
        ByteBuf frame = PooledByteBufAllocator.DEFAULT.directBuffer(tap.maxFrameSize() + 1);
        ByteBuf reply = PooledByteBufAllocator.DEFAULT.directBuffer(tap.maxFrameSize() + 1);
        try {
            while (true) {
                frame.clear();
                if (tap.read(frame) < 0) {
                    return;
                }
                framesRead.incrementAndGet();
                reply.clear();
                if (answer(frame, reply)) {
                    tap.write(reply);
                }
            }
        } catch (TapException | RuntimeException e) {
            failure = e;
        } finally {
            frame.release();
            reply.release();
        }
    }

    /**
     * Writes into {@code reply} the answer to {@code frame} if it is an ARP request for, or an ICMP echo request
     * to, the gateway; returns false (reply untouched) for anything else.
     */
    public boolean answer(ByteBuf frame, ByteBuf reply) {
        if (answerArp(frame, reply)) {
            arpReplies.incrementAndGet();
            return true;
        }
        if (answerEcho(frame, reply)) {
            echoReplies.incrementAndGet();
            return true;
        }
        return false;
    }

    private static boolean answerArp(ByteBuf frame, ByteBuf reply) {
        if (frame.readableBytes() < ETH_HEADER + 28 || frame.getUnsignedShort(12) != ETHERTYPE_ARP
                || frame.getUnsignedShort(14) != 1 || frame.getUnsignedShort(16) != ETHERTYPE_IPV4
                || frame.getUnsignedShort(20) != 1 || !matches(frame, 38, GATEWAY_IP)) {
            return false;
        }
        reply.writeBytes(frame, 6, 6);          // to the requester's MAC
        reply.writeBytes(GATEWAY_MAC);
        reply.writeShort(ETHERTYPE_ARP);
        reply.writeShort(1).writeShort(ETHERTYPE_IPV4).writeByte(6).writeByte(4).writeShort(2); // reply
        reply.writeBytes(GATEWAY_MAC).writeBytes(GATEWAY_IP);
        reply.writeBytes(frame, 22, 10);        // target = requester's MAC and IP
        return true;
    }

    private static boolean answerEcho(ByteBuf frame, ByteBuf reply) {
        int length = frame.readableBytes();
        if (length < ETH_HEADER + 20 || frame.getUnsignedShort(12) != ETHERTYPE_IPV4) {
            return false;
        }
        int ihl = (frame.getByte(14) & 0x0f) * 4;
        int ipLength = frame.getUnsignedShort(16);
        if (ETH_HEADER + ipLength > length || ihl < 20 || ipLength < ihl + 8 || frame.getByte(23) != 1
                || !matches(frame, 30, GATEWAY_IP) || frame.getByte(ETH_HEADER + ihl) != 8) {
            return false;
        }
        int icmp = ETH_HEADER + ihl;
        reply.writeBytes(frame, 6, 6).writeBytes(GATEWAY_MAC).writeShort(ETHERTYPE_IPV4);
        reply.writeBytes(frame, ETH_HEADER, ipLength);
        reply.setByte(22, 64);                        // TTL
        reply.setBytes(26, GATEWAY_IP);               // source = gateway
        reply.setBytes(30, frame, 26, 4);             // destination = pinger
        reply.setShort(24, 0);
        reply.setShort(24, checksum(reply, ETH_HEADER, ihl));
        reply.setByte(icmp, 0);                       // echo reply, same id, sequence and data
        reply.setShort(icmp + 2, 0);
        reply.setShort(icmp + 2, checksum(reply, icmp, ipLength - ihl));
        return true;
    }

    /** The Internet checksum (RFC 1071) of {@code length} bytes at {@code offset}. */
    static int checksum(ByteBuf buf, int offset, int length) {
        long sum = 0;
        int i = 0;
        for (; i + 1 < length; i += 2) {
            sum += buf.getUnsignedShort(offset + i);
        }
        if (i < length) {
            sum += (buf.getUnsignedByte(offset + i) << 8);
        }
        while ((sum >>> 16) != 0) {
            sum = (sum & 0xffff) + (sum >>> 16);
        }
        return (int) (~sum & 0xffff);
    }

    private static boolean matches(ByteBuf buf, int offset, byte[] expected) {
        for (int i = 0; i < expected.length; i++) {
            if (buf.getByte(offset + i) != expected[i]) {
                return false;
            }
        }
        return true;
    }

    public long arpReplies() {
        return arpReplies.get();
    }

    public long echoReplies() {
        return echoReplies.get();
    }

    public long framesRead() {
        return framesRead.get();
    }

    /** The exception that ended the reader early, or null. */
    public Throwable failure() {
        return failure;
    }
}

package dev.riscvrelay.relay.transport.webtransport;

import dev.riscvrelay.relay.metrics.Counter;
import dev.riscvrelay.relay.metrics.Counters;
import dev.riscvrelay.relay.switching.HandOffQueue;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.DatagramPacket;
import java.util.List;
import java.util.concurrent.Executor;

/**
 * Steers each QUIC packet to the worker that owns its connection. Every worker's socket listens on the relay's port
 * (SO_REUSEPORT) and the kernel picks one by the client's address, so when that address changes (a NAT rebinds, a
 * phone roams) the client's packets reach another worker's socket. The connection IDs the relay issues start with
 * the owner's index ({@link WorkerConnectionIds}); a short-header packet whose ID names another worker goes to it
 * through a bounded single-producer queue ({@link HandOffQueue}: one wake-up per batch, no lock, a full queue drops
 * and counts). The owner reads the batch into its QUIC codec and then ends it as a read of its own socket ends
 * (channelReadComplete), so what the packets call for (ACKs, the replies they caused) leaves in that loop turn.
 * Long-header packets stay where they arrived: a client keeps its address through the handshake.
 *
 * <p>Netty's QuicCodecDispatcher, which did this before, hands each packet over as a task of its own and ends the
 * batch with a flag that the owner's own socket read may take first: the owner then ended its read before the
 * handed-over packets were in, and what they called for waited for the connection's next packet.
 */
final class QuicPacketHandOver extends ChannelInboundHandlerAdapter
        implements HandOffQueue.Receiver<DatagramPacket> {

    /** Packets one queue between two workers holds. */
    static final int HANDOFF_PACKETS = 4096;

    private final int self;
    private final Counters counters;
    /** The queue to each other worker, by index; null at this worker's own. */
    private final HandOffQueue<DatagramPacket>[] toOwner;
    /** This worker's place in its socket's pipeline: handed-over packets enter the codec here. */
    private volatile ChannelHandlerContext ctx;

    @SuppressWarnings("unchecked")
    private QuicPacketHandOver(int self, int workers, Counters counters) {
        this.self = self;
        this.counters = counters;
        this.toOwner = new HandOffQueue[workers];
    }

    /** One hand-over per worker of {@code loops} (in worker order), each with its queues to all the others. */
    static QuicPacketHandOver[] forWorkers(List<? extends Executor> loops, Counters counters) {
        QuicPacketHandOver[] handOvers = new QuicPacketHandOver[loops.size()];
        for (int w = 0; w < handOvers.length; w++) {
            handOvers[w] = new QuicPacketHandOver(w, handOvers.length, counters);
        }
        for (QuicPacketHandOver from : handOvers) {
            for (int owner = 0; owner < handOvers.length; owner++) {
                if (owner != from.self) {
                    from.toOwner[owner] = new HandOffQueue<>(HANDOFF_PACKETS, loops.get(owner), handOvers[owner],
                            counters, Counter.DROP_QUIC_HANDOFF_FULL);
                }
            }
        }
        return handOvers;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof DatagramPacket packet) {
            int owner = WorkerConnectionIds.owner(packet.content());
            if (owner >= 0 && owner != self && owner < toOwner.length) {
                DatagramPacket own = ownBuffer(ctx, packet);
                toOwner[owner].offer(own, own.content()); // a full queue releases the packet and counts it
                return;
            }
        }
        ctx.fireChannelRead(msg);
    }

    /**
     * The packet in a buffer of its own size. A socket read with UDP GRO fills a 64 KiB buffer, and each datagram of it
     * is a slice that holds the whole buffer: a full queue of slices of single-datagram reads would hold 4,096 times
     * 64 KiB (a slice's own capacity does not show that). A copy costs little here: a hand-over happens only after a
     * client's address changed.
     */
    private static DatagramPacket ownBuffer(ChannelHandlerContext ctx, DatagramPacket packet) {
        ByteBuf content = packet.content();
        ByteBuf copy = ctx.alloc().directBuffer(content.readableBytes()).writeBytes(content);
        DatagramPacket own = packet.replace(copy);
        packet.release();
        return own;
    }

    /** On this worker's loop: a packet another worker's socket read for one of this worker's connections. */
    @Override
    public void receive(DatagramPacket packet, ByteBuf content) {
        ChannelHandlerContext own = ctx;
        if (own == null || own.isRemoved()) {
            packet.release();
            counters.increment(Counter.DROP_QUIC_HANDOFF_FULL);
            return;
        }
        own.fireChannelRead(packet);
    }

    @Override
    public void batchDone() {
        ChannelHandlerContext own = ctx;
        if (own != null && !own.isRemoved()) {
            own.fireChannelReadComplete();
        }
    }

    /** Packets this worker's socket handed to the owners of their connections so far (from any thread). */
    long handedOver() {
        long sum = 0;
        for (HandOffQueue<DatagramPacket> queue : toOwner) {
            sum += queue == null ? 0 : queue.handedOver();
        }
        return sum;
    }

    /** Frees the packets still on their way to worker {@code owner}; on its loop, once no socket reads any more. */
    void closeTo(int owner) {
        if (toOwner[owner] != null) {
            toOwner[owner].close();
        }
    }
}

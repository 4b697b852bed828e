package dev.riscvrelay.relay.transport.webtransport;

import static org.assertj.core.api.Assertions.assertThat;

import dev.riscvrelay.relay.metrics.Counter;
import dev.riscvrelay.relay.metrics.Counters;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.channel.socket.DatagramPacket;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Packets of another worker's connections reach that worker's codec, each batch ended by a read-complete. */
class QuicPacketHandOverTest {

    private static final InetSocketAddress CLIENT = new InetSocketAddress("198.51.100.7", 50000);
    private static final InetSocketAddress RELAY = new InetSocketAddress("198.51.100.1", 4433);

    /** What a worker's codec would see: "read N" (N the packet's last byte) and "complete". */
    private static final class Codec extends ChannelInboundHandlerAdapter {
        final List<String> events = new ArrayList<>();

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            DatagramPacket packet = (DatagramPacket) msg;
            events.add("read " + packet.content().getByte(packet.content().writerIndex() - 1));
            packet.release();
        }

        @Override
        public void channelReadComplete(ChannelHandlerContext ctx) {
            events.add("complete");
        }
    }

    /** A 1-RTT packet to a connection of {@code worker}, ending in {@code mark}. */
    private static DatagramPacket shortHeader(int worker, int mark) {
        ByteBuffer id = new WorkerConnectionIds(worker).newId(WorkerConnectionIds.LENGTH);
        ByteBuf content = Unpooled.buffer().writeByte(0x40).writeBytes(id).writeZero(30).writeByte(mark);
        return new DatagramPacket(content, RELAY, CLIENT);
    }

    private record Workers(EmbeddedChannel[] sockets, Codec[] codecs, Counters counters) {
    }

    private static Workers workers(int count) {
        Counters counters = new Counters();
        EmbeddedChannel[] sockets = new EmbeddedChannel[count];
        Codec[] codecs = new Codec[count];
        for (int w = 0; w < count; w++) {
            sockets[w] = new EmbeddedChannel();
            codecs[w] = new Codec();
        }
        List<io.netty.channel.EventLoop> loops = new ArrayList<>();
        for (EmbeddedChannel socket : sockets) {
            loops.add(socket.eventLoop());
        }
        QuicPacketHandOver[] handOvers = QuicPacketHandOver.forWorkers(loops, counters);
        for (int w = 0; w < count; w++) {
            sockets[w].pipeline().addLast(handOvers[w], codecs[w]);
        }
        return new Workers(sockets, codecs, counters);
    }

    @Test
    void aHandedOverPacketHoldsOnlyItsOwnBytesNotTheWholeReadBuffer() {
        Workers bed = workers(2);
        List<ByteBuf> seen = new ArrayList<>();
        bed.sockets[1].pipeline().addBefore(bed.sockets[1].pipeline().names().get(1), "peek",
                new ChannelInboundHandlerAdapter() {
                    @Override
                    public void channelRead(ChannelHandlerContext ctx, Object msg) {
                        seen.add(((DatagramPacket) msg).content());
                        ctx.fireChannelRead(msg);
                    }
                });
        // A 64 KiB read buffer (as UDP GRO fills) of which this datagram is a slice.
        DatagramPacket datagram = shortHeader(1, 9);
        int length = datagram.content().readableBytes();
        ByteBuf read = Unpooled.directBuffer(65536);
        read.writeBytes(datagram.content());
        datagram.release();
        DatagramPacket packet = new DatagramPacket(read.retainedSlice(), RELAY, CLIENT);
        read.release();
        bed.sockets[0].writeInbound(packet);
        assertThat(read.refCnt()).as("the read buffer is free once its datagram is queued").isZero();
        bed.sockets[1].runPendingTasks();
        assertThat(bed.codecs[1].events).containsExactly("read 9", "complete");
        assertThat(seen).singleElement().satisfies(content -> assertThat(content.capacity()).isEqualTo(length));
    }

    @Test
    void aPacketOfAnotherWorkersConnectionReachesItsCodecWithItsOwnReadComplete() {
        Workers bed = workers(4);
        bed.sockets[0].writeInbound(shortHeader(2, 1), shortHeader(0, 2));
        assertThat(bed.codecs[0].events).as("worker 0 keeps its own connection's packet")
                .containsExactly("read 2", "complete");
        assertThat(bed.codecs[2].events).as("nothing before worker 2's loop runs").isEmpty();
        // Worker 2's own socket ends a read of its own before the handed-over batch runs: the batch still gets its
        // own read-complete after its packets.
        bed.sockets[2].writeInbound(shortHeader(2, 3));
        bed.sockets[2].runPendingTasks();
        assertThat(bed.codecs[2].events).containsExactly("read 3", "complete", "read 1", "complete");
        assertThat(bed.codecs[1].events).isEmpty();
        assertThat(bed.codecs[3].events).isEmpty();
    }

    @Test
    void handshakesAndPacketsNamingNoWorkerStayWhereTheyArrived() {
        Workers bed = workers(2);
        ByteBuf initial = Unpooled.buffer().writeByte(0xC0).writeInt(1).writeByte(8).writeLong(1).writeZero(30)
                .writeByte(4);
        bed.sockets[0].writeInbound(new DatagramPacket(initial, RELAY, CLIENT));
        bed.sockets[0].writeInbound(shortHeader(9, 5)); // no such worker: the codec answers as to an unknown ID
        ByteBuf runt = Unpooled.buffer().writeByte(0x40).writeShort(1).writeByte(6);
        bed.sockets[0].writeInbound(new DatagramPacket(runt, RELAY, CLIENT));
        bed.sockets[1].runPendingTasks();
        assertThat(bed.codecs[0].events).containsExactly("read 4", "complete", "read 5", "complete", "read 6",
                "complete");
        assertThat(bed.codecs[1].events).isEmpty();
    }

    @Test
    void aBurstIsOneBatchAndAFullQueueDropsAndCounts() {
        Workers bed = workers(2);
        int queued = QuicPacketHandOver.HANDOFF_PACKETS;
        for (int i = 0; i < queued + 3; i++) {
            bed.sockets[0].pipeline().fireChannelRead(shortHeader(1, i & 0x7F));
        }
        assertThat(bed.counters.get(Counter.DROP_QUIC_HANDOFF_FULL)).isEqualTo(3);
        bed.sockets[1].runPendingTasks();
        List<String> events = bed.codecs[1].events;
        assertThat(events).hasSize(queued + 1);
        assertThat(events.getLast()).isEqualTo("complete");
        assertThat(events.stream().filter("complete"::equals).count()).as("one read-complete for the batch")
                .isEqualTo(1);
    }
}

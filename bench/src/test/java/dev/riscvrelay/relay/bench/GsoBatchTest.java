package dev.riscvrelay.relay.bench;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.channel.socket.DatagramPacket;
import io.netty.channel.unix.SegmentedDatagramPacket;
import java.net.InetSocketAddress;
import org.junit.jupiter.api.Test;

class GsoBatchTest {

    private static final InetSocketAddress PEER = new InetSocketAddress("127.0.0.1", 4000);

    private static ByteBuf frame(int length, int fill) {
        ByteBuf frame = Unpooled.directBuffer(length);
        for (int i = 0; i < length; i++) {
            frame.writeByte(fill);
        }
        return frame;
    }

    @Test
    void equalFramesOfATurnLeaveAsOneSegmentedPacketAndAShortLastOneJoinsThem() {
        EmbeddedChannel channel = new EmbeddedChannel();
        GsoBatch batch = new GsoBatch(channel, PEER, true);

        assertThat(batch.add(frame(100, 1))).as("first frame opens the batch").isTrue();
        assertThat(batch.add(frame(100, 2))).isFalse();
        assertThat(batch.add(frame(60, 3))).isFalse();
        batch.writeOut();
        batch.writeOut(); // nothing more gathered: writes nothing
        channel.flush();

        SegmentedDatagramPacket packet = channel.readOutbound();
        assertThat(packet.segmentSize()).isEqualTo(100);
        assertThat(packet.recipient()).isEqualTo(PEER);
        assertThat(packet.content().readableBytes()).isEqualTo(260);
        assertThat(packet.content().getByte(100)).isEqualTo((byte) 2);
        assertThat(packet.content().getByte(259)).isEqualTo((byte) 3);
        assertThat((Object) channel.readOutbound()).isNull();
        packet.release();
        channel.finishAndReleaseAll();
    }

    @Test
    void aLongerFrameOrAFrameAfterAShortOneStartsTheNextPacket() {
        EmbeddedChannel channel = new EmbeddedChannel();
        GsoBatch batch = new GsoBatch(channel, PEER, true);

        batch.add(frame(100, 1));
        batch.add(frame(200, 2)); // longer: the first leaves alone, as a plain datagram
        batch.add(frame(50, 3)); // shorter: joins as the last segment
        assertThat(batch.add(frame(50, 4))).as("after a short segment nothing may follow").isTrue();
        batch.writeOut();
        channel.flush();

        DatagramPacket first = channel.readOutbound();
        assertThat(first).isNotInstanceOf(SegmentedDatagramPacket.class);
        assertThat(first.content().readableBytes()).isEqualTo(100);
        SegmentedDatagramPacket second = channel.readOutbound();
        assertThat(second.segmentSize()).isEqualTo(200);
        assertThat(second.content().readableBytes()).isEqualTo(250);
        DatagramPacket third = channel.readOutbound();
        assertThat(third).isNotInstanceOf(SegmentedDatagramPacket.class);
        assertThat(third.content().getByte(0)).isEqualTo((byte) 4);
        first.release();
        second.release();
        third.release();
        channel.finishAndReleaseAll();
    }

    @Test
    void aFullBatchLeavesAndWithoutGsoEveryFrameIsItsOwnDatagram() {
        EmbeddedChannel channel = new EmbeddedChannel();
        GsoBatch batch = new GsoBatch(channel, PEER, true);
        for (int i = 0; i < GsoBatch.MAX_SEGMENTS + 1; i++) {
            batch.add(frame(64, i));
        }
        batch.writeOut();
        channel.flush();
        SegmentedDatagramPacket full = channel.readOutbound();
        assertThat(full.content().readableBytes()).isEqualTo(64 * GsoBatch.MAX_SEGMENTS);
        DatagramPacket rest = channel.readOutbound();
        assertThat(rest.content().readableBytes()).isEqualTo(64);
        full.release();
        rest.release();

        GsoBatch plain = new GsoBatch(channel, PEER, false);
        plain.add(frame(64, 1));
        plain.add(frame(64, 2));
        plain.writeOut();
        channel.flush();
        DatagramPacket a = channel.readOutbound();
        DatagramPacket b = channel.readOutbound();
        assertThat(a).isNotInstanceOf(SegmentedDatagramPacket.class);
        assertThat(b.content().getByte(0)).isEqualTo((byte) 2);
        a.release();
        b.release();
        channel.finishAndReleaseAll();
    }

    @Test
    void discardReleasesWhatWasGathered() {
        EmbeddedChannel channel = new EmbeddedChannel();
        GsoBatch batch = new GsoBatch(channel, PEER, true);
        ByteBuf frame = frame(64, 1);
        batch.add(frame);
        assertThat(frame.refCnt()).as("copied and released").isZero();
        batch.discard();
        batch.writeOut();
        channel.flush();
        assertThat((Object) channel.readOutbound()).isNull();
        channel.finishAndReleaseAll();
    }
}

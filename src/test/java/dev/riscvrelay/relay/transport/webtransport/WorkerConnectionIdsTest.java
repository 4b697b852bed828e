package dev.riscvrelay.relay.transport.webtransport;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.nio.ByteBuffer;
import org.junit.jupiter.api.Test;

/** Connection IDs that name their worker, and reading the worker back from a packet. */
class WorkerConnectionIdsTest {

    @Test
    void anIdStartsWithItsWorkerAndIsRandomAfter() {
        WorkerConnectionIds ids = new WorkerConnectionIds(3);
        ByteBuffer first = ids.newId(WorkerConnectionIds.LENGTH);
        ByteBuffer second = ids.newId(ByteBuffer.allocate(8), WorkerConnectionIds.LENGTH);
        assertThat(first.remaining()).isEqualTo(20);
        assertThat(first.getShort(0)).isEqualTo((short) 3);
        assertThat(second.getShort(0)).isEqualTo((short) 3);
        assertThat(first).isNotEqualTo(second);
        assertThat(ids.isIdempotent()).isFalse();
        assertThatThrownBy(() -> new WorkerConnectionIds(70_000)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void theOwnerOfAShortHeaderPacketIsReadFromItsDestinationId() {
        ByteBuf packet = Unpooled.buffer().writeByte(0x43).writeBytes(new WorkerConnectionIds(513).newId(20))
                .writeZero(20);
        packet.readerIndex(0);
        assertThat(WorkerConnectionIds.owner(packet)).isEqualTo(513);
        assertThat(packet.readerIndex()).as("the packet is left as it was").isZero();
        ByteBuf handshake = Unpooled.buffer().writeByte(0xE0).writeZero(40);
        assertThat(WorkerConnectionIds.owner(handshake)).as("a long header").isEqualTo(-1);
        ByteBuf tooShort = Unpooled.buffer().writeByte(0x40).writeZero(10);
        assertThat(WorkerConnectionIds.owner(tooShort)).isEqualTo(-1);
    }
}

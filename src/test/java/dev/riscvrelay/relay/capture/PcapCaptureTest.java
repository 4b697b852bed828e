package dev.riscvrelay.relay.capture;

import static org.assertj.core.api.Assertions.assertThat;

import dev.riscvrelay.relay.metrics.Counter;
import dev.riscvrelay.relay.metrics.Counters;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The file format, byte by byte; {@code OperationsIT} has tshark read a capture of real traffic. */
class PcapCaptureTest {

    @TempDir
    Path dir;

    @Test
    void writesTheLibpcapHeaderAndOneRecordPerFrameLeavingTheFrameUntouched() throws Exception {
        Counters counters = new Counters();
        Path file = dir.resolve("lan.pcap");
        byte[] first = new byte[60];
        Arrays.fill(first, (byte) 0xab);
        byte[] second = new byte[1199];
        Arrays.fill(second, (byte) 0x5a);
        long before = System.currentTimeMillis() * 1000;
        try (PcapCapture capture = PcapCapture.start(file, counters, 16)) {
            ByteBuf frame = Unpooled.wrappedBuffer(new byte[4], first).skipBytes(4);
            capture.onFrame(frame);
            assertThat(frame.readerIndex()).isEqualTo(4);
            assertThat(frame.refCnt()).isEqualTo(1);
            frame.release();
            ByteBuf big = Unpooled.wrappedBuffer(second);
            capture.onFrame(big);
            big.release();
        }
        long after = System.currentTimeMillis() * 1000;

        ByteBuffer pcap = ByteBuffer.wrap(Files.readAllBytes(file)).order(ByteOrder.LITTLE_ENDIAN);
        assertThat(pcap.getInt()).isEqualTo(0xa1b2c3d4);
        assertThat(pcap.getShort()).isEqualTo((short) 2);
        assertThat(pcap.getShort()).isEqualTo((short) 4);
        assertThat(pcap.getInt()).isZero();
        assertThat(pcap.getInt()).isZero();
        assertThat(pcap.getInt()).isEqualTo(65535);
        assertThat(pcap.getInt()).as("LINKTYPE_ETHERNET").isEqualTo(1);
        for (byte[] expected : new byte[][] {first, second}) {
            long micros = pcap.getInt() * 1_000_000L + pcap.getInt();
            assertThat(micros).isBetween(before - 1000, after + 1000);
            assertThat(pcap.getInt()).isEqualTo(expected.length);
            assertThat(pcap.getInt()).isEqualTo(expected.length);
            byte[] data = new byte[expected.length];
            pcap.get(data);
            assertThat(data).isEqualTo(expected);
        }
        assertThat(pcap.remaining()).isZero();
        assertThat(counters.get(Counter.PCAP_FRAMES_WRITTEN)).isEqualTo(2);
    }

    @Test
    void aFullQueueDropsAndCountsInsteadOfBlocking() throws Exception {
        Counters counters = new Counters();
        Path file = dir.resolve("burst.pcap");
        int offered = 20_000;
        try (PcapCapture capture = PcapCapture.start(file, counters, 4)) {
            ByteBuf frame = Unpooled.wrappedBuffer(new byte[1400]);
            for (int i = 0; i < offered; i++) {
                capture.onFrame(frame);
            }
            frame.release();
        }
        long written = counters.get(Counter.PCAP_FRAMES_WRITTEN);
        long dropped = counters.get(Counter.DROP_PCAP_BEHIND);
        assertThat(written + dropped).isEqualTo(offered);
        assertThat(dropped).as("a 4-frame queue cannot keep up with a tight loop of 20000").isPositive();
        assertThat(Files.size(file)).isEqualTo(24 + written * (16 + 1400));
    }
}

package dev.riscvrelay.relay.bench.micro;

import dev.riscvrelay.relay.lan.NetworkConfig;
import dev.riscvrelay.relay.metrics.Counters;
import dev.riscvrelay.relay.switching.LearningSwitch;
import dev.riscvrelay.relay.switching.MacTable;
import dev.riscvrelay.relay.switching.Port;
import dev.riscvrelay.relay.wire.EthernetFrame;
import dev.riscvrelay.relay.wire.Ipv4Packet;
import dev.riscvrelay.relay.wire.MacAddress;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * The per-frame hot path, piece by piece: the flyweight views over a frame and the switch's lookup and forward.
 * Each must allocate nothing per operation ({@code -prof gc}: gc.alloc.rate.norm = 0 B/op).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class HotPathBenchmarks {

    private static final long A = MacAddress.parse("52:54:00:00:00:0a");
    private static final long B = MacAddress.parse("52:54:00:00:00:0b");

    private ByteBuf frame;
    private final EthernetFrame ethernet = new EthernetFrame();
    private final Ipv4Packet ipv4 = new Ipv4Packet();
    private MacTable macTable;
    private LearningSwitch lan;
    private Port portA;
    private Port portB;
    private long now;

    /** A port that counts and releases what it gets, as a transport's queue would take it. */
    private static final class SinkPort implements Port {
        long frames;

        @Override
        public void send(ByteBuf frame) {
            frames++;
            frame.release();
        }

        @Override
        public int maxFrameSize() {
            return 1514;
        }

        @Override
        public String name() {
            return "sink";
        }
    }

    @Setup
    public void setUp() {
        // A 98-byte ICMP echo in IPv4 in Ethernet, B -> A.
        frame = Unpooled.directBuffer(128);
        EthernetFrame.writeHeader(frame, 0, A, B, EthernetFrame.TYPE_IPV4);
        Ipv4Packet.writeHeader(frame, 14, 84, 1, true, 64, Ipv4Packet.PROTOCOL_ICMP, 0x0A00020F, 0x0A000202);
        frame.writerIndex(98);
        macTable = new MacTable(4096, TimeUnit.SECONDS.toNanos(300));
        now = System.nanoTime();
        for (int i = 0; i < 1000; i++) {
            macTable.learn(0x0200_0000_0000L | i, i % 16, now);
        }
        macTable.learn(A, 3, now);
        lan = new LearningSwitch(NetworkConfig.defaults(), new Counters(), () -> now);
        portA = new SinkPort();
        portB = new SinkPort();
        lan.attach(portA);
        lan.attach(portB);
        // Teach the switch both MACs, so forward() below is a learned unicast B -> A.
        ByteBuf fromA = Unpooled.directBuffer(64);
        EthernetFrame.writeHeader(fromA, 0, B, A, EthernetFrame.TYPE_IPV4);
        fromA.writerIndex(60);
        lan.forward(portA, fromA);
        lan.forward(portB, frame.retain());
    }

    @TearDown
    public void tearDown() {
        frame.release();
    }

    @Benchmark
    public long ethernetWrapAndRead() {
        ethernet.wrap(frame);
        return ethernet.destination() ^ ethernet.source() ^ ethernet.etherType() ^ ethernet.payloadLength();
    }

    @Benchmark
    public long ipv4WrapAndRead() {
        ethernet.wrap(frame);
        ipv4.wrap(frame, ethernet.payloadOffset(), ethernet.payloadLength());
        return ipv4.source() ^ ipv4.destination() ^ ipv4.protocol() ^ ipv4.ttl() ^ ipv4.payloadLength();
    }

    @Benchmark
    public int macTableLookup() {
        return macTable.lookup(A, now);
    }

    /** A learned unicast B -> A through the switch: learn the source, look up the destination, hand over. */
    @Benchmark
    public void switchForward() {
        lan.forward(portB, frame.retain());
    }
}

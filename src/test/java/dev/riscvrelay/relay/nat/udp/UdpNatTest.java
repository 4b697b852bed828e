package dev.riscvrelay.relay.nat.udp;

import static org.assertj.core.api.Assertions.assertThat;

import dev.riscvrelay.relay.lan.NetworkConfig;
import dev.riscvrelay.relay.metrics.Counter;
import dev.riscvrelay.relay.metrics.Counters;
import dev.riscvrelay.relay.nat.NatConfig;
import dev.riscvrelay.relay.nat.TestFrames;
import dev.riscvrelay.relay.nat.VmFrames;
import dev.riscvrelay.relay.wire.Ipv4Address;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.EpollIoHandler;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.Callable;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The UDP flow table's keys, limits and expiry, with real sockets on loopback and a fake clock. */
class UdpNatTest {

    private static final long VM_A_MAC = 0x0252_5400_000AL;
    private static final long VM_B_MAC = 0x0252_5400_000BL;
    private static final long VM_C_MAC = 0x0252_5400_000CL;
    private static final int VM_A = Ipv4Address.parse("10.0.2.15");
    private static final int VM_B = Ipv4Address.parse("10.0.2.16");
    private static final int VM_C = Ipv4Address.parse("10.0.2.17");
    private static final int LOOPBACK = Ipv4Address.parse("127.0.0.1");

    private final AtomicLong now = new AtomicLong(1_000_000_000L);
    private final Counters counters = new Counters();
    private final BlockingQueue<ByteBuf> emitted = new LinkedBlockingQueue<>();
    private EventLoopGroup group;
    private EventLoop loop;
    private DatagramSocket echo;
    private Thread echoThread;
    private UdpNat nat;

    @BeforeEach
    void start() throws Exception {
        group = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
        loop = group.next();
        echo = new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
        echoThread = Thread.ofPlatform().daemon().name("udp-echo").start(() -> {
            byte[] buffer = new byte[2048];
            try {
                while (true) {
                    DatagramPacket packet = new DatagramPacket(buffer, buffer.length);
                    echo.receive(packet);
                    echo.send(packet);
                }
            } catch (java.io.IOException closed) {
                // socket closed by the test
            }
        });
    }

    @AfterEach
    void stop() throws Exception {
        if (nat != null) {
            onLoop(() -> {
                nat.closeAll();
                return null;
            });
        }
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
        echo.close();
        echoThread.join(5000);
        ByteBuf left;
        while ((left = emitted.poll()) != null) {
            left.release();
        }
    }

    private void newNat(NatConfig config) throws Exception {
        nat = onLoop(() -> new UdpNat(config, new VmFrames(PooledByteBufAllocator.DEFAULT, NetworkConfig.defaults(), config), emitted::add,
                counters, now::get, loop));
    }

    private <T> T onLoop(Callable<T> task) throws Exception {
        return loop.submit(task).get(5, TimeUnit.SECONDS);
    }

    private void send(long mac, int vm, int vmPort, int destinationPort, String text) throws Exception {
        onLoop(() -> {
            TestFrames.deliver(TestFrames.udp(mac, vm, vmPort, LOOPBACK, destinationPort, text.getBytes()),
                    nat::onDatagram);
            return null;
        });
    }

    private int flows() throws Exception {
        return onLoop(() -> nat.flowCount());
    }

    /** Takes {@code count} replies: a reply updates its flow's activity, so none may arrive after the clock moves. */
    private void awaitReplies(int count) throws Exception {
        for (int i = 0; i < count; i++) {
            ByteBuf reply = emitted.poll(5, TimeUnit.SECONDS);
            assertThat(reply).as("echo reply " + i).isNotNull();
            reply.release();
        }
    }

    private void advance(Duration duration) throws Exception {
        now.addAndGet(duration.toNanos());
        onLoop(() -> {
            nat.expireIdle();
            return null;
        });
    }

    @Test
    void oneFlowPerFourTupleAndRepliesReachTheRightVm() throws Exception {
        newNat(NatConfig.defaults());
        int port = echo.getLocalPort();
        send(VM_A_MAC, VM_A, 1000, port, "a1");
        send(VM_A_MAC, VM_A, 1000, port, "a2");
        send(VM_A_MAC, VM_A, 1001, port, "a3");
        send(VM_B_MAC, VM_B, 1000, port, "b1");
        assertThat(flows()).isEqualTo(3);
        assertThat(counters.get(Counter.NAT_UDP_FLOWS_OPENED)).isEqualTo(3);
        for (int i = 0; i < 4; i++) {
            ByteBuf reply = emitted.poll(5, TimeUnit.SECONDS);
            assertThat(reply).isNotNull();
            try {
                TestFrames.Parsed parsed = new TestFrames.Parsed(reply);
                var udp = parsed.udp();
                String text = new String(ByteBufUtil.getBytes(reply, udp.dataOffset(), udp.dataLength()));
                long expectedMac = text.startsWith("a") ? VM_A_MAC : VM_B_MAC;
                assertThat(parsed.ethernet.destination()).isEqualTo(expectedMac);
                assertThat(udp.destinationPort()).isEqualTo(text.equals("a3") ? 1001 : 1000);
                assertThat(udp.sourcePort()).isEqualTo(port);
            } finally {
                reply.release();
            }
        }
    }

    @Test
    void idleFlowsExpireAfterSixtySecondsAndDnsFlowsAfterTen() throws Exception {
        newNat(NatConfig.defaults());
        send(VM_A_MAC, VM_A, 2000, echo.getLocalPort(), "x");
        send(VM_A_MAC, VM_A, 2001, 53, "query"); // only the flow's lifetime is checked
        assertThat(flows()).isEqualTo(2);
        // Both flows answer before the clock moves: the echo, and for port 53 either a resolver's answer or (nothing
        // listening on loopback) an ICMP port unreachable. An answer that came later would count as fresh activity.
        awaitReplies(2);

        advance(Duration.ofSeconds(9));
        assertThat(flows()).isEqualTo(2);
        advance(Duration.ofSeconds(1));
        assertThat(flows()).as("the port-53 flow is gone at 10 s").isEqualTo(1);

        advance(Duration.ofSeconds(40));
        send(VM_A_MAC, VM_A, 2000, echo.getLocalPort(), "still here"); // activity at 50 s
        awaitReplies(1);
        advance(Duration.ofSeconds(59));
        assertThat(flows()).isEqualTo(1);
        advance(Duration.ofSeconds(1));
        assertThat(flows()).isZero();
        assertThat(counters.get(Counter.NAT_UDP_FLOWS_EXPIRED)).isEqualTo(2);
        assertThat(onLoop(() -> nat.flowCount(VM_A_MAC))).isZero();
    }

    @Test
    void perVmAndTotalLimitsRefuseAndCountNewFlows() throws Exception {
        newNat(NatConfig.defaults().withUdpLimits(2, 3));
        int port = echo.getLocalPort();
        send(VM_A_MAC, VM_A, 3000, port, "1");
        send(VM_A_MAC, VM_A, 3001, port, "2");
        send(VM_A_MAC, VM_A, 3002, port, "refused: VM A holds 2");
        assertThat(counters.get(Counter.DROP_NAT_UDP_VM_LIMIT)).isEqualTo(1);
        send(VM_A_MAC, VM_A, 3000, port, "an existing flow still works");
        assertThat(counters.get(Counter.NAT_UDP_DATAGRAMS_OUT)).isEqualTo(3);

        send(VM_B_MAC, VM_B, 3000, port, "3");
        send(VM_C_MAC, VM_C, 3000, port, "refused: table holds 3");
        assertThat(counters.get(Counter.DROP_NAT_UDP_TABLE_FULL)).isEqualTo(1);
        assertThat(flows()).isEqualTo(3);
        awaitReplies(4);

        advance(Duration.ofSeconds(60));
        send(VM_C_MAC, VM_C, 3000, port, "room again after expiry");
        assertThat(flows()).isEqualTo(1);
    }

    @Test
    void badChecksumsAndPortZeroAreDroppedAndCounted() throws Exception {
        newNat(NatConfig.defaults());
        onLoop(() -> {
            ByteBuf frame = TestFrames.udp(VM_A_MAC, VM_A, 4000, LOOPBACK, echo.getLocalPort(), "x".getBytes());
            frame.setByte(42, 'y'); // payload changed after the checksum was computed
            TestFrames.deliver(frame, nat::onDatagram);
            return null;
        });
        send(VM_A_MAC, VM_A, 4000, 0, "to port zero");
        assertThat(counters.get(Counter.DROP_NAT_BAD_PACKET)).isEqualTo(2);
        assertThat(flows()).isZero();
    }

}

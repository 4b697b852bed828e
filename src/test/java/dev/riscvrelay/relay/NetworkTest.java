package dev.riscvrelay.relay;

import static org.assertj.core.api.Assertions.assertThat;

import dev.riscvrelay.relay.lan.NanoClock;
import dev.riscvrelay.relay.metrics.Counter;
import dev.riscvrelay.relay.metrics.Counters;
import dev.riscvrelay.relay.nat.HostBudget;
import dev.riscvrelay.relay.nat.TestFrames;
import dev.riscvrelay.relay.switching.Port;
import dev.riscvrelay.relay.wire.Ipv4Address;
import io.netty.buffer.ByteBuf;
import io.netty.channel.IoEventLoop;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.Callable;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** One whole network (switch, gateway, NAT) on a real loop, a VM port on it and a UDP echo server on loopback. */
class NetworkTest {

    private static final long VM_MAC = 0x02_00_00_00_00_31L;
    private static final int VM_ADDRESS = Ipv4Address.parse("10.0.2.31");
    /** Not 127.0.0.1: the egress policy denies the host's own addresses whatever the rules allow. */

    private final MultiThreadIoEventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    private final IoEventLoop loop = (IoEventLoop) group.next();
    private final Counters counters = new Counters();
    private final BlockingQueue<ByteBuf> toVm = new LinkedBlockingQueue<>();
    private final Port vm = new Port() {
        @Override
        public void send(ByteBuf frame) {
            toVm.add(frame);
        }

        @Override
        public int maxFrameSize() {
            return 1514;
        }

        @Override
        public String name() {
            return "vm";
        }
    };
    private final HostBudget budget = new HostBudget(new HostBudget.Limits(64, 1 << 20, 1, 1));
    private Network network;

    @AfterEach
    void stop() throws Exception {
        if (network != null) {
            onLoop(() -> {
                network.close();
                return null;
            });
        }
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
        ByteBuf left;
        while ((left = toVm.poll()) != null) {
            left.release();
        }
    }

    @Test
    void aNatReplyIsCountedOutToTheVmButNotAsAFrameIn() throws Exception {
        try (OneShotUdpEcho echo = new OneShotUdpEcho()) {
            RelayConfig config = OneShotUdpEcho.relayConfig();
            network = onLoop(() -> Network.create("test", config, loop, counters, NanoClock.SYSTEM, budget));
            onLoop(() -> {
                network.lan().attach(vm);
                network.lan().forward(vm, TestFrames.udp(VM_MAC, VM_ADDRESS, 40000, echo.address(), echo.port(),
                        "ping".getBytes()));
                return null;
            });

            ByteBuf reply = toVm.poll(5, TimeUnit.SECONDS);
            assertThat(reply).as("the echo's reply on the VM's port").isNotNull();
            reply.release();
            long[] seen = onLoop(() -> new long[] {counters.get(Counter.FRAMES_IN), counters.get(Counter.FRAMES_OUT),
                    counters.get(Counter.NAT_UDP_DATAGRAMS_IN)});
            assertThat(seen[0]).as("frames in: the VM's datagram only").isEqualTo(1);
            assertThat(seen[1]).as("frames out: to the gateway, then the reply to the VM").isEqualTo(2);
            assertThat(seen[2]).as("the reply, counted by the NAT as it came in from the outside").isEqualTo(1);
            assertThat(onLoop(budget::sockets)).as("the flow's host socket, out of the relay's budget").isEqualTo(1);

            onLoop(() -> {
                network.close();
                return null;
            });
            network = null;
            assertThat(onLoop(budget::sockets)).as("a freed network gives its sockets back").isZero();
        }
    }

    private <T> T onLoop(Callable<T> task) throws Exception {
        return loop.submit(task).get(5, TimeUnit.SECONDS);
    }
}

package dev.riscvrelay.relay;

import static org.assertj.core.api.Assertions.assertThat;

import dev.riscvrelay.relay.metrics.Counters;
import dev.riscvrelay.relay.nat.TestFrames;
import dev.riscvrelay.relay.ops.api.MemberPage;
import dev.riscvrelay.relay.ops.api.MemberView;
import dev.riscvrelay.relay.ops.api.NetworkView;
import dev.riscvrelay.relay.switching.Member;
import dev.riscvrelay.relay.switching.Port;
import dev.riscvrelay.relay.wire.Ipv4Address;
import io.netty.buffer.ByteBuf;
import io.netty.channel.IoEventLoop;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.Callable;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.ObjLongConsumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The operator's view of a whole network on a real loop: members attached in-process, a real NAT flow. */
class NetworkViewsTest {

    private static final long VM_MAC = 0x02_00_00_00_00_51L;
    private static final int VM_ADDRESS = Ipv4Address.parse("10.0.2.51");

    private final MultiThreadIoEventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    private final IoEventLoop loop = (IoEventLoop) group.next();
    private final Counters counters = new Counters();
    private Networks networks;

    /** A member that keeps what it is sent and remembers being disconnected. */
    private static final class TestMember implements Port, Member {
        final BlockingQueue<ByteBuf> received = new LinkedBlockingQueue<>();
        final int clientPort;
        String disconnectedFor;

        TestMember(int clientPort) {
            this.clientPort = clientPort;
        }

        @Override
        public void send(ByteBuf frame) {
            received.add(frame);
        }

        @Override
        public int maxFrameSize() {
            return 1514;
        }

        @Override
        public String name() {
            return "member " + clientPort;
        }

        @Override
        public String transport() {
            return "test";
        }

        @Override
        public InetSocketAddress clientAddress() {
            return new InetSocketAddress(InetAddress.getLoopbackAddress(), clientPort);
        }

        @Override
        public long connectedSinceMillis() {
            return 1_000L * clientPort;
        }

        @Override
        public void forEachDrop(ObjLongConsumer<String> reasonAndCount) {
            reasonAndCount.accept("queue_full", clientPort);
        }

        @Override
        public void disconnect(String reason) {
            disconnectedFor = reason;
        }

        void releaseAll() {
            ByteBuf frame;
            while ((frame = received.poll()) != null) {
                frame.release();
            }
        }
    }

    @AfterEach
    void stop() throws Exception {
        if (networks != null) {
            onLoop(() -> {
                networks.close();
                return null;
            });
        }
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
    }

    @Test
    void aMemberShowsItsMacTrafficNatFlowsAndDropsAndOtherPortsAreNoMembers() throws Exception {
        try (OneShotUdpEcho echo = new OneShotUdpEcho()) {
            RelayConfig config = OneShotUdpEcho.relayConfig();
            networks = onLoop(() -> new Networks(config, loop, counters));
            Network network = networks.defaultNetwork();
            TestMember vm = new TestMember(40001);
            ByteBuf datagram = TestFrames.udp(VM_MAC, VM_ADDRESS, 40000, echo.address(),
                    echo.port(), "ping".getBytes());
            int length = datagram.readableBytes();
            onLoop(() -> {
                network.lan().attach(vm);
                network.lan().forward(vm, datagram);
                return null;
            });
            ByteBuf reply = vm.received.poll(5, TimeUnit.SECONDS);
            assertThat(reply).as("the echo's reply").isNotNull();
            int replyLength = reply.readableBytes();
            reply.release();

            LoopLanInspector inspector = new LoopLanInspector(networks);
            NetworkView view = inspector.network("default", MemberPage.first());

            assertThat(view.name()).isEqualTo("default");
            assertThat(view.memberCount()).as("the gateway is a port, not a member").isEqualTo(1);
            MemberView member = view.members().getFirst();
            assertThat(member.macs()).containsExactly(VM_MAC);
            assertThat(member.addresses()).as("no DHCP lease yet").isEmpty();
            assertThat(member.transport()).isEqualTo("test");
            assertThat(member.client().getPort()).isEqualTo(40001);
            assertThat(member.framesFromMember()).isEqualTo(1);
            assertThat(member.bytesFromMember()).isEqualTo(length);
            assertThat(member.framesToMember()).isEqualTo(1);
            assertThat(member.bytesToMember()).isEqualTo(replyLength);
            assertThat(member.natFlows()).as("one UDP flow to the echo").containsExactly(1, 0, 0);
            assertThat(member.drops()).containsEntry("queue_full", 40001L);
            assertThat(inspector.network("elsewhere", MemberPage.first())).isNull();
            assertThat(inspector.networks(MemberPage.first())).extracting(NetworkView::name).containsExactly("default");
            vm.releaseAll();
        }
    }

    @Test
    void pagesFollowPortOrderAndADisconnectReachesTheMemberItsMacLivesBehind() throws Exception {
        networks = onLoop(() -> new Networks(RelayConfig.defaults(InetAddress.getLoopbackAddress(), 0), loop,
                counters));
        Network network = networks.defaultNetwork();
        List<TestMember> members = List.of(new TestMember(1), new TestMember(2), new TestMember(3));
        onLoop(() -> {
            members.forEach(network.lan()::attach);
            // The second member sends one frame, so the switch learns its MAC behind it.
            network.lan().forward(members.get(1), TestFrames.udp(VM_MAC, 0, 68, -1, 67, new byte[8]));
            return null;
        });
        LoopLanInspector inspector = new LoopLanInspector(networks);

        NetworkView middle = inspector.network("default", new MemberPage(1, 1));
        assertThat(middle.memberCount()).isEqualTo(3);
        assertThat(middle.offset()).isEqualTo(1);
        assertThat(middle.members()).extracting(m -> m.client().getPort()).containsExactly(2);
        assertThat(inspector.network("default", new MemberPage(3, 10)).members()).isEmpty();

        assertThat(inspector.disconnect("default", VM_MAC, "operator")).isTrue();
        assertThat(members.get(1).disconnectedFor).isEqualTo("operator");
        assertThat(members.get(0).disconnectedFor).isNull();
        assertThat(inspector.disconnect("default", 0x02_00_00_00_99_99L, "operator")).isFalse();
        assertThat(inspector.disconnect("elsewhere", VM_MAC, "operator")).isFalse();
        members.forEach(TestMember::releaseAll);
    }

    private <T> T onLoop(Callable<T> task) throws Exception {
        return loop.submit(task).get(5, TimeUnit.SECONDS);
    }
}

package dev.riscvrelay.relay.access;

import static org.assertj.core.api.Assertions.assertThat;

import dev.riscvrelay.relay.access.HostileClient.Session;
import dev.riscvrelay.relay.access.HostileClient.Transport;
import dev.riscvrelay.relay.testbed.CommandResult;
import dev.riscvrelay.relay.testbed.DhcpClients;
import dev.riscvrelay.relay.testbed.FieldBed;
import dev.riscvrelay.relay.testbed.LanHost;
import dev.riscvrelay.relay.testbed.ImpairedLink.LinkProfile;
import dev.riscvrelay.relay.testbed.NetnsTestBed;
import dev.riscvrelay.relay.wire.Ipv4Address;
import io.netty.channel.IoEventLoop;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.EpollIoHandler;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code --subnet 10.0.0.0/16}: a LAN for more than 240 VMs, with a real Linux VM and hundreds of leases on it. */
class BigLanIT {

    @TempDir
    Path work;

    @Test
    void aSixteenBitSubnetLeasesMoreThanTwoHundredFortyAddressesAndALinuxVmUsesIt() throws Exception {
        NetnsTestBed.requireTools("ip", "busybox");
        MultiThreadIoEventLoopGroup loops = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
        List<Session> sessions = new ArrayList<>();
        try (FieldBed field = FieldBed.create()) {
            field.startRelay("big-lan", "--subnet", "10.0.0.0/16", "--max-sessions-per-ip", "100",
                    "--max-leases-per-ip", "400");

            LanHost vm = field.addConnectedHost("vm", LinkProfile.CLEAN);
            vm.namespace().privateResolvConf();
            CommandResult udhcpc = vm.exec(Duration.ofSeconds(30), "busybox", "udhcpc", "-i", "eth0", "-n", "-q",
                    "-t", "5", "-s", DhcpClients.writeUdhcpcScript(work).toString());
            assertThat(udhcpc.succeeded()).as(udhcpc.describe()).isTrue();
            assertThat(vm.exec("ip", "-4", "-o", "addr", "show", "dev", "eth0").orThrow().stdout())
                    .containsPattern("inet 10\\.0\\.\\d+\\.\\d+/16");
            assertThat(vm.exec("ip", "route").orThrow().stdout()).contains("default via 10.0.0.2 dev eth0");
            assertThat(vm.ping("10.0.0.2", 2, 0.2).succeeded()).as("the gateway at host 2").isTrue();
            assertThat(String.join("\n", field.relay().output())).as("printed at start").contains(
                    "LAN 10.0.0.0/16: gateway 10.0.0.2, DNS 10.0.0.3, leases 10.0.0.15..10.0.255.254 (65520)");

            HostileClient client = new HostileClient(field.relayAddress(), FieldBed.RELAY_PORT,
                    field.relay().certificateHash(), (IoEventLoop) loops.next());
            Set<Integer> leased = new HashSet<>();
            for (int s = 0; s < 75; s++) {
                Session session = client.open(s % 2 == 0 ? Transport.WEBSOCKET : Transport.WEBTRANSPORT, "/");
                sessions.add(session);
                for (int mac = 0; mac < 4; mac++) {
                    int address = HostileClient.lease(session, HostileClient.randomMac());
                    assertThat(address).as("lease %d of session %d", mac, s).isNotZero();
                    assertThat(Ipv4Address.format(address)).startsWith("10.0.");
                    leased.add(address);
                }
            }
            assertThat(leased).as("300 VMs on one LAN, each its own address").hasSize(300);
        } finally {
            sessions.forEach(Session::close);
            loops.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
        }
    }
}

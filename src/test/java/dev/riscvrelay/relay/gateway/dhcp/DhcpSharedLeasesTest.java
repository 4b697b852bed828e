package dev.riscvrelay.relay.gateway.dhcp;

import static dev.riscvrelay.relay.gateway.dhcp.DhcpFrames.clientFrame;
import static dev.riscvrelay.relay.gateway.dhcp.DhcpFrames.options;
import static dev.riscvrelay.relay.gateway.dhcp.DhcpFrames.parseReply;
import static dev.riscvrelay.relay.wire.DhcpMessage.ACK;
import static dev.riscvrelay.relay.wire.DhcpMessage.DISCOVER;
import static dev.riscvrelay.relay.wire.DhcpMessage.NAK;
import static dev.riscvrelay.relay.wire.DhcpMessage.OFFER;
import static dev.riscvrelay.relay.wire.DhcpMessage.OPTION_MESSAGE_TYPE;
import static dev.riscvrelay.relay.wire.DhcpMessage.OPTION_REQUESTED_ADDRESS;
import static dev.riscvrelay.relay.wire.DhcpMessage.OPTION_SERVER_IDENTIFIER;
import static dev.riscvrelay.relay.wire.DhcpMessage.REQUEST;
import static org.assertj.core.api.Assertions.assertThat;

import dev.riscvrelay.relay.gateway.GuestLan;
import dev.riscvrelay.relay.gateway.dhcp.DhcpFrames.Reply;
import dev.riscvrelay.relay.lan.NetworkConfig;
import dev.riscvrelay.relay.wire.Ipv4Address;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The DHCP server of one relay of a cluster, beside the leases the other relays hold (a fake shared store). */
class DhcpSharedLeasesTest {

    private static final int GATEWAY = Ipv4Address.parse("10.0.2.2");
    private static final int ADDRESS_15 = Ipv4Address.parse("10.0.2.15");
    private static final int ADDRESS_16 = Ipv4Address.parse("10.0.2.16");
    private static final int ADDRESS_20 = Ipv4Address.parse("10.0.2.20");
    private static final long VM = 0x5255_0a00_0201L;
    private static final long ELSEWHERE = 0x5255_0a00_0299L;

    private final ClusterStore cluster = new ClusterStore();
    private GuestLan lan;

    @BeforeEach
    void start() {
        DhcpServer server = new DhcpServer(NetworkConfig.defaults(), () -> lan.nanoTime[0]);
        server.share(cluster);
        lan = new GuestLan(NetworkConfig.defaults(), server);
    }

    @Test
    void anAddressAnotherRelayLeasedIsNeverOffered() {
        // Every address but two is held on other relays: the VM gets one of the two.
        for (int address = ADDRESS_15; address <= Ipv4Address.parse("10.0.2.254"); address++) {
            if (address != ADDRESS_16 && address != ADDRESS_20) {
                cluster.others.put(address, ELSEWHERE);
            }
        }

        Reply offer = exchange(discover(VM));
        assertThat(offer.messageType()).isEqualTo(OFFER);
        assertThat(offer.yiaddr()).isIn(ADDRESS_16, ADDRESS_20);
        assertThat(cluster.held).containsExactly(Ipv4Address.format(offer.yiaddr()) + " " + Long.toHexString(VM));

        Reply ack = exchange(request(VM, offer.yiaddr()));
        assertThat(ack.messageType()).isEqualTo(ACK);
        assertThat(cluster.held).hasSize(2); // the offer, then the lease
    }

    @Test
    void vmsStartingAtOneMomentOnTwoRelaysAreOfferedDifferentAddresses() {
        // Two relays, neither yet told of the other's offers: each starts its search at a place of the MAC's own,
        // so VMs that start together rarely meet on one address (alone, both would get 10.0.2.15).
        ClusterStore otherStore = new ClusterStore();
        DhcpServer otherServer = new DhcpServer(NetworkConfig.defaults(), () -> 0L);
        otherServer.share(otherStore);
        GuestLan otherRelay = new GuestLan(NetworkConfig.defaults(), otherServer);
        int same = 0;
        java.util.Set<Integer> offered = new java.util.HashSet<>();
        for (int i = 0; i < 20; i++) {
            long here = VM + 2L * i;
            long there = VM + 2L * i + 1;
            int mine = exchange(discover(here)).yiaddr();
            otherRelay.sendFromGuest(discover(there));
            int theirs = parseReply(otherRelay.takeReceived().getFirst()).yiaddr();
            same += mine == theirs ? 1 : 0;
            offered.add(mine);
        }
        assertThat(same).as("pairs offered one address").isLessThanOrEqualTo(2);
        assertThat(offered).as("one relay's offers spread over the pool").hasSizeGreaterThan(15);
    }

    @Test
    void aVmThatMovedFromAnotherRelayGetsItsAddressBack() {
        cluster.others.put(ADDRESS_20, VM); // its lease there, under its own MAC

        assertThat(exchange(discover(VM)).yiaddr()).isEqualTo(ADDRESS_20);
        assertThat(exchange(request(VM, ADDRESS_20)).messageType()).isEqualTo(ACK);
    }

    @Test
    void aRequestForAnAddressHeldElsewhereIsNakedAndARenewalLostToARaceStartsOver() {
        cluster.others.put(ADDRESS_20, ELSEWHERE);
        assertThat(exchange(request(VM, ADDRESS_20)).messageType()).isEqualTo(NAK);

        Reply offer = exchange(discover(VM));
        assertThat(exchange(request(VM, offer.yiaddr())).messageType()).isEqualTo(ACK);
        // Another relay won this address at the same moment: the next renewal is refused, and the lease ends here.
        cluster.others.put(offer.yiaddr(), ELSEWHERE);
        assertThat(exchange(request(VM, offer.yiaddr())).messageType()).isEqualTo(NAK);
        assertThat(cluster.freed).contains(Ipv4Address.format(offer.yiaddr()) + " " + Long.toHexString(VM));
        assertThat(exchange(discover(VM)).yiaddr()).isNotEqualTo(offer.yiaddr());
    }

    private Reply exchange(byte[] frame) {
        lan.sendFromGuest(frame);
        List<byte[]> frames = lan.takeReceived();
        assertThat(frames).hasSize(1);
        return parseReply(frames.get(0));
    }

    private static byte[] discover(long mac) {
        return clientFrame(mac, 0, -1, 0x1234, 0, 0, options(OPTION_MESSAGE_TYPE, DISCOVER));
    }

    /** A SELECTING request for {@code address} from this server. */
    private static byte[] request(long mac, int address) {
        return clientFrame(mac, 0, -1, 0x5678, 0, 0, options(OPTION_MESSAGE_TYPE, REQUEST,
                OPTION_REQUESTED_ADDRESS, DhcpFrames.ipBytes(address), OPTION_SERVER_IDENTIFIER,
                DhcpFrames.ipBytes(GATEWAY)));
    }

    /** What the other relays hold (address to MAC), and what this relay told the cluster. */
    private static final class ClusterStore implements SharedLeases {
        final Map<Integer, Long> others = new HashMap<>();
        final List<String> held = new ArrayList<>();
        final List<String> freed = new ArrayList<>();

        @Override
        public int addressOf(long mac) {
            return others.entrySet().stream().filter(e -> e.getValue() == mac).mapToInt(Map.Entry::getKey)
                    .findFirst().orElse(0);
        }

        @Override
        public boolean heldByOther(int address, long mac) {
            Long holder = others.get(address);
            return holder != null && holder != mac;
        }

        @Override
        public void held(int address, long mac) {
            held.add(Ipv4Address.format(address) + " " + Long.toHexString(mac));
        }

        @Override
        public void freed(int address, long mac) {
            freed.add(Ipv4Address.format(address) + " " + Long.toHexString(mac));
        }
    }
}

package dev.riscvrelay.relay;

import dev.riscvrelay.relay.ops.api.MemberPage;
import dev.riscvrelay.relay.ops.api.MemberView;
import dev.riscvrelay.relay.ops.api.NetworkView;
import dev.riscvrelay.relay.switching.Member;
import dev.riscvrelay.relay.switching.Port;
import dev.riscvrelay.relay.switching.PortTraffic;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Copies one network and a page of its members into views for the admin thread. Runs on the network's loop, which owns
 * the switch, the MAC table and the DHCP leases; it walks the ports once and the MAC table once, and copies only the
 * members on the page, so a network of thousands of members costs a page's worth of copies.
 */
final class NetworkViews {

    private NetworkViews() {
    }

    /** On the network's loop; {@code worker} is that loop's index. */
    static NetworkView view(Network network, int worker, MemberPage page) {
        List<Member> onPage = new ArrayList<>();
        Map<Port, PortTraffic> trafficOf = new IdentityHashMap<>();
        int[] memberCount = {0};
        network.lan().forEachPort((port, traffic) -> {
            if (port instanceof Member member) {
                int position = memberCount[0]++;
                if (position >= page.offset() && onPage.size() < page.limit()) {
                    onPage.add(member);
                    trafficOf.put(port, traffic);
                }
            }
        });
        Map<Port, long[]> macsOf = new IdentityHashMap<>();
        if (!onPage.isEmpty()) {
            network.lan().forEachLearnedMac((mac, port) -> {
                if (trafficOf.containsKey(port)) {
                    long[] known = macsOf.get(port);
                    long[] more = known == null ? new long[1] : Arrays.copyOf(known, known.length + 1);
                    more[more.length - 1] = mac;
                    macsOf.put(port, more);
                }
            });
        }
        List<MemberView> members = new ArrayList<>(onPage.size());
        for (Member member : onPage) {
            Port port = (Port) member;
            long[] macs = macsOf.getOrDefault(port, new long[0]);
            Arrays.sort(macs);
            members.add(memberView(network, worker, member, trafficOf.get(port), macs));
        }
        return new NetworkView(network.name(), worker, memberCount[0], network.dhcp().boundLeases(), page.offset(),
                List.copyOf(members));
    }

    private static MemberView memberView(Network network, int networkWorker, Member member, PortTraffic traffic,
            long[] macs) {
        int[] addresses = Arrays.stream(macs).mapToInt(mac -> network.dhcp().leasedAddressOf(mac))
                .filter(address -> address != 0).toArray();
        Map<String, Long> drops = new LinkedHashMap<>();
        member.forEachDrop(drops::put);
        int[] natFlows = new int[3];
        for (long mac : macs) {
            natFlows[0] += network.nat().udp().flowCount(mac);
            natFlows[1] += network.nat().icmp().flowCount(mac);
            natFlows[2] += network.nat().tcp().connectionCount(mac);
        }
        return new MemberView(macs, addresses, member.transport(), member.clientAddress(),
                member.connectedSinceMillis(), member.worker() == Member.LAN_LOOP ? networkWorker : member.worker(),
                traffic.framesFromPort(), traffic.bytesFromPort(),
                traffic.framesToPort(), traffic.bytesToPort(), drops, natFlows);
    }
}

package dev.riscvrelay.relay.ops.api;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetSocketAddress;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ApiJsonTest {

    @Test
    void aNetworkWithOneMemberReadsAsJson() {
        Map<String, Long> drops = new LinkedHashMap<>();
        drops.put("rate_limited", 3L);
        drops.put("queue_full", 0L);
        MemberView member = new MemberView(new long[] {0x02_00_00_00_00_42L}, new int[] {0x0a00020f}, "websocket",
                new InetSocketAddress("127.0.0.1", 40000), 1_700_000_000_000L, 1, 5, 500, 7, 700, drops, new int[] {1, 2, 3});
        NetworkView network = new NetworkView("la\"b", 1, 12, 1, 10, List.of(member));

        assertThat(ApiJson.networks(List.of(network), new MemberPage(10, 1))).isEqualTo(
                "{\"networks\":[{\"name\":\"la\\\"b\",\"worker\":1,\"memberCount\":12,\"dhcpLeases\":1,\"offset\":10,\"limit\":1,"
                        + "\"members\":[{\"macs\":[\"02:00:00:00:00:42\"],\"addresses\":[\"10.0.2.15\"],"
                        + "\"transport\":\"websocket\",\"client\":\"127.0.0.1:40000\","
                        + "\"connectedSince\":\"2023-11-14T22:13:20Z\",\"worker\":1,"
                        + "\"fromMember\":{\"frames\":5,\"bytes\":500},\"toMember\":{\"frames\":7,\"bytes\":700},"
                        + "\"drops\":{\"rate_limited\":3,\"queue_full\":0},"
                        + "\"natFlows\":{\"udp\":1,\"icmp\":2,\"tcp\":3}}]}]}\n");
    }

    @Test
    void aMemberWithoutAddressesOrClientHasEmptyListsAndNull() {
        MemberView member = new MemberView(new long[0], new int[0], "webtransport", null, 0, 0, 0, 0, 0, 0, Map.of(),
                new int[3]);
        assertThat(ApiJson.network(new NetworkView("default", 0, 1, 0, 0, List.of(member)), MemberPage.first()))
                .contains("\"macs\":[],\"addresses\":[],\"transport\":\"webtransport\",\"client\":null,")
                .endsWith("\"drops\":{},\"natFlows\":{\"udp\":0,\"icmp\":0,\"tcp\":0}}]}\n");
    }
}

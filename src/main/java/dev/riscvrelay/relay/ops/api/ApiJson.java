package dev.riscvrelay.relay.ops.api;

import dev.riscvrelay.relay.wire.Ipv4Address;
import dev.riscvrelay.relay.wire.MacAddress;
import java.net.InetSocketAddress;
import java.time.Instant;
import java.util.List;
import java.util.Map;

/** The API's views as JSON, written on the admin thread from the copies the event loop made. */
public final class ApiJson {

    private ApiJson() {
    }

    /** {@code {"networks":[...]}}. */
    public static String networks(List<NetworkView> networks, MemberPage page) {
        StringBuilder json = new StringBuilder(256 + 400 * networks.stream().mapToInt(n -> n.members().size()).sum());
        json.append("{\"networks\":[");
        for (int i = 0; i < networks.size(); i++) {
            if (i > 0) {
                json.append(',');
            }
            appendNetwork(json, networks.get(i), page);
        }
        return json.append("]}\n").toString();
    }

    /** One network and its page of members. */
    public static String network(NetworkView network, MemberPage page) {
        return appendNetwork(new StringBuilder(256 + 400 * network.members().size()), network, page).append('\n')
                .toString();
    }

    /** Appends one network and its page of members as a JSON object. */
    public static StringBuilder appendNetwork(StringBuilder json, NetworkView network, MemberPage page) {
        json.append("{\"name\":");
        Json.quote(json, network.name());
        json.append(",\"worker\":").append(network.worker())
                .append(",\"memberCount\":").append(network.memberCount())
                .append(",\"dhcpLeases\":").append(network.dhcpLeases())
                .append(",\"offset\":").append(network.offset())
                .append(",\"limit\":").append(page.limit())
                .append(",\"members\":[");
        List<MemberView> members = network.members();
        for (int i = 0; i < members.size(); i++) {
            if (i > 0) {
                json.append(',');
            }
            member(json, members.get(i));
        }
        return json.append("]}");
    }

    static void member(StringBuilder json, MemberView member) {
        json.append("{\"macs\":[");
        for (int i = 0; i < member.macs().length; i++) {
            json.append(i > 0 ? ",\"" : "\"").append(MacAddress.format(member.macs()[i])).append('"');
        }
        json.append("],\"addresses\":[");
        for (int i = 0; i < member.addresses().length; i++) {
            json.append(i > 0 ? ",\"" : "\"").append(Ipv4Address.format(member.addresses()[i])).append('"');
        }
        json.append("],\"transport\":");
        Json.quote(json, member.transport());
        json.append(",\"client\":");
        InetSocketAddress client = member.client();
        if (client == null) {
            json.append("null");
        } else {
            Json.quote(json, client.getAddress().getHostAddress() + ":" + client.getPort());
        }
        json.append(",\"connectedSince\":\"").append(Instant.ofEpochMilli(member.connectedSinceMillis())).append('"')
                .append(",\"worker\":").append(member.worker())
                .append(",\"fromMember\":{\"frames\":").append(member.framesFromMember())
                .append(",\"bytes\":").append(member.bytesFromMember())
                .append("},\"toMember\":{\"frames\":").append(member.framesToMember())
                .append(",\"bytes\":").append(member.bytesToMember())
                .append("},\"drops\":{");
        boolean first = true;
        for (Map.Entry<String, Long> drop : member.drops().entrySet()) {
            if (!first) {
                json.append(',');
            }
            first = false;
            Json.quote(json, drop.getKey()).append(':').append(drop.getValue());
        }
        int[] nat = member.natFlows();
        json.append("},\"natFlows\":{\"udp\":").append(nat[0]).append(",\"icmp\":").append(nat[1])
                .append(",\"tcp\":").append(nat[2]).append("}}");
    }
}

package dev.riscvrelay.relay.ops.dashboard;

import dev.riscvrelay.relay.metrics.Counter;
import dev.riscvrelay.relay.metrics.Counters;
import dev.riscvrelay.relay.metrics.LoopSnapshot;
import dev.riscvrelay.relay.ops.api.ApiJson;
import dev.riscvrelay.relay.ops.api.Json;
import dev.riscvrelay.relay.ops.api.LanInspector;
import dev.riscvrelay.relay.ops.api.MemberPage;
import dev.riscvrelay.relay.ops.api.NetworkView;
import dev.riscvrelay.relay.tls.RelayCertificate;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;

/**
 * One dashboard event: the totals exactly as {@code /metrics} counts them (the page derives the rates), drops by
 * reason, the loop's table sizes, the certificate, the running capture and the first members of each network.
 */
public final class DashboardFeed implements Supplier<String> {

    /** Members of each network the dashboard shows; the API pages through the rest. */
    static final MemberPage MEMBERS_SHOWN = new MemberPage(0, 50);

    private final Counters counters;
    private final Supplier<LoopSnapshot> snapshot;
    private final LanInspector lans;
    private final Supplier<RelayCertificate> certificate;
    private final Supplier<Path> capture;

    /** @param capture the file being captured to, or null when none */
    public DashboardFeed(Counters counters, Supplier<LoopSnapshot> snapshot, LanInspector lans,
            Supplier<RelayCertificate> certificate, Supplier<Path> capture) {
        this.counters = counters;
        this.snapshot = snapshot;
        this.lans = lans;
        this.certificate = certificate;
        this.capture = capture;
    }

    @Override
    public String get() {
        Instant now = Instant.now();
        LoopSnapshot loop = snapshot.get();
        StringBuilder json = new StringBuilder(4096);
        json.append("{\"time\":").append(now.toEpochMilli())
                .append(",\"sessions\":").append(loop.sessions())
                .append(",\"framesIn\":").append(counters.get(Counter.FRAMES_IN))
                .append(",\"framesOut\":").append(counters.get(Counter.FRAMES_OUT))
                .append(",\"bytesIn\":").append(counters.get(Counter.BYTES_IN))
                .append(",\"bytesOut\":").append(counters.get(Counter.BYTES_OUT));
        appendDrops(json);
        json.append(",\"natFlows\":{\"udp\":").append(loop.udpFlows()).append(",\"icmp\":").append(loop.icmpFlows())
                .append(",\"tcp\":").append(loop.tcpConnections()).append('}')
                .append(",\"dhcpLeases\":").append(loop.dhcpLeases())
                .append(",\"macTableEntries\":").append(loop.macTableEntries());
        RelayCertificate current = certificate.get();
        Instant notAfter = current.leaf().getNotAfter().toInstant();
        json.append(",\"certificate\":{\"sha256\":\"").append(current.sha256Hex()).append('"')
                .append(",\"subject\":");
        Json.quote(json, current.leaf().getSubjectX500Principal().getName());
        json.append(",\"selfSigned\":").append(current.selfSigned())
                .append(",\"notAfter\":\"").append(notAfter).append('"')
                .append(",\"secondsLeft\":").append(Duration.between(now, notAfter).toSeconds()).append('}');
        Path file = capture.get();
        json.append(",\"capture\":");
        if (file == null) {
            json.append("null");
        } else {
            Json.quote(json, file.toString());
        }
        appendNetworks(json);
        return json.append('}').toString();
    }

    /** Every drop counter as {@code relay_drops_total} names its reason, only those that counted something. */
    private void appendDrops(StringBuilder json) {
        long total = 0;
        StringBuilder byReason = new StringBuilder("{");
        for (Counter counter : Counter.values()) {
            if (counter.isDrop()) {
                long value = counters.get(counter);
                total += value;
                if (value > 0) {
                    byReason.append(byReason.length() > 1 ? ",\"" : "\"")
                            .append(counter.dropReason())
                            .append("\":").append(value);
                }
            }
        }
        json.append(",\"drops\":").append(total).append(",\"dropsByReason\":").append(byReason).append('}');
    }

    private void appendNetworks(StringBuilder json) {
        json.append(",\"networks\":");
        List<NetworkView> networks;
        try {
            networks = lans.networks(MEMBERS_SHOWN);
        } catch (TimeoutException e) {
            json.append("null"); // the page keeps the last tables; the totals still move
            return;
        }
        json.append('[');
        for (int i = 0; i < networks.size(); i++) {
            if (i > 0) {
                json.append(',');
            }
            ApiJson.appendNetwork(json, networks.get(i), MEMBERS_SHOWN);
        }
        json.append(']');
    }
}

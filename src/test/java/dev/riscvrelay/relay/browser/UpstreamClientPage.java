package dev.riscvrelay.relay.browser;

import static org.assertj.core.api.Assertions.assertThat;

import dev.riscvrelay.relay.testbed.FieldBed;
import dev.riscvrelay.relay.testbed.ImpairedLink.LinkProfile;
import dev.riscvrelay.relay.testbed.RelayProcess;
import java.io.IOException;
import java.net.URI;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * upstream-client.html: a riscv-vm framed-protocol client and a raw-frame session in one page, which report what
 * they saw and then stay on the LAN answering ARP and ping.
 */
final class UpstreamClientPage {

    /** Assigned exactly as serde writes it, with the default network's settings. */
    private static final Pattern ASSIGNED = Pattern.compile(
            "\\{\"type\":\"Assigned\",\"ip\":\\[10,0,2,(\\d+)],\"gateway\":\\[10,0,2,2],"
                    + "\"netmask\":\\[255,255,255,0],\"dns\":\\[10,0,2,3]}");

    private UpstreamClientPage() {
    }

    /**
     * The page, served by {@code pages}, for the relay on {@code field}; its framed client pings {@code peer} (none
     * when null), its raw session sits at {@code rawAddress}.
     */
    static URI url(TestPageServer pages, FieldBed field, RelayProcess relay, String peer, String rawAddress)
            throws IOException {
        URI relayUrl = URI.create(field.relayUrl(LinkProfile.CLEAN));
        return pages.page("upstream-client.html?relay=" + relayUrl.getHost() + ":" + relayUrl.getPort()
                + "&cert=" + relay.certificateHash() + (peer == null ? "" : "&peer=" + peer) + "&rawIp="
                + rawAddress);
    }

    /** The address the framed client was assigned, after checking every step passed and the Assigned's form. */
    static String assignedAddress(PageReport report) {
        assertThat(report.get("errors")).as("steps that failed: " + report.json()).isEqualTo(List.of());
        Matcher assigned = ASSIGNED.matcher(report.string("assignedJson"));
        assertThat(assigned.matches()).as("Assigned as serde writes it: " + report.string("assignedJson")).isTrue();
        return "10.0.2." + assigned.group(1);
    }
}

package dev.riscvrelay.relay.web;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

class WebContentTest {

    private static String relayJson(WebContent content) throws Exception {
        return new String(content.lookup("/relay.json").bytes(), StandardCharsets.UTF_8);
    }

    @Test
    void relayJsonTellsThePageTheHashPortWebSocketAndItsOtherRelays() throws Exception {
        WebContent content = new WebContent(null, new WebContent.RelayInfo(() -> "ab12", 4433, "wss",
                List.of(URI.create("https://relay-b.example:4433/"), URI.create("https://198.51.100.7:4433/lan"))));
        assertThat(relayJson(content)).isEqualTo("{\"certificateHash\":\"ab12\",\"port\":4433,\"webSocket\":\"wss\","
                + "\"relays\":[\"https://relay-b.example:4433/\",\"https://198.51.100.7:4433/lan\"]}");
    }

    @Test
    void aRelayAloneListsNoOtherRelays() throws Exception {
        WebContent content = new WebContent(null, new WebContent.RelayInfo(() -> "ab12", 4433, "off"));
        assertThat(relayJson(content)).endsWith(",\"relays\":[]}");
        assertThat(new String(content.lookup("/cert-hash").bytes(), StandardCharsets.UTF_8)).isEqualTo("ab12\n");
    }

    @Test
    void theDemoPageAndItsScriptComeFromTheJar() throws Exception {
        WebContent content = new WebContent(null, new WebContent.RelayInfo(() -> "ab12", 4433, "off"));
        String page = new String(content.lookup("/").bytes(), StandardCharsets.UTF_8);
        assertThat(page).contains("relays: params.getAll(\"relay\")", "id=\"relay-status\"");
        String script = new String(content.lookup("/relay-vm.js").bytes(), StandardCharsets.UTF_8);
        assertThat(script).contains("function relayUrls(", "RELAY_MAX_FAILURES");
        assertThat(content.lookup("/../pom.xml")).isNull();
    }
}

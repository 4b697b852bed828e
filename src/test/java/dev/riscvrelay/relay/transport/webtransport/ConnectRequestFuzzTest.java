package dev.riscvrelay.relay.transport.webtransport;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import io.netty.handler.codec.http3.DefaultHttp3Headers;
import io.netty.handler.codec.http3.Http3Headers;

/**
 * Any request headers a client's HEADERS frame can carry past Netty's validation: the server's decision
 * ({@link ConnectStreamHandler#requestStatus}) never throws, and a session is opened exactly for an extended CONNECT
 * whose {@code :protocol} is {@code webtransport} (RFC 9220); every other request gets 404, 400 or 501.
 */
class ConnectRequestFuzzTest {

    private static final String[] NAMES = {":method", ":protocol", ":path", ":scheme", ":authority", "origin",
        "sec-webtransport-http3-draft02", "content-length"};

    @FuzzTest(maxDuration = "60s")
    void requestStatus(FuzzedDataProvider data) {
        Http3Headers headers = new DefaultHttp3Headers(true);
        String method = null;
        String protocol = null;
        int count = data.consumeInt(0, 8);
        for (int i = 0; i < count; i++) {
            String name = data.consumeBoolean() ? data.pickValue(NAMES) : data.consumeString(16);
            String value = data.consumeString(32);
            try {
                headers.add(name, value);
            } catch (RuntimeException invalid) {
                continue; // Netty refuses this header before the handler sees it
            }
            if (method == null && name.equals(":method")) {
                method = value;
            }
            if (protocol == null && name.equals(":protocol")) {
                protocol = value;
            }
        }
        int status = ConnectStreamHandler.requestStatus(headers);
        int expected = !"CONNECT".equals(method) ? 404 : protocol == null ? 400
                : !"webtransport".equals(protocol) ? 501 : 0;
        assertThat(status).isEqualTo(expected);
    }
}

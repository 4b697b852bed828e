package dev.riscvrelay.relay.transport.webtransport;

import io.netty.handler.codec.http3.DefaultHttp3SettingsFrame;
import io.netty.handler.codec.http3.Http3Settings;
import io.netty.handler.codec.http3.Http3SettingsFrame;

/**
 * The HTTP/3 SETTINGS a WebTransport endpoint exchanges. Browsers check them before they send the CONNECT:
 * Chromium (draft-02) needs H3_DATAGRAM and ENABLE_WEBTRANSPORT, Firefox needs ENABLE_WEBTRANSPORT.
 */
public final class WebTransportSettings {

    /** RFC 9220 §3: the peer may send extended CONNECT requests. */
    public static final long ENABLE_CONNECT_PROTOCOL = 0x8;
    /** RFC 9297 §2.1.1: HTTP datagrams are understood. */
    public static final long H3_DATAGRAM = 0x33;
    /** draft-ietf-webtrans-http3-02: the draft Chromium and Firefox speak. */
    public static final long ENABLE_WEBTRANSPORT = 0x2b603742L;
    /** Later drafts (-07 and -09 onward) announce a session limit instead. */
    public static final long WEBTRANSPORT_MAX_SESSIONS_DRAFT07 = 0xc671706aL;
    public static final long WEBTRANSPORT_MAX_SESSIONS = 0x14e9cd29L;

    private WebTransportSettings() {
    }

    /**
     * Settings that keep the ids Netty does not know: with the no-argument {@link Http3Settings} constructor an
     * unknown id is silently dropped, both outbound and from the peer.
     */
    public static Http3Settings keepingUnknownIds() {
        return new Http3Settings((id, value) -> true);
    }

    /** What a WebTransport server announces. */
    public static Http3SettingsFrame serverSettings(int maxSessionsPerConnection) {
        Http3Settings settings = keepingUnknownIds();
        settings.put(ENABLE_CONNECT_PROTOCOL, 1L);
        settings.put(H3_DATAGRAM, 1L);
        settings.put(ENABLE_WEBTRANSPORT, 1L);
        settings.put(WEBTRANSPORT_MAX_SESSIONS_DRAFT07, (long) maxSessionsPerConnection);
        settings.put(WEBTRANSPORT_MAX_SESSIONS, (long) maxSessionsPerConnection);
        return new DefaultHttp3SettingsFrame(settings);
    }

    /** What a WebTransport client announces (as Chromium does). */
    public static Http3SettingsFrame clientSettings() {
        Http3Settings settings = keepingUnknownIds();
        settings.put(H3_DATAGRAM, 1L);
        settings.put(ENABLE_WEBTRANSPORT, 1L);
        return new DefaultHttp3SettingsFrame(settings);
    }

    /** True when a server's settings let a draft-02 client open a session (Chromium's check). */
    public static boolean serverSupportsWebTransport(Http3SettingsFrame settings) {
        Long enabled = settings.settings().get(ENABLE_WEBTRANSPORT);
        Long datagrams = settings.settings().get(H3_DATAGRAM);
        return enabled != null && enabled == 1 && datagrams != null && datagrams == 1;
    }
}

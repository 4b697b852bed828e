package dev.riscvrelay.relay.browser;

/** Headless Chromium and access tokens: see {@link AccessTokenInBrowser}. */
class ChromiumAccessTokenIT extends AccessTokenInBrowser {

    @Override
    Browsers.Kind browser() {
        return Browsers.Kind.CHROMIUM;
    }

    @Override
    String expectedRefusal() {
        return "WebTransportError: Opening handshake failed.";
    }
}

package dev.riscvrelay.relay.browser;

/** Headless Firefox ESR and access tokens: see {@link AccessTokenInBrowser}. */
class FirefoxAccessTokenIT extends AccessTokenInBrowser {

    @Override
    Browsers.Kind browser() {
        return Browsers.Kind.FIREFOX;
    }

    @Override
    String expectedRefusal() {
        return "WebTransportError: WebTransport connection rejected";
    }
}

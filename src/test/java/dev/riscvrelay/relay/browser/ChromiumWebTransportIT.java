package dev.riscvrelay.relay.browser;

/** Headless Chromium against the relay process: see {@link RelayInBrowserScenarios}. */
class ChromiumWebTransportIT extends RelayInBrowserScenarios {

    @Override
    Browsers.Kind browser() {
        return Browsers.Kind.CHROMIUM;
    }

    @Override
    String expectedWrongHashRefusal() {
        return "WebTransportError: Opening handshake failed.";
    }
}

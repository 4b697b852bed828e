package dev.riscvrelay.relay.browser;

/** Headless Firefox ESR against the relay process: see {@link RelayInBrowserScenarios}. */
class FirefoxWebTransportIT extends RelayInBrowserScenarios {

    @Override
    Browsers.Kind browser() {
        return Browsers.Kind.FIREFOX;
    }

    @Override
    String expectedWrongHashRefusal() {
        return "WebTransportError: WebTransport connection rejected";
    }
}

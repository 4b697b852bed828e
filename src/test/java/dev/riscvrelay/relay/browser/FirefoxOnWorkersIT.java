package dev.riscvrelay.relay.browser;

/**
 * {@link FirefoxWebTransportIT}'s scenarios on a relay of four workers, on a network the second one runs
 * ({@link Placement#LAB0_ON_FOUR_WORKERS}).
 */
class FirefoxOnWorkersIT extends FirefoxWebTransportIT {

    @Override
    Placement placement() {
        return Placement.LAB0_ON_FOUR_WORKERS;
    }
}

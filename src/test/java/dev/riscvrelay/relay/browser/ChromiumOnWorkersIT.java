package dev.riscvrelay.relay.browser;

/**
 * {@link ChromiumWebTransportIT}'s scenarios on a relay of four workers, on a network the second one runs
 * ({@link Placement#LAB0_ON_FOUR_WORKERS}).
 */
class ChromiumOnWorkersIT extends ChromiumWebTransportIT {

    @Override
    Placement placement() {
        return Placement.LAB0_ON_FOUR_WORKERS;
    }
}

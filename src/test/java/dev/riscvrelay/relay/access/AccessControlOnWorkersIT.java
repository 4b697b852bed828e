package dev.riscvrelay.relay.access;

/**
 * {@link AccessControlIT} on three workers, more than this machine's cores: its networks spread over them (red runs
 * on another worker than blue and the default network) and its sessions' connections land on any of the three, so
 * frames cross between loops; tokens, anti-spoofing and the limits hold as on one.
 */
class AccessControlOnWorkersIT extends AccessControlIT {

    @Override
    int workers() {
        return 3;
    }
}

package dev.riscvrelay.relay.transport.tap;

import java.io.IOException;

/** A failed system call on a TAP device, with the errno it failed with (0 when none applies). */
public final class TapException extends IOException {

    private static final long serialVersionUID = 1L;

    private final int errno;

    public TapException(String message, int errno) {
        super(message);
        this.errno = errno;
    }

    /** The errno of the failed call, e.g. {@link LinuxSyscalls#EPERM}; 0 when the failure had none. */
    public int errno() {
        return errno;
    }
}

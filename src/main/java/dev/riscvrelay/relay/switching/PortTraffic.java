package dev.riscvrelay.relay.switching;

/**
 * What one port has sent onto the LAN and received from it, as the switch saw it: the per-port share of
 * {@code relay_frames_in_total} and {@code relay_frames_out_total}. Written only by the switch's event loop (a few
 * plain increments per frame, no allocation) and read on that loop too, by whoever takes a snapshot.
 */
public final class PortTraffic {

    private long framesFromPort;
    private long bytesFromPort;
    private long framesToPort;
    private long bytesToPort;

    void countFromPort(int bytes) {
        framesFromPort++;
        bytesFromPort += bytes;
    }

    void countToPort(int bytes) {
        framesToPort++;
        bytesToPort += bytes;
    }

    /** Frames the port handed to the switch (its member sent them). */
    public long framesFromPort() {
        return framesFromPort;
    }

    public long bytesFromPort() {
        return bytesFromPort;
    }

    /** Frames the switch handed to the port (for its member). */
    public long framesToPort() {
        return framesToPort;
    }

    public long bytesToPort() {
        return bytesToPort;
    }
}

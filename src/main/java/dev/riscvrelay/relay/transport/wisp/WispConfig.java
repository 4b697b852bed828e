package dev.riscvrelay.relay.transport.wisp;

import java.time.Duration;

/**
 * Limits of the WISP endpoint; everything a client can make the relay hold is bounded here.
 *
 * @param streamsPerConnection streams one connection may have open (or opening) at once; more get CLOSE 0x49
 * @param bufferPackets the CONTINUE credit: DATA packets a client may send on a TCP stream before the next CONTINUE
 * @param maxMessageBytes the largest WebSocket message (a WISP packet) a client may send; larger ones close the
 *     connection with 1009
 * @param connectionBufferBytes client data one connection may hold for its destinations (not yet taken by their
 *     sockets); DATA past it (a client far beyond its credit) closes its stream with 0x49
 * @param connectTimeout how long a TCP connect may take before CLOSE 0x43
 * @param resolverThreads threads resolving host names with the host's resolver
 * @param resolutionsQueued host names waiting for a resolver thread, all connections together; more get CLOSE 0x49
 */
public record WispConfig(int streamsPerConnection, int bufferPackets, int maxMessageBytes, long connectionBufferBytes,
        Duration connectTimeout, int resolverThreads, int resolutionsQueued) {

    public WispConfig {
        if (streamsPerConnection < 1 || bufferPackets < 2 || maxMessageBytes < 1024 || connectionBufferBytes < 65536
                || resolverThreads < 1 || resolutionsQueued < 1) {
            throw new IllegalArgumentException("WISP limits out of range");
        }
    }

    public static WispConfig defaults() {
        return new WispConfig(1024, 64, 128 * 1024, 16L << 20, Duration.ofSeconds(10), 4, 1024);
    }
}

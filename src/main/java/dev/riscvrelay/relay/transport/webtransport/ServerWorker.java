package dev.riscvrelay.relay.transport.webtransport;

import dev.riscvrelay.relay.metrics.Counters;
import dev.riscvrelay.relay.switching.HandOffQueue;
import io.netty.channel.IoEventLoop;

/**
 * One event loop of the server with its UDP socket: the QUIC connections whose packets it reads are its own. The
 * first worker's loop also owns the LANs (the switches, gateways and NATs); a session on another worker reaches its
 * LAN through two {@link HandOffQueue}s, one each way, drained once per loop turn.
 */
final class ServerWorker {

    /** Frames one hand-off queue holds between a worker and the LAN loop, for all its sessions. */
    static final int HANDOFF_FRAMES = 8192;

    final int index;
    final IoEventLoop loop;
    /** Datagrams of this worker's sessions to the LAN loop; null on the LAN loop's own worker. */
    final HandOffQueue<WebTransportSession> toLan;
    /** Frames from the LAN loop to this worker's sessions; null on the LAN loop's own worker. */
    final HandOffQueue<WebTransportSession> fromLan;
    private final IoEventLoop lanLoop;

    ServerWorker(int index, IoEventLoop loop, IoEventLoop lanLoop, Counters counters) {
        this.index = index;
        this.loop = loop;
        this.lanLoop = lanLoop;
        if (loop == lanLoop) {
            this.toLan = null;
            this.fromLan = null;
        } else {
            this.toLan = new HandOffQueue<>(HANDOFF_FRAMES, lanLoop, WebTransportSession::enterLan, counters);
            this.fromLan = new HandOffQueue<>(HANDOFF_FRAMES, loop, WebTransportSession::sendFromLan, counters);
        }
    }

    /** Whether this worker's loop is the LAN loop (its sessions call the switch directly). */
    boolean ownsLan() {
        return toLan == null;
    }

    /** Runs {@code task} on the LAN loop: at once when this is it, else as a task there (in order). */
    void onLan(Runnable task) {
        if (lanLoop.inEventLoop()) {
            task.run();
        } else {
            lanLoop.execute(task);
        }
    }

    /** Runs {@code task} on this worker's loop: at once when called there, else as a task there. */
    void onWorker(Runnable task) {
        if (loop.inEventLoop()) {
            task.run();
        } else {
            loop.execute(task);
        }
    }

    /** {@code [total, deepest]} frames this worker's sessions queue, as it last looked (every second). */
    volatile int[] queuedFrames = {0, 0};

    /** Frees the datagrams still on their way to the LAN; on the LAN loop, once this worker reads no more. */
    void closeToLan() {
        if (toLan != null) {
            toLan.close();
        }
    }

    /** Frees the frames still on their way from the LAN; on this worker's loop, once the LAN sends no more. */
    void closeFromLan() {
        if (fromLan != null) {
            fromLan.close();
        }
    }
}

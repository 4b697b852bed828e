package dev.riscvrelay.relay.transport.webtransport;

import dev.riscvrelay.relay.metrics.Counters;
import dev.riscvrelay.relay.switching.HandOffQueue;
import io.netty.channel.IoEventLoop;
import java.util.List;

/**
 * One event loop of the server with its UDP socket: the QUIC connections whose packets it reads are its own. Each
 * network (its switch, gateway and NAT) is owned by one of the loops; a session whose network another loop owns
 * reaches it through a {@link LanRoute}: two {@link HandOffQueue}s, one each way, drained once per loop turn.
 */
final class ServerWorker {

    /** Frames one hand-off queue holds between a worker and the loop of a LAN, for all its sessions. */
    static final int HANDOFF_FRAMES = 8192;

    final int index;
    final IoEventLoop loop;
    /** The way to each loop's LANs, by loop index: the own one has no queues. */
    private final LanRoute[] routes;

    /**
     * @param loops every loop of the server, in worker order; {@code loop} is one of them
     */
    ServerWorker(int index, IoEventLoop loop, List<IoEventLoop> loops, Counters counters) {
        this.index = index;
        this.loop = loop;
        this.routes = new LanRoute[loops.size()];
        for (int owner = 0; owner < routes.length; owner++) {
            routes[owner] = new LanRoute(owner, loops.get(owner), loop, counters);
        }
    }

    /** The route to the LANs of loop {@code owner}. */
    LanRoute route(int owner) {
        return routes[owner];
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

    /** Frames this worker's sessions handed to the loops of their LANs so far (from any thread). */
    long framesToLan() {
        long sum = 0;
        for (LanRoute route : routes) {
            sum += route.toLan == null ? 0 : route.toLan.handedOver();
        }
        return sum;
    }

    /** Frames the loops of other LANs handed to this worker's sessions so far (from any thread). */
    long framesFromLan() {
        long sum = 0;
        for (LanRoute route : routes) {
            sum += route.fromLan == null ? 0 : route.fromLan.handedOver();
        }
        return sum;
    }

    /** Frees the datagrams still on their way to loop {@code owner}; on that loop, once this worker reads no more. */
    void closeToLan(int owner) {
        if (routes[owner].toLan != null) {
            routes[owner].toLan.close();
        }
    }

    /** Frees the frames still on their way from other loops; on this worker's loop, once they send no more. */
    void closeFromLan() {
        for (LanRoute route : routes) {
            if (route.fromLan != null) {
                route.fromLan.close();
            }
        }
    }

    /**
     * How the sessions of one worker reach the LANs of one loop: directly when it is the worker's own, else through
     * a queue each way. Each queue has one producer thread and one consumer loop.
     */
    static final class LanRoute {
        /** The loop index of the LANs this route leads to. */
        final int owner;
        /** Datagrams of the worker's sessions to the LAN's loop; null when that is the worker's own. */
        final HandOffQueue<WebTransportSession> toLan;
        /** Frames from the LAN's loop to the worker's sessions; null when that is the worker's own. */
        final HandOffQueue<WebTransportSession> fromLan;
        private final IoEventLoop lanLoop;

        LanRoute(int owner, IoEventLoop lanLoop, IoEventLoop workerLoop, Counters counters) {
            this.owner = owner;
            this.lanLoop = lanLoop;
            if (lanLoop == workerLoop) {
                this.toLan = null;
                this.fromLan = null;
            } else {
                this.toLan = new HandOffQueue<>(HANDOFF_FRAMES, lanLoop, WebTransportSession::enterLan, counters);
                this.fromLan = new HandOffQueue<>(HANDOFF_FRAMES, workerLoop, WebTransportSession::sendFromLan,
                        counters);
            }
        }

        /** Whether the LAN's loop is the worker's own (its sessions call the switch directly). */
        boolean local() {
            return toLan == null;
        }

        /** Runs {@code task} on the LAN's loop: at once when this is it, else as a task there (in order). */
        void onLan(Runnable task) {
            if (lanLoop.inEventLoop()) {
                task.run();
            } else {
                lanLoop.execute(task);
            }
        }
    }
}

package dev.riscvrelay.relay.forward;

import dev.riscvrelay.relay.gateway.Neighbours;
import dev.riscvrelay.relay.metrics.Counter;
import dev.riscvrelay.relay.metrics.Counters;
import io.netty.channel.EventLoop;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * Finds the MAC of one forward's guest address: from the gateway's ARP cache when the switch still has a port for
 * it, else by asking (an ARP request now and after each {@link #RETRY_MILLIS}) while the callers wait, at most
 * {@link #maxWaiting} of them. A guest that does not answer within {@link #GIVE_UP_MILLIS} fails every waiter (the
 * forward then resets its outside client) and is counted. Owned by the network's event loop.
 */
final class GuestLookup {

    /** Someone waiting for the guest's MAC. */
    interface Waiter {
        void found(ForwardTarget target, long mac);

        void notFound();
    }

    static final long POLL_MILLIS = 20;
    static final long RETRY_MILLIS = 1000;
    static final long GIVE_UP_MILLIS = 3000;

    private final int vmAddress;
    private final EventLoop loop;
    private final Counters counters;
    private final int maxWaiting;
    private final List<Waiter> waiting = new ArrayList<>();
    private ForwardTarget asking;
    private long askedAt;
    private long lastRequestAt;
    private ScheduledFuture<?> poll;

    GuestLookup(int vmAddress, EventLoop loop, Counters counters, int maxWaiting) {
        this.vmAddress = vmAddress;
        this.loop = loop;
        this.counters = counters;
        this.maxWaiting = maxWaiting;
    }

    /** The guest's MAC if known and still on the LAN, else {@link Neighbours#UNKNOWN}. */
    long known(ForwardTarget target) {
        long mac = target.neighbours().macOf(vmAddress);
        return mac != Neighbours.UNKNOWN && target.macPresent().test(mac) ? mac : Neighbours.UNKNOWN;
    }

    /**
     * Calls {@code waiter.found} now if the guest is known, else once it answers ARP, or {@code notFound} when it
     * does not. Returns false (nothing called, counted) when too many wait already.
     */
    boolean find(ForwardTarget target, Waiter waiter) {
        long mac = known(target);
        if (mac != Neighbours.UNKNOWN) {
            waiter.found(target, mac);
            return true;
        }
        if (waiting.size() >= maxWaiting) {
            counters.increment(Counter.FORWARD_REFUSED_BUSY);
            return false;
        }
        waiting.add(waiter);
        if (poll == null) {
            asking = target;
            askedAt = System.nanoTime();
            lastRequestAt = askedAt;
            target.neighbours().forget(vmAddress);
            target.neighbours().request(vmAddress);
            poll = loop.scheduleAtFixedRate(this::poll, POLL_MILLIS, POLL_MILLIS, TimeUnit.MILLISECONDS);
        }
        return true;
    }

    private void poll() {
        long mac = known(asking);
        long now = System.nanoTime();
        if (mac == Neighbours.UNKNOWN) {
            if (now - askedAt < TimeUnit.MILLISECONDS.toNanos(GIVE_UP_MILLIS)) {
                if (now - lastRequestAt >= TimeUnit.MILLISECONDS.toNanos(RETRY_MILLIS)) {
                    lastRequestAt = now;
                    asking.neighbours().request(vmAddress);
                }
                return;
            }
        }
        stop();
        List<Waiter> done = new ArrayList<>(waiting);
        waiting.clear();
        ForwardTarget target = asking;
        asking = null;
        for (Waiter waiter : done) {
            if (mac == Neighbours.UNKNOWN) {
                counters.increment(Counter.FORWARD_NO_GUEST);
                waiter.notFound();
            } else {
                waiter.found(target, mac);
            }
        }
    }

    private void stop() {
        if (poll != null) {
            poll.cancel(false);
            poll = null;
        }
    }

    /** Fails every waiter quietly (the forward closes). */
    void close() {
        stop();
        List<Waiter> done = new ArrayList<>(waiting);
        waiting.clear();
        done.forEach(Waiter::notFound);
    }
}

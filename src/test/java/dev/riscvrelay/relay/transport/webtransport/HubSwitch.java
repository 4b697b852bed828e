package dev.riscvrelay.relay.transport.webtransport;

import dev.riscvrelay.relay.switching.Port;
import dev.riscvrelay.relay.switching.Switch;
import io.netty.buffer.ByteBuf;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;

/**
 * The simplest LAN for transport tests: a hub that floods every frame to all other ports. The first receiver gets
 * the frame itself, each further one a retained duplicate, as a real switch's flood would. Runs on the server loop.
 */
final class HubSwitch implements Switch {

    private final List<Port> ports = new ArrayList<>();
    final BlockingQueue<Port> attached = new LinkedBlockingQueue<>();
    final BlockingQueue<Port> detached = new LinkedBlockingQueue<>();
    final java.util.concurrent.atomic.AtomicLong forwarded = new java.util.concurrent.atomic.AtomicLong();

    @Override
    public void attach(Port port) {
        ports.add(port);
        attached.add(port);
    }

    @Override
    public void detach(Port port) {
        if (ports.remove(port)) {
            detached.add(port);
        }
    }

    @Override
    public void forward(Port ingress, ByteBuf frame) {
        forwarded.incrementAndGet();
        Port first = null;
        for (Port port : ports) {
            if (port == ingress) {
                continue;
            }
            if (first == null) {
                first = port;
            } else {
                port.send(frame.retainedDuplicate());
            }
        }
        if (first == null) {
            frame.release();
        } else {
            first.send(frame);
        }
    }
}

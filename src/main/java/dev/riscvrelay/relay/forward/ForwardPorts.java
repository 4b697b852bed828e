package dev.riscvrelay.relay.forward;

import dev.riscvrelay.relay.nat.tcp.TcpNat;
import io.netty.buffer.ByteBuf;
import java.util.SplittableRandom;

/**
 * One network's UDP ports of the gateway that forwards send from ({@link TcpNat#FORWARD_PORT_FIRST} and up): each
 * taken port names the forwarded UDP flow the VM's replies to it belong to. An array indexed by port, so the reply
 * path looks a flow up without hashing or allocating. Owned by the network's event loop.
 */
public final class ForwardPorts {

    /** Where the VM's datagrams to a taken port go. */
    interface DatagramReturn {
        /** {@code length} bytes of {@code buf} from {@code offset}; the caller keeps (and releases) the buffer. */
        void fromVm(ByteBuf buf, int offset, int length);
    }

    static final int FIRST = TcpNat.FORWARD_PORT_FIRST;
    private final DatagramReturn[] byPort = new DatagramReturn[65536 - FIRST];
    private final SplittableRandom random = new SplittableRandom();
    private int taken;

    /** Takes a free port for {@code flow}; 0 when every port is taken. */
    int take(DatagramReturn flow) {
        if (taken == byPort.length) {
            return 0;
        }
        int index = random.nextInt(byPort.length);
        while (byPort[index] != null) {
            index = (index + 1) % byPort.length;
        }
        byPort[index] = flow;
        taken++;
        return FIRST + index;
    }

    void release(int port) {
        if (byPort[port - FIRST] != null) {
            byPort[port - FIRST] = null;
            taken--;
        }
    }

    /** The flow that took {@code port}, or null. */
    DatagramReturn at(int port) {
        return port < FIRST ? null : byPort[port - FIRST];
    }
}

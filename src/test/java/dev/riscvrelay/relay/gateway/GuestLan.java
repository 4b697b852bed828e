package dev.riscvrelay.relay.gateway;

import dev.riscvrelay.relay.lan.NetworkConfig;
import dev.riscvrelay.relay.metrics.Counter;
import dev.riscvrelay.relay.metrics.Counters;
import dev.riscvrelay.relay.switching.LearningSwitch;
import dev.riscvrelay.relay.switching.Port;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.Unpooled;
import java.util.ArrayList;
import java.time.Duration;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A real LAN for gateway tests: a {@link LearningSwitch}, the {@link Gateway} attached to it, and one guest port that
 * injects frames and keeps copies of everything the switch hands it (buffers released at once, so leak detection
 * sees exact ownership).
 */
public final class GuestLan {

    public final long[] nanoTime = {1_000_000_000L};
    public final Counters counters = new Counters();
    public final LearningSwitch lan = new LearningSwitch(NetworkConfig.defaults(), counters, () -> nanoTime[0]);
    public final Gateway gateway;
    public final GuestPort guest = new GuestPort();

    public GuestLan(NetworkConfig config, IpHandler... handlers) {
        gateway = new Gateway(config, lan, PooledByteBufAllocator.DEFAULT, counters);
        for (IpHandler handler : handlers) {
            gateway.addIpHandler(handler);
        }
        lan.attach(gateway);
        lan.attach(guest);
    }

    /** Sends a frame from the guest into the switch (copied into a direct buffer). */
    public void sendFromGuest(byte[] frame) {
        ByteBuf buf = Unpooled.directBuffer(frame.length);
        buf.writeBytes(frame);
        lan.forward(guest, buf);
    }

    /** Frames the guest received since the last call. */
    public List<byte[]> takeReceived() {
        List<byte[]> frames = new ArrayList<>();
        guest.received.drainTo(frames);
        return frames;
    }

    /** Waits up to {@code timeout} for the next frame the guest receives (from any thread), or fails. */
    public byte[] awaitFrame(Duration timeout) throws InterruptedException {
        byte[] frame = guest.received.poll(timeout.toMillis(), TimeUnit.MILLISECONDS);
        if (frame == null) {
            throw new AssertionError("no frame reached the guest within " + timeout);
        }
        return frame;
    }

    public static final class GuestPort implements Port {
        final BlockingQueue<byte[]> received = new LinkedBlockingQueue<>();

        @Override
        public void send(ByteBuf frame) {
            try {
                received.add(ByteBufUtil.getBytes(frame));
            } finally {
                frame.release();
            }
        }

        @Override
        public int maxFrameSize() {
            return 1514;
        }

        @Override
        public String name() {
            return "guest";
        }
    }

    /** The counters that are not zero, but for the switch's plain traffic counts (frames, bytes, floods, learning). */
    public Map<Counter, Long> nonZeroCountersBeyondTraffic() {
        Map<Counter, Long> nonZero = counters.nonZero();
        nonZero.keySet().removeAll(EnumSet.of(Counter.FRAMES_IN, Counter.BYTES_IN, Counter.FRAMES_OUT,
                Counter.BYTES_OUT, Counter.FRAMES_FLOODED, Counter.MAC_LEARNED));
        return nonZero;
    }
}

package dev.riscvrelay.relay.bench;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.IoEventLoop;
import io.netty.util.concurrent.ScheduledFuture;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.HdrHistogram.Histogram;

/**
 * The load generator: endpoints in pairs (0↔1, 2↔3, ...), each sending numbered, timestamped frames to its
 * partner through the forwarder under test. Everything runs on one event loop, the same one the endpoints' I/O
 * runs on, so nothing here is locked and a received frame can release the next one at once.
 *
 * <p>Two ways to drive it: {@link #runWindowed} keeps a fixed number of frames in flight per flow (closed loop,
 * finds the peak rate) and {@link #runPaced} sends at a fixed rate (open loop) and records each frame's latency
 * from its <em>intended</em> send time, so a stalled sender cannot hide its own delay (no coordinated omission).
 * Every run is bounded in time.
 */
public final class PairedLoad implements Endpoint.Receiver {

    /** A flow that made no progress for this long has lost its in-flight frames; its window is credited back. */
    private static final long STALL_NANOS = TimeUnit.MILLISECONDS.toNanos(20);
    private static final long PACE_TICK_NANOS = TimeUnit.MICROSECONDS.toNanos(100);
    private static final int MAX_BURST = 512;
    private static final long HIGHEST_LATENCY_NANOS = TimeUnit.SECONDS.toNanos(10);

    private final IoEventLoop loop;
    private final ByteBufAllocator alloc = PooledByteBufAllocator.DEFAULT;
    private Endpoint[] endpoints = new Endpoint[0];

    // Per run, loop-confined.
    private int frameSize;
    private long runStart = Long.MAX_VALUE;
    private long[] sent = new long[0];
    private long[] refused = new long[0];
    private FlowAccounting[] flows = new FlowAccounting[0];
    private long misdelivered;
    private long stale;
    private long hellos;
    private Histogram histogram;
    private long recordFrom;
    private long recordUntil;
    private boolean running;

    // Windowed mode.
    private boolean windowed;
    private int window;
    private long[] presumedLost = new long[0];
    private long[] lastProgress = new long[0];

    public PairedLoad(IoEventLoop loop) {
        this.loop = loop;
    }

    /** The endpoints to drive; an even number, partners side by side. Call before any run. */
    public void use(List<Endpoint> members) {
        if (members.size() < 2 || members.size() % 2 != 0) {
            throw new IllegalArgumentException("endpoints come in pairs: " + members.size());
        }
        onLoop(() -> {
            endpoints = members.toArray(Endpoint[]::new);
            reset(BenchFrames.MIN_SIZE);
        });
    }

    public static int partnerOf(int index) {
        return index ^ 1;
    }

    /** Broadcasts one hello from every endpoint, so the switch learns every MAC. */
    public void sendHellos() {
        onLoop(() -> {
            for (int i = 0; i < endpoints.length; i++) {
                endpoints[i].send(BenchFrames.hello(alloc, i));
            }
        });
    }

    public long hellosReceived() {
        return onLoop(() -> hellos);
    }

    @Override
    public void onFrame(int receiver, ByteBuf frame) {
        try {
            int type = BenchFrames.type(frame);
            if (type == BenchFrames.TYPE_HELLO) {
                hellos++;
                return;
            }
            if (frame.readableBytes() < BenchFrames.MIN_SIZE || type != BenchFrames.TYPE_MEASURED
                    || BenchFrames.destination(frame) != BenchFrames.macOf(receiver)) {
                misdelivered++;
                return;
            }
            long stamp = BenchFrames.stampNanos(frame);
            if (stamp < runStart) {
                stale++; // a straggler of an earlier run
                return;
            }
            int flow = BenchFrames.flow(frame);
            if (flow < 0 || flow >= flows.length || partnerOf(flow) != receiver) {
                misdelivered++;
                return;
            }
            flows[flow].onReceive(BenchFrames.sequence(frame));
            long now = System.nanoTime();
            if (histogram != null && stamp >= recordFrom && stamp < recordUntil) {
                histogram.recordValue(Math.min(Math.max(now - stamp, 0), HIGHEST_LATENCY_NANOS));
            }
            if (windowed && running) {
                lastProgress[flow] = now;
                refill(flow);
            }
        } finally {
            frame.release();
        }
    }

    private void reset(int size) {
        int n = endpoints.length;
        frameSize = size;
        sent = new long[n];
        refused = new long[n];
        presumedLost = new long[n];
        lastProgress = new long[n];
        flows = new FlowAccounting[n];
        for (int i = 0; i < n; i++) {
            flows[i] = new FlowAccounting();
        }
        misdelivered = 0;
        stale = 0;
        histogram = null;
        running = false;
        windowed = false;
    }

    private boolean sendOne(int flow, long stampNanos) {
        ByteBuf frame = BenchFrames.measured(alloc, frameSize, flow, partnerOf(flow), sent[flow], stampNanos);
        if (endpoints[flow].send(frame)) {
            sent[flow]++;
            return true;
        }
        refused[flow]++;
        return false;
    }

    // ---- Closed loop: a window of frames in flight per flow -------------------------------------------------

    /** What a windowed run delivered in its measured interval. */
    public record WindowResult(long receivedInInterval, long intervalNanos) {
        public double framesPerSecond() {
            return receivedInInterval * 1e9 / intervalNanos;
        }
    }

    /**
     * Keeps {@code windowPerFlow} frames in flight on every flow for {@code warmUp + measure}; the result counts
     * the frames received during {@code measure}. Call {@link #counts} afterwards (after {@link #quiesce}).
     */
    public WindowResult runWindowed(int size, int windowPerFlow, Duration warmUp, Duration measure)
            throws InterruptedException {
        CompletableFuture<WindowResult> result = new CompletableFuture<>();
        onLoop(() -> {
            reset(size);
            windowed = true;
            window = windowPerFlow;
            running = true;
            long start = System.nanoTime();
            runStart = start;
            long measureFrom = start + warmUp.toNanos();
            long measureUntil = measureFrom + measure.toNanos();
            long[] atMeasureStart = {-1, 0};
            for (int i = 0; i < endpoints.length; i++) {
                lastProgress[i] = start;
                refill(i);
            }
            ScheduledFuture<?>[] tick = new ScheduledFuture<?>[1];
            tick[0] = loop.scheduleAtFixedRate(() -> {
                long now = System.nanoTime();
                if (atMeasureStart[0] < 0 && now >= measureFrom) {
                    atMeasureStart[0] = totalReceived();
                    atMeasureStart[1] = now;
                }
                if (now >= measureUntil) {
                    running = false;
                    tick[0].cancel(false);
                    long first = atMeasureStart[0] < 0 ? 0 : atMeasureStart[0];
                    long from = atMeasureStart[0] < 0 ? measureFrom : atMeasureStart[1];
                    result.complete(new WindowResult(totalReceived() - first, now - from));
                    return;
                }
                for (int i = 0; i < endpoints.length; i++) {
                    if (inFlight(i) > 0 && now - lastProgress[i] > STALL_NANOS) {
                        presumedLost[i] += inFlight(i);
                        lastProgress[i] = now;
                    }
                    refill(i);
                }
            }, 1, 1, TimeUnit.MILLISECONDS);
        });
        return await(result, warmUp.plus(measure).plusSeconds(10));
    }

    private long inFlight(int flow) {
        return sent[flow] - flows[flow].received() - presumedLost[flow];
    }

    private void refill(int flow) {
        while (running && inFlight(flow) < window) {
            if (!sendOne(flow, System.nanoTime())) {
                return;
            }
        }
    }

    // ---- Open loop: a fixed rate, latency from the intended send time ---------------------------------------

    /** What a paced run achieved and the latencies it recorded (nanoseconds). */
    public record PacedResult(double offeredPerSecond, double sentPerSecond, Histogram latencyNanos) {
    }

    /**
     * Sends {@code framesPerSecond} in total, spread evenly over the flows, for {@code warmUp + measure}, and
     * records the latency of the frames whose intended send time falls in {@code measure}. Waits for stragglers
     * (bounded) before it returns.
     */
    public PacedResult runPaced(int size, double framesPerSecond, Duration warmUp, Duration measure)
            throws InterruptedException {
        CompletableFuture<PacedResult> result = new CompletableFuture<>();
        onLoop(() -> {
            reset(size);
            int n = endpoints.length;
            double intervalNanos = 1e9 * n / framesPerSecond;
            long start = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(1);
            runStart = start;
            recordFrom = start + warmUp.toNanos();
            recordUntil = recordFrom + measure.toNanos();
            long end = recordUntil;
            histogram = new Histogram(HIGHEST_LATENCY_NANOS, 3);
            running = true;
            long framesPerFlow = (long) ((end - start) / intervalNanos);
            ScheduledFuture<?>[] tick = new ScheduledFuture<?>[1];
            tick[0] = loop.scheduleAtFixedRate(() -> {
                long now = System.nanoTime();
                for (int i = 0; i < n; i++) {
                    long due = Math.min(framesPerFlow, (long) ((now - start) / intervalNanos) + 1);
                    int burst = 0;
                    while (sent[i] < due && burst++ < MAX_BURST) {
                        long intended = start + (long) (sent[i] * intervalNanos);
                        if (!sendOne(i, intended)) {
                            break;
                        }
                    }
                }
                if (now >= end) {
                    running = false;
                    tick[0].cancel(false);
                    long total = 0;
                    for (long s : sent) {
                        total += s;
                    }
                    result.complete(new PacedResult(framesPerSecond, total * 1e9 / (now - start), histogram));
                }
            }, PACE_TICK_NANOS, PACE_TICK_NANOS, TimeUnit.NANOSECONDS);
        });
        return await(result, warmUp.plus(measure).plusSeconds(10));
    }

    // ---- Counting ------------------------------------------------------------------------------------------

    /** Waits until no frame has arrived for 100 ms (at most {@code limit}), so counts are final. */
    public void quiesce(Duration limit) throws InterruptedException {
        long deadline = System.nanoTime() + limit.toNanos();
        long last = -1;
        int quietPolls = 0;
        while (System.nanoTime() < deadline && quietPolls < 5) {
            Thread.sleep(20);
            long now = onLoop(this::totalReceived);
            quietPolls = now == last ? quietPolls + 1 : 0;
            last = now;
        }
    }

    private long totalReceived() {
        long total = 0;
        for (FlowAccounting flow : flows) {
            total += flow.received();
        }
        return total;
    }

    /** The load generator's own counts of the last run. */
    public LoadCounts counts() {
        return onLoop(() -> {
            long s = 0;
            long r = 0;
            long ref = 0;
            long skipped = 0;
            long late = 0;
            for (int i = 0; i < endpoints.length; i++) {
                s += sent[i];
                ref += refused[i];
                r += flows[i].received();
                skipped += flows[i].skipped();
                late += flows[i].late();
            }
            return new LoadCounts(s, ref, r, skipped, late, misdelivered, stale);
        });
    }

    // ---- Loop plumbing ---------------------------------------------------------------------------------------

    private void onLoop(Runnable task) {
        onLoop(() -> {
            task.run();
            return null;
        });
    }

    private <T> T onLoop(java.util.concurrent.Callable<T> task) {
        try {
            return loop.submit(task).get(10, TimeUnit.SECONDS);
        } catch (ExecutionException | TimeoutException e) {
            throw new IllegalStateException("load generator loop task failed: " + e, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }

    private static <T> T await(CompletableFuture<T> future, Duration limit) throws InterruptedException {
        try {
            return future.get(limit.toMillis(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException | TimeoutException e) {
            throw new IllegalStateException("load run did not finish within " + limit + ": " + e, e);
        }
    }
}

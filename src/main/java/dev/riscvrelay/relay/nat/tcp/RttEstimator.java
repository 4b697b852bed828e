package dev.riscvrelay.relay.nat.tcp;

import static dev.riscvrelay.relay.nat.tcp.SequenceNumbers.after;

import java.util.concurrent.TimeUnit;

/**
 * The retransmission timeout toward the VM (RFC 6298): SRTT and RTTVAR from one timed segment at a time, never a
 * retransmitted one (Karn's rule), or, when the VM echoes timestamps, from every ACK of new data (RFC 7323 section
 * 4); the timeout doubled on every expiry within [minRto, maxRto], until the next measurement.
 */
final class RttEstimator {

    /** RFC 6298 section 2.1: the first RTO before any measurement. */
    static final long INITIAL_RTO_NANOS = TimeUnit.SECONDS.toNanos(1);
    /** RFC 6298's G: the clock granularity term; the clock is finer, but a millisecond keeps the RTO sane. */
    private static final long GRANULARITY_NANOS = TimeUnit.MILLISECONDS.toNanos(1);

    private final long minRto;
    private final long maxRto;
    private long srtt = -1;
    private long rttvar;
    private long rto = INITIAL_RTO_NANOS;
    private boolean timing;
    private int timedSequence;
    private long timedAt;

    RttEstimator(long minRtoNanos, long maxRtoNanos) {
        this.minRto = minRtoNanos;
        this.maxRto = maxRtoNanos;
    }

    /** The current retransmission timeout in nanoseconds. */
    long rto() {
        return rto;
    }

    /** The smoothed round trip in nanoseconds, 0 before the first measurement. */
    long srtt() {
        return Math.max(srtt, 0);
    }

    boolean timing() {
        return timing;
    }

    /** Times the segment starting at {@code sequence}, sent at {@code now}. */
    void startTiming(int sequence, long now) {
        timing = true;
        timedSequence = sequence;
        timedAt = now;
    }

    /** Karn's rule: a retransmission makes the timed segment's ACK ambiguous. */
    void cancelTiming() {
        timing = false;
    }

    /**
     * An ACK up to {@code ack} at {@code now}: one measurement if it covers the timed segment. Returns that
     * measurement in nanoseconds, or -1 when there was none.
     */
    long onAck(int ack, long now) {
        if (timing && after(ack, timedSequence)) {
            long measured = now - timedAt;
            sample(measured);
            timing = false;
            return measured;
        }
        return -1;
    }

    /**
     * A round trip the VM's timestamp echo measured (RFC 7323 section 4.1): unambiguous even for a retransmission,
     * so it also ends a backoff. Samples below zero or above the largest timeout are not believed.
     */
    void onTimestampSample(long sample) {
        if (sample >= 0 && sample <= maxRto) {
            sample(sample);
        }
    }

    /** RFC 6298 section 5.5: the timer expired, so the next wait is twice as long. */
    void backOff() {
        rto = clamp(rto * 2);
    }

    /** RFC 6298 section 2: SRTT, RTTVAR and RTO from one measurement. */
    private void sample(long sample) {
        if (srtt < 0) {
            srtt = sample;
            rttvar = sample / 2;
        } else {
            rttvar = (3 * rttvar + Math.abs(srtt - sample)) / 4;
            srtt = (7 * srtt + sample) / 8;
        }
        rto = clamp(srtt + Math.max(GRANULARITY_NANOS, 4 * rttvar));
    }

    private long clamp(long value) {
        return Math.min(Math.max(value, minRto), maxRto);
    }
}

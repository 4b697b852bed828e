/**
 * {@code relay bench}: the relay measured against the baselines a user would pick instead, in one run on
 * loopback, written to BENCHMARKS.md with PNG charts.
 *
 * <p>P1 (switch): a load generator drives pairs of endpoints through three forwarders that share the real
 * {@link dev.riscvrelay.relay.switching.LearningSwitch}, so the differences are the transports: the relay itself
 * (WebTransport over HTTP/3 over QUIC), a bare QUIC datagram forwarder (no HTTP/3) and a plain UDP forwarder (no
 * crypto). Every run's counts are checked against the switch's counters. P3 (scale) measures a relay process
 * holding many idle sessions. The micro-benchmarks (JMH) check the hot path allocates nothing.
 */
package dev.riscvrelay.relay.bench;

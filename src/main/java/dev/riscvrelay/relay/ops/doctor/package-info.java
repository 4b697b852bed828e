/**
 * {@code relay doctor}: checks what makes a host good for the relay (ping sockets, UDP buffer limits, UDP GSO/GRO,
 * the open-file limit, the certificate, the UDP port, the default route's MTU) and says what to change. Each
 * {@link dev.riscvrelay.relay.ops.doctor.Check} reads the host only through {@link
 * dev.riscvrelay.relay.ops.doctor.HostFacts}, so tests give it any host they need.
 */
package dev.riscvrelay.relay.ops.doctor;

/**
 * What every part of one virtual LAN shares: its {@link dev.riscvrelay.relay.lan.NetworkConfig} (addressing, MTU,
 * headroom, leases, MAC table), made once and read by the switch, the gateway, DHCP, DNS and the NAT; the
 * {@link dev.riscvrelay.relay.lan.FrameSink} every producer of frames hands them to; and the
 * {@link dev.riscvrelay.relay.lan.NanoClock} everything that ages or times out reads.
 */
package dev.riscvrelay.relay.lan;

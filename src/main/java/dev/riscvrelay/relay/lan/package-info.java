/**
 * What every part of one virtual LAN reads alike: its {@link dev.riscvrelay.relay.lan.NetworkConfig} (addressing,
 * MTU, headroom, leases, MAC table), made once and handed to the switch, the gateway, DHCP, DNS and the NAT.
 */
package dev.riscvrelay.relay.lan;

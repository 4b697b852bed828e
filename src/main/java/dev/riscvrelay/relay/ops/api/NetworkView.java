package dev.riscvrelay.relay.ops.api;

import java.util.List;

/**
 * One network and one page of its members.
 *
 * @param name the network's name ({@code default}, or the {@code NAME} of {@code /net/NAME})
 * @param worker the worker (event loop) that runs the network's switch, gateway and NAT
 * @param memberCount every member of the network, not only those on this page
 * @param dhcpLeases bound DHCP leases
 * @param offset how many members come before this page, in port order
 * @param members the page
 */
public record NetworkView(String name, int worker, int memberCount, int dhcpLeases, int offset, List<MemberView> members) {
}

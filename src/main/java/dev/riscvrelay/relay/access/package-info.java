/**
 * Who may join which LAN, and what a member may send once joined: network names from the request path, access
 * tokens, session limits per source address, and the per-session ingress guard (bound source MACs and leased
 * IPs, token-bucket rate limits). Everything here runs on the relay's event loop.
 */
package dev.riscvrelay.relay.access;

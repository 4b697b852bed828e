/**
 * The operator's dashboard at the admin server's {@code /}: one page, its script and style, served from the jar (no
 * CDN), fed once a second by server-sent events ({@code /api/events}) that carry the relay's totals (the same
 * counters as {@code /metrics}), the certificate, the capture and a page of each network's members. The page draws
 * its plots on canvases itself and acts through the admin API (disconnect, capture) after a confirmation.
 */
package dev.riscvrelay.relay.ops.dashboard;

/**
 * The admin server's JSON API: each network with a page of its members ({@code GET /api/networks}), one network's
 * members page by page ({@code GET /api/networks/NAME/members?offset=&limit=}), and disconnecting a member
 * ({@code POST /api/networks/NAME/members/MAC/disconnect}). The views are copied on the event loop, which owns the
 * networks, and handed to the admin thread, which turns them into JSON; nothing here runs per frame.
 */
package dev.riscvrelay.relay.ops.api;

package dev.riscvrelay.relay.ops.api;

import java.util.List;
import java.util.concurrent.TimeoutException;

/**
 * The networks as the admin thread may see and change them: each call is run on the event loop that owns them and
 * waited for, so the caller gets a copy taken at one instant.
 */
public interface LanInspector {

    /** Every network with the page of its members, in the order they were created. */
    List<NetworkView> networks(MemberPage page) throws TimeoutException;

    /** The network called {@code name} with the page of its members, or null when there is no such network. */
    NetworkView network(String name, MemberPage page) throws TimeoutException;

    /** Ends the session of the member {@code mac} was learned behind on network {@code name}; false when none. */
    boolean disconnect(String name, long mac, String reason) throws TimeoutException;
}

package dev.riscvrelay.relay.switching;

import java.time.Duration;

/**
 * How the learning switch behaves.
 *
 * @param macTableCapacity the most MAC addresses the switch remembers; when full, new sources are not learned
 *                         (and counted) and frames to them are flooded
 * @param macAgingTime     how long a learned MAC stays after it was last seen as a source
 */
public record SwitchConfig(int macTableCapacity, Duration macAgingTime) {

    public static final int DEFAULT_MAC_TABLE_CAPACITY = 4096;

    /** The ageing time IEEE 802.1D/802.1Q bridges use by default. */
    public static final Duration DEFAULT_MAC_AGING_TIME = Duration.ofSeconds(300);

    public SwitchConfig {
        if (macTableCapacity < 1 || macTableCapacity > MacTable.MAX_CAPACITY) {
            throw new IllegalArgumentException(
                    "MAC table capacity must be in 1.." + MacTable.MAX_CAPACITY + ": " + macTableCapacity);
        }
        if (macAgingTime == null || macAgingTime.isNegative() || macAgingTime.isZero()) {
            throw new IllegalArgumentException("MAC ageing time must be positive: " + macAgingTime);
        }
    }

    public static SwitchConfig defaults() {
        return new SwitchConfig(DEFAULT_MAC_TABLE_CAPACITY, DEFAULT_MAC_AGING_TIME);
    }

    public SwitchConfig withMacTableCapacity(int capacity) {
        return new SwitchConfig(capacity, macAgingTime);
    }

    public SwitchConfig withMacAgingTime(Duration agingTime) {
        return new SwitchConfig(macTableCapacity, agingTime);
    }
}

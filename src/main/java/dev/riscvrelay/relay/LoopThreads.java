package dev.riscvrelay.relay;

import io.netty.util.concurrent.DefaultThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Names loop threads short enough to stay whole in /proc (15 characters), where top and profilers show them: a prefix
 * ending in {@code -} gets a number in the order the threads start ({@code relay-worker-0}, the default network's,
 * then {@code relay-worker-1}, ...); any other is the name itself ({@code relay-web}, {@code relay-connect}).
 */
public final class LoopThreads extends DefaultThreadFactory {
    private final String prefix;
    private final AtomicInteger next = new AtomicInteger();

    public LoopThreads(String prefix) {
        super(prefix);
        this.prefix = prefix;
    }

    @Override
    protected Thread newThread(Runnable task, String name) {
        return super.newThread(task, prefix.endsWith("-") ? prefix + next.getAndIncrement() : prefix);
    }
}

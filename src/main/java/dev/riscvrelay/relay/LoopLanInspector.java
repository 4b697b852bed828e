package dev.riscvrelay.relay;

import dev.riscvrelay.relay.ops.api.LanInspector;
import dev.riscvrelay.relay.ops.api.MemberPage;
import dev.riscvrelay.relay.ops.api.NetworkView;
import dev.riscvrelay.relay.switching.Member;
import dev.riscvrelay.relay.switching.Port;
import io.netty.channel.IoEventLoop;
import io.netty.util.concurrent.Future;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The networks for the admin thread: every question about a network is a task on the event loop that owns it (no
 * lock on its state), and the admin thread waits for the answer, as {@code /healthz} waits for its loop probe.
 */
final class LoopLanInspector implements LanInspector {

    /** How long the admin thread waits for the loop before it answers 503. */
    static final Duration LOOP_TIMEOUT = Duration.ofSeconds(1);

    private final Networks networks;

    LoopLanInspector(Networks networks) {
        this.networks = networks;
    }

    @Override
    public List<NetworkView> networks(MemberPage page) throws TimeoutException {
        List<NetworkView> views = new ArrayList<>();
        for (Network network : networks.list()) {
            views.add(onLoop(network.loop(), () -> view(network, page)));
        }
        return List.copyOf(views);
    }

    @Override
    public NetworkView network(String name, MemberPage page) throws TimeoutException {
        Network network = networks.network(name);
        return network == null ? null : onLoop(network.loop(), () -> view(network, page));
    }

    private NetworkView view(Network network, MemberPage page) {
        return NetworkViews.view(network, networks.loopIndexOf(network.name()), page);
    }

    @Override
    public boolean disconnect(String name, long mac, String reason) throws TimeoutException {
        Network network = networks.network(name);
        if (network == null) {
            return false;
        }
        return onLoop(network.loop(), () -> {
            Port port = network.lan().portOf(mac);
            if (port instanceof Member member) {
                member.disconnect(reason);
                return true;
            }
            return false;
        });
    }

    private static <T> T onLoop(IoEventLoop loop, Callable<T> task) throws TimeoutException {
        Future<T> answer = loop.submit(task);
        if (!answer.awaitUninterruptibly(LOOP_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
            answer.cancel(false);
            throw new TimeoutException("the event loop did not answer within " + LOOP_TIMEOUT.toMillis() + " ms");
        }
        if (!answer.isSuccess()) {
            throw new IllegalStateException("inspecting the networks failed: " + answer.cause(), answer.cause());
        }
        return answer.getNow();
    }
}

package dev.riscvrelay.relay;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.riscvrelay.relay.access.AccessConfig;
import dev.riscvrelay.relay.access.AccessTokens;
import dev.riscvrelay.relay.access.Admission;
import dev.riscvrelay.relay.access.ClaimLimits;
import dev.riscvrelay.relay.access.SessionLimits;
import dev.riscvrelay.relay.cluster.Trunks;
import dev.riscvrelay.relay.lan.NanoClock;
import dev.riscvrelay.relay.metrics.Counter;
import dev.riscvrelay.relay.metrics.Counters;
import io.netty.channel.IoEventLoop;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Networks spread over several event loops: each is built and admitted on the loop its name chooses, and the limits
 * the gate keeps across networks hold whichever loops their sessions come through.
 */
class NetworksOnLoopsTest {

    private final MultiThreadIoEventLoopGroup group = new MultiThreadIoEventLoopGroup(2, NioIoHandler.newFactory());
    private final List<IoEventLoop> loops = new ArrayList<>();
    private final Counters counters = new Counters();
    private Networks networks;

    NetworksOnLoopsTest() {
        group.forEach(executor -> loops.add((IoEventLoop) executor));
    }

    @AfterEach
    void stop() throws Exception {
        if (networks != null) {
            networks.close();
        }
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
    }

    private void start(SessionLimits limits, int maxNetworks) throws Exception {
        AccessConfig access = new AccessConfig(maxNetworks, AccessTokens.NONE, limits, ClaimLimits.defaults());
        RelayConfig config = RelayConfig.defaults(InetAddress.getLoopbackAddress(), 0).withAccess(access);
        networks = on(loops.getFirst(), () -> new Networks(config, loops, counters, NanoClock.SYSTEM, Trunks.NONE));
    }

    private static <T> T on(IoEventLoop loop, Callable<T> task) throws Exception {
        return loop.submit(task).get(10, TimeUnit.SECONDS);
    }

    /** Admits as a transport does: on the loop the gate names for the path. */
    private Admission admit(String path, InetAddress peer) throws Exception {
        return on(networks.loopFor(path), () -> networks.admit(path, peer));
    }

    private static InetAddress address(int last) throws Exception {
        return InetAddress.getByAddress(new byte[] {(byte) 198, 51, 100, (byte) last});
    }

    @Test
    void eachNetworkIsBuiltOnTheLoopItsNameChoosesTheDefaultOnTheFirst() throws Exception {
        start(SessionLimits.defaults(), 16);
        assertThat(networks.loopFor("/")).isSameAs(loops.get(0));
        assertThat(networks.loopFor("/wisp/")).as("WISP on the default network").isSameAs(loops.get(0));
        // lab0 and lab1 hash to different loops of two; each sub-path of a network goes to its loop too.
        IoEventLoop lab0 = networks.loopFor("/net/lab0?token=x");
        IoEventLoop lab1 = networks.loopFor("/net/lab1");
        assertThat(lab0).isNotSameAs(lab1);
        assertThat(networks.loopFor("/net/lab0/wisp/")).isSameAs(lab0);
        assertThat(networks.loopFor("/net/lab0/vm/80/index.html")).isSameAs(lab0);

        assertThat(admit("/net/lab0", address(1))).isInstanceOf(Admission.Admitted.class);
        assertThat(admit("/net/lab1", address(1))).isInstanceOf(Admission.Admitted.class);
        Network built0 = networks.network("lab0");
        Network built1 = networks.network("lab1");
        assertThat(built0.loop()).isSameAs(lab0);
        assertThat(built1.loop()).isSameAs(lab1);
        assertThat(on(lab0, () -> built0.sizes().learnedMacs())).as("a network is used on its loop").isZero();
        assertThat(networks.loopIndexOf("lab0")).isEqualTo(loops.indexOf(lab0));
    }

    @Test
    void everyRequestForAValidNetworkIsPlacedWhereItsAdmissionLooksForIt() throws Exception {
        start(SessionLimits.defaults(), 64);
        InetAddress peer = address(3);
        // Encoded, with queries and slashes: the gate asks the loop loopFor names, or it would refuse loudly.
        for (String path : List.of("/net/la%62", "/net/lab/", "/net/lab?token=%2Fx", "/net/l%61b/?a=b", "/?x=1",
                "/net/", "/net/a%2Fb", "/net/%", "/net/lab5", "/net/" + "x".repeat(60), "/net/lab0#frag")) {
            Admission admission = admit(path, peer);
            if (admission instanceof Admission.Admitted admitted) {
                on(networks.loopFor(path), () -> {
                    admitted.release().run();
                    return null;
                });
            }
        }
        assertThat(networks.network("lab")).as("/net/la%62 and /net/lab are one network").isNotNull();
    }

    @Test
    void aNetworkAskedForOnAnotherLoopIsRefusedLoudly() throws Exception {
        start(SessionLimits.defaults(), 16);
        IoEventLoop wrong = networks.loopFor("/net/lab0") == loops.get(0) ? loops.get(1) : loops.get(0);
        assertThatThrownBy(() -> on(wrong, () -> networks.admit("/net/lab0", address(1))))
                .isInstanceOf(ExecutionException.class).hasRootCauseInstanceOf(IllegalStateException.class);
        assertThat(networks.network("lab0")).as("nothing was built off its loop").isNull();
    }

    @Test
    void oneAddressHoldsOnlySoManySessionsWhicheverLoopsItsNetworksAreOn() throws Exception {
        SessionLimits two = new SessionLimits(SessionLimits.defaults().framesPerSecond(),
                SessionLimits.defaults().bytesPerSecond(), SessionLimits.defaults().macsPerSession(), 2);
        start(two, 16);
        InetAddress peer = address(9);
        Admission first = admit("/net/lab0", peer);
        assertThat(first).isInstanceOf(Admission.Admitted.class);
        assertThat(admit("/net/lab1", peer)).isInstanceOf(Admission.Admitted.class);
        assertThat(admit("/net/lab0", peer)).isEqualTo(new Admission.Refused(429, Counter.SESSIONS_REFUSED_PER_ADDRESS));
        assertThat(admit("/", peer)).isEqualTo(new Admission.Refused(429, Counter.SESSIONS_REFUSED_PER_ADDRESS));

        // A session that ends gives its place back, on its network's loop.
        on(networks.loopFor("/net/lab0"), () -> {
            ((Admission.Admitted) first).release().run();
            return null;
        });
        assertThat(admit("/", peer)).isInstanceOf(Admission.Admitted.class);
    }

    @Test
    void theNetworkLimitCountsTheNetworksOfEveryLoop() throws Exception {
        start(SessionLimits.defaults(), 3);
        assertThat(admit("/net/lab0", address(1))).isInstanceOf(Admission.Admitted.class);
        assertThat(admit("/net/lab1", address(2))).isInstanceOf(Admission.Admitted.class);
        assertThat(admit("/net/lab2", address(3)))
                .isEqualTo(new Admission.Refused(503, Counter.SESSIONS_REFUSED_NO_NETWORK));
        assertThat(networks.count()).isEqualTo(3);
    }
}

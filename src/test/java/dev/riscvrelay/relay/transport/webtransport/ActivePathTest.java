package dev.riscvrelay.relay.transport.webtransport;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.handler.codec.quic.QuicConnectionPathStats;
import java.util.ArrayList;
import java.util.List;
import java.util.function.IntFunction;
import org.junit.jupiter.api.Test;

/** Finding the path a connection uses now among those quiche lists, and telling how it moved. */
class ActivePathTest {

    private static final long MS = 1_000_000;

    /** quiche's list of a connection's paths, and how many positions were asked for. */
    private static final class Paths implements IntFunction<QuicConnectionPathStats> {
        final List<QuicConnectionPathStats> list = new ArrayList<>();
        int lookups;

        @Override
        public QuicConnectionPathStats apply(int index) {
            lookups++;
            return index < list.size() ? list.get(index) : null;
        }

        /** The client moved to {@code peer}: the paths so far stay listed, inactive, and the new one comes last. */
        void moveTo(String peer) {
            for (int i = 0; i < list.size(); i++) {
                QuicConnectionPathStats old = list.get(i);
                list.set(i, PathStats.of(old.peerAddress().getHostString() + ":" + old.peerAddress().getPort(),
                        PathStats.VALIDATED, false, old.cwnd(), old.rtt(), 0));
            }
            list.add(PathStats.of(peer, PathStats.VALIDATING, true, 12_000, PathStats.INITIAL_RTT_NANOS, 0));
        }
    }

    @Test
    void theFirstPathWhileItStaysCostsOneLookEach() {
        Paths paths = new Paths();
        paths.list.add(PathStats.of("198.51.100.7:5000", PathStats.VALIDATED, true, 300_000, 20 * MS, 0));
        ActivePath active = new ActivePath();
        for (int i = 0; i < 3; i++) {
            assertThat(active.read(paths).peerAddress().getPort()).isEqualTo(5000);
        }
        assertThat(paths.lookups).isEqualTo(3);
        assertThat(active.moved()).isEqualTo(ActivePath.Move.NONE);
    }

    @Test
    void aNatThatRebindsMovesTheConnectionToANewPortAndTheOldPathIsNoLongerRead() {
        Paths paths = new Paths();
        paths.list.add(PathStats.of("198.51.100.7:5000", PathStats.VALIDATED, true, 300_000, 20 * MS, 0));
        ActivePath active = new ActivePath();
        active.read(paths);
        paths.moveTo("198.51.100.7:6000");
        QuicConnectionPathStats now = active.read(paths);
        assertThat(now.peerAddress().getPort()).as("the new path, listed second").isEqualTo(6000);
        assertThat(now.rtt()).isEqualTo(PathStats.INITIAL_RTT_NANOS);
        assertThat(active.moved()).isEqualTo(ActivePath.Move.NEW_PORT);
        assertThat(active.moved()).as("told once").isEqualTo(ActivePath.Move.NONE);
        paths.lookups = 0;
        assertThat(active.read(paths).peerAddress().getPort()).isEqualTo(6000);
        assertThat(paths.lookups).as("its position is remembered").isEqualTo(1);
        assertThat(active.peer().getPort()).isEqualTo(6000);
    }

    @Test
    void aClientOnAnotherAddressRoamed() {
        Paths paths = new Paths();
        paths.list.add(PathStats.of("198.51.100.7:5000", PathStats.VALIDATED, true, 300_000, 20 * MS, 0));
        ActivePath active = new ActivePath();
        active.read(paths);
        paths.moveTo("203.0.113.9:5000");
        active.read(paths);
        paths.moveTo("203.0.113.9:5001");
        active.read(paths);
        assertThat(active.moved()).as("a new address and then a new port, between two looks")
                .isEqualTo(ActivePath.Move.NEW_ADDRESS);
    }

    @Test
    void noActivePathMeansTheConnectionIsClosing() {
        Paths paths = new Paths();
        ActivePath active = new ActivePath();
        assertThat(active.read(paths)).isNull();
        paths.list.add(PathStats.of("198.51.100.7:5000", PathStats.VALIDATED, false, 300_000, 20 * MS, 0));
        assertThat(active.read(paths)).isNull();
        assertThat(active.moved()).isEqualTo(ActivePath.Move.NONE);
    }
}

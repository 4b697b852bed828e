package dev.riscvrelay.relay;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetAddress;
import org.junit.jupiter.api.Test;

class MemberTest {

    @Test
    void aSessionMaySendTwentyDhcpMessagesAtOnceThenTenASecond() {
        Member member = new Member(null, InetAddress.getLoopbackAddress(), 4);
        long now = 5_000_000_000L;
        for (int i = 0; i < Member.DHCP_MESSAGE_BURST; i++) {
            assertThat(member.mayAsk(now)).as("message %d of the burst", i).isTrue();
        }
        assertThat(member.mayAsk(now)).isFalse();
        assertThat(member.mayAsk(now + Member.DHCP_MESSAGE_INTERVAL_NANOS - 1)).isFalse();
        assertThat(member.mayAsk(now + Member.DHCP_MESSAGE_INTERVAL_NANOS)).isTrue();
        assertThat(member.mayAsk(now + Member.DHCP_MESSAGE_INTERVAL_NANOS)).isFalse();
        // Quiet for a while: the whole burst is there again.
        long later = now + 60_000_000_000L;
        for (int i = 0; i < Member.DHCP_MESSAGE_BURST; i++) {
            assertThat(member.mayAsk(later)).isTrue();
        }
    }
}

package dev.riscvrelay.relay.access;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AccessTokensTest {

    @TempDir
    Path dir;

    @Test
    void aTokenOpensItsNetworkAndTheWildcardOpensAll() throws Exception {
        AccessTokens tokens = AccessTokens.read(Files.writeString(dir.resolve("t"),
                "# comment\n\nlab  s3cret\n* master\nlab second\n"));
        assertThat(tokens.required()).isTrue();
        assertThat(tokens.check("lab", "s3cret")).isEqualTo(AccessTokens.ADMITTED);
        assertThat(tokens.check("lab", "second")).isEqualTo(AccessTokens.ADMITTED);
        assertThat(tokens.check("lab", "master")).isEqualTo(AccessTokens.ADMITTED);
        assertThat(tokens.check("default", "master")).isEqualTo(AccessTokens.ADMITTED);
        assertThat(tokens.check("default", "s3cret")).isEqualTo(AccessTokens.WRONG);
        assertThat(tokens.check("lab", "s3cre")).isEqualTo(AccessTokens.WRONG);
        assertThat(tokens.check("lab", "s3cret ")).isEqualTo(AccessTokens.WRONG);
        assertThat(tokens.check("lab", null)).isEqualTo(AccessTokens.MISSING);
        assertThat(tokens.check("lab", "")).isEqualTo(AccessTokens.MISSING);
    }

    @Test
    void withoutATokenFileEverySessionIsAdmitted() {
        assertThat(AccessTokens.NONE.required()).isFalse();
        assertThat(AccessTokens.NONE.check("lab", null)).isEqualTo(AccessTokens.ADMITTED);
    }

    @Test
    void malformedFilesAreRefusedWithTheLine() throws Exception {
        assertThatThrownBy(() -> AccessTokens.read(Files.writeString(dir.resolve("a"), "lab\n")))
                .hasMessageContaining("line 1");
        assertThatThrownBy(() -> AccessTokens.read(Files.writeString(dir.resolve("b"), "ok tok\nBad_Name tok\n")))
                .hasMessageContaining("line 2");
        assertThatThrownBy(() -> AccessTokens.read(Files.writeString(dir.resolve("c"), "# nothing\n")))
                .hasMessageContaining("no token");
    }

    @Test
    void pathsNameNetworksAndCarryTheToken() {
        assertThat(NetworkPath.parse("/")).isEqualTo(new NetworkPath("default", null));
        assertThat(NetworkPath.parse("/?token=abc")).isEqualTo(new NetworkPath("default", "abc"));
        assertThat(NetworkPath.parse("/net/lab-1?token=a%2Bb")).isEqualTo(new NetworkPath("lab-1", "a+b"));
        assertThat(NetworkPath.parse("/net/lab/")).isEqualTo(new NetworkPath("lab", null));
        assertThat(NetworkPath.parse("/anything")).isEqualTo(new NetworkPath("default", null));
        assertThat(NetworkPath.parse("/net/Lab").network()).isNull();
        assertThat(NetworkPath.parse("/net/").network()).isNull();
        assertThat(NetworkPath.parse("/net/a/b").network()).isNull();
        assertThat(NetworkPath.parse("/net/" + "x".repeat(33)).network()).isNull();
    }
}

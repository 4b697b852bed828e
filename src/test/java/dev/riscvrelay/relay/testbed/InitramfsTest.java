package dev.riscvrelay.relay.testbed;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The static-linking check that keeps a dynamically linked busybox (Debian's {@code busybox} package) out of the
 * QEMU guest's initramfs, in Java ({@link Initramfs#isStaticallyLinked}) and in scripts/is-static-elf.sh (what
 * scripts/install-test-deps.sh asks before it trusts /bin/busybox): both must give the same verdict.
 */
class InitramfsTest {

    private static final int PT_LOAD = 1;
    private static final int PT_INTERP = 3;
    private static final int PT_DYNAMIC = 2;

    @TempDir
    Path dir;

    @Test
    void anElfWithoutAnInterpreterIsStaticOneWithIsNot() throws Exception {
        assertVerdict("static64le", elf(true, ByteOrder.LITTLE_ENDIAN, 2, PT_LOAD, PT_LOAD), true);
        // static-pie: ET_DYN with a PT_DYNAMIC but no loader
        assertVerdict("staticpie", elf(true, ByteOrder.LITTLE_ENDIAN, 3, PT_LOAD, PT_DYNAMIC), true);
        assertVerdict("static32be", elf(false, ByteOrder.BIG_ENDIAN, 2, PT_LOAD), true);
        assertVerdict("dynamic64le", elf(true, ByteOrder.LITTLE_ENDIAN, 3, PT_LOAD, PT_INTERP, PT_DYNAMIC), false);
        assertVerdict("dynamic32be", elf(false, ByteOrder.BIG_ENDIAN, 2, PT_INTERP, PT_LOAD), false);
    }

    @Test
    void whatIsNotARunnableElfIsNotStatic() throws Exception {
        byte[] object = elf(true, ByteOrder.LITTLE_ENDIAN, 1, PT_LOAD); // ET_REL
        assertVerdict("object", object, false);
        byte[] whole = elf(true, ByteOrder.LITTLE_ENDIAN, 2, PT_LOAD, PT_LOAD, PT_INTERP);
        assertVerdict("truncated", Arrays.copyOf(whole, whole.length - 56), false);
        assertVerdict("script", "#!/bin/sh\necho hi\n".getBytes(StandardCharsets.US_ASCII), false);
        assertVerdict("empty", new byte[0], false);
    }

    @Test
    void thisHostsBinariesGetTheVerdictTheyShould() throws Exception {
        // Debian's ls is dynamically linked; its ldconfig is static-pie (libc-bin, an essential package).
        assertVerdict("ls", Files.readAllBytes(Path.of("/bin/ls")), false);
        assertVerdict("ldconfig", Files.readAllBytes(Path.of("/sbin/ldconfig")), true);
    }

    @Test
    void aDynamicExecutableIsRefusedNamingTheFix() {
        assertThatThrownBy(() -> new Initramfs().staticExecutable("bin/busybox", Path.of("/bin/ls"),
                "apt-get install -y busybox-static"))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("/bin/ls is not a statically linked executable")
                .hasMessageContaining("apt-get install -y busybox-static");
    }

    @Test
    void aStaticExecutableGoesIntoTheArchive() throws Exception {
        Path archive = new Initramfs().staticExecutable("bin/ldconfig", Path.of("/sbin/ldconfig"), "-")
                .writeTo(dir.resolve("initramfs.cpio"));
        assertThat(new String(Files.readAllBytes(archive), StandardCharsets.ISO_8859_1)).contains("bin/ldconfig");
    }

    private void assertVerdict(String name, byte[] content, boolean statik) throws IOException, InterruptedException {
        assertThat(Initramfs.isStaticallyLinked(content)).as("Java verdict on " + name).isEqualTo(statik);
        Path file = dir.resolve(name);
        Files.write(file, content);
        Process script = new ProcessBuilder("bash", "scripts/is-static-elf.sh", file.toString())
                .redirectErrorStream(true).start();
        String output = new String(script.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(script.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(script.exitValue()).as("scripts/is-static-elf.sh on " + name + ": " + output)
                .isEqualTo(statik ? 0 : 1);
    }

    /** An ELF header and a program header table of these types; nothing else (enough for both checks). */
    private static byte[] elf(boolean is64, ByteOrder order, int type, int... segmentTypes) {
        int headerSize = is64 ? 64 : 52;
        int entrySize = is64 ? 56 : 32;
        ByteBuffer b = ByteBuffer.allocate(headerSize + segmentTypes.length * entrySize).order(order);
        b.put(new byte[] {0x7F, 'E', 'L', 'F', (byte) (is64 ? 2 : 1), (byte) (order == ByteOrder.LITTLE_ENDIAN ? 1 : 2),
            1});
        b.putShort(16, (short) type);
        b.putShort(18, (short) (is64 ? 62 : 8)); // x86-64 / MIPS
        b.putInt(20, 1);
        if (is64) {
            b.putLong(32, headerSize);
            b.putShort(52, (short) headerSize);
            b.putShort(54, (short) entrySize);
            b.putShort(56, (short) segmentTypes.length);
        } else {
            b.putInt(28, headerSize);
            b.putShort(40, (short) headerSize);
            b.putShort(42, (short) entrySize);
            b.putShort(44, (short) segmentTypes.length);
        }
        for (int i = 0; i < segmentTypes.length; i++) {
            b.putInt(headerSize + i * entrySize, segmentTypes[i]);
        }
        return b.array();
    }
}

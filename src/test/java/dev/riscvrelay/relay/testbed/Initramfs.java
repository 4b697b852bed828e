package dev.riscvrelay.relay.testbed;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * A tiny initramfs for test VMs, written as an uncompressed "newc" cpio archive (the format the kernel unpacks,
 * Documentation/driver-api/early-userspace/buffer-format.rst): directories, files and device nodes, in order.
 */
public final class Initramfs {

    private static final int S_IFDIR = 0040000;
    private static final int S_IFREG = 0100000;
    private static final int S_IFCHR = 0020000;
    private static final int PT_INTERP = 3;

    private record Entry(String name, int mode, byte[] data, int rdevMajor, int rdevMinor) {
    }

    private final List<Entry> entries = new ArrayList<>();

    public Initramfs directory(String name) {
        entries.add(new Entry(name, S_IFDIR | 0755, new byte[0], 0, 0));
        return this;
    }

    public Initramfs file(String name, byte[] data, int permissions) {
        entries.add(new Entry(name, S_IFREG | permissions, data, 0, 0));
        return this;
    }

    public Initramfs file(String name, Path source, int permissions) throws IOException {
        return file(name, Files.readAllBytes(source), permissions);
    }

    /**
     * Adds an executable the kernel must run from the archive, which holds no dynamic loader: refuses a dynamically
     * linked one (e.g. Debian's {@code busybox} package rather than {@code busybox-static}), which would otherwise
     * make the guest panic with "No working init found".
     *
     * @param install how to get a static build, named in the error
     */
    public Initramfs staticExecutable(String name, Path source, String install) throws IOException {
        byte[] data = Files.readAllBytes(source);
        if (!isStaticallyLinked(data)) {
            throw new IllegalStateException(source + " is not a statically linked executable, so it cannot run in an"
                    + " initramfs (no dynamic loader there); " + install);
        }
        return file(name, data, 0755);
    }

    /**
     * Whether {@code elf} is an ELF executable (or PIE) without a PT_INTERP program header, so the kernel runs it
     * without ld.so: statically linked, static-pie included. The same rule as scripts/is-static-elf.sh.
     */
    public static boolean isStaticallyLinked(byte[] elf) {
        if (elf.length < 52 || elf[0] != 0x7F || elf[1] != 'E' || elf[2] != 'L' || elf[3] != 'F') {
            return false;
        }
        boolean is64 = elf[4] == 2;
        if (!is64 && elf[4] != 1 || elf[5] != 1 && elf[5] != 2) {
            return false;
        }
        ByteBuffer header = ByteBuffer.wrap(elf).order(elf[5] == 1 ? ByteOrder.LITTLE_ENDIAN : ByteOrder.BIG_ENDIAN);
        int type = Short.toUnsignedInt(header.getShort(16));
        if (type != 2 && type != 3 || is64 && elf.length < 64) { // ET_EXEC or ET_DYN
            return false;
        }
        long tableOffset = is64 ? header.getLong(32) : Integer.toUnsignedLong(header.getInt(28));
        int entrySize = Short.toUnsignedInt(header.getShort(is64 ? 54 : 42));
        int entries = Short.toUnsignedInt(header.getShort(is64 ? 56 : 44));
        if (entries == 0 || entrySize < 4 || tableOffset < 0
                || tableOffset + (long) entries * entrySize > elf.length) {
            return false;
        }
        for (int i = 0; i < entries; i++) {
            if (header.getInt((int) (tableOffset + (long) i * entrySize)) == PT_INTERP) {
                return false;
            }
        }
        return true;
    }

    public Initramfs script(String name, String text) {
        return file(name, text.getBytes(StandardCharsets.UTF_8), 0755);
    }

    public Initramfs charDevice(String name, int major, int minor) {
        entries.add(new Entry(name, S_IFCHR | 0600, new byte[0], major, minor));
        return this;
    }

    /** Writes the archive with its TRAILER!!! entry. */
    public Path writeTo(Path file) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int inode = 1;
        for (Entry entry : entries) {
            write(out, entry, inode++);
        }
        write(out, new Entry("TRAILER!!!", 0, new byte[0], 0, 0), 0);
        Files.write(file, out.toByteArray());
        return file;
    }

    private static void write(ByteArrayOutputStream out, Entry entry, int inode) {
        byte[] name = (entry.name() + "\0").getBytes(StandardCharsets.US_ASCII);
        String header = "070701" + hex(inode) + hex(entry.mode()) + hex(0) + hex(0)
                + hex((entry.mode() & S_IFDIR) == S_IFDIR ? 2 : 1) + hex(0) + hex(entry.data().length)
                + hex(0) + hex(0) + hex(entry.rdevMajor()) + hex(entry.rdevMinor()) + hex(name.length) + hex(0);
        out.writeBytes(header.getBytes(StandardCharsets.US_ASCII));
        out.writeBytes(name);
        pad(out);
        out.writeBytes(entry.data());
        pad(out);
    }

    private static String hex(int value) {
        return String.format(Locale.ROOT, "%08X", value);
    }

    /** Header plus name, and the data, each end on a 4-byte boundary. */
    private static void pad(ByteArrayOutputStream out) {
        while (out.size() % 4 != 0) {
            out.write(0);
        }
    }
}

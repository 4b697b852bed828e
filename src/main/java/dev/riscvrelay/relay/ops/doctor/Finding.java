package dev.riscvrelay.relay.ops.doctor;

/**
 * What one check found.
 *
 * @param check the check's short name
 * @param severity how bad
 * @param what what was found, with the numbers
 * @param fix what to change; empty when nothing
 */
public record Finding(String check, Severity severity, String what, String fix) {

    public static Finding ok(String check, String what) {
        return new Finding(check, Severity.OK, what, "");
    }

    public static Finding warn(String check, String what, String fix) {
        return new Finding(check, Severity.WARN, what, fix);
    }

    public static Finding fail(String check, String what, String fix) {
        return new Finding(check, Severity.FAIL, what, fix);
    }
}

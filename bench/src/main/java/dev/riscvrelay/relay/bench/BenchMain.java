package dev.riscvrelay.relay.bench;

import dev.riscvrelay.relay.cli.RelayCommand;
import java.io.PrintWriter;

/**
 * The bench jar's entry point: {@code java -jar riscv-relay-bench.jar ARGS} runs {@code relay bench ARGS} on the
 * relay's own command line (its process defaults, error handling and usage), with {@code bench} added to it.
 */
public final class BenchMain {

    private BenchMain() {
    }

    public static void main(String[] args) {
        RelayCommand.useProcessDefaults();
        String[] benchArgs = new String[args.length + 1];
        benchArgs[0] = "bench";
        System.arraycopy(args, 0, benchArgs, 1, args.length);
        System.exit(RelayCommand.run(benchArgs, new PrintWriter(System.out, true), new PrintWriter(System.err, true),
                new BenchCommand()));
    }
}

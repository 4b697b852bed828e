package dev.riscvrelay.relay.bench;

import dev.riscvrelay.relay.bench.micro.HotPathBenchmarks;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import org.openjdk.jmh.profile.GCProfiler;
import org.openjdk.jmh.results.Result;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.RunnerException;
import org.openjdk.jmh.runner.options.Options;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;
import org.openjdk.jmh.runner.options.VerboseMode;

/** Runs the JMH hot-path benchmarks with the GC profiler (one forked JVM) and reads ns/op and B/op back. */
public final class MicroBench {

    public record Row(String name, double nanosPerOp, double bytesPerOp) {
    }

    public record Results(List<Row> rows, String method) {
    }

    private MicroBench() {
    }

    public static Results run(boolean quick) throws RunnerException {
        int warmups = quick ? 1 : 3;
        int iterations = quick ? 2 : 5;
        TimeValue time = quick ? TimeValue.milliseconds(400) : TimeValue.seconds(1);
        Options options = new OptionsBuilder()
                .include(HotPathBenchmarks.class.getName() + ".*")
                .addProfiler(GCProfiler.class)
                .forks(1)
                .warmupIterations(warmups).warmupTime(time)
                .measurementIterations(iterations).measurementTime(time)
                .jvmArgs("-Xmx256m", "-Dio.netty.leakDetection.level=disabled", "--enable-native-access=ALL-UNNAMED",
                        "--sun-misc-unsafe-memory-access=allow")
                .verbosity(VerboseMode.SILENT)
                .build();
        Collection<RunResult> results = new Runner(options).run();
        List<Row> rows = new ArrayList<>();
        for (RunResult result : results) {
            String name = result.getParams().getBenchmark();
            name = name.substring(name.lastIndexOf('.') + 1);
            rows.add(new Row(name, result.getPrimaryResult().getScore(), allocationPerOp(result)));
        }
        rows.sort((a, b) -> a.name().compareTo(b.name()));
        String method = String.format(Locale.ROOT, "`%s`: one forked JVM, %d warm-up and %d measured iterations of "
                + "%s each, average time per operation; B/op is JMH's gc.alloc.rate.norm (the JVM's allocated-bytes "
                + "counter per operation), which must be 0 on the hot path.", HotPathBenchmarks.class.getSimpleName(),
                warmups, iterations, time);
        return new Results(rows, method);
    }

    private static double allocationPerOp(RunResult result) {
        for (var entry : result.getSecondaryResults().entrySet()) {
            String key = entry.getKey();
            if (key.endsWith("gc.alloc.rate.norm")) {
                Result<?> value = entry.getValue();
                return value.getScore();
            }
        }
        throw new IllegalStateException("JMH reported no gc.alloc.rate.norm for " + result.getParams().getBenchmark()
                + ": is the GC profiler available?");
    }
}

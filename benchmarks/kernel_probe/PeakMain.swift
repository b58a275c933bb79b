/// `peak [runs]`: prints "float32_gflops_per_thread <value>", the multiply-add peak of one
/// thread for the tier this binary was compiled for (FMAPeak.swift). Run by
/// benchmarks/fma_peak.py; bench-only.
@main struct PeakMain {
    static func main() {
        let args = CommandLine.arguments
        let runs = args.count > 1 ? max(1, Int(args[1]) ?? 200) : 200
        print("float32_gflops_per_thread \(peakGflops(runs: runs))")
    }
}

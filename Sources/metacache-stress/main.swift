import StressHarness
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

exit(StressHarness.main(CommandLine.arguments))

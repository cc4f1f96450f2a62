import StressHarness
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

exit(await StressHarness.main(CommandLine.arguments))

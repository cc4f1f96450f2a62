import MetacacheCLI
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

exit(MetacacheCommand.main(CommandLine.arguments))

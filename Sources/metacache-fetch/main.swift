// metacache-fetch: the HTTP(S) fetcher that `metacache cache refresh` runs for
// http:// and https:// sources. See FetchCommand.swift for the protocol.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

exit(FetchCommand.main(Array(CommandLine.arguments.dropFirst())))

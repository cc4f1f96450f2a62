#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import MetadataCache

/// The fetch step of `refresh`: turns the source into a `FetchResult`, called by
/// `CacheStore.refresh` while the writer lock is held.
///
/// Progress: every source reports through `request.progress` (the store turns it
/// into `fetchProgress` events for the live line and `--events`), except a
/// terminal on stdin, where a live line would overwrite what the user types.
///
/// Conditional requests: the stored ETag/Last-Modified are sent only when the
/// cache was last fetched from this same source; validators of another URL could
/// make a different server answer 304 and keep the wrong payload.
public struct PayloadFetcher: Sendable {
    public let source: SourceSpecifier
    public let reader: SourceReader
    public let http: HTTPFetchClient?
    /// Called just before reading a terminal on stdin (to say "end with Ctrl-D").
    public let willReadTerminal: @Sendable () -> Void

    public init(
        source: SourceSpecifier, reader: SourceReader, http: HTTPFetchClient?,
        willReadTerminal: @escaping @Sendable () -> Void = {}
    ) {
        self.source = source
        self.reader = reader
        self.http = http
        self.willReadTerminal = willReadTerminal
    }

    public func fetch(_ request: FetchRequest) throws(SourceFailure) -> FetchResult {
        let description = source.description
        let progress = request.progress
        switch source {
        case .standardInput:
            if isatty(0) == 1 {
                willReadTerminal()
                return .payload(try reader.readStandardInput(), source: description)
            }
            return .payload(try reader.readStandardInput { progress.report(received: $0, expected: $1) }, source: description)
        case let .file(path):
            return .payload(try reader.readFile(path) { progress.report(received: $0, expected: $1) }, source: description)
        case let .http(url):
            guard let http else { throw .helperFailed(detail: "no HTTP client configured") }
            let current = request.current
            let validators = current.flatMap { $0.source == description ? $0.validators : nil } ?? HTTPValidators()
            switch try http.fetch(url, validators: validators, progress: { progress.report(received: $0, expected: $1) }) {
            case let .payload(data, received, _):
                return .payload(data, source: description, validators: received)
            case let .notModified(received):
                guard current != nil, !validators.isEmpty else { throw .unexpectedNotModified(url: url) }
                // A 304 may repeat only some validators; keep the stored ones it omits.
                let merged = HTTPValidators(
                    etag: received.etag ?? validators.etag, lastModified: received.lastModified ?? validators.lastModified)
                return .notModified(validators: merged)
            }
        }
    }
}

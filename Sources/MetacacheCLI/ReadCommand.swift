#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import MetadataCache

/// `metacache cache read`: the payload bytes, exactly, on stdout (or the header as
/// JSON with `--meta`).
///
/// This runs on every invocation of a host tool, so it does only what a read
/// needs: no config file, no lock-timeout lookup, no lock, no signal handlers, no
/// async runtime; one verified read of the file and one write loop straight from
/// the snapshot's buffer.
struct ReadCommand {
    let parsed: ParsedCommandLine
    let common: CommonSettings
    let context: CommandContext

    func run() throws(CommandFailure) -> ExitCode {
        let observers = try common.optionalObservers(standardError: context.standardError)
        let hints = HintCommands(program: context.programName, common: common)
        let snapshot: CacheSnapshot?
        let store: CacheStore
        do {
            store = try CacheStore(
                directory: common.directory.value, name: common.name, options: common.storeOptions(observers: observers))
        } catch {
            throw CacheErrorClassification.failure(for: error)
        }
        do {
            snapshot = try store.read()
        } catch {
            throw CacheErrorClassification.failure(for: error, hints: hints, refreshSource: HintCommands.refreshSource(for: store))
        }
        guard let snapshot else {
            throw CommandFailure(
                .missing,
                "no cache at \(store.cachePath) yet; create it with '\(hints.refresh(HintCommands.refreshSource(for: store)))'")
        }
        // Written straight from the snapshot's buffer: no copy, no re-encoding.
        var failure: OutputChannelError?
        let output = context.standardOutput
        if parsed.has("meta") {
            var line = TerminalText.escapedJSON(HeaderJSON.object(for: snapshot)) + "\n"
            line.withUTF8 { bytes in
                do throws(OutputChannelError) { try output.write(UnsafeRawBufferPointer(bytes)) } catch { failure = error }
            }
        } else {
            snapshot.payload.withUnsafeBytes { bytes in
                do throws(OutputChannelError) { try output.write(bytes) } catch { failure = error }
            }
        }
        if let failure {
            throw CommandFailure(.ioError, "writing to standard output failed: \(Errno(rawValue: failure.errno))")
        }
        return .success
    }
}

/// `read --meta`: the verified header of the current cache as one JSON object.
///
///     {"path":"/c/metadata.json","generation":7,"commitId":"…","fetchedAt":"2026-11-25T09:31:02.123Z",
///      "committedAt":"…","ageSeconds":180,"source":"https://…","etag":"\"abc\"","lastModified":null,
///      "writerPid":4242,"writerHost":"build-1","payloadBytes":1048576,"fileSize":1048700}
enum HeaderJSON {
    static func object(for snapshot: CacheSnapshot, now: Date = Date()) -> String {
        JSONText.object([
            ("path", JSONText.quoted(snapshot.path)),
            ("generation", String(snapshot.generation)),
            ("commitId", JSONText.quoted(Hex.format(snapshot.commitID))),
            ("fetchedAt", StatusReport.fetchedAtJSON(CachedVersion(snapshot)) ?? "null"),
            ("committedAt", JSONText.quoted(ISO8601Timestamp.format(millisecondsSinceEpoch: snapshot.committedAtMilliseconds))),
            ("ageSeconds", StatusReport.ageSecondsJSON(fetchedAtMilliseconds: snapshot.fetchedAtMilliseconds, now: now) ?? "null"),
            ("source", JSONText.optionalString(snapshot.source)),
            ("etag", JSONText.optionalString(snapshot.validators.etag)),
            ("lastModified", JSONText.optionalString(snapshot.validators.lastModified)),
            ("writerPid", String(snapshot.writerPID)),
            ("writerHost", JSONText.optionalString(snapshot.writerHost)),
            ("payloadBytes", String(snapshot.payload.count)),
            ("fileSize", String(snapshot.fileSize)),
        ])
    }
}

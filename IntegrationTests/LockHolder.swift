import Foundation
import Testing
import TestSupport

/// A `metacache cache refresh` that holds the writer lock for as long as the test
/// wants: its source is a FIFO, which it opens only after taking the lock, so the
/// moment the test's end of the FIFO opens, the holder holds the lock. Releasing
/// means writing a payload and closing the FIFO; then the holder commits and exits.
final class LockHolder {
    let fifo: FIFOWriter
    let process: ChildProcess
    var pid: Int32 { process.pid }

    init(cacheDir: String, scratch: TemporaryDirectory, name: String = "holder.fifo") throws {
        fifo = try FIFOWriter(path: scratch.file(name))
        process = try Metacache.start(
            ["cache", "refresh", "--dir", cacheDir, "--source", fifo.path, "--lock-timeout", "30"], stderr: .captured)
        try fifo.openWhenReaderArrives()
    }

    /// Sends `payload`, closes the FIFO and waits for the holder's exit status.
    @discardableResult
    func release(_ payload: [UInt8] = sampleCatalogue(entries: 5, seed: 9)) throws -> ChildProcess.Termination {
        fifo.write(payload)
        fifo.close()
        return try process.wait()
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An append-only log shared by every writer process of a run, one record per line.
///
/// Guarantee: each record is appended with a single `write(2)` on a descriptor
/// opened with `O_APPEND`, so records of concurrent processes never interleave
/// within a line and are never lost to a racing append (the kernel moves the file
/// offset to the end atomically with each write). A writer appends `enter` right
/// after it acquires the lock and `exit` right before it releases it, so the
/// recorded interval lies inside the time the lock was actually held: if two
/// recorded intervals overlap, two processes held the lock at once.
public final class WriterIntervalLog: Sendable {
    public let path: String
    private let fd: Int32

    public struct OpenError: Error, CustomStringConvertible {
        public let description: String
    }

    public init(path: String) throws(OpenError) {
        self.path = path
        fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw OpenError(description: "cannot open \(path): \(String(cString: strerror(errno)))") }
    }

    deinit { close(fd) }

    /// Appends one record. A failed or short append is fatal for the run's
    /// evidence, so it is reported loudly on stderr (and the record is lost).
    public func append(_ record: WriterRecord) {
        var line = record.line
        line.withUTF8 { bytes in
            while true {
                let n = write(fd, bytes.baseAddress, bytes.count)
                if n == bytes.count { return }
                if n < 0 && errno == EINTR { continue }
                let message = "metacache-stress: appending to \(path) failed (\(n < 0 ? String(cString: strerror(errno)) : "short write \(n)"))\n"
                _ = message.withCString { write(2, $0, strlen($0)) }
                return
            }
        }
    }

    /// Reads a log from the start, incrementally: each `poll()` returns the records
    /// completed since the previous call (a partial last line waits for its end).
    public final class Reader {
        private let path: String
        private var fd: Int32 = -1
        private var offset: Int64 = 0
        private var pending: [UInt8] = []
        /// Reused by every poll.
        private var buffer = [UInt8](repeating: 0, count: 1 << 16)
        public private(set) var malformedLines = 0
        /// Lines that were a torn start of one record followed by a whole record:
        /// what a writer SIGKILLed inside its append leaves behind. A write(2) to
        /// a regular file stops at a page boundary when a fatal signal is pending,
        /// so an append that crosses a 4 KiB boundary can end early ("ex" of an
        /// `exit` line) and the next append continues the same line. The whole
        /// record is kept; the torn one is lost, as if the kill had come just
        /// before it. Only kill chaos can explain one (the report checks).
        public private(set) var tornAppends = 0

        public init(path: String) { self.path = path }
        deinit { if fd >= 0 { close(fd) } }

        public func poll() -> [WriterRecord] {
            if fd < 0 {
                fd = open(path, O_RDONLY | O_CLOEXEC)
                if fd < 0 { return [] }
            }
            // The coordinator polls every half millisecond during kill chaos: when
            // the file has not grown, that costs one fstat and nothing else.
            var status = stat()
            if fstat(fd, &status) == 0, Int64(status.st_size) <= offset { return [] }
            var records: [WriterRecord] = []
            while true {
                let n = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, off_t(offset)) }
                if n < 0 && errno == EINTR { continue }
                guard n > 0 else { break }
                offset += Int64(n)
                pending += buffer[0..<n]
            }
            var start = 0
            while let newline = pending[start...].firstIndex(of: UInt8(ascii: "\n")) {
                let line = String(decoding: pending[start..<newline], as: UTF8.self)
                if let record = WriterRecord(line: Substring(line)) {
                    records.append(record)
                } else if let record = Self.recordAfterTornAppend(line) {
                    records.append(record)
                    tornAppends += 1
                } else {
                    malformedLines += 1
                }
                start = newline + 1
            }
            pending.removeFirst(start)
            return records
        }

        /// The whole record that ends `line`, when what precedes it is not a
        /// record by itself (the start of one cut short), or nil.
        static func recordAfterTornAppend(_ line: String) -> WriterRecord? {
            var index = line.index(after: line.startIndex)
            while index < line.endIndex {
                if let record = WriterRecord(line: line[index...]) { return record }
                index = line.index(after: index)
            }
            return nil
        }
    }
}

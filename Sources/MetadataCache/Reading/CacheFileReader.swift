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

/// Lock-free, verified reads of a cache file.
///
/// Guarantee: a read returns a payload that some writer committed in full, or
/// reports corruption; never a torn, partial or mixed file. Writers never modify a
/// cache file in place — they rename a complete, fsynced temp over it — so the file
/// a reader opened stays immutable for as long as the descriptor is open, whatever
/// writers do meanwhile. The checksums then catch what the protocol cannot: disk
/// corruption, a file truncated by something else, a foreign file.
///
/// A reader never creates, locks or modifies anything, and never waits for a writer.
package struct CacheFileReader: Sendable {
    package let sys: SystemCalls

    package init(sys: SystemCalls) { self.sys = sys }

    /// Opens the cache file read-only; nil when it does not exist. `O_NOFOLLOW`:
    /// a symlink where the cache should be is refused, not followed. `O_NONBLOCK`:
    /// opening a FIFO planted where the cache should be would otherwise block until
    /// some writer opens it — a reader must never wait. (It changes nothing for the
    /// regular file a cache is; fstat then refuses anything else.)
    private func openIfExists(_ path: String) throws(MetadataCacheError) -> Int32? {
        do {
            return try sys.open(path, flags: O_RDONLY | O_NOFOLLOW | O_NONBLOCK)
        } catch .io(_, _, .noSuchFile) {
            return nil
        } catch .io(_, _, .tooManySymlinks) {
            throw .corruptCache(path: path, problem: .notARegularFile)
        }
    }

    /// Reads and verifies the whole file; nil when there is no cache.
    package func read(_ path: String) throws(MetadataCacheError) -> CacheSnapshot? {
        guard let fd = try openIfExists(path) else { return nil }
        defer { sys.closeIgnoringErrors(fd) }
        let status = try sys.fstat(fd, path: path)
        guard status.kind == .regular else { throw .corruptCache(path: path, problem: .notARegularFile) }
        let size = Int(status.size)
        guard size > 0 else { throw .corruptCache(path: path, problem: .empty) }
        guard size >= CacheHeader.minimumLength else {
            throw .corruptCache(path: path, problem: .truncatedHeader(size: size))
        }

        // A file far larger than any default-sized cache is checked by its header
        // before the whole-file buffer is allocated: a foreign multi-gigabyte file
        // planted at the cache path must fail as "not a cache file", not exhaust
        // memory. Normal sizes skip this (one pread saved on the hot path).
        if size > Self.headerCheckedFirstAbove { try checkHeaderAnnounces(size: size, fd: fd, path: path) }

        // One allocation of exactly the file size and (normally) one read(2): the
        // payload is handed out in place, without a second copy.
        let base = UnsafeMutableRawPointer.allocate(byteCount: size, alignment: 16)
        var handedOff = false
        defer { if !handedOff { base.deallocate() } }
        let buffer = UnsafeMutableRawBufferPointer(start: base, count: size)
        let got = try sys.readFully(fd, into: buffer, path: path)
        let bytes = UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(buffer)[0..<got])

        let header: CacheHeader
        let headerLength: Int
        do {
            (header, headerLength) = try CacheHeader.decode(bytes)
        } catch {
            throw .corruptCache(path: path, problem: error)
        }
        let expected = headerLength + Int(clamping: header.payloadLength)
        guard expected == got, got == size else {
            throw .corruptCache(path: path, problem: .lengthMismatch(expected: expected, actual: got))
        }
        let payload = UnsafeRawBufferPointer(rebasing: bytes[headerLength...])
        let checksum = XXH64.hash(payload)
        guard checksum == header.payloadChecksum else {
            throw .corruptCache(
                path: path, problem: .payloadChecksumMismatch(expected: header.payloadChecksum, actual: checksum))
        }

        handedOff = true
        let data = Data(
            bytesNoCopy: base.advanced(by: headerLength), count: payload.count,
            deallocator: .custom { _, _ in base.deallocate() })
        return CacheSnapshot(
            payload: data, generation: header.generation, commitID: header.commitID,
            fetchedAt: Date(timeIntervalSince1970: Double(header.fetchedAtMilliseconds) / 1000),
            committedAt: Date(timeIntervalSince1970: Double(header.committedAtMilliseconds) / 1000),
            source: header.source, validators: HTTPValidators(etag: header.etag, lastModified: header.lastModified),
            writerPID: header.writerPID, writerHost: header.writerHost, path: path,
            fileIdentity: CacheFileIdentity(status), fileSize: size)
    }

    /// Files larger than this (the default payload limit plus the largest header)
    /// have their header checked before the payload is read.
    static let headerCheckedFirstAbove = (64 << 20) + CacheHeader.maximumLength

    /// Throws unless the file starts with a valid header whose lengths add up to
    /// exactly `size`.
    private func checkHeaderAnnounces(size: Int, fd: Int32, path: String) throws(MetadataCacheError) {
        let prefix = try readPrefix(fd, path: path, count: CacheHeader.maximumLength)
        do throws(CacheCorruption) {
            let (header, headerLength) = try withBytes(of: prefix) { (b) throws(CacheCorruption) in try CacheHeader.decode(b) }
            let expected = headerLength + Int(clamping: header.payloadLength)
            guard expected == size else { throw .lengthMismatch(expected: expected, actual: size) }
        } catch {
            throw .corruptCache(path: path, problem: error)
        }
    }

    /// Reads and verifies only the header (not the payload checksum): enough to
    /// learn the generation, commit id and validators cheaply. Nil when no cache.
    package func readHeader(_ path: String) throws(MetadataCacheError) -> (header: CacheHeader, identity: CacheFileIdentity)? {
        guard let fd = try openIfExists(path) else { return nil }
        defer { sys.closeIgnoringErrors(fd) }
        let status = try sys.fstat(fd, path: path)
        guard status.kind == .regular else { throw .corruptCache(path: path, problem: .notARegularFile) }
        guard status.size > 0 else { throw .corruptCache(path: path, problem: .empty) }
        // Nearly every header fits in the first 4 KiB; read more only if it says so.
        var bytes = try readPrefix(fd, path: path, count: min(Int(status.size), 4096))
        let announced: Int
        do throws(CacheCorruption) {
            announced = try withBytes(of: bytes) { (b) throws(CacheCorruption) in try CacheHeader.announcedLength(b) }
        } catch {
            throw .corruptCache(path: path, problem: error)
        }
        if announced > bytes.count {
            guard status.size >= Int64(announced) else {
                throw .corruptCache(path: path, problem: .truncatedHeader(size: Int(status.size)))
            }
            bytes = try readPrefix(fd, path: path, count: announced)
        }
        do throws(CacheCorruption) {
            let (header, headerLength) = try withBytes(of: bytes) { (b) throws(CacheCorruption) in try CacheHeader.decode(b) }
            let expected = Int64(headerLength) + Int64(clamping: header.payloadLength)
            guard expected == status.size else { throw .lengthMismatch(expected: Int(expected), actual: Int(status.size)) }
            return (header, CacheFileIdentity(status))
        } catch {
            throw .corruptCache(path: path, problem: error)
        }
    }

    private func readPrefix(_ fd: Int32, path: String, count: Int) throws(MetadataCacheError) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        let got = try withMutableBytes(of: &bytes) { (b) throws(MetadataCacheError) in
            try sys.preadFully(fd, into: b, at: 0, path: path)
        }
        return Array(bytes.prefix(got))
    }

    /// The current file's identity from `stat` alone; nil when there is no cache.
    package func identity(_ path: String) throws(MetadataCacheError) -> CacheFileIdentity? {
        try sys.lstatIfExists(path).map(CacheFileIdentity.init)
    }
}

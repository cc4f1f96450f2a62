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
    /// The open cache directory: the file is opened relative to it, never by path.
    package let directory: CacheDirectoryHandle
    package var sys: SystemCalls { directory.sys }

    package init(directory: CacheDirectoryHandle) { self.directory = directory }

    /// Opens the cache file `name` read-only; nil when it does not exist.
    /// `CacheDirectoryHandle.openFile` adds `O_NOFOLLOW` (a symlink where the cache
    /// should be is refused, not followed) and `O_NONBLOCK` (opening a FIFO planted
    /// there would otherwise block until some writer opens it — a reader must
    /// never wait), and refuses anything but a regular file: all of those are
    /// "not a regular file" to the reader.
    private func openIfExists(_ name: String) throws(MetadataCacheError) -> (fd: Int32, status: FileStatus, path: String)? {
        let path = directory.path(of: name)
        do throws(MetadataCacheError) {
            let (fd, status) = try directory.openFile(name, flags: O_RDONLY)
            return (fd, status, path)
        } catch .io(_, _, .noSuchFile) {
            return nil
        } catch .io(_, _, .tooManySymlinks) {
            throw .corruptCache(path: path, problem: .notARegularFile)
        } catch .unsafeStoreFile(_, .notARegularFile) {
            throw .corruptCache(path: path, problem: .notARegularFile)
        }
    }

    /// Reads and verifies the whole file; nil when there is no cache.
    package func read(_ name: String) throws(MetadataCacheError) -> CacheSnapshot? {
        guard let (fd, status, path) = try openIfExists(name) else { return nil }
        defer { sys.closeIgnoringErrors(fd) }
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

        let (header, headerLength) = try Self.decode(bytes, path: path)
        // N == size - H, never H + N: a header can announce any 64-bit N.
        guard got == size, header.payloadLength == UInt64(got - headerLength) else {
            throw .corruptCache(
                path: path,
                problem: .lengthMismatch(headerLength: headerLength, payloadLength: header.payloadLength, fileSize: Int64(got)))
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
        return CacheSnapshot(header: header, payload: data, path: path, fileIdentity: CacheFileIdentity(status), fileSize: size)
    }

    /// `CacheHeader.decode`, its rejection turned into the store's error for `path`.
    private static func decode(_ bytes: UnsafeRawBufferPointer, path: String) throws(MetadataCacheError) -> (CacheHeader, Int) {
        do {
            return try CacheHeader.decode(bytes)
        } catch {
            throw error.error(at: path)
        }
    }

    /// Files larger than this (the default payload limit plus the largest header)
    /// have their header checked before the payload is read.
    static let headerCheckedFirstAbove = (64 << 20) + CacheHeader.maximumLength

    /// Throws unless the file starts with a valid header whose lengths add up to
    /// exactly `size`.
    private func checkHeaderAnnounces(size: Int, fd: Int32, path: String) throws(MetadataCacheError) {
        let prefix = try readPrefix(fd, path: path, count: CacheHeader.maximumLength)
        let (header, headerLength) = try withBytes(of: prefix) { (b) throws(MetadataCacheError) in try Self.decode(b, path: path) }
        guard header.payloadLength == UInt64(size - headerLength) else {
            throw .corruptCache(
                path: path,
                problem: .lengthMismatch(headerLength: headerLength, payloadLength: header.payloadLength, fileSize: Int64(size)))
        }
    }

    /// Reads and verifies only the header (not the payload checksum): enough to
    /// learn the generation, commit id and validators cheaply. Nil when no cache.
    /// Throws `corruptCache`, or `newerFormat` for an intact file of a newer format.
    package func readHeader(_ name: String) throws(MetadataCacheError) -> (header: CacheHeader, identity: CacheFileIdentity)? {
        guard let (fd, status, path) = try openIfExists(name) else { return nil }
        defer { sys.closeIgnoringErrors(fd) }
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
        let (header, headerLength) = try withBytes(of: bytes) { (b) throws(MetadataCacheError) in try Self.decode(b, path: path) }
        // status.size >= announced == headerLength here.
        guard header.payloadLength == UInt64(status.size) - UInt64(headerLength) else {
            throw .corruptCache(
                path: path,
                problem: .lengthMismatch(headerLength: headerLength, payloadLength: header.payloadLength, fileSize: status.size))
        }
        return (header, CacheFileIdentity(status))
    }

    private func readPrefix(_ fd: Int32, path: String, count: Int) throws(MetadataCacheError) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        let got = try withMutableBytes(of: &bytes) { (b) throws(MetadataCacheError) in
            try sys.preadFully(fd, into: b, at: 0, path: path)
        }
        return Array(bytes.prefix(got))
    }

    /// The current file's identity from `stat` alone; nil when there is no cache.
    package func identity(_ name: String) throws(MetadataCacheError) -> CacheFileIdentity? {
        try directory.status(of: name).map(CacheFileIdentity.init)
    }
}

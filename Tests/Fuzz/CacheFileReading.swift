// Fuzz target: the cache file's header decoder and the verified file reader
// (docs/format.md), on any bytes. Built by Tests/Fuzz/run into the MetadataCache
// module itself (no import needed; package and internal API are in scope).
//
// Each input is tried three ways: as given (most mutations then fail a checksum),
// with both checksums recomputed, and with the payload length N also set to what
// follows the header — as a buggy or hostile writer would seal any values (XXH64
// is no signature), so every field and timestamp reaches the code that uses it.
// The decoder in memory and the reader through a real file must agree.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The file each input is written to, in the scratch directory Tests/Fuzz/run
/// provides (on tmpfs where there is one) and removes afterwards.
private let scratchDirectory: CacheDirectoryHandle = {
    guard let directory = getenv("FUZZ_SCRATCH") else { fatalError("run this target through Tests/Fuzz/run (FUZZ_SCRATCH unset)") }
    // Readers reach the file through the open directory only (issue 19); the
    // scratch directory's parents are the runner's business, not this target's.
    guard let handle = try? DirectorySafety.open(String(cString: directory), sys: .live, allowShared: true, create: false) else {
        fatalError("cannot open FUZZ_SCRATCH")
    }
    return handle
}()
private let scratchFile = scratchDirectory.path(of: "metadata.json")

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzCacheFileReading(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let input = Array(UnsafeBufferPointer(start: data, count: size))
    checkAgreement(input)
    checkAgreement(sealed(input, fixingLength: false))
    checkAgreement(sealed(input, fixingLength: true))
    return 0
}

/// `bytes` with the payload checksum and the header checksum recomputed (and N
/// set to the bytes after the header when `fixingLength`), where H allows it.
private func sealed(_ bytes: [UInt8], fixingLength: Bool) -> [UInt8] {
    guard bytes.count >= 16 else { return bytes }
    var out = bytes
    let h = Int(out.withUnsafeBytes { $0.loadLittleEndian(at: 12) as UInt32 })
    guard h >= CacheHeader.minimumLength, h <= out.count else { return out }
    func store(_ value: UInt64, at offset: Int) {
        withUnsafeBytes(of: value.littleEndian) { out.replaceSubrange(offset..<offset + 8, with: $0) }
    }
    if fixingLength { store(UInt64(out.count - h), at: 16) }
    store(out.withUnsafeBytes { XXH64.hash(UnsafeRawBufferPointer(rebasing: $0[h...])) }, at: 24)
    store(out.withUnsafeBytes { XXH64.hash(UnsafeRawBufferPointer(rebasing: $0[0..<(h - 8)])) }, at: h - 8)
    return out
}

private func checkAgreement(_ bytes: [UInt8]) {
    let decoded = Result { () throws(HeaderRejection) in
        try withBytes(of: bytes) { (b) throws(HeaderRejection) in try CacheHeader.decode(b) }
    }
    if case let .success((header, length)) = decoded {
        precondition(length >= CacheHeader.minimumLength && length <= bytes.count, "header length out of bounds")
        render(header, headerLength: length, fileSize: bytes.count)
    }

    write(bytes, to: scratchFile)
    let reader = CacheFileReader(directory: scratchDirectory)
    let read = Result { () throws(MetadataCacheError) in try reader.read("metadata.json") }
    switch (read, decoded) {
    case let (.success(snapshot?), .success((header, length))):
        precondition(snapshot.payload.count == bytes.count - length, "payload is not the bytes after the header")
        precondition(UInt64(snapshot.payload.count) == header.payloadLength, "payload length differs from N")
        precondition(snapshot.payload.withUnsafeBytes { XXH64.hash($0) } == header.payloadChecksum, "checksum not verified")
        precondition(snapshot.generation == header.generation && snapshot.commitID == header.commitID)
        precondition(snapshot.fetchedAtMilliseconds == header.fetchedAtMilliseconds)
        precondition(snapshot.age >= .zero, "negative age")
        _ = CachedVersion(snapshot).age
        _ = ISO8601Timestamp.format(millisecondsSinceEpoch: snapshot.committedAtMilliseconds)
    case (.success(nil), _):
        preconditionFailure("an existing file read as no cache")
    case (.success, .failure):
        preconditionFailure("the reader accepted a file whose header the decoder refuses")
    case let (.failure(error), .success((header, length))):
        // Only the length or the payload checksum can fail after a good header.
        let intact = header.payloadLength == UInt64(bytes.count - length)
            && bytes.withUnsafeBytes { XXH64.hash(UnsafeRawBufferPointer(rebasing: $0[length...])) } == header.payloadChecksum
        precondition(!intact, "the reader refused an intact file: \(error)")
        _ = error.description
    case let (.failure(error), .failure(rejection)):
        if case let .newerFormat(version, flags) = rejection {
            precondition(error == .newerFormat(path: scratchFile, version: version, unknownFlags: flags), "newer format reported as \(error)")
        }
        _ = error.description
    }

    let header = Result { () throws(MetadataCacheError) in try reader.readHeader("metadata.json") }
    switch (header, decoded) {
    case (.success(let found?), .success((let decodedHeader, _))):
        precondition(found.header == decodedHeader, "readHeader and decode disagree")
    case (.success(nil), _): preconditionFailure("an existing file's header read as no cache")
    case (.success, .failure): preconditionFailure("readHeader accepted a header the decoder refuses")
    case let (.failure(error), _): _ = error.description
    }
}

/// Everything a user may see of a header: dates, ages, sizes, error texts.
private func render(_ header: CacheHeader, headerLength: Int, fileSize: Int) {
    _ = ISO8601Timestamp.format(millisecondsSinceEpoch: header.fetchedAtMilliseconds)
    _ = ISO8601Timestamp.format(millisecondsSinceEpoch: header.committedAtMilliseconds)
    var slot = [UInt8](repeating: 0, count: ISO8601Timestamp.length)
    ISO8601Timestamp.write(millisecondsSinceEpoch: header.committedAtMilliseconds, into: &slot, at: 0)
    let version = CachedVersion(header)
    _ = version.age
    _ = EpochMilliseconds.age(since: header.committedAtMilliseconds)
    _ = ByteCountText.format(header.payloadLength)
    _ = CacheCorruption.lengthMismatch(headerLength: headerLength, payloadLength: header.payloadLength, fileSize: Int64(fileSize)).description
    _ = MetadataCacheError.newerFormat(path: "p", version: UInt16(truncatingIfNeeded: header.generation), unknownFlags: UInt16(truncatingIfNeeded: header.commitID)).description
    _ = DurationText.format(version.age)
}

private func write(_ bytes: [UInt8], to path: String) {
    let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
    precondition(fd >= 0, "cannot write \(path)")
    var done = 0
    bytes.withUnsafeBytes { raw in
        while done < raw.count {
            let n = Glibc.write(fd, raw.baseAddress! + done, raw.count - done)
            precondition(n > 0 || errno == EINTR, "write failed")
            if n > 0 { done += n }
        }
    }
    close(fd)
}

/// One record read from an inotify descriptor: `struct inotify_event` (wd, mask,
/// cookie, len) followed by `len` bytes of NUL-padded name.
struct InotifyEvent: Equatable, Sendable {
    var watch: Int32
    var mask: UInt32
    /// The entry's name inside the watched directory; nil for events about the
    /// watched directory itself (and queue overflow).
    var name: String?
}

/// Splits the bytes of one `read(2)` from an inotify descriptor into events.
///
/// Never traps and never reads outside `bytes`, whatever they hold: a record whose
/// header or name does not fit ends the parse (the kernel returns whole records
/// only, but lengths read from outside the process are not trusted).
enum InotifyEventParser {
    /// `sizeof(struct inotify_event)`: wd, mask, cookie, len.
    static let headerSize = 16

    static func events(in bytes: UnsafeRawBufferPointer) -> [InotifyEvent] {
        var events: [InotifyEvent] = []
        var offset = 0
        while bytes.count - offset >= headerSize {
            let watch = Int32(bitPattern: loadUInt32(bytes, at: offset))
            let mask = loadUInt32(bytes, at: offset + 4)
            let length = Int(loadUInt32(bytes, at: offset + 12))
            let nameStart = offset + headerSize
            guard length <= bytes.count - nameStart else { break }
            var name: String?
            if length > 0 {
                let raw = UnsafeRawBufferPointer(rebasing: bytes[nameStart..<(nameStart + length)])
                let end = raw.firstIndex(of: 0) ?? raw.count
                if end > 0 { name = String(decoding: UnsafeRawBufferPointer(rebasing: raw[0..<end]), as: UTF8.self) }
            }
            events.append(InotifyEvent(watch: watch, mask: mask, name: name))
            offset = nameStart + length
        }
        return events
    }

    /// A native-endian 32-bit field at any alignment.
    private static func loadUInt32(_ bytes: UnsafeRawBufferPointer, at offset: Int) -> UInt32 {
        var value: UInt32 = 0
        withUnsafeMutableBytes(of: &value) { $0.copyMemory(from: UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + 4)])) }
        return value
    }
}

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The bytes of one `CacheJSONDecoder` decode, and what every decoder and container
/// of that decode shares: the options, `userInfo`, the depth limit and a pool of
/// member tables.
///
/// ## Lifetime
///
/// A decode reads the caller's bytes in place (no copy): `decode` borrows them for
/// the duration of the call. A `Decodable` may keep a decoder or a container after
/// `init(from:)` returns (nothing forbids it); if anything still references this
/// input when the decode returns, `takeOwnershipIfShared` copies the bytes, so a
/// container used later reads this copy, never freed memory — what
/// `JSONDecoder` does too.
///
/// ## Safety on any bytes
///
/// Every read goes through `byte(_:)` or a word load guarded by an explicit
/// `count - i >= 8`: an offset outside `0..<count` reads as 0, which no JSON
/// token starts with, so a truncated or garbage input ends in a `DecodingError`,
/// never an out-of-bounds read.
final class JSONInput {
    private(set) var base: UnsafePointer<UInt8>
    let count: Int
    /// Non-nil when `base` is our own copy (freed in `deinit`).
    private var owned: UnsafeMutablePointer<UInt8>?

    let configuration: CacheJSONDecoder
    let userInfo: [CodingUserInfoKey: Any]
    /// `keyDecodingStrategy` is `.useDefaultKeys` (keys compare as they are).
    let keysAreDefault: Bool
    /// `keyDecodingStrategy` is `.convertFromSnakeCase`.
    private let keysAreSnakeCase: Bool
    /// Deepest container nesting decoded: 512, the limit of Foundation's parser and
    /// of `StrictJSONValidator`, so whatever a commit accepted decodes.
    let maxDepth = 512
    /// `init(from:)` calls in progress through this input's decoders, to bound
    /// recursion that does not descend into the document (a type that decodes
    /// itself from its own single-value container).
    var activeDecodes = 0
    let maxActiveDecodes: Int

    /// The first structural failure a container scan met (bytes that are not
    /// JSON): the decode fails with it even if `init(from:)` caught it, as
    /// `JSONDecoder` fails on any invalid document.
    private(set) var structuralFailure: JSONDecodingFailure?

    func recordStructuralFailure(_ failure: JSONDecodingFailure) {
        if structuralFailure == nil { structuralFailure = failure }
    }

    /// Key order of the objects decoded so far, per `CodingKey` type (the last
    /// two used are remembered without a dictionary lookup).
    private var keyOrders: [ObjectIdentifier: KeyOrderMemory] = [:]
    private var recentKeyOrders: (ObjectIdentifier?, KeyOrderMemory?, ObjectIdentifier?, KeyOrderMemory?)

    func keyOrder(for type: Any.Type) -> KeyOrderMemory {
        let id = ObjectIdentifier(type)
        if recentKeyOrders.0 == id, let memory = recentKeyOrders.1 { return memory }
        if recentKeyOrders.2 == id, let memory = recentKeyOrders.3 {
            recentKeyOrders = (id, memory, recentKeyOrders.0, recentKeyOrders.1)
            return memory
        }
        let memory: KeyOrderMemory
        if let known = keyOrders[id] {
            memory = known
        } else {
            memory = KeyOrderMemory()
            keyOrders[id] = memory
        }
        recentKeyOrders = (id, memory, recentKeyOrders.0, recentKeyOrders.1)
        return memory
    }

    /// Objects opened where no caller scans them to their end (the top level,
    /// nested containers, super decoders): `finishOpenedObjects` does, at the end
    /// of the decode, so that each object a type opened has had every key checked,
    /// as in `JSONDecoder`, which decodes every key of an object it opens.
    private var unfinished: [ObjectScan] = []

    func keepUntilTheEnd(_ scan: ObjectScan) {
        // Bounded: a model that opens a nested container per element finishes
        // them in batches (finishing early changes nothing but when keys are
        // checked) rather than keeping thousands alive.
        if unfinished.count >= 32 { finishOpenedObjects() }
        unfinished.append(scan)
    }

    /// Scans the rest of every object kept by `keepUntilTheEnd` (a failure is
    /// recorded), then lets them go (they reference this input).
    func finishOpenedObjects() {
        let scans = unfinished
        unfinished = []
        for scan in scans { _ = try? scan.finish() }
    }

    /// Member tables of finished object scans, reused by the next objects.
    var recycledTables: [UnsafeMutablePointer<ObjectMember>] = []

    // MARK: Reusing object scans

    /// The last object scans created, each reused once nothing but this pool
    /// references it (no container box, frame, unfinished list or child node):
    /// an object scan per object cost an allocation, a deinit and a free, ~1 400
    /// instructions per catalogue entry (callgrind, figure 9). Plain memory, not
    /// an array: an array property of a class is checked for exclusive access
    /// on every `inout`. The scans reference this input, so `releasePooledScans`
    /// must run at the end of every decode (the cycle would keep both alive).
    private static let scanPoolCapacity = 8
    private let scanPool: UnsafeMutablePointer<ObjectScan?> = {
        let pool = UnsafeMutablePointer<ObjectScan?>.allocate(capacity: scanPoolCapacity)
        pool.initialize(repeating: nil, count: scanPoolCapacity)
        return pool
    }()
    private var nextPoolSlot = 0
    /// False once the decode returned: a container a type kept and uses later
    /// gets fresh scans (a pooled one would reference this input in a cycle).
    private(set) var poolsScans = true

    /// A pooled scan that nothing else references and that nests values with
    /// `decoder`, or nil.
    @inline(__always)
    func reusableObjectScan(for decoder: JSONValueDecoder) -> ObjectScan? {
        for i in 0..<Self.scanPoolCapacity where isKnownUniquelyReferenced(&scanPool[i]) {
            if let scan = scanPool[i], scan.decoder === decoder { return scan }
        }
        return nil
    }

    /// Keeps a new scan for reuse once it is no longer referenced (replacing the
    /// oldest pooled one).
    func offerForReuse(_ scan: ObjectScan) {
        guard poolsScans else { return }
        scanPool[nextPoolSlot] = scan
        nextPoolSlot = nextPoolSlot == Self.scanPoolCapacity &- 1 ? 0 : nextPoolSlot &+ 1
    }

    /// The array scan of the last direct array (`DirectScalar`), reused by the
    /// next one once unreferenced: one per `[String]` property otherwise.
    /// (No run-time exclusivity check: it is only touched between decodes of
    /// values, never while an access to it is in progress.)
    @exclusivity(unchecked) var directArrayScan: ArrayScan?

    /// Lets the pooled scans go (they reference this input).
    func releasePooledScans() {
        poolsScans = false
        directArrayScan = nil
        for i in 0..<Self.scanPoolCapacity { scanPool[i] = nil }
    }

    init(borrowing bytes: UnsafeRawBufferPointer, configuration: CacheJSONDecoder) {
        if let address = bytes.baseAddress, bytes.count > 0 {
            base = UnsafePointer(address.assumingMemoryBound(to: UInt8.self))
            count = bytes.count
        } else {
            // A real (one-byte) allocation even for empty input: `base` is always valid.
            let placeholder = UnsafeMutablePointer<UInt8>.allocate(capacity: 1)
            placeholder.initialize(to: 0)
            owned = placeholder
            base = UnsafePointer(placeholder)
            count = 0
        }
        self.configuration = configuration
        self.userInfo = configuration.userInfo.mapValues { $0 as Any }
        switch configuration.keyDecodingStrategy {
        case .useDefaultKeys: (keysAreDefault, keysAreSnakeCase) = (true, false)
        case .convertFromSnakeCase: (keysAreDefault, keysAreSnakeCase) = (false, true)
        default: (keysAreDefault, keysAreSnakeCase) = (false, false)
        }
        // Two decodes per level: a wrapper decoded through its single-value
        // container (a property wrapper, a RawRepresentable) is one more
        // `init(from:)` on the same value.
        self.maxActiveDecodes = 2 * maxDepth
    }

    deinit {
        scanPool.deinitialize(count: Self.scanPoolCapacity)
        scanPool.deallocate()
        owned?.deallocate()
        for table in recycledTables { table.deallocate() }
    }

    /// Copies the borrowed bytes if a decoder or container outlives the decode.
    static func takeOwnershipIfShared(_ input: inout JSONInput) {
        guard !isKnownUniquelyReferenced(&input), input.owned == nil else { return }
        let copy = UnsafeMutablePointer<UInt8>.allocate(capacity: input.count)
        copy.initialize(from: input.base, count: input.count)
        input.owned = copy
        input.base = UnsafePointer(copy)
    }

    // MARK: Keys

    /// Whether the key decoding strategy leaves this (ASCII, unescaped) key as it
    /// is: always for default keys, for snake case when it has no underscore,
    /// never for a custom strategy.
    @inline(__always)
    func keyIsUnchanged(_ key: UnsafeBufferPointer<UInt8>) -> Bool {
        if keysAreDefault { return true }
        return keysAreSnakeCase && !key.contains(0x5F)  // _
    }

    /// `raw` as the key decoding strategy turns it into a key name; `path` is the
    /// object's coding path (for a custom strategy).
    func convertedKey(_ raw: String, in path: [any CodingKey]) -> String {
        switch configuration.keyDecodingStrategy {
        case .useDefaultKeys: return raw
        case .convertFromSnakeCase: return SnakeCaseKeyConversion.camelCase(raw)
        case let .custom(convert): return convert(path + [JSONStringKey(raw)]).stringValue
        #if canImport(Darwin)
        @unknown default: return raw
        #endif
        }
    }

    // MARK: Bytes

    /// The byte at `i`, or 0 outside the input.
    @inline(__always)
    func byte(_ i: Int) -> UInt8 {
        UInt(bitPattern: i) < UInt(bitPattern: count) ? base[i] : 0
    }

    /// 8 bytes at `i`, first byte lowest. Caller guarantees `i >= 0 && count - i >= 8`.
    @inline(__always)
    func word(_ i: Int) -> UInt64 {
        UInt64(littleEndian: UnsafeRawPointer(base + i).loadUnaligned(as: UInt64.self))
    }

    /// The bytes `start..<end` (caller guarantees `0 <= start <= end <= count`).
    @inline(__always)
    func bytes(_ start: Int, _ end: Int) -> UnsafeBufferPointer<UInt8> {
        UnsafeBufferPointer(start: base + start, count: end &- start)
    }
}

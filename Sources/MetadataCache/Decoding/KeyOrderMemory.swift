/// Where the keys of the last object of one `CodingKey` type were: for the n-th
/// lookup in such an object, the index of the member it found.
///
/// Synthesized `init(from:)` asks for keys in `CodingKeys` declaration order, and
/// a host that lists renamed keys apart (`case id, name` then
/// `case javaVersion = "java_version"`) asks in an order the document does not
/// follow. The objects of a catalogue share one layout, so the next object's
/// n-th lookup is tried first at the member where the previous object's was
/// found: each lookup is one comparison again, whatever the order. A wrong
/// guess costs one comparison and falls back to the search.
///
/// The slots are plain memory, not an array: a class's array property is
/// checked for exclusive access at run time on every write, which cost more than
/// the guesses saved.
final class KeyOrderMemory {
    /// Lookups beyond this many in one object are not remembered.
    static let capacity = 128
    private let slots: UnsafeMutablePointer<Int32>

    init() {
        slots = .allocate(capacity: Self.capacity)
        slots.initialize(repeating: -1, count: Self.capacity)
    }

    deinit {
        slots.deallocate()
        layout?.deallocate()
    }

    // MARK: The last layout

    /// The members of the last object of this type scanned to its end, if all
    /// its keys were simple (`ObjectScan`: ASCII, no escapes, unchanged by the
    /// key strategy): their offsets point into the same input. The next object
    /// of the type compares each key's bytes with the same member's here, which
    /// finds the key's end and tells whether it repeats an earlier key without
    /// scanning the string or hashing it (`ObjectScan.scanNextMemberUnchecked`).
    private(set) var layout: UnsafeMutablePointer<ObjectMember>?
    private(set) var layoutCount = 0
    private var layoutCapacity = 0
    /// Changes whenever `layout` does: a scan follows one layout from its first
    /// member on, or none (a nested object of the same type may replace it).
    private(set) var layoutGeneration = 0

    func rememberLayout(_ members: UnsafeMutablePointer<ObjectMember>, count: Int) {
        if count > layoutCapacity {
            layout?.deallocate()
            layout = .allocate(capacity: count)
            layoutCapacity = count
        }
        layout?.initialize(from: members, count: count)  // (trivial type: initializing over old members is fine)
        layoutCount = count
        layoutGeneration &+= 1
    }

    /// The member the `lookup`-th lookup found last time, or -1.
    @inline(__always)
    func guess(_ lookup: Int) -> Int {
        lookup < Self.capacity ? Int(slots[lookup]) : -1
    }

    @inline(__always)
    func remember(_ lookup: Int, _ member: Int) {
        if lookup < Self.capacity { slots[lookup] = Int32(truncatingIfNeeded: member) }
    }
}

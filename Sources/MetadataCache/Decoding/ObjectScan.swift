/// A container whose end a parent may need: `finish` scans the rest of it (if it
/// was not decoded to the end) and returns the offset after its closing bracket.
protocol ContainerScan: AnyObject {
    func finish() throws(JSONDecodingFailure) -> Int
}

/// One member of a JSON object: where its key and value are.
struct ObjectMember {
    /// Offset of the key's first byte (after the opening quote).
    var keyStart: Int
    var valueStart: Int
    var keyLength: UInt32
    var flags: UInt32

    /// A later member with the same (simple) key: never matched, the first wins.
    static let shadowed: UInt32 = 1
    /// The key must be compared as a `String`: it has escapes or non-ASCII bytes,
    /// or the key decoding strategy may change it.
    static let complex: UInt32 = 2
}

/// The members of one JSON object, found lazily: a lookup scans only as far as it
/// must, and keeps the key and value offsets of every member it passed.
///
/// ## Lookup
///
/// A lookup first tries the member where the same lookup found its key in the
/// last object of this `CodingKey` type (`KeyOrderMemory`: catalogue entries share
/// a layout), then the member after the last one found (synthesized `init(from:)`
/// asks in `CodingKeys` order, often the document's), then scans forward, then
/// searches the members already seen. So every member is scanned once and almost
/// every lookup is one comparison. Keys are compared as bytes against
/// `CodingKey.stringValue`'s UTF-8: no `String` is made for a key.
///
/// ## Same matches as `JSONDecoder`
///
/// Foundation builds a `[String: value]` of the object, keeping the *first* of
/// duplicate keys, and looks keys up by `String` equality, which is Unicode
/// canonical equivalence ("é" as one scalar equals "e" + U+0301; U+212A KELVIN
/// SIGN equals "K"). Byte comparison is the same relation only for ASCII keys
/// without escapes, so:
///
/// - a key that is ASCII without escapes (and unchanged by the key decoding
///   strategy) is *simple*; a simple key equal to an earlier simple key is marked
///   shadowed when scanned and never matched, so the first wins;
/// - an object with any other key, or a lookup by a non-ASCII name, goes the slow
///   way: all members scanned, each key as a `String` (unescaped, converted by the
///   strategy), the first `==` match wins — Foundation's rule exactly.
final class ObjectScan: CodingPathNode, ContainerScan {
    let input: JSONInput
    /// The decoder nested values of this object are decoded with.
    let decoder: JSONValueDecoder
    /// Offset of the `{`.
    private(set) var start: Int
    /// Nesting depth of this object's value (the root value is 0).
    private(set) var depth: Int

    private var members: UnsafeMutablePointer<ObjectMember>
    private var capacity: Int
    private(set) var memberCount = 0

    /// Where scanning continues: after `{`, or (`pendingValue >= 0`) after the
    /// value of the last member scanned, whose end is `pendingEnd` if known.
    private var position: Int
    private var pendingValue = -1
    private var pendingEnd = -1
    private(set) var isComplete = false
    /// Offset after the `}` once complete.
    private(set) var end = -1

    /// Index of the member after the last one found.
    private var cursor = 0
    /// Lookups so far, and where the same lookup found its member in the last
    /// object of this coding-key type.
    private var lookups = 0
    private var keyOrder: KeyOrderMemory?
    /// One bit of 256 per simple key scanned (by a hash): most keys are new, and
    /// this says so without comparing them against the others (with 26 keys, 64
    /// bits collided several times per object; 256 about once).
    private var seenKeys: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
    private var hasComplexKeys = false
    /// Every member so far matched the same member of `keyOrder`'s last layout
    /// (of this generation); `seenKeys` is then not kept up to date.
    private var followsLayout = true
    private var layoutGeneration = -1
    /// Every member's key as `JSONDecoder` sees it, once the slow path needs them.
    private var effectiveKeys: [String]?

    /// Room for 32 members before a table grows (catalogue entries have ~25).
    static let tableCapacity = 32

    init(
        decoder: JSONValueDecoder, start: Int, depth: Int, parent: CodingPathNode?, key: (any CodingKey)?,
        keyOrder: KeyOrderMemory? = nil
    ) {
        self.decoder = decoder
        self.input = decoder.input
        self.start = start
        self.depth = depth
        self.keyOrder = keyOrder
        position = start &+ 1
        if let table = input.recycledTables.popLast() {
            members = table
        } else {
            members = .allocate(capacity: Self.tableCapacity)
        }
        capacity = Self.tableCapacity
        super.init(parent: parent, key: key)
    }

    /// Points this scan at another object, as `init` would, keeping the
    /// allocation and the member table. Only for a scan nothing else references
    /// (`JSONInput.reusableObjectScan`): no container, frame or child node can
    /// see the change.
    func reuse(start: Int, depth: Int, parent: CodingPathNode?, key: (any CodingKey)?, keyOrder: KeyOrderMemory?) {
        self.start = start
        self.depth = depth
        self.parent = parent
        self.key = key
        self.keyOrder = keyOrder
        memberCount = 0
        position = start &+ 1
        pendingValue = -1
        pendingEnd = -1
        isComplete = false
        end = -1
        cursor = 0
        lookups = 0
        seenKeys = (0, 0, 0, 0)
        hasComplexKeys = false
        effectiveKeys = nil
        followsLayout = true
        layoutGeneration = -1
    }

    deinit {
        if capacity == Self.tableCapacity, input.recycledTables.count < 64 {
            input.recycledTables.append(members)
        } else {
            members.deallocate()
        }
    }

    // MARK: Scanning

    /// Scans the next member; nil when the object ends. A failure is recorded in
    /// the input (the decode fails with it) and repeated on every later call.
    private func scanNextMember() throws(JSONDecodingFailure) -> Int? {
        if isComplete { return nil }
        do throws(JSONDecodingFailure) {
            return try scanNextMemberUnchecked()
        } catch {
            input.recordStructuralFailure(error)
            isComplete = true
            end = input.count
            throw error
        }
    }

    private func scanNextMemberUnchecked() throws(JSONDecodingFailure) -> Int? {
        var p: Int
        if pendingValue >= 0 {
            p = pendingEnd >= 0 ? pendingEnd : try input.skipValue(pendingValue)
            pendingValue = -1
            p = input.skipWhitespace(p)
            switch input.byte(p) {
            case 0x2C:  // ,
                p = input.skipWhitespace(p &+ 1)
            case 0x7D:  // }
                complete(at: p &+ 1)
                return nil
            default:
                throw .invalidJSON
            }
        } else {
            p = input.skipWhitespace(position)
            if input.byte(p) == 0x7D {
                complete(at: p &+ 1)
                return nil
            }
        }
        guard input.byte(p) == 0x22 else { throw .invalidJSON }
        if followsLayout, let member = try memberFollowingLayout(p) {
            append(member)
            pendingValue = member.valueStart
            pendingEnd = -1
            return memberCount &- 1
        }
        let (keyEnd, stringFlags) = try input.stringEnd(p)
        var colon = keyEnd
        if input.byte(colon) != 0x3A { colon = input.skipWhitespace(colon) }
        guard input.byte(colon) == 0x3A else { throw .invalidJSON }
        var value = colon &+ 1
        if input.byte(value) <= 0x20 { value = input.skipWhitespace(value) }

        let keyStart = p &+ 1
        let keyLength = keyEnd &- 1 &- keyStart
        if stringFlags.contains(.escaped) {
            // JSONDecoder decodes every key of an object it opens, so a key with a
            // lone surrogate or a bad escape fails the decode even if no lookup
            // asks for it: check escaped keys as they are scanned (rare, cheap).
            _ = try JSONInput.unescape(input.bytes(keyStart, keyStart &+ keyLength))
        }
        var flags: UInt32 = 0
        if !stringFlags.isEmpty || !input.keyIsUnchanged(input.bytes(keyStart, keyStart &+ keyLength)) {
            flags = ObjectMember.complex
            hasComplexKeys = true
        } else if isDuplicateOfEarlierSimpleKey(keyStart, keyLength) {
            flags = ObjectMember.shadowed
        }
        append(ObjectMember(keyStart: keyStart, valueStart: value, keyLength: UInt32(truncatingIfNeeded: keyLength), flags: flags))
        pendingValue = value
        pendingEnd = -1
        return memberCount &- 1
    }

    private func complete(at offset: Int) {
        isComplete = true
        end = offset
        if let keyOrder, !hasComplexKeys, memberCount > 0 { keyOrder.rememberLayout(members, count: memberCount) }
    }

    /// The member whose key opens at `quote` if its key is the same as the same
    /// member's in the last layout of this key type (then it is simple, ends after
    /// those bytes, and repeats an earlier key exactly when that one did, since
    /// every earlier member matched too); nil otherwise, after which this scan
    /// stops following the layout and scans keys the general way.
    ///
    /// Why the bytes are enough: a remembered key is simple, so its bytes hold no
    /// backslash and no quote; equal bytes followed by a quote are a key with
    /// exactly that content.
    @inline(__always)
    private func memberFollowingLayout(_ quote: Int) throws(JSONDecodingFailure) -> ObjectMember? {
        if let keyOrder, let layout = keyOrder.layout, memberCount < keyOrder.layoutCount,
            memberCount == 0 ? true : layoutGeneration == keyOrder.layoutGeneration
        {
            layoutGeneration = keyOrder.layoutGeneration
            let template = layout[memberCount]
            let keyStart = quote &+ 1
            let n = Int(template.keyLength)
            if input.count &- keyStart > n, input.base[keyStart &+ n] == 0x22,
                Self.equalBytes(input.base + keyStart, input.base + template.keyStart, n)
            {
                var value = keyStart &+ n &+ 1
                if input.byte(value) != 0x3A { value = input.skipWhitespace(value) }
                guard input.byte(value) == 0x3A else { throw .invalidJSON }
                value &+= 1
                if input.byte(value) <= 0x20 { value = input.skipWhitespace(value) }
                return ObjectMember(keyStart: keyStart, valueStart: value, keyLength: template.keyLength, flags: template.flags)
            }
        }
        leaveLayout()
        return nil
    }

    /// From here on, keys are scanned and checked for duplicates the general way:
    /// the duplicate filter learns the simple keys matched so far.
    @inline(never)
    private func leaveLayout() {
        followsLayout = false
        for i in 0..<memberCount where members[i].flags == 0 {
            _ = markSeen(members[i].keyStart, Int(members[i].keyLength))
        }
    }

    @inline(__always)
    private func append(_ member: ObjectMember) {
        if memberCount == capacity { grow() }
        members[memberCount] = member
        memberCount &+= 1
    }

    @inline(never)
    private func grow() {
        let grown = UnsafeMutablePointer<ObjectMember>.allocate(capacity: capacity &* 2)
        grown.moveInitialize(from: members, count: memberCount)
        if capacity == Self.tableCapacity, input.recycledTables.count < 64 {
            input.recycledTables.append(members)
        } else {
            members.deallocate()
        }
        members = grown
        capacity &*= 2
    }

    /// Whether a simple key equals an earlier simple key (then it is shadowed).
    private func isDuplicateOfEarlierSimpleKey(_ keyStart: Int, _ keyLength: Int) -> Bool {
        guard markSeen(keyStart, keyLength) else { return false }
        let key = input.bytes(keyStart, keyStart &+ keyLength)
        for i in 0..<memberCount where members[i].flags == 0 && matches(i, key) { return true }
        return false
    }

    /// Sets the key's bit in the duplicate filter; whether it was set already.
    @inline(__always)
    private func markSeen(_ keyStart: Int, _ keyLength: Int) -> Bool {
        // A hash of the length and the first 8 bytes picks one of 256 bits.
        var head: UInt64 = 0
        if input.count &- keyStart >= 8 {
            head = input.word(keyStart)
            if keyLength < 8 { head &= (UInt64(1) << UInt64(keyLength &* 8)) &- 1 }
        } else {
            for k in 0..<Swift.min(keyLength, 8) { head |= UInt64(input.base[keyStart &+ k]) << UInt64(k &* 8) }
        }
        let hash = ((head ^ UInt64(truncatingIfNeeded: keyLength)) &* 0x9E37_79B9_7F4A_7C15) >> 56
        let bit = UInt64(1) << (hash & 63)
        let seen: Bool
        switch hash >> 6 {
        case 0:
            seen = seenKeys.0 & bit != 0
            seenKeys.0 |= bit
        case 1:
            seen = seenKeys.1 & bit != 0
            seenKeys.1 |= bit
        case 2:
            seen = seenKeys.2 & bit != 0
            seenKeys.2 |= bit
        default:
            seen = seenKeys.3 & bit != 0
            seenKeys.3 |= bit
        }
        return seen
    }

    /// Byte equality of member `i`'s key with `key`.
    @inline(__always)
    private func matches(_ i: Int, _ key: UnsafeBufferPointer<UInt8>) -> Bool {
        let member = members[i]
        guard Int(member.keyLength) == key.count else { return false }
        return Self.equalBytes(input.base + member.keyStart, key.baseAddress, key.count)
    }

    /// Whether `n` bytes at `a` and `b` are equal: words of 8, the last word
    /// overlapping the one before (no byte loop for keys of 8 bytes or more).
    @inline(__always)
    static func equalBytes(_ a: UnsafePointer<UInt8>, _ b: UnsafePointer<UInt8>?, _ n: Int) -> Bool {
        guard let b else { return n == 0 }
        @inline(__always) func word(_ p: UnsafePointer<UInt8>, _ k: Int) -> UInt64 {
            UnsafeRawPointer(p + k).loadUnaligned(as: UInt64.self)
        }
        if n >= 8 {
            var k = 0
            while n &- k > 8 {
                if word(a, k) != word(b, k) { return false }
                k &+= 8
            }
            return word(a, n &- 8) == word(b, n &- 8)
        }
        for k in 0..<n where a[k] != b[k] { return false }
        return true
    }

    // MARK: Lookup

    /// The value offset of the member named `key`, nil if the object has none.
    func valueStart(forKey key: some CodingKey) throws -> Int? {
        try surfacingDecodingErrors { try lookup(key) }
    }

    private func lookup(_ key: some CodingKey) throws -> Int? {
        let name = key.stringValue
        if !hasComplexKeys, let found = try name.utf8.withContiguousStorageIfAvailable({ try fastLookup($0) }),
            found != Self.needsSlowLookup
        {
            return found >= 0 ? members[found].valueStart : nil
        }
        return try slowLookup(name).map { members[$0].valueStart }
    }

    /// Whether the object has a member named `key` (the key decoding strategy applied).
    func contains(_ key: some CodingKey) -> Bool {
        (try? valueStart(forKey: key)) != nil
    }

    private static let needsSlowLookup = -2

    /// Byte comparison; -1 if absent, `needsSlowLookup` if bytes cannot decide.
    /// (A name equal to a simple key is ASCII; only a name found nowhere is
    /// checked for non-ASCII bytes, which bytes cannot compare.)
    private func fastLookup(_ name: UnsafeBufferPointer<UInt8>) throws(JSONDecodingFailure) -> Int {
        let lookup = lookups
        lookups &+= 1
        let found = try search(name, lookup)
        if found >= 0 { keyOrder?.remember(lookup, found) }
        return found
    }

    @inline(__always)
    private func search(_ name: UnsafeBufferPointer<UInt8>, _ lookup: Int) throws(JSONDecodingFailure) -> Int {
        // 1. Where the same lookup found its key in the last object of this type.
        if let guess = keyOrder?.guess(lookup), guess >= 0 {
            while memberCount <= guess, try scanNextMember() != nil {
                if hasComplexKeys { return Self.needsSlowLookup }
            }
            if guess < memberCount, members[guess].flags == 0, matches(guess, name) {
                cursor = guess &+ 1
                return guess
            }
        }
        // 2. The member after the last one found (declaration order = document order).
        if cursor < memberCount, members[cursor].flags == 0, matches(cursor, name) {
            cursor &+= 1
            return cursor &- 1
        }
        // 3. Further members.
        while let i = try scanNextMember() {
            if hasComplexKeys { return Self.needsSlowLookup }
            if members[i].flags == 0, matches(i, name) {
                cursor = i &+ 1
                return i
            }
        }
        // 4. Members seen before.
        for i in 0..<memberCount where members[i].flags == 0 && matches(i, name) {
            cursor = i &+ 1
            return i
        }
        // (A name equal to a simple key is ASCII; only a name found nowhere is
        // checked for non-ASCII bytes, which bytes cannot compare.)
        for byte in name where byte >= 0x80 { return Self.needsSlowLookup }
        return -1
    }

    /// `JSONDecoder`'s rule: the first member whose key, as a `String`, equals `name`.
    private func slowLookup(_ name: String) throws -> Int? {
        let keys = try allEffectiveKeys()
        for i in 0..<keys.count where keys[i] == name {
            cursor = i &+ 1
            return i
        }
        return nil
    }

    /// Every member's key as `JSONDecoder` matches it: unescaped, then converted by
    /// the key decoding strategy.
    private func allEffectiveKeys() throws -> [String] {
        if let effectiveKeys { return effectiveKeys }
        while try scanNextMember() != nil {}
        var keys: [String] = []
        keys.reserveCapacity(memberCount)
        let thisPath = path
        for i in 0..<memberCount {
            let member = members[i]
            let raw = try input.string(at: member.keyStart &- 1).value
            keys.append(input.convertedKey(raw, in: thisPath))
        }
        effectiveKeys = keys
        return keys
    }

    /// The member keys in document order, the first of equal keys only (as
    /// `allKeys` of a keyed container).
    func allKeys() -> [String] {
        var seen = Set<String>()
        do {
            return try allEffectiveKeys().filter { seen.insert($0).inserted }
        } catch {
            // (`allKeys` cannot throw: a key that cannot be decoded fails the
            // whole decode instead — it would have failed JSONDecoder's at once.)
            input.recordStructuralFailure(error as? JSONDecodingFailure ?? .invalidJSON)
            return []
        }
    }

    /// The raw (unconverted) key and value offset of every member, in document
    /// order: for a `[String: Value]` that a non-default key strategy exempts.
    func rawMembers() throws -> [(key: String, value: Int)] {
        while try scanNextMember() != nil {}
        var result: [(key: String, value: Int)] = []
        result.reserveCapacity(memberCount)
        for i in 0..<memberCount {
            result.append((try input.string(at: members[i].keyStart &- 1).value, members[i].valueStart))
        }
        return result
    }

    // MARK: Ends

    /// Called after a member's value was decoded: if it is the value scanning
    /// would continue after, remember where it ends (no second pass over it).
    @inline(__always)
    func noteEnd(ofValueAt value: Int, _ valueEnd: Int) {
        if value == pendingValue, valueEnd > value { pendingEnd = valueEnd }
    }

    func finish() throws(JSONDecodingFailure) -> Int {
        while try scanNextMember() != nil {}
        return end
    }
}

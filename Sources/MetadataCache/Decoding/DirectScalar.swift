/// The standard library scalars a generic `decode<T>` reads in place, without the
/// `init(from:)` call the protocol would make.
///
/// ## Why
///
/// A host's model reaches a generic `decode<T>` for values whose type is a
/// generic parameter somewhere: every element of an `[String]` (the standard
/// library's `Array.init(from:)` calls `container.decode(Element.self)`), a
/// property of a generic wrapper. Going through `T.init(from:)` costs a frame
/// switch, an existential single-value container and two witness calls per value
/// (callgrind, figure 9's 1 MiB catalogue: ~1 000 instructions per `features`
/// string, as much as reading it); reading the scalar directly costs the read.
///
/// ## Why the results are the same
///
/// `String`, `Int`, `Bool` and `Double` are standard library types whose
/// `init(from:)` is exactly `self = try decoder.singleValueContainer().decode(Self.self)`
/// (stdlib `Codable.swift`), and `JSONDecoder.unwrap` has no special case for them:
/// their value and their errors (kind, type, coding path: the container's path
/// plus the key or index, which is what the nested decoder's `codingPath` is) are
/// those of our single-value `decode(Self.self)`, which is the same reader.
/// (`Date`, `Data`, `URL` and `Decimal`, which Foundation does special-case, are
/// not direct.) The one thing skipped is our own `init(from:)` nesting limit
/// (`JSONInput.maxActiveDecodes`), which guards against recursion that a scalar
/// leaf cannot start and which `JSONDecoder` does not have.
enum DirectScalar {
    case string, int, bool, double

    /// The direct kind of `type`, or nil: one metadata comparison per kind.
    @inline(__always)
    init?(_ type: Any.Type) {
        if type == String.self {
            self = .string
        } else if type == Int.self {
            self = .int
        } else if type == Double.self {
            self = .double
        } else if type == Bool.self {
            self = .bool
        } else {
            return nil
        }
    }

    /// The direct kind of the elements of `type` if it is an array of a direct
    /// scalar (`[String]`, `[Int]`, `[Double]`, `[Bool]`), else nil.
    @inline(__always)
    init?(elementsOf type: Any.Type) {
        if type == [String].self {
            self = .string
        } else if type == [Int].self {
            self = .int
        } else if type == [Double].self {
            self = .double
        } else if type == [Bool].self {
            self = .bool
        } else {
            return nil
        }
    }
}

extension JSONInput {
    /// The value at `v` as `T`, which must be the type `kind` was made from.
    /// (`unsafeBitCast` from the concrete type to `T`: the same type, so the same
    /// bits; `unsafeBitCast` checks the sizes.)
    @inline(__always)
    func readDirect<T>(_ kind: DirectScalar, as _: T.Type, at v: Int, end: inout Int, path: () -> [any CodingKey]) throws -> T {
        switch kind {
        case .string: unsafeBitCast(try readString(at: v, end: &end, path: path), to: T.self)
        case .int: unsafeBitCast(try readInteger(Int.self, at: v, end: &end, path: path), to: T.self)
        case .double: unsafeBitCast(try readDouble(at: v, end: &end, path: path), to: T.self)
        case .bool: unsafeBitCast(try readBool(at: v, end: &end, path: path), to: T.self)
        }
    }
}

extension JSONValueDecoder {
    /// An array of a direct scalar (`T` is `[String]`, `[Int]`, `[Double]` or
    /// `[Bool]`, as `kind` says) decoded as the standard library's
    /// `Array.init(from:)` decodes it — `unkeyedContainer()`, then
    /// `decode(Element.self)` until `isAtEnd` — without the existential container
    /// and the unspecialized `append` per element. Sets `end` to the array's end.
    func unwrapDirectArray<T>(
        _ kind: DirectScalar, as _: T.Type, at value: Int, depth: Int, parent: CodingPathNode?, key: (any CodingKey)?,
        end: inout Int
    ) throws -> T {
        // The same limit `with` applies to the `init(from:)` it replaces.
        guard input.activeDecodes < input.maxActiveDecodes else {
            throw JSONDecodingFailure.decodingTooDeep(limit: input.maxActiveDecodes).decodingError
        }
        let scan = try reusableArrayScan(at: value, depth: depth, parent: parent, key: key)
        let result: T
        switch kind {
        case .string: result = unsafeBitCast(try Self.elements(of: scan) { try $0.readString(at: $1, end: &$2, path: $3) }, to: T.self)
        case .int: result = unsafeBitCast(try Self.elements(of: scan) { try $0.readInteger(Int.self, at: $1, end: &$2, path: $3) }, to: T.self)
        case .double: result = unsafeBitCast(try Self.elements(of: scan) { try $0.readDouble(at: $1, end: &$2, path: $3) }, to: T.self)
        case .bool: result = unsafeBitCast(try Self.elements(of: scan) { try $0.readBool(at: $1, end: &$2, path: $3) }, to: T.self)
        }
        end = try surfacingDecodingErrors { try scan.finish() }
        return result
    }

    /// `Array.init(from:)`'s loop, `while !container.isAtEnd { append(try container.decode(E.self)) }`,
    /// written out over the scan (specialized per element type): `isAtEnd` is
    /// "no element at the index, or a structural failure" (recorded in the
    /// input: the decode fails at its end), and `decode` reads the element at
    /// the index, with the element's path, then steps on.
    @inline(__always)
    private static func elements<E>(
        of scan: ArrayScan, _ read: (JSONInput, Int, inout Int, () -> [any CodingKey]) throws -> E
    ) throws -> [E] {
        let input = scan.input
        var result: [E] = []
        var index = 0
        while let v = try? scan.elementStart(index) {
            var end = -1
            result.append(try read(input, v, &end) { CodingPathNode.path(scan, appending: JSONIndexKey(index: index)) })
            scan.noteEnd(ofElement: index, end)
            index &+= 1
        }
        return result
    }

    /// An array scan for a direct array: the one the last direct array used if
    /// nothing else references it any more (its elements are scalars, which
    /// keep no reference to it), else a new one. (`openArray`'s checks and
    /// errors either way.)
    private func reusableArrayScan(at v: Int, depth: Int, parent: CodingPathNode?, key: (any CodingKey)?) throws -> ArrayScan {
        guard input.kind(at: v) == .array, depth < input.maxDepth else {
            return try openArray(at: v, depth: depth, parent: parent, key: key)
        }
        if isKnownUniquelyReferenced(&input.directArrayScan), let scan = input.directArrayScan {
            scan.reuse(start: v, depth: depth, parent: parent, key: key)
            return scan
        }
        let scan = try openArray(at: v, depth: depth, parent: parent, key: key)
        if input.poolsScans { input.directArrayScan = scan }  // (after the decode: no cycle with the input)
        return scan
    }
}

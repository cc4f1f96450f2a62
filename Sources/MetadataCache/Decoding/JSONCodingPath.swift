/// A coding path as a chain of nodes from a value up to the root: a nested
/// container extends its parent's path in O(1) and nothing is built unless a path
/// is asked for (an error, `codingPath`).
///
/// Containers are nodes themselves (`ObjectScan`, `ArrayScan`), so opening one
/// costs no extra allocation for its path.
class CodingPathNode {
    /// (Variables only so that a reused `ObjectScan` can be re-pointed; a node is
    /// changed only while nothing else references it, so no access can overlap
    /// and the run-time exclusivity check, ~80 instructions per reuse, is off.)
    @exclusivity(unchecked) var parent: CodingPathNode?
    /// This node's last path component (nil for the root).
    @exclusivity(unchecked) var key: (any CodingKey)?

    init(parent: CodingPathNode?, key: (any CodingKey)?) {
        self.parent = parent
        self.key = key
    }

    /// The keys from the root to this node.
    var path: [any CodingKey] {
        var keys: [any CodingKey] = []
        var node: CodingPathNode? = self
        while let current = node {
            if let key = current.key { keys.append(key) }
            node = current.parent
        }
        return keys.reversed()
    }

    /// `path` of `node` (the root when nil) followed by `key`.
    static func path(_ node: CodingPathNode?, appending key: (any CodingKey)?) -> [any CodingKey] {
        var keys = node?.path ?? []
        if let key { keys.append(key) }
        return keys
    }
}

/// The key of an array element in a coding path: "Index 3", intValue 3, as
/// `JSONDecoder` names it.
struct JSONIndexKey: CodingKey {
    let index: Int
    init(index: Int) { self.index = index }
    init?(intValue: Int) { index = intValue }
    init?(stringValue: String) { nil }
    var stringValue: String { "Index \(index)" }
    var intValue: Int? { index }
}

/// A key known only by its name: a dictionary key, `super`, a key given to a
/// custom key decoding strategy.
struct JSONStringKey: CodingKey {
    let stringValue: String
    init(_ stringValue: String) { self.stringValue = stringValue }
    init?(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
    var intValue: Int? { nil }

    /// The key of `superDecoder()`, as in `JSONDecoder`.
    static let superKey = JSONStringKey("super")
}

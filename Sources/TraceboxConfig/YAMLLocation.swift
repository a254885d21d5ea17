import Yams

/// Finds where things are in the YAML file, so errors can name a line.
struct YAMLLocation {
    let root: Node?
    let file: String

    /// The node at a key path (`["sources", "github", "signature"]`).
    func node(at path: [String]) -> Node? {
        var current = root
        for key in path {
            guard let mapping = current?.mapping else { return nil }
            current = mapping[Node(key)]
        }
        return current
    }

    /// The 1-based line of the key path's value (or of its closest existing parent).
    func line(of path: [String]) -> Int? {
        var path = path
        while !path.isEmpty {
            if let mark = node(at: path)?.mark { return mark.line }
            path.removeLast()
        }
        return root?.mark?.line
    }

    func error(_ path: [String], _ reason: String) -> ConfigError {
        ConfigError(file: file, line: line(of: path), key: path.joined(separator: "."), reason: reason)
    }

    /// Refuses keys that no section knows, so a typo never silently falls back to a default.
    /// `allowed` maps a section pattern (`sources.*`) to its keys.
    func checkKeys(allowed: [String: Set<String>]) throws(ConfigError) {
        guard let root else { return }
        try check(root, path: [], pattern: "", allowed: allowed)
    }

    private func check(_ node: Node, path: [String], pattern: String, allowed: [String: Set<String>]) throws(ConfigError) {
        guard let mapping = node.mapping else {
            if path.isEmpty { throw ConfigError(file: file, line: node.mark?.line, reason: "the top level must be a mapping of keys") }
            return
        }
        for (keyNode, value) in mapping {
            guard let key = keyNode.string else {
                throw ConfigError(file: file, line: keyNode.mark?.line, reason: "keys must be strings")
            }
            let childPath = path + [key]
            if pattern == "sources" {
                try check(value, path: childPath, pattern: "sources.*", allowed: allowed)
                continue
            }
            guard let keys = allowed[pattern] else { continue }
            guard keys.contains(key) else {
                let known = keys.sorted().joined(separator: ", ")
                throw ConfigError(file: file, line: keyNode.mark?.line, key: childPath.joined(separator: "."),
                                  reason: "unknown key; expected one of: \(known)")
            }
            if RawConfig.reservedSections.contains(key) || RawConfig.ownParsers.contains(key), path.isEmpty { continue }
            let childPattern = pattern.isEmpty ? key : pattern + "." + key
            if value.mapping != nil || childPattern == "sources" {
                try check(value, path: childPath, pattern: childPattern, allowed: allowed)
            }
        }
    }

    func error(for decoding: DecodingError) -> ConfigError {
        func keys(_ path: [any CodingKey]) -> [String] { path.map { $0.intValue.map(String.init) ?? $0.stringValue } }
        switch decoding {
        case .typeMismatch(let type, let context):
            return error(keys(context.codingPath), "expected \(Self.describe(type))")
        case .valueNotFound(let type, let context):
            return error(keys(context.codingPath), "a value (\(Self.describe(type))) is required")
        case .keyNotFound(let key, let context):
            return error(keys(context.codingPath) + [key.stringValue], "this key is required")
        case .dataCorrupted(let context):
            return error(keys(context.codingPath), context.debugDescription)
        @unknown default:
            return ConfigError(file: file, reason: "\(decoding)")
        }
    }

    private static func describe(_ type: Any.Type) -> String {
        let name = String(describing: type)
        if name.contains("Int") { return "a whole number" }
        if name.contains("Bool") { return "true or false" }
        if name.contains("String") { return "a string" }
        if name.contains("Array") { return "a list" }
        if name.contains("Dictionary") { return "a mapping" }
        return name
    }

    static func line(of error: YamlError) -> Int? {
        switch error {
        case .scanner(_, _, let mark, _), .parser(_, _, let mark, _), .composer(_, _, let mark, _):
            return mark.line
        default:
            return nil
        }
    }
}

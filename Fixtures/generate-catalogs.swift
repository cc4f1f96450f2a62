// Generates catalog-sample.json and catalog-1mib.json next to this script: a
// JDK-distribution catalogue in the style of the foojay Disco API. Deterministic
// (own seeded PRNG, fixed timestamp, ordered keys): reruns are byte-identical.
//
//     swift Fixtures/generate-catalogs.swift
import Foundation

/// SplitMix64: tiny, seeded, identical on every platform.
struct SplitMix64 {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }
    mutating func pick<T>(_ items: [T]) -> T { items[below(items.count)] }
    mutating func chance(_ percent: Int) -> Bool { below(100) < percent }
    mutating func hex(_ digits: Int) -> String {
        let alphabet = Array("0123456789abcdef")
        return String((0..<digits).map { _ in alphabet[below(16)] })
    }
}

/// Just enough JSON: ordered objects, pretty (2 spaces) or compact output.
indirect enum JSON {
    case string(String), int(Int), bool(Bool), array([JSON]), object([(String, JSON)])

    func write(to out: inout String, pretty: Bool, indent: Int = 0) {
        let newline = pretty ? "\n" + String(repeating: "  ", count: indent + 1) : ""
        let close = pretty ? "\n" + String(repeating: "  ", count: indent) : ""
        switch self {
        case let .string(s): JSON.quote(s, into: &out)
        case let .int(n): out += String(n)
        case let .bool(b): out += b ? "true" : "false"
        case let .array(items):
            guard !items.isEmpty else { out += "[]"; return }
            out += "["
            for (k, item) in items.enumerated() {
                out += (k == 0 ? "" : ",") + newline
                item.write(to: &out, pretty: pretty, indent: indent + 1)
            }
            out += close + "]"
        case let .object(members):
            guard !members.isEmpty else { out += "{}"; return }
            out += "{"
            for (k, (key, value)) in members.enumerated() {
                out += (k == 0 ? "" : ",") + newline
                JSON.quote(key, into: &out)
                out += pretty ? ": " : ":"
                value.write(to: &out, pretty: pretty, indent: indent + 1)
            }
            out += close + "}"
        }
    }

    static func quote(_ s: String, into out: inout String) {
        out += "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20: out += String(format: "\\u%04x", scalar.value)
            default: out.unicodeScalars.append(scalar)
            }
        }
        out += "\""
    }
}

struct Distribution {
    let id, name, vendor, downloadBase: String
}

let distributions = [
    Distribution(id: "temurin", name: "Eclipse Temurin", vendor: "Eclipse Adoptium", downloadBase: "https://github.com/adoptium/releases/download"),
    Distribution(id: "zulu", name: "Azul Zulu", vendor: "Azul Systems", downloadBase: "https://cdn.azul.com/zulu/bin"),
    Distribution(id: "corretto", name: "Amazon Corretto", vendor: "Amazon", downloadBase: "https://corretto.aws/downloads/resources"),
    Distribution(id: "liberica", name: "BellSoft Liberica", vendor: "BellSoft", downloadBase: "https://download.bell-sw.com/java"),
    Distribution(id: "graalvm-ce", name: "GraalVM Community", vendor: "Oracle", downloadBase: "https://github.com/graalvm/graalvm-ce-builds/releases/download"),
    Distribution(id: "semeru", name: "IBM Semeru Runtime Open Edition", vendor: "IBM", downloadBase: "https://github.com/ibmruntimes/semeru/releases/download"),
    Distribution(id: "microsoft", name: "Microsoft Build of OpenJDK", vendor: "Microsoft", downloadBase: "https://aka.ms/download-jdk"),
    Distribution(id: "sap_machine", name: "SapMachine", vendor: "SAP SE (Walldorf, Baden-Württemberg)", downloadBase: "https://github.com/SAP/SapMachine/releases/download"),
    Distribution(id: "kona", name: "Tencent Kona (腾讯 Kona)", vendor: "Tencent", downloadBase: "https://github.com/Tencent/TencentKona/releases/download"),
]
// (major, latest update, build, term of support, release status)
let releases: [(Int, Int, Int, String, String)] = [
    (8, 432, 6, "lts", "ga"), (11, 25, 9, "lts", "ga"), (17, 13, 11, "lts", "ga"), (21, 5, 11, "lts", "ga"),
    (25, 1, 8, "lts", "ga"), (26, 0, 35, "sts", "ga"), (27, 0, 36, "sts", "ga"), (28, 0, 24, "sts", "ea"),
]
let platforms: [(os: String, libc: String, archs: [String], archives: [String])] = [
    ("linux", "glibc", ["x64", "aarch64", "ppc64le", "s390x"], ["tar.gz"]),
    ("alpine-linux", "musl", ["x64", "aarch64"], ["tar.gz"]),
    ("macos", "libc", ["x64", "aarch64"], ["tar.gz", "pkg"]),
    ("windows", "c_std_lib", ["x64", "aarch64"], ["zip", "msi"]),
]
let notes = [
    "Kostenlos für den Produktionseinsatz; Support ab 99 € pro Jahr.",
    "Gebündelt mit JavaFX – ideal für Desktop-Anwendungen.",
    "Compilación certificada TCK, versión de soporte extendido.",
    "日本語ロケールのフォント設定を含みます。",
    "Build reproducible « bit à bit » vérifié par la communauté.",
    "Marketed as a \"drop-in replacement\" for C:\\Program Files\\Java installs.",
]

func package(_ rng: inout SplitMix64) -> JSON {
    let dist = rng.pick(distributions)
    let (major, update, build, support, status) = rng.pick(releases)
    let platform = rng.pick(platforms)
    let arch = rng.pick(platform.archs)
    let archive = rng.pick(platform.archives)
    let packageType = rng.chance(70) ? "jdk" : "jre"
    let javafx = (dist.id == "zulu" || dist.id == "liberica") && rng.chance(30)
    let version = status == "ea" ? "\(major)-ea+\(build)" : major == 8 ? "8.0.\(update)+\(build)" : "\(major).0.\(update)+\(build)"
    let plain = version.replacingOccurrences(of: "+", with: "_")
    let filename = "\(dist.id)-\(packageType)\(javafx ? "-fx" : "")-\(plain)-\(platform.os)-\(arch).\(archive)"
    let id = rng.hex(32)
    var members: [(String, JSON)] = [
        ("id", .string(id)),
        ("distribution", .string(dist.id)),
        ("distribution_name", .string(dist.name)),
        ("vendor", .string(dist.vendor)),
        ("java_version", .string(version)),
        ("major_version", .int(major)),
        ("release_status", .string(status)),
        ("term_of_support", .string(support)),
        ("operating_system", .string(platform.os)),
        ("lib_c_type", .string(platform.libc)),
        ("architecture", .string(arch)),
        ("archive_type", .string(archive)),
        ("package_type", .string(packageType)),
        ("javafx_bundled", .bool(javafx)),
        ("directly_downloadable", .bool(true)),
        ("filename", .string(filename)),
        ("direct_download_uri", .string("\(dist.downloadBase)/\(version.replacingOccurrences(of: "+", with: "%2B"))/\(filename)")),
        ("checksum_type", .string("sha256")),
        ("checksum", .string(rng.hex(64))),
        ("size", .int(40_000_000 + rng.below(180_000_000))),
        ("latest_build_available", .bool(rng.chance(60))),
        ("free_use_in_production", .bool(dist.id != "graalvm-ce" || rng.chance(50))),
        ("tck_tested", .bool(rng.chance(80))),
        ("features", .array(rng.chance(25) ? [.string("crac")] : [])),
        ("links", .object([
            ("pkg_info_uri", .string("https://api.foojay.io/disco/v3.0/ids/\(id)")),
            ("pkg_download_redirect", .string("https://api.foojay.io/disco/v3.0/ids/\(id)/redirect")),
        ])),
    ]
    if rng.chance(8) { members.append(("notes", .string(rng.pick(notes)))) }
    return .object(members)
}

func catalog(_ packages: [JSON]) -> JSON {
    .object([
        ("schemaVersion", .int(1)),
        ("generatedAt", .string("2026-11-20T08:00:00Z")),
        ("source", .string("https://api.foojay.io/disco/v3.0/packages?release_status=ga&release_status=ea")),
        ("packages", .array(packages)),
    ])
}

func render(_ value: JSON, pretty: Bool) -> String {
    var out = ""
    value.write(to: &out, pretty: pretty)
    return out + "\n"
}

let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()

var sampleRNG = SplitMix64(state: 20261120)
let sample = render(catalog((0..<300).map { _ in package(&sampleRNG) }), pretty: true)
try Data(sample.utf8).write(to: directory.appendingPathComponent("catalog-sample.json"))

// Compact, as an API serves it: add packages until the text reaches 1 MiB.
var bigRNG = SplitMix64(state: 1 << 20)
var packages: [JSON] = []
var big = render(catalog([]), pretty: false)
while big.utf8.count < 1 << 20 {
    for _ in 0..<10 { packages.append(package(&bigRNG)) }
    big = render(catalog(packages), pretty: false)
}
try Data(big.utf8).write(to: directory.appendingPathComponent("catalog-1mib.json"))
print("catalog-sample.json: \(sample.utf8.count) bytes, catalog-1mib.json: \(big.utf8.count) bytes (\(packages.count) packages)")

/// Placeholder until the CLI lands (issue 3).
public enum MetacacheCommand {
    public static func main(_ arguments: [String]) -> Int32 { 0 }
}

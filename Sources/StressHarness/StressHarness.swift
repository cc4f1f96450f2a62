/// Placeholder until the stress harness lands (issue 4).
public enum StressHarness {
    public static func main(_ arguments: [String]) -> Int32 { 0 }
}

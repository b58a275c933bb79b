/// Size arithmetic that reports overflow as a ConvError instead of trapping: a trap would
/// kill the Python interpreter, so every size derived from user input goes through these.
enum Checked {
    static func add(_ a: Int, _ b: Int, _ what: @autoclosure () -> String) throws -> Int {
        let (r, o) = a.addingReportingOverflow(b)
        if o { throw ConvError.invalidArgument("\(what()): overflows 64-bit integers") }
        return r
    }

    static func sub(_ a: Int, _ b: Int, _ what: @autoclosure () -> String) throws -> Int {
        let (r, o) = a.subtractingReportingOverflow(b)
        if o { throw ConvError.invalidArgument("\(what()): overflows 64-bit integers") }
        return r
    }

    static func mul(_ a: Int, _ b: Int, _ what: @autoclosure () -> String) throws -> Int {
        let (r, o) = a.multipliedReportingOverflow(by: b)
        if o { throw ConvError.invalidArgument("\(what()): overflows 64-bit integers") }
        return r
    }

    /// The product of all factors, or an error naming `what` if it overflows.
    static func product(_ factors: [Int], _ what: @autoclosure () -> String) throws -> Int {
        var r = 1
        for f in factors { r = try mul(r, f, what()) }
        return r
    }
}

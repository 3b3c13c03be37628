import Foundation

/// One measured figure.
struct Figure: Sendable {
    var name: String
    var value: Double
    var unit: String
}

/// Collects figures and prints them as JSON lines or as a table.
final class Report {
    let json: Bool
    private(set) var figures: [Figure] = []

    init(json: Bool) { self.json = json }

    func add(_ name: String, _ value: Double, _ unit: String) {
        let figure = Figure(name: name, value: value, unit: unit)
        figures.append(figure)
        if json {
            print("{\"name\":\"\(name)\",\"value\":\(Self.number(value)),\"unit\":\"\(unit)\"}")
        } else {
            let padded = name.padding(toLength: 40, withPad: " ", startingAt: 0)
            print("\(padded) \(Self.number(value)) \(unit)")
        }
    }

    /// Progress for a human; silent in JSON mode (stderr keeps stdout machine-readable).
    func note(_ text: String) {
        FileHandle.standardError.write(Data("# \(text)\n".utf8))
    }

    static func number(_ value: Double) -> String {
        if value.isNaN || value.isInfinite { return "null" }
        if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
        return String(format: "%.3f", value)
    }
}

/// Wall time of a synchronous body in seconds.
func seconds(_ body: () throws -> Void) rethrows -> Double {
    let start = ContinuousClock.now
    try body()
    let elapsed = ContinuousClock.now - start
    return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
}

extension Duration {
    var inSeconds: Double { Double(components.seconds) + Double(components.attoseconds) * 1e-18 }
}

func median(_ values: [Double]) -> Double {
    let sorted = values.sorted()
    guard !sorted.isEmpty else { return .nan }
    return sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
}

/// The p-th percentile (0...100) by nearest rank.
func percentile(_ values: [Double], _ p: Double) -> Double {
    let sorted = values.sorted()
    guard !sorted.isEmpty else { return .nan }
    let rank = Int((p / 100 * Double(sorted.count)).rounded(.up))
    return sorted[max(0, min(sorted.count - 1, rank - 1))]
}

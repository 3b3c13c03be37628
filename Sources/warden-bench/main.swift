import Foundation
import Logging

LoggingSystem.bootstrap { _ in SwiftLogNoOpLogHandler() }

// warden-bench [--json] [--quick] [name…]: the measurements of SPEC section 4. Figures only, no pass/fail.
let arguments = Array(CommandLine.arguments.dropFirst())
let json = arguments.contains("--json")
let quick = arguments.contains("--quick")
let selected = Set(arguments.filter { !$0.hasPrefix("--") })
let report = Report(json: json)

func wanted(_ name: String) -> Bool { selected.isEmpty || selected.contains(name) }

if !json { print("warden-bench (\(quick ? "quick" : "full"))") }
// The cache first, while the heap is fresh.
if wanted("cache") { try runCacheBench(count: quick ? 100_000 : 100_000, report: report) }
if wanted("ingest") { try runIngestBench(count: quick ? 20_000 : 100_000, rounds: quick ? 3 : 7, report: report) }
if wanted("audit") { try await runAuditBench(count: quick ? 100_000 : 100_000, rounds: quick ? 5 : 21, report: report) }
if wanted("latency") { try await runCorrectionLatencyBench(edits: quick ? 200 : 1000, report: report) }
if wanted("buckets") { try await runBucketBench(drifted: quick ? 100 : 500, timeScale: 0.05, report: report) }
if wanted("idle") { try await runIdleBench(scale: quick ? .quick : .full, report: report) }

import Foundation

/// The command line's small jobs: usage, fatal errors, unbuffered output.
enum FakeCLI {
    static func usage() -> Never {
        fail("usage: warden-fake [--members N] [--roles A,B,C] [--guild-name NAME] [--heartbeat-ms MS]")
    }

    static func fail(_ message: String) -> Never {
        FileHandle.standardError.write(Data(("warden-fake: " + message + "\n").utf8))
        exit(2)
    }

    static func printLine(_ line: String) {
        FileHandle.standardOutput.write(Data((line + "\n").utf8))
    }
}

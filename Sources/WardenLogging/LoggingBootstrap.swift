import Logging

/// Sets up swift-log for the `warden` executable: every `Logger` made afterwards writes through a
/// ``WardenLogHandler`` with the given level and format, redacted by `redactor`.
/// swift-log allows this once per process; tests make handlers directly instead.
public enum LoggingBootstrap {
    public static func bootstrap(level: Logger.Level, format: LogFormat, redactor: Redactor,
                                 sink: any LogSink = StandardErrorSink()) {
        LoggingSystem.bootstrap({ label, metadataProvider in
            WardenLogHandler(label: label, level: level, format: format, redactor: redactor, sink: sink,
                             metadataProvider: metadataProvider)
        }, metadataProvider: nil)
    }
}

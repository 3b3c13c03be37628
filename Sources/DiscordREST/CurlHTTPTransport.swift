import CCurl
import DiscordModels
import Foundation

/// `HTTPTransport` over libcurl's multi interface: one dedicated thread runs `curl_multi_poll` and
/// drives every transfer; callers suspend on continuations and wake that thread with
/// `curl_multi_wakeup` (the one multi call that is safe from another thread).
///
/// - Connections are reused through the multi handle's connection pool.
/// - TLS peer and host verification are always on for `https://`; `http://` is used only when the URL
///   says so, and every other scheme is refused (`CURLOPT_PROTOCOLS_STR`). Redirects are not followed.
/// - `caFile` adds a trusted CA. libcurl's `CURLOPT_CAINFO` *replaces* the default bundle, so with a
///   `caFile` the system store is kept through `CURLOPT_CAPATH` (`systemCADirectory`, by default
///   `/etc/ssl/certs`, the hashed directory OpenSSL reads on Debian and most Linux systems).
/// - Body-less PUT, POST and PATCH carry `Content-Length: 0`; `Expect: 100-continue` is never sent.
/// - Response headers are those of the final response: the list is cleared on every `HTTP/` status line.
public final class CurlHTTPTransport: HTTPTransport {
    public struct Configuration: Sendable {
        /// Time allowed to open a connection (TCP and TLS handshakes).
        public var connectTimeout: Duration
        /// An extra trusted CA (PEM). The system store stays trusted.
        public var caFile: String?
        /// The system's hashed CA directory, used beside `caFile`. nil: trust only `caFile` then.
        public var systemCADirectory: String?
        /// A response body larger than this fails with `.network` (the network is untrusted).
        public var maxResponseBytes: Int

        public init(connectTimeout: Duration = .seconds(10), caFile: String? = nil,
                    systemCADirectory: String? = "/etc/ssl/certs", maxResponseBytes: Int = 64 << 20) {
            self.connectTimeout = connectTimeout; self.caFile = caFile
            self.systemCADirectory = systemCADirectory; self.maxResponseBytes = maxResponseBytes
        }
    }

    private let loop: CurlMultiLoop

    /// Starts the curl thread. Throws `.network` if libcurl cannot be initialised.
    public init(configuration: Configuration = Configuration()) throws {
        guard curlGlobalInitialization == CURLE_OK else {
            throw HTTPTransportError.network("curl_global_init failed")
        }
        loop = try CurlMultiLoop(configuration: configuration)
        let thread = Thread { [loop] in loop.run() }
        thread.name = "warden-curl"
        thread.start()
    }

    deinit { loop.stop() }

    /// Connections opened so far (the sum of `CURLINFO_NUM_CONNECTS`); stays put when connections are reused.
    public var connectionsOpened: Int { loop.connectionsOpened.withLock { $0 } }

    /// Stops the curl thread; pending and later requests fail with `HTTPTransportError.cancelled`.
    public func shutdown() { loop.stop() }

    public func send(_ request: HTTPRequest) async throws -> HTTPResponse {
        let job = CurlJob(request: request)
        let loop = self.loop
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                if job.attach(continuation) { loop.submit(job) }
            }
        } onCancel: {
            if job.cancel() { loop.submitCancellation(job) }
        }
    }
}

/// `curl_global_init`, run once per process (a global's lazy initialiser runs exactly once).
private let curlGlobalInitialization: CURLcode = curl_global_init(Int(CURL_GLOBAL_ALL))

/// The multi handle pointer, so that callers can reach `curl_multi_wakeup`.
/// `@unchecked Sendable` is safe: only the curl thread uses the handle, except `curl_multi_wakeup`,
/// which libcurl documents as callable from any thread, and which is called only under the inbox lock
/// while the handle is open (the curl thread closes the inbox, under that lock, before cleaning it up).
private struct CurlMultiRef: @unchecked Sendable {
    let raw: UnsafeMutableRawPointer
}

/// A request handed to the curl thread, and the continuation it resumes exactly once.
final class CurlJob: Sendable {
    let request: HTTPRequest

    private struct State: Sendable {
        var continuation: CheckedContinuation<HTTPResponse, any Error>?
        var cancelled = false
        var finished = false
    }
    private let state = Locked(State())

    init(request: HTTPRequest) { self.request = request }

    /// Stores the continuation. Returns false (having resumed it with `CancellationError`) when the
    /// task was cancelled before.
    func attach(_ continuation: CheckedContinuation<HTTPResponse, any Error>) -> Bool {
        let cancelled = state.withLock { state -> Bool in
            if state.cancelled { state.finished = true; return true }
            state.continuation = continuation
            return false
        }
        if cancelled { continuation.resume(throwing: CancellationError()) }
        return !cancelled
    }

    /// Marks the job cancelled. Returns true when the curl thread must be told (the job is pending there).
    func cancel() -> Bool {
        state.withLock { state in
            state.cancelled = true
            return state.continuation != nil && !state.finished
        }
    }

    var isCancelled: Bool { state.withLock { $0.cancelled } }

    /// Resumes the continuation, once; later calls do nothing.
    func finish(_ result: Result<HTTPResponse, any Error>) {
        let continuation = state.withLock { state -> CheckedContinuation<HTTPResponse, any Error>? in
            guard !state.finished else { return nil }
            state.finished = true
            defer { state.continuation = nil }
            return state.continuation
        }
        continuation?.resume(with: result)
    }
}

/// The curl thread's loop and the inbox other threads fill.
final class CurlMultiLoop: Sendable {
    private struct Inbox: Sendable {
        var jobs: [CurlJob] = []
        var cancellations: [CurlJob] = []
        var stopping = false
        var closed = false
    }

    private let multi: CurlMultiRef
    private let inbox = Locked(Inbox())
    private let configuration: CurlHTTPTransport.Configuration
    let connectionsOpened = Locked(0)

    init(configuration: CurlHTTPTransport.Configuration) throws {
        guard let handle = curl_multi_init() else { throw HTTPTransportError.network("curl_multi_init failed") }
        multi = CurlMultiRef(raw: handle)
        self.configuration = configuration
    }

    func submit(_ job: CurlJob) {
        let accepted = inbox.withLock { inbox -> Bool in
            guard !inbox.closed, !inbox.stopping else { return false }
            inbox.jobs.append(job)
            curl_multi_wakeup(multi.raw)
            return true
        }
        if !accepted { job.finish(.failure(HTTPTransportError.cancelled)) }
    }

    func submitCancellation(_ job: CurlJob) {
        inbox.withLock { inbox in
            guard !inbox.closed else { return }
            inbox.cancellations.append(job)
            curl_multi_wakeup(multi.raw)
        }
    }

    func stop() {
        inbox.withLock { inbox in
            guard !inbox.closed, !inbox.stopping else { return }
            inbox.stopping = true
            curl_multi_wakeup(multi.raw)
        }
    }

    /// The curl thread. Owns the multi handle and every easy handle; frees each exactly once.
    func run() {
        let multi = self.multi.raw
        var active: [UnsafeMutableRawPointer: CurlTransfer] = [:]
        var byJob: [ObjectIdentifier: UnsafeMutableRawPointer] = [:]

        func end(_ easy: UnsafeMutableRawPointer, _ result: (CurlTransfer) -> Result<HTTPResponse, any Error>) {
            guard let transfer = active.removeValue(forKey: easy) else { return }
            byJob[ObjectIdentifier(transfer.job)] = nil
            let outcome = result(transfer)
            let connects = transfer.newConnections
            transfer.close(multi: multi)
            if connects > 0 { connectionsOpened.withLock { $0 += connects } }
            transfer.job.finish(outcome)
        }

        while true {
            let (jobs, cancellations, stopping) = inbox.withLock { inbox in
                defer { inbox.jobs.removeAll(); inbox.cancellations.removeAll() }
                return (inbox.jobs, inbox.cancellations, inbox.stopping)
            }
            if stopping {
                for job in jobs { job.finish(.failure(HTTPTransportError.cancelled)) }
                break
            }
            for job in jobs {
                if job.isCancelled { job.finish(.failure(CancellationError())); continue }
                let transfer = CurlTransfer(job: job, maxResponseBytes: configuration.maxResponseBytes)
                do {
                    try transfer.configure(configuration)
                } catch {
                    transfer.close(multi: nil)
                    job.finish(.failure(error))
                    continue
                }
                guard let easy = transfer.easy, curl_multi_add_handle(multi, easy) == CURLM_OK else {
                    transfer.close(multi: nil)
                    job.finish(.failure(HTTPTransportError.network("curl_multi_add_handle failed")))
                    continue
                }
                active[easy] = transfer
                byJob[ObjectIdentifier(job)] = easy
            }
            for job in cancellations {
                if let easy = byJob[ObjectIdentifier(job)] { end(easy) { _ in .failure(CancellationError()) } }
            }

            var running: Int32 = 0
            _ = curl_multi_perform(multi, &running)
            var queued: Int32 = 0
            while let message = curl_multi_info_read(multi, &queued) {
                guard message.pointee.msg == CURLMSG_DONE, let easy = message.pointee.easy_handle else { continue }
                let code = message.pointee.data.result
                end(easy) { $0.result(code) }
            }
            _ = curl_multi_poll(multi, nil, 0, 1000, nil)
        }

        let leftovers = inbox.withLock { inbox -> [CurlJob] in
            inbox.closed = true
            defer { inbox.jobs.removeAll(); inbox.cancellations.removeAll() }
            return inbox.jobs
        }
        for easy in Array(active.keys) { end(easy) { _ in .failure(HTTPTransportError.cancelled) } }
        for job in leftovers { job.finish(.failure(HTTPTransportError.cancelled)) }
        curl_multi_cleanup(multi)
    }
}

/// One transfer on the curl thread: the easy handle, its header list and error buffer, and the
/// response as it arrives. Confined to the curl thread, so deliberately not Sendable.
final class CurlTransfer {
    let job: CurlJob
    private(set) var easy: UnsafeMutableRawPointer?
    private var headerList: UnsafeMutablePointer<curl_slist>?
    private var errorBuffer: UnsafeMutablePointer<CChar>?
    private let maxResponseBytes: Int
    fileprivate var body: [UInt8] = []
    fileprivate var headers = HTTPHeaders()
    fileprivate var overflowed = false

    init(job: CurlJob, maxResponseBytes: Int) {
        self.job = job
        self.maxResponseBytes = maxResponseBytes
        easy = curl_easy_init()
        errorBuffer = .allocate(capacity: Int(CURL_ERROR_SIZE))
        errorBuffer?.initialize(to: 0)
    }

    deinit { close(multi: nil) }

    /// Frees the easy handle (after removing it from the multi handle), the header list and the
    /// error buffer. Safe to call more than once: each resource is freed once and then forgotten.
    func close(multi: UnsafeMutableRawPointer?) {
        if let easy {
            if let multi { curl_multi_remove_handle(multi, easy) }
            curl_easy_cleanup(easy)
            self.easy = nil
        }
        if let headerList { curl_slist_free_all(headerList); self.headerList = nil }
        if let errorBuffer { errorBuffer.deallocate(); self.errorBuffer = nil }
    }

    fileprivate func append(body chunk: UnsafeRawBufferPointer) -> Bool {
        guard body.count + chunk.count <= maxResponseBytes else { overflowed = true; return false }
        body.append(contentsOf: chunk)
        return true
    }

    fileprivate func append(headerLine raw: UnsafeRawBufferPointer) {
        var line = Substring(String(decoding: raw, as: UTF8.self))
        while let last = line.last, last == "\r" || last == "\n" || last == "\r\n" { line = line.dropLast() }
        if line.hasPrefix("HTTP/") { headers.removeAll(); return }
        guard let colon = line.firstIndex(of: ":") else { return }
        let name = line[..<colon].trimmingCharacters(in: .whitespaces)
        let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        guard !name.isEmpty else { return }
        headers.add(name: name, value: value)
    }

    var newConnections: Int {
        guard let easy else { return 0 }
        var count = 0
        _ = warden_easy_getinfo_long(easy, CURLINFO_NUM_CONNECTS, &count)
        return count
    }

    func result(_ code: CURLcode) -> Result<HTTPResponse, any Error> {
        guard code == CURLE_OK else {
            if code == CURLE_OPERATION_TIMEDOUT { return .failure(HTTPTransportError.timeout) }
            if overflowed {
                return .failure(HTTPTransportError.network("response body larger than \(maxResponseBytes) bytes"))
            }
            var message = errorBuffer.map { String(cString: $0) } ?? ""
            if message.isEmpty { message = String(cString: curl_easy_strerror(code)) }
            return .failure(HTTPTransportError.network(message))
        }
        var status = 0
        if let easy { _ = warden_easy_getinfo_long(easy, CURLINFO_RESPONSE_CODE, &status) }
        return .success(HTTPResponse(status: status, headers: headers, body: body))
    }

    func configure(_ configuration: CurlHTTPTransport.Configuration) throws(HTTPTransportError) {
        guard let easy else { throw .network("curl_easy_init failed") }
        let request = job.request
        guard let colon = request.url.firstIndex(of: ":") else { throw .network("not an absolute URL") }
        let scheme = request.url[..<colon].lowercased()
        guard scheme == "https" || scheme == "http" else { throw .network("URL scheme \(scheme.prefix(16)) is refused") }

        func check(_ code: CURLcode, _ what: String) throws(HTTPTransportError) {
            guard code == CURLE_OK else { throw .network("\(what): \(String(cString: curl_easy_strerror(code)))") }
        }
        func set(_ option: CURLoption, _ value: Int) throws(HTTPTransportError) {
            try check(warden_easy_setopt_long(easy, option, value), "setting a curl option")
        }
        func set(_ option: CURLoption, _ value: String) throws(HTTPTransportError) {
            try check(warden_easy_setopt_string(easy, option, value), "setting a curl option")
        }

        try set(CURLOPT_URL, request.url)
        try set(CURLOPT_PROTOCOLS_STR, scheme)
        try set(CURLOPT_REDIR_PROTOCOLS_STR, scheme)
        try set(CURLOPT_FOLLOWLOCATION, 0)
        try set(CURLOPT_NOSIGNAL, 1)
        try check(warden_easy_setopt_pointer(easy, CURLOPT_ERRORBUFFER, errorBuffer), "error buffer")
        try set(CURLOPT_SSL_VERIFYPEER, 1)
        try set(CURLOPT_SSL_VERIFYHOST, 2)
        if let caFile = configuration.caFile {
            try set(CURLOPT_CAINFO, caFile)
            if let directory = configuration.systemCADirectory { try set(CURLOPT_CAPATH, directory) }
        }
        try set(CURLOPT_CONNECTTIMEOUT_MS, Self.milliseconds(configuration.connectTimeout))
        try set(CURLOPT_TIMEOUT_MS, Self.milliseconds(request.timeout))
        try set(CURLOPT_ACCEPT_ENCODING, "")
        try set(CURLOPT_PIPEWAIT, 1)  // prefer multiplexing on an HTTP/2 connection over opening another

        let me = Unmanaged.passUnretained(self).toOpaque()
        try check(warden_easy_setopt_write_callback(easy, CURLOPT_WRITEFUNCTION, curlReceiveBody), "write callback")
        try check(warden_easy_setopt_pointer(easy, CURLOPT_WRITEDATA, me), "write data")
        try check(warden_easy_setopt_write_callback(easy, CURLOPT_HEADERFUNCTION, curlReceiveHeader), "header callback")
        try check(warden_easy_setopt_pointer(easy, CURLOPT_HEADERDATA, me), "header data")

        switch request.method {
        case .get:
            try set(CURLOPT_HTTPGET, 1)
        case .post, .put, .patch, .delete:
            if request.method != .post { try set(CURLOPT_CUSTOMREQUEST, request.method.rawValue) }
            // DELETE without a body sends no body; the others send `Content-Length: 0`.
            if request.body != nil || request.method != .delete {
                let body = request.body ?? []
                try check(warden_easy_setopt_off(easy, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(body.count)), "body size")
                if body.isEmpty {
                    try set(CURLOPT_COPYPOSTFIELDS, "")
                } else {
                    let code = body.withUnsafeBytes { bytes in
                        warden_easy_setopt_pointer(easy, CURLOPT_COPYPOSTFIELDS, UnsafeMutableRawPointer(mutating: bytes.baseAddress))
                    }
                    try check(code, "body")
                }
            }
        }

        var lines: [String] = []
        for field in request.headers {
            guard !field.name.isEmpty, !Self.hasLineBreak(field.name), !Self.hasLineBreak(field.value),
                  !field.name.contains(":") else {
                throw .network("header \(field.name.prefix(40)) is malformed")
            }
            lines.append("\(field.name): \(field.value)")
        }
        lines.append("Expect:")
        if request.body == nil, request.method != .get, request.headers["Content-Type"] == nil {
            lines.append("Content-Type:")  // no form content type on an empty body
        }
        for line in lines {
            guard let list = curl_slist_append(headerList, line) else { throw .network("curl_slist_append failed") }
            headerList = list
        }
        try check(warden_easy_setopt_slist(easy, CURLOPT_HTTPHEADER, headerList), "headers")
    }

    private static func hasLineBreak(_ text: String) -> Bool {
        text.utf8.contains { $0 == 0x0D || $0 == 0x0A || $0 == 0 }
    }

    static func milliseconds(_ duration: Duration) -> Int {
        let parts = duration.components
        let ms = parts.seconds.multipliedReportingOverflow(by: 1000)
        guard !ms.overflow, parts.seconds >= 0 else { return parts.seconds < 0 ? 1 : Int.max }
        return max(1, Int(ms.partialValue) + Int(parts.attoseconds / 1_000_000_000_000_000))
    }
}

/// `CURLOPT_WRITEFUNCTION`: appends body bytes; returning less than given aborts an oversized response.
private let curlReceiveBody: @convention(c) (UnsafeMutablePointer<CChar>?, Int, Int, UnsafeMutableRawPointer?) -> Int = {
    data, size, count, userdata in
    guard let userdata else { return 0 }
    let length = size * count
    guard length > 0, let data else { return length }
    let transfer = Unmanaged<CurlTransfer>.fromOpaque(userdata).takeUnretainedValue()
    return transfer.append(body: UnsafeRawBufferPointer(start: data, count: length)) ? length : 0
}

/// `CURLOPT_HEADERFUNCTION`: one raw header line at a time, status lines included.
private let curlReceiveHeader: @convention(c) (UnsafeMutablePointer<CChar>?, Int, Int, UnsafeMutableRawPointer?) -> Int = {
    data, size, count, userdata in
    let length = size * count
    guard let userdata, let data, length > 0 else { return length }
    let transfer = Unmanaged<CurlTransfer>.fromOpaque(userdata).takeUnretainedValue()
    transfer.append(headerLine: UnsafeRawBufferPointer(start: data, count: length))
    return length
}

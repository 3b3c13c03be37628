import CLibWebSockets
import Foundation
import Logging

/// Settings one connection's service loop needs, all plain values.
struct LWSConnectionSettings: Sendable {
    var endpoint: WebSocketEndpoint
    var caFile: String?
    var connectTimeoutSeconds: UInt32
    var handshakeTimeoutSeconds: UInt32
    var maxMessageBytes: Int
}

/// The libwebsockets side of one connection: it lives on the connection's own service thread and owns
/// every C resource of it (one `lws_context`, the `lws_protocols` array, the C strings handed to lws),
/// and frees each exactly once after the context is destroyed.
///
/// Not `Sendable` on purpose: it is created, used and dropped on that one thread; C callbacks find it
/// through the context's user pointer. Other threads reach the connection only through `LWSConnection`.
final class LWSServiceLoop {
    private let link: LWSConnection
    private let settings: LWSConnectionSettings
    private let startedAt = ContinuousClock.now

    private var context: OpaquePointer?
    /// Our client connection, once lws reported it.
    private var wsi: OpaquePointer?
    private var stop = false
    private var finished = false
    private var established = false
    private var errorText: String?
    private var peerClose: (code: UInt16, reason: String)?
    private var localCloseCode: UInt16?
    private var oversizeMessage = false

    private var incoming: [UInt8] = []
    private var incomingIsBinary = false
    private var sendBuffer: [UInt8] = []
    /// C strings passed to lws, freed after the context is destroyed.
    private var cStrings: [UnsafeMutablePointer<CChar>] = []

    init(link: LWSConnection, settings: LWSConnectionSettings) {
        self.link = link
        self.settings = settings
    }

    /// Creates the context, connects, services until the connection is gone, then frees everything.
    func run() {
        installLWSLogging()
        let protocols = UnsafeMutablePointer<lws_protocols>.allocate(capacity: 2)
        protocols.initialize(repeating: lws_protocols(), count: 2)
        protocols[0].name = UnsafePointer(cString("warden-gateway"))
        protocols[0].callback = lwsProtocolCallback
        protocols[0].rx_buffer_size = 64 * 1024
        defer {
            protocols.deinitialize(count: 2)
            protocols.deallocate()
            for pointer in cStrings { free(pointer) }
            cStrings.removeAll()
        }

        let endpoint = settings.endpoint
        var info = lws_context_creation_info()
        info.port = CONTEXT_PORT_NO_LISTEN
        info.protocols = UnsafePointer(protocols)
        info.gid = -1
        info.uid = -1
        info.fd_limit_per_thread = 16
        info.connect_timeout_secs = settings.connectTimeoutSeconds
        info.timeout_secs = settings.handshakeTimeoutSeconds
        info.user = Unmanaged.passUnretained(self).toOpaque()
        if endpoint.secure {
            info.options = warden_lws_option_ssl_global_init()
            if let caFile = settings.caFile {
                info.client_ssl_ca_filepath = UnsafePointer(cString(caFile))
            }
        }

        guard let context = lws_create_context(&info) else {
            errorText = "could not create the libwebsockets context"
            finish()
            return
        }
        self.context = context
        if link.attach(LWSContextRef(raw: context)) {
            stop = true
        } else {
            connect(context: context, endpoint: endpoint)
        }
        while !stop {
            if lws_service(context, 0) < 0 { break }
        }
        if !finished {
            errorText = link.abortReason.map { "connection aborted: \($0.description)" } ?? "connection stopped"
            finish()
        }
        link.detachContext()
        self.context = nil
        lws_context_destroy(context)
    }

    private func connect(context: OpaquePointer, endpoint: WebSocketEndpoint) {
        var connectInfo = lws_client_connect_info()
        connectInfo.context = context
        connectInfo.address = UnsafePointer(cString(endpoint.host))
        connectInfo.port = Int32(endpoint.port)
        connectInfo.path = UnsafePointer(cString(endpoint.path))
        connectInfo.host = UnsafePointer(cString(endpoint.hostHeader))
        connectInfo.ietf_version_or_minus_one = -1
        connectInfo.opaque_user_data = Unmanaged.passUnretained(self).toOpaque()
        if endpoint.secure {
            // Peer verification and the hostname check are lws's defaults; no LCCSCF_ALLOW_* flag is ever set.
            connectInfo.ssl_connection = Int32(LCCSCF_USE_SSL.rawValue)
            connectInfo.alpn = UnsafePointer(cString("http/1.1"))
        }
        if lws_client_connect_via_info(&connectInfo) == nil, !finished {
            errorText = errorText ?? "could not start connecting (unknown host?)"
            finish()
        }
    }

    private func cString(_ string: String) -> UnsafeMutablePointer<CChar> {
        guard let pointer = strdup(string) else { fatalError("out of memory copying a string for libwebsockets") }
        cStrings.append(pointer)
        return pointer
    }

    // MARK: Callbacks (service thread)

    fileprivate func handle(
        wsi: OpaquePointer, reason: lws_callback_reasons, input: UnsafeMutableRawPointer?, length: Int
    ) -> Int32 {
        switch reason {
        case LWS_CALLBACK_CLIENT_ESTABLISHED:
            guard isOurs(wsi) else { return 0 }
            self.wsi = wsi
            established = true
            link.markEstablished()
            if link.pendingRequests().write { lws_callback_on_writable(wsi) }
        case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
            guard isOurs(wsi) else { return 0 }
            var text = input.map { describeError(String(cString: $0.assumingMemoryBound(to: CChar.self))) }
                ?? "connection error"
            if settings.endpoint.secure, text.contains("SSL") {
                // lws's text here is OpenSSL's bare error code; the reason is in its log line just before.
                text += " (TLS handshake failed: untrusted certificate or wrong host name? see the libwebsockets log)"
            }
            errorText = text
            finish()
        case LWS_CALLBACK_CLIENT_RECEIVE:
            return receive(wsi: wsi, input: input, length: length)
        case LWS_CALLBACK_CLIENT_WRITEABLE:
            return writeable(wsi: wsi)
        case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE:
            if let input, length >= 2 {
                let bytes = UnsafeRawBufferPointer(start: input, count: length)
                let code = UInt16(bytes[0]) << 8 | UInt16(bytes[1])
                let reason = String(decoding: bytes[2..<min(length, 125)], as: UTF8.self)
                peerClose = (code, reason)
            } else {
                peerClose = (1005, "")
            }
        case LWS_CALLBACK_CLIENT_CLOSED:
            guard isOurs(wsi) else { return 0 }
            finish()
        case LWS_CALLBACK_WSI_DESTROY:
            // The one callback every ending reaches, including a handshake timeout, which reports no error.
            guard isOurs(wsi) else { return 0 }
            self.wsi = nil
            finish()
        case LWS_CALLBACK_EVENT_WAIT_CANCELLED:
            serviceRequests()
        default:
            break
        }
        return 0
    }

    /// Our client wsi carries this loop as its opaque user data; lws's internal wsis carry none.
    private func isOurs(_ wsi: OpaquePointer) -> Bool {
        lws_get_opaque_user_data(wsi) != nil
    }

    private func serviceRequests() {
        guard !finished else { return }
        let requests = link.pendingRequests()
        if requests.abort {
            stop = true
        } else if requests.write, established, let wsi {
            lws_callback_on_writable(wsi)
        }
    }

    private func receive(wsi: OpaquePointer, input: UnsafeMutableRawPointer?, length: Int) -> Int32 {
        if lws_is_first_fragment(wsi) != 0 {
            incoming = []
            incomingIsBinary = lws_frame_is_binary(wsi) != 0
            // The announced frame length comes from the peer: never reserve beyond the message limit.
            let announced = length + Int(lws_remaining_packet_payload(wsi))
            incoming.reserveCapacity(min(announced, settings.maxMessageBytes))
        }
        guard incoming.count + length <= settings.maxMessageBytes else {
            oversizeMessage = true
            incoming = []
            lws_close_reason(wsi, LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE, nil, 0)
            return -1
        }
        if let input, length > 0 {
            incoming.append(contentsOf: UnsafeRawBufferPointer(start: input, count: length))
        }
        if lws_is_final_fragment(wsi) != 0, lws_remaining_packet_payload(wsi) == 0 {
            let message = incoming
            incoming = []
            link.deliver(.message(message, binary: incomingIsBinary))
        }
        return 0
    }

    private func writeable(wsi: OpaquePointer) -> Int32 {
        switch link.nextOutgoing() {
        case .nothing:
            return 0
        case .close(let code):
            localCloseCode = code
            lws_close_reason(wsi, lws_close_status(rawValue: UInt32(code)), nil, 0)
            return -1
        case .message(let bytes, let more):
            let headroom = warden_lws_pre()
            if sendBuffer.count < headroom + bytes.count {
                sendBuffer = [UInt8](repeating: 0, count: headroom + max(bytes.count, 4096))
            }
            let written = sendBuffer.withUnsafeMutableBufferPointer { buffer -> Int32 in
                let payload = buffer.baseAddress! + headroom
                bytes.withUnsafeBufferPointer { source in
                    if let base = source.baseAddress { payload.update(from: base, count: source.count) }
                }
                return lws_write(wsi, payload, bytes.count, LWS_WRITE_TEXT)
            }
            guard written >= 0, Int(written) >= bytes.count else {
                errorText = "write failed"
                return -1
            }
            if more { lws_callback_on_writable(wsi) }
            return 0
        }
    }

    /// Reports the end once: the close code we sent, else the peer's, else nil with what is known.
    private func finish() {
        guard !finished else { return }
        finished = true
        stop = true
        if let context { lws_cancel_service(context) }

        let why: String
        if let errorText {
            why = errorText
        } else if startedAt.duration(to: .now) >= .seconds(Int(settings.handshakeTimeoutSeconds)) {
            why = "no WebSocket handshake within \(settings.handshakeTimeoutSeconds) s"
        } else {
            why = "connection closed before the WebSocket handshake completed"
        }
        let connectFailure = "\(settings.endpoint.hostHeader): \(why)"

        if let localCloseCode {
            link.end(code: localCloseCode, reason: "closed by this client", connectFailure: connectFailure)
        } else if let peerClose {
            link.end(code: peerClose.code, reason: peerClose.reason, connectFailure: connectFailure)
        } else if oversizeMessage {
            link.end(
                code: nil, reason: "message larger than \(settings.maxMessageBytes) bytes",
                connectFailure: connectFailure)
        } else {
            link.end(code: nil, reason: errorText ?? "connection lost", connectFailure: connectFailure)
        }
    }

    private func describeError(_ text: String) -> String {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        return trimmed.isEmpty ? "connection error" : String(trimmed.prefix(200))
    }
}

/// The protocol callback lws calls on the service thread. File scope, so it is nonisolated.
private func lwsProtocolCallback(
    _ wsi: OpaquePointer?, _ reason: lws_callback_reasons, _ user: UnsafeMutableRawPointer?,
    _ input: UnsafeMutableRawPointer?, _ length: Int
) -> Int32 {
    // The context's user pointer, not the wsi's: EVENT_WAIT_CANCELLED arrives on lws's internal pipe wsi.
    guard let wsi, let context = lws_get_context(wsi), let owner = lws_context_user(context) else { return 0 }
    let loop = Unmanaged<LWSServiceLoop>.fromOpaque(owner).takeUnretainedValue()
    return loop.handle(wsi: wsi, reason: reason, input: input, length: length)
}

// MARK: lws logging

private let lwsLogger = Logger(label: "DiscordGateway.libwebsockets")

/// lws's own error and warning lines, forwarded to swift-log. lws logs no payloads at these levels.
private func lwsEmitLog(_ level: Int32, _ line: UnsafePointer<CChar>?) {
    guard let line else { return }
    let text = String(cString: line).trimmingCharacters(in: .whitespacesAndNewlines)
    guard !text.isEmpty else { return }
    if level & Int32(LLL_ERR) != 0 {
        lwsLogger.error("\(text)")
    } else {
        lwsLogger.warning("\(text)")
    }
}

private let lwsLoggingInstalled: Bool = {
    lws_set_log_level(Int32(LLL_ERR | LLL_WARN), lwsEmitLog)
    return true
}()

/// Routes lws's log to swift-log (process-wide, done once before the first context is created).
func installLWSLogging() {
    _ = lwsLoggingInstalled
}

import NIOCore

/// When an HTTP connection must be closed for keeping the server waiting (`http.idle_timeout`, SPEC 3.2).
///
/// A connection is always in one of three phases:
/// - idle: nothing of a next request has arrived since it was opened or since its last response ended;
/// - receiving: the first byte of a request has arrived and its last byte has not;
/// - busy: a whole request has arrived and its response has not ended yet.
///
/// Idle and receiving each last at most `timeout`: one idle stretch, and the whole of one request's head
/// and body, counted from its first byte. Bytes arriving do not push the deadline back, so a client that
/// sends a byte at a time is cut off like one that sends nothing. A busy connection has no deadline: the
/// time Warden takes to answer is not the client's fault.
///
/// Pure: the caller passes the time of each event (the connection's channel handlers use the clock of
/// the event loop; tests give instants).
struct RequestDeadline {
    let timeout: TimeAmount
    /// The start of the current idle phase.
    private(set) var idleSince: NIODeadline
    /// The first byte of the request being received, if one is.
    private(set) var receivingSince: NIODeadline?
    private var headsReceived = 0
    private var endsReceived = 0
    private var responsesEnded = 0

    init(timeout: TimeAmount, openedAt now: NIODeadline) {
        self.timeout = timeout
        self.idleSince = now
    }

    /// A whole request is being answered. (A response may also end before its request did: an early
    /// refusal; the rest of that request is then still timed as it arrives.)
    var isBusy: Bool { endsReceived > responsesEnded }

    /// Since when the connection has kept the server waiting (idle or receiving); nil while busy. The
    /// connection table closes the one waiting longest first when it needs room.
    var waitingSince: NIODeadline? { isBusy ? nil : receivingSince ?? idleSince }

    /// When to close the connection if nothing changes; nil while busy.
    var deadline: NIODeadline? { waitingSince.map { $0 + timeout } }

    /// Some bytes arrived (before HTTP decoding). While busy they belong to a pipelined next request,
    /// which is timed once the current response has ended.
    mutating func bytesReceived(at now: NIODeadline) {
        if !isBusy, receivingSince == nil { receivingSince = now }
    }

    mutating func requestHeadReceived(at now: NIODeadline) {
        headsReceived += 1
        if !isBusy, receivingSince == nil { receivingSince = now }
    }

    mutating func requestEndReceived(at now: NIODeadline) {
        endsReceived += 1
        receivingSince = nil
        // Its response already went out (an early refusal): the connection is idle from now.
        if !isBusy { idleSince = now }
    }

    mutating func responseEnded(at now: NIODeadline) {
        responsesEnded += 1
        guard !isBusy else { return }
        idleSince = now
        if headsReceived > endsReceived {
            // A request is still arriving: an early refusal's body, or a pipelined request whose head was
            // decoded while the previous one was answered.
            if receivingSince == nil { receivingSince = now }
        } else {
            receivingSince = nil
        }
    }
}

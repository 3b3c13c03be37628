import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// Hummingbird's entry into the fake: records each request, applies REST faults, then answers.
struct FakeHTTPResponder: HTTPResponder {
    typealias Context = BasicRequestContext
    let fake: FakeDiscord

    func respond(to request: Request, context: Context) async throws -> Response {
        var request = request
        let body = try await request.collectBody(upTo: 16 << 20)
        let path = request.uri.path
        let query = request.uri.query
        let headers = request.headers.map { (name: $0.name.canonicalName, value: $0.value) }
        let arrival = ContinuousClock.now
        let recorded = fake.state.withLock { state in
            let recorded = RecordedRequest(index: state.requests.count, method: request.method.rawValue, path: path,
                                           query: query, headers: headers, body: Array(body.readableBytesView),
                                           receivedAt: state.now, arrival: arrival)
            state.requests.append(recorded)
            state.requestWaiters.offer(recorded)
            state.notify(.request(recorded))
            return recorded
        }
        let answer = await fake.answer(recorded)
        fake.state.withLock { state in
            let response = RecordedResponse(requestIndex: recorded.index, method: recorded.method, path: recorded.path,
                                            status: answer.status, headers: answer.headers.map { (name: $0.0, value: $0.1) },
                                            body: answer.body)
            state.responses.append(response)
            state.notify(.response(response))
        }
        var fields = HTTPFields()
        for (name, value) in answer.headers {
            if let field = HTTPField.Name(name) { fields.append(HTTPField(name: field, value: value)) }
        }
        return Response(status: .init(code: answer.status), headers: fields,
                        body: .init(byteBuffer: ByteBuffer(bytes: answer.body)))
    }
}

extension FakeDiscord {
    /// The fake's answer to a recorded request (faults first, then OAuth consent or the REST API).
    func answer(_ request: RecordedRequest) async -> FakeHTTPResponse {
        await gather(request)
        enum Fault { case fail(Int), hang(Duration) }
        let fault: Fault? = state.withLock { state in
            guard request.path.hasPrefix("/api/") else { return nil }
            if !state.faults.failNextRequests.isEmpty { return .fail(state.faults.failNextRequests.removeFirst()) }
            if state.faults.hangNextRequests > 0 {
                state.faults.hangNextRequests -= 1
                return .hang(state.configuration.hangDuration)
            }
            return nil
        }
        switch fault {
        case .fail(let status):
            return .error(status, .general, "\(status): \(status == 502 ? "Bad Gateway" : "Internal Server Error")")
        case .hang(let duration):
            await hang(for: duration)
            return .html(504, title: "Gateway Time-out")
        case nil:
            break
        }
        let urls = FakeREST.FakeURLs(gateway: gatewayURL)
        return respondNow(request, urls: urls)
    }

    private func respondNow(_ request: RecordedRequest, urls: FakeREST.FakeURLs) -> FakeHTTPResponse {
        let (response, deferred, delay) = state.withLock { state in
            if request.method == "GET", request.path == "/oauth2/authorize" || request.path == "/oauth2/authorize/" {
                return (FakeOAuth(request: request).authorize(&state), [FakeDispatch](), Duration?.none)
            }
            let response = FakeREST(request: request, urls: urls).respond(&state)
            defer { state.deferredDispatches = [] }
            return (response, state.deferredDispatches, state.configuration.restDispatchDelay)
        }
        if let delay, !deferred.isEmpty {
            let state = self.state
            Task {
                try? await Task.sleep(for: delay)
                state.withLock { $0.deliver(deferred) }
            }
        }
        return response
    }

    /// Holds a request to a gathered route until the gathering is full (`gatherRequests`).
    private func gather(_ request: RecordedRequest) async {
        guard let route = FakeREST.route(of: request), state.withLock({ $0.faults.gatherings[route] != nil }) else { return }
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            state.withLock { state in
                guard !state.stopped, var gathering = state.faults.gatherings[route] else {
                    continuation.resume()
                    return
                }
                gathering.waiting.append(continuation)
                if gathering.waiting.count >= gathering.size {
                    state.faults.gatherings[route] = nil
                    gathering.waiting.forEach { $0.resume() }
                } else {
                    state.faults.gatherings[route] = gathering
                }
            }
        }
    }

    /// Waits `duration` or until `stop()`, whichever comes first.
    private func hang(for duration: Duration) async {
        let id = state.withLock { state in
            defer { state.nextHungRequest += 1 }
            return state.nextHungRequest
        }
        let state = self.state
        let timer = Task {
            try? await Task.sleep(for: duration)
            state.withLock { $0.hungRequests.removeValue(forKey: id)?.resume() }
        }
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            state.withLock { state in
                if state.stopped { continuation.resume() } else { state.hungRequests[id] = continuation }
            }
        }
        timer.cancel()
    }
}

import Hummingbird

/// Counts every request Warden's HTTP server answers in `warden_http_requests_total`, by route
/// template, method and status. Labels come from a closed set: the router's template (ids stay
/// `{id}`), `unmatched` for any path no route serves, a known method or `OTHER`. The raw path and the
/// query (activation tokens, OAuth codes and states) never become a label.
struct RequestMetricsMiddleware<Context: RequestContext>: RouterMiddleware {
    static var unmatchedRoute: String { "unmatched" }

    let metrics: WardenMetrics

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            let response = try await next(request, context)
            record(request, context, status: response.status.code)
            return response
        } catch let error as any HTTPResponseError {
            record(request, context, status: error.status.code)
            throw error
        } catch {
            // Hummingbird answers any other error with 500.
            record(request, context, status: 500)
            throw error
        }
    }

    private func record(_ request: Request, _ context: Context, status: Int) {
        let method = request.method.rawValue
        metrics.httpRequest(route: Self.route(context.endpointPath),
                            method: labelledMethods.contains(method) ? method : "OTHER", status: status)
    }

    /// The router sets the endpoint path to the matched route's template, or to "NotFound".
    static func route(_ endpointPath: String?) -> String {
        guard let endpointPath, endpointPath.hasPrefix("/") else { return unmatchedRoute }
        return endpointPath
    }
}

/// Methods counted under their own name; any other becomes `OTHER`, so a client cannot grow the label set.
private let labelledMethods: Set<String> = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]

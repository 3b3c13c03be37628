/// `GET /gateway/bot`: the gateway URL and the identify budget.
public struct GatewayBot: Codable, Hashable, Sendable {
    public struct SessionStartLimit: Codable, Hashable, Sendable {
        public var total: Int
        public var remaining: Int
        /// Milliseconds until `remaining` resets.
        public var resetAfter: Int
        /// Identifies allowed per 5 seconds.
        public var maxConcurrency: Int

        public init(total: Int, remaining: Int, resetAfter: Int, maxConcurrency: Int) {
            self.total = total; self.remaining = remaining; self.resetAfter = resetAfter; self.maxConcurrency = maxConcurrency
        }
        enum CodingKeys: String, CodingKey {
            case total, remaining, resetAfter = "reset_after", maxConcurrency = "max_concurrency"
        }
    }

    public var url: String
    public var shards: Int
    public var sessionStartLimit: SessionStartLimit

    public init(url: String, shards: Int = 1, sessionStartLimit: SessionStartLimit) {
        self.url = url; self.shards = shards; self.sessionStartLimit = sessionStartLimit
    }
    enum CodingKeys: String, CodingKey { case url, shards, sessionStartLimit = "session_start_limit" }
}

/// What the linking routes answer a browser: a redirect (maybe setting a cookie), or a small HTML page
/// with a status.
public enum LinkingResult: Hashable, Sendable {
    /// 302 to this absolute URL.
    case redirect(to: String, cookie: LinkCookie? = nil)
    case page(LinkPage)
}

/// A plain result page of the linking flow: a title and one or two sentences in plain words.
/// Every text is HTML-escaped; no page ever shows a token, a code or a secret.
public struct LinkPage: Hashable, Sendable {
    /// The HTTP status code.
    public var status: Int
    public var title: String
    public var message: String
    /// `Retry-After` in seconds (a 429).
    public var retryAfter: Int?

    public init(status: Int, title: String, message: String, retryAfter: Int? = nil) {
        self.status = status
        self.title = title
        self.message = message
        self.retryAfter = retryAfter
    }

    public var html: String {
        let title = Self.escape(title)
        return """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
            <title>\(title)</title>
            <style>body{font-family:system-ui,sans-serif;max-width:36rem;margin:4rem auto;padding:0 1rem;line-height:1.5}</style>
            </head><body><h1>\(title)</h1><p>\(Self.escape(message))</p></body></html>

            """
    }

    static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for character in text {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(character)
            }
        }
        return out
    }
}

import HTTPTypes
import Hummingbird
import NIOCore

extension HTTPField.Name {
    static let lastEventIDHeader = HTTPField.Name("Last-Event-ID")!
    static let apiKeyHeader = HTTPField.Name("X-API-Key")!
}

/// A response with a JSON (or any) text body.
func textResponse(_ text: String, status: HTTPResponse.Status = .ok, contentType: String = "application/json", headers: HTTPFields = [:]) -> Response
{
    var headers = headers
    headers[.contentType] = contentType
    return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
}

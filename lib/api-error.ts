/**
 * A failed API call on the client side (the board, the CLI, the MCP server): the API's error body
 * (`{ error: { code, message } }`) with the HTTP status, 0 when no server was reached;
 * {@link ApiError.fromResponse} reads it from any failed response (a non-JSON body becomes code
 * `http_<status>`).
 */
export class ApiError extends Error {
  override readonly name = "ApiError";

  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
  }

  static async fromResponse(res: Response): Promise<ApiError> {
    const text = await res.text().catch(() => "");
    try {
      const body = JSON.parse(text) as { error?: { code?: unknown; message?: unknown; details?: Record<string, unknown> } };
      if (body.error && typeof body.error.code === "string") return new ApiError(res.status, body.error.code, String(body.error.message ?? body.error.code), body.error.details);
    } catch {
      // Not JSON: fall through.
    }
    return new ApiError(res.status, `http_${res.status}`, text.slice(0, 200) || res.statusText || `HTTP ${res.status}`);
  }

  toJSON() {
    return { error: { code: this.code, message: this.message, status: this.status, ...(this.details ? { details: this.details } : {}) } };
  }
}

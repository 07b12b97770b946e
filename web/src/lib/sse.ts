// Server-Sent Events over fetch, so the request can carry the Authorization header (EventSource
// cannot). Reconnects with Last-Event-ID, so nothing published meanwhile is missed.
export type SseEvent = { id: string | null; event: string; data: string };

/** Incremental parser for the text/event-stream format (WHATWG HTML §9.2.6). */
export class SseParser {
  private buffer = "";
  private id: string | null = null;
  private event = "";
  private data: string[] = [];
  lastEventId: string | null = null;

  push(chunk: string): SseEvent[] {
    this.buffer += chunk;
    const out: SseEvent[] = [];
    let nl: number;
    while ((nl = this.buffer.search(/\r\n|\r|\n/)) >= 0) {
      const line = this.buffer.slice(0, nl);
      const sep = this.buffer.startsWith("\r\n", nl) ? 2 : 1;
      this.buffer = this.buffer.slice(nl + sep);
      if (line === "") {
        if (this.data.length) {
          out.push({ id: this.id, event: this.event || "message", data: this.data.join("\n") });
        }
        this.event = "";
        this.data = [];
        continue;
      }
      if (line.startsWith(":")) continue; // comment (heartbeat)
      const colon = line.indexOf(":");
      const field = colon < 0 ? line : line.slice(0, colon);
      let value = colon < 0 ? "" : line.slice(colon + 1);
      if (value.startsWith(" ")) value = value.slice(1);
      if (field === "data") this.data.push(value);
      else if (field === "event") this.event = value;
      else if (field === "id" && !value.includes("\0")) {
        this.id = value;
        this.lastEventId = value;
      }
    }
    return out;
  }
}

export type StreamOptions = {
  url: string;
  headers: () => Promise<Record<string, string> | null>;
  onEvent: (e: SseEvent) => void;
  onOpen?: () => void;
  signal: AbortSignal;
  retryMs?: (attempt: number) => number;
};

/** Follow the stream until aborted, reconnecting after errors with backoff. */
export async function follow(opts: StreamOptions): Promise<void> {
  let lastId: string | null = null;
  let attempt = 0;
  const backoff = opts.retryMs ?? ((n: number) => Math.min(30_000, 500 * 2 ** n));
  while (!opts.signal.aborted) {
    try {
      const headers = await opts.headers();
      if (!headers) throw new Error("not signed in");
      if (lastId) headers["last-event-id"] = lastId;
      const res = await fetch(opts.url, { headers: { accept: "text/event-stream", ...headers }, signal: opts.signal, cache: "no-store" });
      if (!res.ok || !res.body) throw new Error(`stream answered ${res.status}`);
      attempt = 0;
      opts.onOpen?.();
      const parser = new SseParser();
      const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        for (const e of parser.push(value)) opts.onEvent(e);
        if (parser.lastEventId) lastId = parser.lastEventId;
      }
    } catch {
      if (opts.signal.aborted) return;
    }
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, backoff(attempt++));
      opts.signal.addEventListener("abort", () => { clearTimeout(t); resolve(); }, { once: true });
    });
  }
}

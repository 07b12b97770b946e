import { describe, expect, it } from "vitest";
import { SseParser } from "./sse";

describe("SseParser", () => {
  it("emits an event per blank line with its id, type and data", () => {
    const p = new SseParser();
    const out = p.push('id: 1-0\nevent: booking.created\ndata: {"a":1}\n\n');
    expect(out).toEqual([{ id: "1-0", event: "booking.created", data: '{"a":1}' }]);
    expect(p.lastEventId).toBe("1-0");
  });

  it("joins events split across chunks and skips heartbeat comments", () => {
    const p = new SseParser();
    expect(p.push(": keep-alive\n\nid: 2-0\nevent: blo")).toEqual([]);
    expect(p.push("ck.created\ndata: x\r\n\r\n")).toEqual([{ id: "2-0", event: "block.created", data: "x" }]);
  });

  it("joins multi-line data and defaults the type to message", () => {
    expect(new SseParser().push("data: a\ndata: b\n\n")).toEqual([{ id: null, event: "message", data: "a\nb" }]);
  });
});

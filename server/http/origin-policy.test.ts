import { describe, expect, it } from "vitest";
import { hostnameOf, isLoopbackHost, OriginPolicy } from "./origin-policy";

describe("OriginPolicy", () => {
  const p = new OriginPolicy({ bindHost: "127.0.0.1", allowedHosts: ["board.example.com"] });

  it("answers to loopback names, the bound address and allowed hosts, any port", () => {
    for (const host of ["127.0.0.1:3000", "localhost:3000", "LOCALHOST", "[::1]:3000", "127.0.0.2", "board.example.com", "board.example.com:443"]) {
      expect(p.allowsHost(host), host).toBe(true);
    }
  });

  it("refuses DNS-rebinding and malformed hosts", () => {
    for (const host of [undefined, "", "evil.example:3000", "127.0.0.1.evil.example", "board.example.com.evil", "[::1", "a b", "127.0.0.1:3000/x"]) {
      expect(p.allowsHost(host), String(host)).toBe(false);
    }
    expect(p.checkHost({ host: "evil.example:3000" })).toContain("evil.example");
  });

  it("accepts the server's own origin and allowed hosts' origins only", () => {
    expect(p.allowsOrigin("http://127.0.0.1:3000", "127.0.0.1:3000")).toBe(true);
    expect(p.allowsOrigin("https://board.example.com", "127.0.0.1:3000")).toBe(true);
    // Another port on the same machine is another origin (another local web app).
    expect(p.allowsOrigin("http://127.0.0.1:8080", "127.0.0.1:3000")).toBe(false);
    expect(p.allowsOrigin("http://localhost:3000", "127.0.0.1:3000")).toBe(false);
    expect(p.allowsOrigin("null", "127.0.0.1:3000")).toBe(false);
    expect(p.allowsOrigin("https://evil.example", "127.0.0.1:3000")).toBe(false);
    expect(p.allowsOrigin("file://", "127.0.0.1:3000")).toBe(false);
  });

  it("refuses cross-site fetch metadata even without an Origin", () => {
    expect(p.checkOrigin({ host: "127.0.0.1:3000", "sec-fetch-site": "cross-site" })).toContain("cross-site");
    expect(p.checkOrigin({ host: "127.0.0.1:3000", "sec-fetch-site": "same-origin", origin: "http://127.0.0.1:3000" })).toBeNull();
    expect(p.checkOrigin({ host: "127.0.0.1:3000" })).toBeNull();
  });

  it("bound to every interface, answers to the machine's addresses", () => {
    const wide = new OriginPolicy({ bindHost: "0.0.0.0" });
    expect(wide.allowsHost("127.0.0.1")).toBe(true);
    expect(wide.allowsHost("evil.example")).toBe(false);
  });

  it("parses host names", () => {
    expect(hostnameOf("[::1]:80")).toBe("::1");
    expect(hostnameOf("Example.COM.:80")).toBe("example.com");
    expect(isLoopbackHost("127.9.9.9")).toBe(true);
    expect(isLoopbackHost("10.0.0.1")).toBe(false);
  });
});

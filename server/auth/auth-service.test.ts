import { describe, expect, it } from "vitest";
import { SESSION_COOKIE } from "@/lib/auth";
import { AuthService, readCookie } from "./auth-service";
import { constantTimeEqual, hashSecret, newTokenSecret, TOKEN_PATTERN } from "./secrets";

const admin = newTokenSecret();
const scoped = newTokenSecret();
function service(): AuthService {
  const auth = new AuthService(admin);
  auth.addToken({ id: "tok1", name: "claw-1", hash: hashSecret(scoped), scopes: ["read"], repos: ["r1"], expiresAt: null });
  return auth;
}

describe("AuthService", () => {
  it("accepts the admin token as a bearer, as `admin` with the admin scope", () => {
    const r = service().authenticate({ authorization: `Bearer ${admin}` });
    expect(r).toMatchObject({ ok: true, caller: { by: "admin", tokenId: null, scopes: ["admin"], repos: null } });
  });

  it("refuses a missing, wrong or wrongly presented token with a reason", () => {
    const auth = service();
    expect(auth.authenticate({})).toMatchObject({ ok: false, message: expect.stringContaining("authentication required") });
    expect(auth.authenticate({ authorization: `Bearer ${admin}x` })).toMatchObject({ ok: false, message: expect.stringContaining("not valid") });
    expect(auth.authenticate({ authorization: `Token ${admin}` })).toMatchObject({ ok: false, message: expect.stringContaining("Bearer") });
    expect(auth.authenticate({ authorization: admin })).toMatchObject({ ok: false });
    expect(() => auth.require({ authorization: "Basic x" })).toThrow(expect.objectContaining({ code: "unauthorized" }));
  });

  it("a bad Authorization header never falls back to a valid cookie", () => {
    const auth = service();
    const cookie = `${SESSION_COOKIE}=${auth.sessionValue(auth.require({ authorization: `Bearer ${admin}` }))}`;
    expect(auth.authenticate({ cookie }).ok).toBe(true);
    expect(auth.authenticate({ cookie, authorization: "Bearer nope" }).ok).toBe(false);
  });

  it("a session cookie made from the admin token is the board; a tampered one is refused", () => {
    const auth = service();
    const value = auth.sessionValue(auth.require({ authorization: `Bearer ${admin}` }));
    expect(auth.authenticate({ cookie: `a=b; ${SESSION_COOKIE}=${value}` })).toMatchObject({ ok: true, caller: { by: "board", via: "cookie" } });
    expect(auth.authenticate({ cookie: `${SESSION_COOKIE}=tok1.${value.split(".")[1]}` }).ok).toBe(false);
    expect(auth.authenticate({ cookie: `${SESSION_COOKIE}=${value}A` }).ok).toBe(false);
    // Another server's (another admin token's) cookie is worthless here.
    const other = new AuthService(newTokenSecret());
    expect(auth.authenticate({ cookie: `${SESSION_COOKIE}=${other.sessionValue(other.require({ authorization: `Bearer ${other.adminToken}` }))}` }).ok).toBe(false);
  });

  it("scoped tokens carry their name, scopes and repos; removal and expiry end them at once, cookies included", () => {
    const auth = service();
    const caller = auth.require({ authorization: `Bearer ${scoped}` });
    expect(caller).toMatchObject({ by: "claw-1", tokenId: "tok1", scopes: ["read"] });
    expect([...caller.repos!]).toEqual(["r1"]);
    expect(() => auth.authorize(caller, "control")).toThrow(expect.objectContaining({ code: "forbidden" }));
    auth.authorize(caller, "read");
    const cookie = `${SESSION_COOKIE}=${auth.sessionValue(caller)}`;
    expect(auth.authenticate({ cookie })).toMatchObject({ ok: true, caller: { tokenId: "tok1" } });
    auth.removeToken("tok1");
    expect(auth.authenticate({ authorization: `Bearer ${scoped}` }).ok).toBe(false);
    expect(auth.authenticate({ cookie }).ok).toBe(false);

    auth.addToken({ id: "tok2", name: "old", hash: hashSecret(scoped), scopes: ["admin"], repos: null, expiresAt: new Date(1000) });
    expect(auth.authenticate({ authorization: `Bearer ${scoped}` }, 999).ok).toBe(true);
    expect(auth.authenticate({ authorization: `Bearer ${scoped}` }, 1000).ok).toBe(false);
  });

  it("takes the Socket.IO auth token when there is no Authorization header", () => {
    const auth = service();
    expect(auth.authenticate({ socketToken: scoped })).toMatchObject({ ok: true, caller: { via: "socket", by: "claw-1" } });
    expect(auth.authenticate({ socketToken: 42 }).ok).toBe(false);
  });
});

describe("secrets", () => {
  it("makes 256-bit lb_ tokens and compares in constant time", () => {
    const a = newTokenSecret();
    expect(a).toMatch(TOKEN_PATTERN);
    expect(a).not.toBe(newTokenSecret());
    expect(constantTimeEqual(a, a)).toBe(true);
    expect(constantTimeEqual(a, `${a}x`)).toBe(false);
    expect(hashSecret(a)).toMatch(/^[0-9a-f]{64}$/);
  });

  it("reads one cookie out of a Cookie header", () => {
    expect(readCookie("a=1; b=2;c=3", "b")).toBe("2");
    expect(readCookie("ab=1", "b")).toBeNull();
    expect(readCookie(undefined, "b")).toBeNull();
  });
});

import { describe, expect, it } from "vitest";
import { EMPTY_PACKET_FORM, serverErrorToFieldErrors, splitArgs, suggestBranch, validatePacketForm } from "./packet-form";

describe("suggestBranch", () => {
  it("makes a valid branch name from the objective", () => {
    expect(suggestBranch("Add clamp() with tests!")).toBe("lane/add-clamp-with-tests");
    expect(suggestBranch("Ünïcode — naïve café")).toBe("lane/unicode-naive-cafe");
    expect(suggestBranch("  ")).toBe("");
  });
});

describe("splitArgs", () => {
  it("splits on whitespace and groups quotes, with no expansion", () => {
    expect(splitArgs(`node --test "a b" 'c $HOME' d\\ e`)).toEqual(["node", "--test", "a b", "c $HOME", "d e"]);
    expect(splitArgs(`echo ""`)).toEqual(["echo", ""]);
    expect(() => splitArgs(`echo "oops`)).toThrow(/unclosed/);
  });
});

describe("validatePacketForm", () => {
  const form = { ...EMPTY_PACKET_FORM, repo: "R1", objective: "Add clamp", branch: "lane/add-clamp", engine: "shell", command: "npm test" };

  it("accepts a complete form and builds the packet", () => {
    const { packet, errors } = validatePacketForm({ ...form, checks: [{ level: "targeted", command: "node --test" }], priority: "5", maxTokens: "1000" });
    expect(errors).toEqual({});
    expect(packet).toMatchObject({ worker: { engine: "shell", command: ["npm", "test"] }, acceptance: [{ level: "targeted", argv: ["node", "--test"] }], priority: 5, budget: { maxTokens: 1000 } });
  });

  it("names each field at fault with the same schema as the server", () => {
    const { errors } = validatePacketForm({ ...form, objective: " ", branch: "-bad..name", engine: "claude", command: "", priority: "5000" });
    expect(Object.keys(errors).sort()).toEqual(["branch", "objective", "priority", "worker.prompt"]);
  });

  it("reports bad script JSON and unclosed quotes on their fields", () => {
    expect(validatePacketForm({ ...form, engine: "script", script: "[nope" }).errors["worker.script"]).toMatch(/JSON/);
    expect(validatePacketForm({ ...form, checks: [{ level: "targeted", command: "echo 'x" }] }).errors["acceptance.0.argv"]).toMatch(/unclosed/);
  });
});

describe("serverErrorToFieldErrors", () => {
  it("maps a 422 message to its fields and keeps the rest for the form", () => {
    expect(serverErrorToFieldErrors({ message: "dependsOn.0: unknown lane x; (body): weird", details: { fields: ["dependsOn.0", "(body)"] } })).toEqual({ "dependsOn.0": "unknown lane x", "(body)": "weird" });
  });
  it("uses details.field for a conflict", () => {
    expect(serverErrorToFieldErrors({ message: "branch 'lane/x' already exists in demo", details: { field: "branch" } })).toEqual({ branch: "branch 'lane/x' already exists in demo" });
  });
});

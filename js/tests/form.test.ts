import { describe, expect, it } from "vitest";
import {
  checkPassword,
  defaultPort,
  isInsecure,
  normalizeValues,
  PortFollower,
  slowRequestTimeoutMs,
  validateForm,
} from "../src/form";

const good = normalizeValues({
  name: "work",
  username: "alice@example.org",
  imap_host: "imap.example.org",
});

describe("ports follow the encryption until typed", () => {
  it("defaults follow the contract", () => {
    expect(defaultPort("SslOnConnect", "imap")).toBe(993);
    expect(defaultPort("StartTls", "imap")).toBe(143);
    expect(defaultPort("Auto", "smtp")).toBe(465);
    expect(defaultPort("StartTls", "smtp")).toBe(587);
  });

  it("an untyped port follows, a typed one stays, clearing it follows again", () => {
    const ports = new PortFollower(good);
    let values = ports.encryptionChosen(good, "imap", "StartTls");
    expect(values.imap_port).toBe(143);
    values = ports.portTyped(values, "imap", "1143");
    values = ports.encryptionChosen(values, "imap", "SslOnConnect");
    expect(values.imap_port).toBe(1143);
    values = ports.portTyped(values, "imap", "");
    expect(values.imap_port).toBe(993);
    values = ports.encryptionChosen(values, "imap", "None");
    expect(values.imap_port).toBe(143);
    expect(values.smtp_port).toBe(465); // the other protocol is untouched
  });

  it("a loaded non-default port counts as typed", () => {
    const loaded = normalizeValues({ ...good, imap_port: 10993 });
    const ports = new PortFollower(loaded);
    expect(ports.encryptionChosen(loaded, "imap", "StartTls").imap_port).toBe(10993);
  });
});

describe("validation before anything is sent", () => {
  it("accepts a complete form", () => {
    expect(validateForm(good)).toEqual({});
  });

  it("names each bad field", () => {
    const errors = validateForm({
      ...good,
      name: "",
      imap_host: "imap example.org",
      imap_port: 70000,
      smtp_port: Number.NaN,
      from_address: "not an address",
      timeout: 0,
    });
    expect(Object.keys(errors).sort()).toEqual(
      ["from_address", "imap_host", "imap_port", "name", "smtp_port", "timeout"].sort(),
    );
  });

  it("refuses line breaks anywhere (header and command injection)", () => {
    expect(validateForm({ ...good, username: "alice\r\nA001 LOGOUT" }).username).toMatch(
      /Line breaks/,
    );
    expect(checkPassword("pass\nword")).toBeDefined();
    expect(checkPassword("p@ss word")).toBeUndefined();
  });

  it("flags insecure settings and waits longer than the kernel's timeouts", () => {
    expect(isInsecure(good)).toBe(false);
    expect(isInsecure({ ...good, smtp_encryption: "None" })).toBe(true);
    expect(isInsecure({ ...good, verify_tls: false })).toBe(true);
    expect(slowRequestTimeoutMs({ ...good, timeout: 30 })).toBeGreaterThan(6 * 30 * 1000);
  });
});

import { beforeEach, describe, expect, it } from "vitest";
import { NO_GUARDRAILS } from "../src/guardrails";
import { renderManager } from "../src/manager";
import type { ManagerModel } from "../src/messages";
import { FakeModel } from "./fake-model";

function initial(): ManagerModel {
  return {
    values: { name: "work", username: "alice@example.org", imap_host: "imap.example.org" },
    password_set: false,
    saved: [],
    policies: { send_email: "confirm", search_emails: "enabled" },
    functions: [
      { name: "search_emails", description: "Search.", default: "enabled", writes: false },
      { name: "send_email", description: "Send.", default: "confirm", writes: true },
    ],
    status: { state: "idle", message: "" },
    report: {},
    keyring: { usable: true, description: "test" },
    session_only: false,
    connection_name: "",
    guardrails: NO_GUARDRAILS,
    discovered: [],
    sign_in: {},
    client_secret_set: false,
  };
}

function setup(state = initial()) {
  const model = new FakeModel(state);
  const el = document.createElement("div");
  document.body.replaceChildren(el);
  // biome-ignore lint/suspicious/noExplicitAny: the fake stands in for the anywidget model
  renderManager(model as any, el);
  const field = (name: string) => el.querySelector(`[name="${name}"]`) as HTMLInputElement;
  const button = (name: string) => el.querySelector(`button[name="${name}"]`) as HTMLButtonElement;
  return { model, el, field, button };
}

function type(input: HTMLInputElement, value: string) {
  input.value = value;
  input.dispatchEvent(new Event("input"));
}

describe("ConnectionManager view", () => {
  beforeEach(() => document.body.replaceChildren());

  it("shows the seed's fields with their labels and the defaults", () => {
    const { el, field } = setup();
    const labels = [...el.querySelectorAll("label")].map((l) => l.textContent);
    for (const label of [
      "Name",
      "Username",
      "Password",
      "IMAP Host",
      "IMAP Port",
      "IMAP Encryption",
      "SMTP Host",
      "SMTP Port",
      "SMTP Encryption",
    ]) {
      expect(labels).toContain(label);
    }
    expect(field("imap_port").value).toBe("993");
    expect(field("smtp_port").value).toBe("465");
  });

  it("the port follows the encryption choice until the user types one", () => {
    const { model, field } = setup();
    const encryption = field("imap_encryption") as unknown as HTMLSelectElement;
    encryption.value = "StartTls";
    encryption.dispatchEvent(new Event("change"));
    expect(field("imap_port").value).toBe("143");
    type(field("imap_port"), "10143");
    encryption.value = "SslOnConnect";
    encryption.dispatchEvent(new Event("change"));
    expect(field("imap_port").value).toBe("10143");
    expect((model.get("values") as Record<string, unknown>).imap_port).toBe(10143);
  });

  it("sends the password in the request only, clears the input, and never puts it in the model", () => {
    const { model, field, button } = setup();
    type(field("password"), "s3cret pass");
    button("test").click();
    const [sent] = model.requests();
    expect(sent.method).toBe("test_connection");
    expect((sent.params as Record<string, unknown>).password).toBe("s3cret pass");
    expect(field("password").value).toBe("");
    expect(JSON.stringify(model.get("values"))).not.toContain("s3cret");
    expect(button("test").disabled).toBe(true);
    expect(button("cancel").hidden).toBe(false);
  });

  it("shows field errors and sends nothing when the form is invalid", () => {
    const { model, el, field, button } = setup();
    type(field("imap_host"), "");
    type(field("password"), "pw");
    button("save").click();
    expect(model.requests()).toHaveLength(0);
    expect(el.querySelector('[data-error-for="imap_host"]')?.textContent).toMatch(/required/);
    expect(field("password").value).toBe("pw"); // nothing was sent, so the input is kept
  });

  it("puts a kernel error next to its field and re-enables the buttons", async () => {
    const { model, el, field, button } = setup();
    type(field("password"), "pw");
    button("save").click();
    model.reply(
      { type: "InvalidInputError", message: "ca_file does not exist", field: "ca_file" },
      false,
    );
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(el.querySelector('[data-error-for="ca_file"]')?.textContent).toBe(
      "ca_file does not exist",
    );
    expect(button("save").disabled).toBe(false);
  });

  it("renders report steps and saved names as text, never as HTML", () => {
    const { model, el } = setup();
    model.kernelSet("report", {
      ok: false,
      insecure: false,
      steps: [
        { protocol: "imap", name: "login", ok: false, detail: "<img src=x onerror=alert(1)>" },
      ],
    });
    model.kernelSet("saved", [{ name: "<b>evil</b>", username: "u", imap_host: "h" }]);
    expect(el.querySelector("img")).toBeNull();
    expect(el.querySelector("b")).toBeNull();
    expect(el.textContent).toContain("<img src=x onerror=alert(1)>");
  });

  it("a policy change is a request to the kernel, which owns enforcement", () => {
    const { model, el } = setup();
    const select = el.querySelector('select[data-function="send_email"]') as HTMLSelectElement;
    expect(select.value).toBe("confirm");
    select.value = "disabled";
    select.dispatchEvent(new Event("change"));
    expect(model.requests()[0]).toMatchObject({
      method: "set_policy",
      params: { function: "send_email", policy: "disabled" },
    });
  });

  it("says plainly when there is no keyring and forces session-only", () => {
    const state = initial();
    state.keyring = { usable: false, description: "no backend" };
    const { el, field } = setup(state);
    const notice = el.querySelector('[data-testid="keyring-notice"]') as HTMLElement;
    expect(notice.hidden).toBe(false);
    expect(notice.textContent).toContain("session only");
    expect(field("session_only").checked).toBe(true);
    expect(field("session_only").disabled).toBe(true);
  });
});

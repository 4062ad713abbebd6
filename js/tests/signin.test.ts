import { beforeEach, describe, expect, it } from "vitest";
import { NO_GUARDRAILS } from "../src/guardrails";
import { renderManager } from "../src/manager";
import type { ManagerModel } from "../src/messages";
import { presetOf, tenantOf } from "../src/signin";
import { FakeModel } from "./fake-model";

type State = ManagerModel;

function initial(values: Record<string, unknown> = {}): State {
  return {
    values: {
      name: "work",
      username: "alice@example.org",
      imap_host: "imap.example.org",
      ...values,
    },
    password_set: false,
    saved: [],
    policies: {},
    functions: [],
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

const MICROSOFT = {
  name: "microsoft",
  client_id: "abc",
  token_endpoint: "https://login.microsoftonline.com/organizations/oauth2/v2.0/token",
};

describe("Find settings and Sign in", () => {
  beforeEach(() => document.body.replaceChildren());

  it("asks the kernel to discover the address, also on Enter", () => {
    const { model, field, button } = setup();
    expect(field("email").value).toBe("alice@example.org");
    button("find-settings").click();
    expect(model.requests().at(-1)).toMatchObject({
      method: "discover",
      params: { address: "alice@example.org" },
    });
    field("email").value = "bob@example.net";
    field("email").dispatchEvent(new KeyboardEvent("keydown", { key: "Enter" }));
    expect(model.requests().at(-1)).toMatchObject({ params: { address: "bob@example.net" } });
  });

  it("lists what was found with its source and warns about insecure results", () => {
    const { model, el } = setup();
    model.kernelSet("discovered", [
      {
        label: "from DNS: IMAP mail.example.org:993",
        source: "srv",
        secure: true,
        auth: "password",
        oauth_provider: null,
        warnings: [],
        notes: [],
        values: { imap_host: "mail.example.org" },
      },
      {
        label: "from the MX: IMAP imap.other.net:993",
        source: "mx",
        secure: false,
        auth: "password",
        oauth_provider: null,
        warnings: ["points outside example.org"],
        notes: [],
        values: { imap_host: "imap.other.net" },
      },
    ]);
    const rows = [...el.querySelectorAll("[data-source]")] as HTMLElement[];
    expect(rows.map((r) => r.dataset.secure)).toEqual(["true", "false"]);
    expect(rows[0].textContent).toContain("DNS SRV records");
    expect(rows[1].textContent).toContain("points outside example.org");
    (rows[1].querySelector("button") as HTMLButtonElement).click();
    expect((model.get("values") as Record<string, unknown>).imap_host).toBe("imap.other.net");
    // The one in use is marked; the others, the first one too, can be taken instead.
    const uses = [...el.querySelectorAll('button[name="use-discovered"]')] as HTMLButtonElement[];
    expect(uses.map((b) => [b.textContent, b.disabled])).toEqual([
      ["Use these", false],
      ["In use", true],
    ]);
  });

  it("OAuth hides the password and signs in with Microsoft without any secret in the model", () => {
    const { model, el, field, button } = setup();
    const passwordRow = field("password").closest(".nec-row") as HTMLElement;
    expect(passwordRow.hidden).toBe(false);
    const auth = el.querySelector('select[name="auth"]') as HTMLSelectElement;
    auth.value = "oauth2";
    auth.dispatchEvent(new Event("change"));
    expect(passwordRow.hidden).toBe(true);
    expect((model.get("values") as Record<string, unknown>).auth).toBe("oauth2");
    expect(button("sign-in").textContent).toBe("Sign in with Microsoft");
    field("client_id").value = "my-client";
    field("tenant").value = "organizations";
    button("sign-in").click();
    expect(model.requests().at(-1)).toMatchObject({
      method: "sign_in",
      params: { provider: "microsoft", client_id: "my-client", tenant: "organizations" },
    });
  });

  it("sends the Google client secret in the request only and clears its input", () => {
    const { model, el, field, button } = setup(initial({ auth: "oauth2" }));
    const provider = el.querySelector('select[name="oauth_provider"]') as HTMLSelectElement;
    provider.value = "google";
    provider.dispatchEvent(new Event("change"));
    field("client_id").value = "g.apps.googleusercontent.com";
    field("client_secret").value = "shh-secret";
    button("sign-in").click();
    expect(model.requests().at(-1)).toMatchObject({
      params: { provider: "google", client_secret: "shh-secret" },
    });
    expect(field("client_secret").value).toBe("");
    expect(JSON.stringify(model.get("values"))).not.toContain("shh-secret");
  });

  it("a custom provider's client secret goes with Save like the password, never into the model", () => {
    const custom = {
      name: "corp",
      client_id: "corp-app",
      token_endpoint: "https://sso.corp/token",
    };
    const { model, el, field, button } = setup(initial({ auth: "oauth2", oauth: custom }));
    const provider = el.querySelector('select[name="oauth_provider"]') as HTMLSelectElement;
    expect(provider.value).toBe("configured");
    const secretRow = field("client_secret").closest(".nec-row") as HTMLElement;
    expect(secretRow.hidden).toBe(false);
    expect(field("client_secret").placeholder).not.toContain("stored in the kernel");
    field("client_secret").value = "corp-secret-42";
    button("save").click();
    expect(model.requests().at(-1)).toMatchObject({
      method: "save",
      params: { client_secret: "corp-secret-42", values: { oauth: custom } },
    });
    expect(field("client_secret").value).toBe("");
    const synced = JSON.stringify(Object.keys(initial()).map((key) => model.get(key as never)));
    expect(synced).not.toContain("corp-secret-42");
    model.kernelSet("client_secret_set", true);
    expect(field("client_secret").placeholder).toContain("stored in the kernel");
    // Microsoft's public clients take no secret: the field is hidden and nothing is sent.
    provider.value = "microsoft";
    provider.dispatchEvent(new Event("change"));
    expect(secretRow.hidden).toBe(true);
  });

  it("Enter in a field tests the connection, and saves once these settings passed", async () => {
    const { model, field, button } = setup();
    const password = field("password");
    password.value = "pw";
    password.dispatchEvent(new KeyboardEvent("keydown", { key: "Enter", bubbles: true }));
    expect(model.requests().at(-1)).toMatchObject({ method: "test_connection" });
    expect(button("test").classList.contains("nec-primary")).toBe(true);
    model.reply({ ok: true });
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(button("save").classList.contains("nec-primary")).toBe(true);
    field("imap_host").dispatchEvent(new KeyboardEvent("keydown", { key: "Enter", bubbles: true }));
    expect(model.requests().at(-1)).toMatchObject({ method: "save" });
    // An edit makes the settings untested again.
    field("imap_host").value = "imap2.example.org";
    field("imap_host").dispatchEvent(new Event("input"));
    expect(button("test").classList.contains("nec-primary")).toBe(true);
  });

  it("shows the device code and the link, then the outcome", () => {
    const { model, el } = setup(initial({ auth: "oauth2", oauth: MICROSOFT }));
    model.kernelSet("sign_in", {
      state: "pending",
      method: "device",
      provider: "microsoft",
      message: "Open https://microsoft.com/devicelogin and enter the code ABCD-1234.",
      verification_uri: "https://microsoft.com/devicelogin",
      user_code: "ABCD-1234",
      expires_at: "2030-01-01T00:00:00+00:00",
      authorization_url: null,
    });
    expect(el.querySelector('[data-testid="user-code"]')?.textContent).toBe("ABCD-1234");
    const link = el.querySelector('[data-testid="sign-in"] a') as HTMLAnchorElement;
    expect(link.href).toBe("https://microsoft.com/devicelogin");
    expect(link.rel).toContain("noopener");
    model.kernelSet("sign_in", {
      state: "denied",
      method: "device",
      provider: "microsoft",
      message: "The sign-in was declined.",
      verification_uri: null,
      user_code: null,
      expires_at: null,
      authorization_url: null,
    });
    expect(el.querySelector('[data-testid="user-code"]')).toBeNull();
    expect(el.querySelector('[data-testid="sign-in"]')?.textContent).toContain("declined");
  });

  it("offers a paste box for a browser sign-in", () => {
    const { model, el, field, button } = setup(initial({ auth: "oauth2", oauth: MICROSOFT }));
    model.kernelSet("sign_in", {
      state: "pending",
      method: "browser",
      provider: "google",
      message: "Open the page.",
      verification_uri: null,
      user_code: null,
      expires_at: null,
      authorization_url: "https://accounts.google.com/o/oauth2/v2/auth?x=1",
    });
    expect(el.querySelector('[data-testid="authorization-link"]')).not.toBeNull();
    field("redirected_url").value = "http://127.0.0.1:5555/?code=c&state=s";
    button("complete-sign-in").click();
    expect(model.requests().at(-1)).toMatchObject({
      method: "complete_sign_in",
      params: { url: "http://127.0.0.1:5555/?code=c&state=s" },
    });
  });

  it("reads the preset and tenant back from saved values", () => {
    expect(presetOf({ oauth: MICROSOFT })).toBe("microsoft");
    expect(presetOf({ oauth: { name: "local" } })).toBe("configured");
    expect(presetOf({})).toBeNull();
    expect(tenantOf({ oauth: MICROSOFT })).toBe("organizations");
    expect(tenantOf({})).toBe("common");
  });
});

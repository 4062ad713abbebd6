// The manager's "Find settings": an Email field whose button (or Enter) asks the kernel to
// discover the settings (nec.discover, kernel side widgets/manager_signin.py), which fills the
// form; every result is listed with where it came from, its warnings (insecure, outside the
// domain, a server lacking the sign-in it needs) and a button to use it instead.

import { clear, h, onEnter } from "./dom";
import { listen } from "./events";
import type { DiscoveredOption, SignInMethods } from "./messages";
import { type MessageModel, type RequestClient, RequestError } from "./protocol";

export const SOURCE_LABELS: Record<string, string> = {
  builtin: "the built-in provider table",
  autoconfig: "the domain's autoconfig file",
  "well-known": "the domain's .well-known file",
  ispdb: "Thunderbird's ISPDB",
  srv: "DNS SRV records",
  mx: "the domain's mail provider (MX)",
  guess: "a probed guess",
};

interface FindModel extends MessageModel {
  get(key: "discovered"): DiscoveredOption[] | undefined;
  on(eventName: string, callback: (...args: unknown[]) => void): void;
  off(eventName: string, callback: (...args: unknown[]) => void): void;
}

export interface FindHooks {
  values(): Record<string, unknown>;
  apply(values: Record<string, unknown>): void;
  status(state: "idle" | "working" | "ok" | "error", message: string): void;
}

export function renderFind(
  model: FindModel,
  hooks: FindHooks,
  client: RequestClient<SignInMethods>,
): { element: HTMLElement; dispose: () => void } {
  const id = `nec-f-${Math.random().toString(36).slice(2, 9)}`;
  const email = h("input", {
    attrs: {
      type: "email",
      name: "email",
      id: `${id}-email`,
      placeholder: "alice@example.org",
      spellcheck: "false",
      autocomplete: "email",
    },
  });
  const findButton = h("button", {
    text: "Find settings",
    attrs: { type: "button", name: "find-settings" },
  });
  const findError = h("div", { className: "nec-error", attrs: { "data-error-for": "address" } });
  const foundBox = h("div", { className: "nec-found", attrs: { "data-testid": "discovered" } });
  const find = h("div", { className: "nec-find" }, [
    h("div", { className: "nec-row" }, [
      h("label", { text: "Email", attrs: { for: email.id } }),
      h("div", { className: "nec-cell" }, [
        h("div", { className: "nec-inline" }, [email, findButton]),
        findError,
        foundBox,
      ]),
    ]),
  ]);

  async function findSettings(): Promise<void> {
    const address = email.value.trim();
    findError.textContent = "";
    if (!address) {
      findError.textContent = "Enter your email address.";
      return;
    }
    findButton.disabled = true;
    hooks.status("working", `Looking up the settings of ${address}…`);
    try {
      const result = await client.request("discover", { address }, { timeoutMs: 40_000 });
      if (result.count === 0) findError.textContent = "Nothing found: fill in the servers below.";
    } catch (error) {
      const message = error instanceof RequestError ? error.message : String(error);
      findError.textContent = message;
      hooks.status("error", message);
    } finally {
      findButton.disabled = false;
    }
  }
  findButton.addEventListener("click", () => void findSettings());
  onEnter([email], () => void findSettings());

  function showFound(): void {
    clear(foundBox);
    const options = model.get("discovered") ?? [];
    options.forEach((option, index) => {
      const where = SOURCE_LABELS[option.source] ?? option.source;
      // "In use" while the form holds exactly these settings; any other can be taken instead.
      const current = hooks.values();
      const inUse = Object.entries(option.values).every(
        ([key, value]) => String(current[key] ?? "") === String(value ?? ""),
      );
      const use = h("button", {
        text: inUse ? "In use" : "Use these",
        attrs: { type: "button", name: "use-discovered" },
        dataset: { index: String(index) },
      });
      use.disabled = inUse;
      use.addEventListener("click", () => hooks.apply({ ...hooks.values(), ...option.values }));
      const v = option.values;
      const servers = `IMAP ${v.imap_host}:${v.imap_port}, SMTP ${v.smtp_host}:${v.smtp_port}`;
      const how = option.auth === "oauth2" ? "OAuth 2.0" : "password";
      const line = h(
        "div",
        {
          className: option.secure ? "nec-found-row" : "nec-found-row nec-found-insecure",
          dataset: { source: option.source, secure: String(option.secure) },
        },
        [h("span", { text: `${option.secure ? "✓" : "⚠"} ${where}: ${servers}, ${how} ` }), use],
      );
      for (const warning of option.warnings) {
        line.append(h("div", { className: "nec-help nec-warning-text", text: warning }));
      }
      for (const note of option.notes) line.append(h("div", { className: "nec-help", text: note }));
      foundBox.append(line);
    });
  }

  const unlisten = listen(model, [
    ["change:discovered", showFound],
    ["change:values", showFound],
  ]);
  const values = hooks.values();
  if (typeof values.username === "string" && values.username.includes("@"))
    email.value = values.username;
  showFound();
  return {
    element: find,
    dispose: () => {
      unlisten();
    },
  };
}

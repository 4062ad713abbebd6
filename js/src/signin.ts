// The manager's "Find settings" (find.ts) and "Sign in" parts: an Authentication choice
// (Password / OAuth 2.0); for OAuth, Microsoft or Google with
// the app's client id, and "Sign in with …" that shows the device code and the link to open
// (or the browser link and a box to paste the redirected address), with a live status.
// Kernel side: nb_email_conn/widgets/manager_signin.py. Nothing secret enters the model: a
// client secret (Google, or a custom provider set up in Python) travels like the password,
// inside one sign_in / test_connection / save request, and its input is cleared.

import { clear, h, onEnter } from "./dom";
import { listen } from "./events";
import { renderFind } from "./find";
import type { DiscoveredOption, SignInMethods, SignInParams, SignInState } from "./messages";
import { type MessageModel, RequestClient, RequestError } from "./protocol";

export type { DiscoveredOption, SignInKind, SignInState } from "./messages";

interface SignInModel extends MessageModel {
  get(key: "discovered"): DiscoveredOption[] | undefined;
  get(key: "sign_in"): SignInState | Record<string, never> | undefined;
  get(key: "values"): Record<string, unknown> | undefined;
  get(key: "session_only"): boolean | undefined;
  get(key: "client_secret_set"): boolean | undefined;
  on(eventName: string, callback: (...args: unknown[]) => void): void;
  off(eventName: string, callback: (...args: unknown[]) => void): void;
}

export interface SignInHooks {
  /** The form's current values (as the manager keeps them). */
  values(): Record<string, unknown>;
  /** Apply new values to the form (the manager pushes them to the kernel). */
  apply(values: Record<string, unknown>): void;
  /** The Authentication choice changed: the manager shows or hides the password. */
  authChanged(oauth: boolean): void;
  /** Show a status line message. */
  status(state: "idle" | "working" | "ok" | "error", message: string): void;
}

/** "microsoft" / "google" from the form's oauth settings (values.oauth.name), "configured" for
 * any other provider set up in Python, else null. */
export function presetOf(
  values: Record<string, unknown>,
): "microsoft" | "google" | "configured" | null {
  const oauth = values.oauth;
  if (oauth && typeof oauth === "object") {
    const name = (oauth as Record<string, unknown>).name;
    if (name === "microsoft" || name === "google") return name;
    if (typeof name === "string" && name) return "configured";
  }
  return null;
}

/** The Microsoft tenant in the saved token endpoint, else "common". */
export function tenantOf(values: Record<string, unknown>): string {
  const oauth = values.oauth as Record<string, unknown> | undefined;
  const endpoint = typeof oauth?.token_endpoint === "string" ? oauth.token_endpoint : "";
  const match = /^https:\/\/login\.microsoftonline\.com\/([^/]+)\//.exec(endpoint);
  return match?.[1] ?? "common";
}

export function isSignInState(value: unknown): value is SignInState {
  return typeof value === "object" && value !== null && "state" in value && "method" in value;
}

export function renderSignIn(
  model: SignInModel,
  hooks: SignInHooks,
): {
  find: HTMLElement;
  auth: HTMLElement;
  takeClientSecret: () => string | undefined;
  dispose: () => void;
} {
  const client = new RequestClient<SignInMethods>(model, 30_000);
  const id = `nec-s-${Math.random().toString(36).slice(2, 9)}`;

  const found = renderFind(model, hooks, client);

  // --- Authentication -------------------------------------------------------------------
  const authSelect = h("select", { attrs: { name: "auth", id: `${id}-auth` } }, [
    h("option", { text: "Password (or app password)", attrs: { value: "password" } }),
    h("option", { text: "OAuth 2.0 (sign in with the provider)", attrs: { value: "oauth2" } }),
  ]);
  const providerSelect = h("select", { attrs: { name: "oauth_provider", id: `${id}-provider` } }, [
    h("option", { text: "Microsoft (Outlook.com, Microsoft 365)", attrs: { value: "microsoft" } }),
    h("option", { text: "Google (Gmail, Google Workspace)", attrs: { value: "google" } }),
  ]);
  const configuredOption = h("option", { text: "As configured", attrs: { value: "configured" } });
  providerSelect.append(configuredOption);
  const clientId = h("input", {
    attrs: {
      type: "text",
      name: "client_id",
      id: `${id}-client`,
      spellcheck: "false",
      placeholder: "application (client) id of your app registration",
    },
  });
  const tenant = h("input", {
    attrs: {
      type: "text",
      name: "tenant",
      id: `${id}-tenant`,
      spellcheck: "false",
      placeholder: "common, organizations, consumers or your tenant id",
    },
  });
  const clientSecret = h("input", {
    attrs: {
      type: "password",
      name: "client_secret",
      id: `${id}-secret`,
      autocomplete: "off",
    },
  });
  const methodSelect = h("select", { attrs: { name: "sign_in_method", id: `${id}-method` } }, [
    h("option", { text: "The provider's usual way", attrs: { value: "" } }),
    h("option", { text: "A code to enter on any device", attrs: { value: "device" } }),
    h("option", { text: "A sign-in page in this browser", attrs: { value: "browser" } }),
  ]);
  const signInButton = h("button", {
    text: "Sign in",
    className: "nec-primary",
    attrs: { type: "button", name: "sign-in" },
  });
  const cancelSignIn = h("button", {
    text: "Cancel sign-in",
    attrs: { type: "button", name: "cancel-sign-in" },
  });
  const signInError = h("div", {
    className: "nec-error",
    attrs: { "data-error-for": "client_id" },
  });
  const flowBox = h("div", {
    className: "nec-signin-flow",
    attrs: { "data-testid": "sign-in", role: "status", "aria-live": "polite" },
  });
  const pasteInput = h("input", {
    attrs: {
      type: "text",
      name: "redirected_url",
      id: `${id}-paste`,
      spellcheck: "false",
      placeholder: "paste the address the browser ended on (http://127.0.0.1:…/?code=…)",
    },
  });
  const pasteButton = h("button", {
    text: "Finish sign-in",
    attrs: { type: "button", name: "complete-sign-in" },
  });
  const pasteRow = h("div", { className: "nec-inline nec-paste" }, [pasteInput, pasteButton]);

  function labelled(label: string, input: HTMLElement, key: string): HTMLElement {
    return h("div", { className: "nec-row", dataset: { oauthField: key } }, [
      h("label", { text: label, attrs: { for: input.id } }),
      h("div", { className: "nec-cell" }, [input]),
    ]);
  }
  const tenantRow = labelled("Tenant", tenant, "tenant");
  const secretRow = labelled("Client secret", clientSecret, "client_secret");
  const oauthBox = h("div", { className: "nec-oauth" }, [
    labelled("Provider", providerSelect, "provider"),
    labelled("Client id", clientId, "client_id"),
    tenantRow,
    secretRow,
    labelled("Sign in with", methodSelect, "method"),
    h("div", { className: "nec-buttons" }, [signInButton, cancelSignIn]),
    signInError,
    flowBox,
  ]);
  const auth = h("div", { className: "nec-auth" }, [
    h("div", { className: "nec-row" }, [
      h("label", { text: "Authentication", attrs: { for: authSelect.id } }),
      h("div", { className: "nec-cell" }, [authSelect]),
    ]),
    oauthBox,
  ]);

  function showAuth(): void {
    const values = hooks.values();
    const oauth = values.auth === "oauth2";
    authSelect.value = oauth ? "oauth2" : "password";
    const preset = presetOf(values);
    const name = (values.oauth as Record<string, unknown> | null)?.name;
    configuredOption.hidden = preset !== "configured";
    configuredOption.textContent = `As configured in Python (${String(name ?? "")})`;
    if (preset) providerSelect.value = preset;
    const saved = values.oauth as Record<string, unknown> | undefined;
    if (typeof saved?.client_id === "string" && document.activeElement !== clientId) {
      clientId.value = saved.client_id;
    }
    if (preset === "microsoft" && document.activeElement !== tenant)
      tenant.value = tenantOf(values);
    showProviderFields();
    oauthBox.hidden = !oauth;
    hooks.authChanged(oauth);
  }

  function showProviderFields(): void {
    const choice = providerSelect.value;
    tenantRow.hidden = choice !== "microsoft";
    secretRow.hidden = !usesSecret();
    signInButton.textContent =
      choice === "google"
        ? "Sign in with Google"
        : choice === "microsoft"
          ? "Sign in with Microsoft"
          : "Sign in";
  }

  /** Google and custom providers may need a client secret; Microsoft's public clients never do. */
  function usesSecret(): boolean {
    return providerSelect.value === "google" || providerSelect.value === "configured";
  }

  /** Read and clear the secret input: the value exists only inside the one request. */
  function takeClientSecret(): string | undefined {
    const secret = clientSecret.value;
    clientSecret.value = "";
    return secret !== "" && !oauthBox.hidden && usesSecret() ? secret : undefined;
  }

  function showSecretHint(): void {
    clientSecret.placeholder = model.get("client_secret_set")
      ? "stored in the kernel; type to replace"
      : "only if your app registration has one (kept with the connection's secrets)";
  }

  authSelect.addEventListener("change", () => {
    hooks.apply({ ...hooks.values(), auth: authSelect.value });
    showAuth();
  });
  providerSelect.addEventListener("change", showProviderFields);

  async function signIn(): Promise<void> {
    signInError.textContent = "";
    const id = clientId.value.trim();
    if (!id) {
      signInError.textContent = "Enter the client id of your app registration.";
      return;
    }
    const choice = providerSelect.value;
    const params: SignInParams = {
      values: { ...hooks.values(), auth: "oauth2" },
      provider: choice === "google" || choice === "configured" ? choice : "microsoft",
      client_id: id,
      session_only: Boolean(model.get("session_only")),
    };
    if (params.provider === "microsoft") params.tenant = tenant.value.trim() || "common";
    if (methodSelect.value === "device" || methodSelect.value === "browser")
      params.method = methodSelect.value;
    const secret = takeClientSecret();
    if (secret !== undefined) params.client_secret = secret;
    signInButton.disabled = true;
    hooks.status("working", "Starting the sign-in…");
    try {
      await client.request("sign_in", params, { timeoutMs: 60_000 });
    } catch (error) {
      const message = error instanceof RequestError ? error.message : String(error);
      signInError.textContent = message;
      hooks.status("error", message);
    } finally {
      signInButton.disabled = false;
    }
  }
  signInButton.addEventListener("click", () => void signIn());
  cancelSignIn.addEventListener("click", () => void client.request("cancel_sign_in", {}));
  onEnter([clientId, tenant, clientSecret], () => void signIn());

  async function completeSignIn(): Promise<void> {
    const url = pasteInput.value.trim();
    if (!url) return;
    try {
      await client.request("complete_sign_in", { url }, { timeoutMs: 60_000 });
      pasteInput.value = "";
    } catch (error) {
      signInError.textContent = error instanceof RequestError ? error.message : String(error);
    }
  }
  pasteButton.addEventListener("click", () => void completeSignIn());
  onEnter([pasteInput], () => void completeSignIn());

  function showFlow(): void {
    clear(flowBox);
    const state = model.get("sign_in");
    cancelSignIn.hidden = !(isSignInState(state) && state.state === "pending");
    if (!isSignInState(state)) return;
    flowBox.dataset.state = state.state;
    if (state.state === "pending" && state.method === "device" && state.verification_uri) {
      flowBox.append(
        h("div", { text: "Open " }, [
          h("a", {
            text: state.verification_uri,
            attrs: { href: state.verification_uri, target: "_blank", rel: "noopener noreferrer" },
          }),
          " and enter the code:",
        ]),
        h("div", {
          className: "nec-user-code",
          text: state.user_code ?? "",
          attrs: { "data-testid": "user-code" },
        }),
      );
    } else if (state.state === "pending" && state.authorization_url) {
      flowBox.append(
        h("div", {}, [
          h("a", {
            text: `Open the ${state.provider} sign-in page`,
            attrs: {
              href: state.authorization_url,
              target: "_blank",
              rel: "noopener noreferrer",
              "data-testid": "authorization-link",
            },
          }),
        ]),
        h("div", {
          className: "nec-help",
          text: "If the browser is not on the kernel's machine, paste the address it ends on:",
        }),
        pasteRow,
      );
    }
    flowBox.append(h("div", { className: "nec-help", text: state.message }));
  }

  const handlers: Array<[string, () => void]> = [
    ["change:client_secret_set", showSecretHint],
    ["change:sign_in", showFlow],
    ["change:values", showAuth],
  ];
  const unlisten = listen(model, handlers);
  showAuth();
  showFlow();
  showSecretHint();

  return {
    find: found.element,
    auth,
    takeClientSecret,
    dispose: () => {
      unlisten();
      found.dispose();
      client.dispose();
    },
  };
}

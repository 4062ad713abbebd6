// nec.ConnectionManager: the connection form, Test connection, Save, saved connections and
// the Functions (policies) section. The password never enters the model: it goes to the
// kernel inside one request and the input is cleared before the request is sent.

import type { AnyModel, RenderProps } from "@anywidget/types";
import { asText, clear, h } from "./dom";
import {
  checkPassword,
  ENCRYPTION_HELP,
  ENCRYPTIONS,
  type EncryptionName,
  type FieldErrors,
  type FormValues,
  isInsecure,
  normalizeValues,
  PortFollower,
  type Protocol,
  slowRequestTimeoutMs,
  validateForm,
} from "./form";
import { renderGuardrails } from "./guardrails";
import type {
  ConnectionTestParams,
  ManagerMethods,
  ManagerModel,
  PolicyValue,
  StatusState,
} from "./messages";
import { RequestClient, RequestError } from "./protocol";
import { renderSignIn } from "./signin";
import "./manager.css";

export type {
  FunctionInfo,
  ManagerModel,
  ReportState as Report,
  SavedConnection,
  StatusState as Status,
  Step,
} from "./messages";

export const POLICY_LABELS: Record<PolicyValue, string> = {
  enabled: "Enabled",
  confirm: "Enabled with confirmation",
  disabled: "Disabled",
};

type Model = AnyModel<ManagerModel>;

interface FieldControl {
  input: HTMLInputElement | HTMLSelectElement;
  error: HTMLElement;
}

function fieldId(prefix: string, key: string): string {
  return `${prefix}-${key}`;
}

export function renderManager(model: Model, el: HTMLElement): () => void {
  const client = new RequestClient<ManagerMethods>(model, 30_000);
  const prefix = `nec-${Math.random().toString(36).slice(2, 9)}`;
  let values = normalizeValues(model.get("values") ?? {});
  let ports = new PortFollower(values);
  let busy: AbortController | null = null;
  const controls = new Map<string, FieldControl>();

  const root = h("div", { className: "nec-manager", attrs: { "data-testid": "nec-manager" } });
  el.append(root);

  const statusLine = h("div", {
    className: "nec-status",
    attrs: { role: "status", "aria-live": "polite" },
  });
  root.append(h("div", { className: "nec-title", text: "Email connection" }), statusLine);

  // --- the form -------------------------------------------------------------------------
  const form = h("form", { className: "nec-form", attrs: { autocomplete: "off" } });
  form.addEventListener("submit", (event) => event.preventDefault());
  root.append(form);

  function row(
    key: string,
    label: string,
    input: HTMLInputElement | HTMLSelectElement,
    help?: HTMLElement,
  ) {
    input.id = fieldId(prefix, key);
    input.name = key;
    input.dataset.field = key;
    const error = h("div", { className: "nec-error", attrs: { "data-error-for": key } });
    controls.set(key, { input, error });
    return h("div", { className: "nec-row" }, [
      h("label", { text: label, attrs: { for: input.id } }),
      h("div", { className: "nec-cell" }, [input, help ?? null, error]),
    ]);
  }

  function textInput(key: keyof FormValues, placeholder = ""): HTMLInputElement {
    const input = h("input", { attrs: { type: "text", placeholder, spellcheck: "false" } });
    input.addEventListener("input", () => {
      values = { ...values, [key]: input.value };
      pushValues();
    });
    return input;
  }

  function portInput(protocol: Protocol): HTMLInputElement {
    const input = h("input", {
      attrs: { type: "text", inputmode: "numeric", placeholder: "port" },
    });
    input.addEventListener("input", () => {
      values = ports.portTyped(values, protocol, input.value);
      pushValues();
    });
    // An emptied field shows the port it follows again once the user leaves it.
    input.addEventListener("blur", () => {
      if (input.value.trim() === "") showValues();
    });
    return input;
  }

  function encryptionSelect(protocol: Protocol, help: HTMLElement): HTMLSelectElement {
    const select = h(
      "select",
      {},
      ENCRYPTIONS.map((name) => h("option", { text: name, attrs: { value: name } })),
    );
    select.addEventListener("change", () => {
      values = ports.encryptionChosen(values, protocol, select.value as EncryptionName);
      help.textContent = ENCRYPTION_HELP[select.value as EncryptionName];
      showValues();
      pushValues();
    });
    return select;
  }

  const password = h("input", {
    attrs: {
      type: "password",
      autocomplete: "new-password",
      placeholder: "password or app password",
    },
  });
  const imapHelp = h("div", { className: "nec-help" });
  const smtpHelp = h("div", { className: "nec-help" });

  // Find settings (Email) first; Authentication after the username (signin.ts).
  const passwordRow = row("password", "Password", password);
  const signIn = renderSignIn(model as unknown as Parameters<typeof renderSignIn>[0], {
    values: () => ({ ...values }),
    apply: (next) => {
      values = normalizeValues(next);
      ports = new PortFollower(values);
      showValues();
      pushValues();
    },
    authChanged: (oauth) => {
      passwordRow.hidden = oauth;
    },
    status: (state, message) => {
      statusLine.dataset.state = state;
      statusLine.textContent = message;
    },
  });
  form.append(
    signIn.find,
    row("name", "Name", textInput("name", "work")),
    row("username", "Username", textInput("username", "alice@example.org")),
    signIn.auth,
    passwordRow,
    row("imap_host", "IMAP Host", textInput("imap_host", "imap.example.org")),
    row("imap_port", "IMAP Port", portInput("imap")),
    row("imap_encryption", "IMAP Encryption", encryptionSelect("imap", imapHelp), imapHelp),
    row("smtp_host", "SMTP Host", textInput("smtp_host", "smtp.example.org (default: IMAP host)")),
    row("smtp_port", "SMTP Port", portInput("smtp")),
    row("smtp_encryption", "SMTP Encryption", encryptionSelect("smtp", smtpHelp), smtpHelp),
  );

  const verify = h("input", { attrs: { type: "checkbox" } });
  verify.addEventListener("change", () => {
    values = { ...values, verify_tls: verify.checked };
    pushValues();
    showNotices();
  });
  const timeout = h("input", { attrs: { type: "text", inputmode: "decimal" } });
  timeout.addEventListener("input", () => {
    values = {
      ...values,
      timeout: timeout.value.trim() === "" ? Number.NaN : Number(timeout.value),
    };
    pushValues();
  });
  const advanced = h("details", { className: "nec-advanced" }, [
    h("summary", { text: "Advanced options" }),
    row("from_address", "From address", textInput("from_address", "default: the username")),
    row("ca_file", "CA file", textInput("ca_file", "extra trusted CA (PEM path in the kernel)")),
    row("verify_tls", "Verify TLS certificates", verify),
    row("timeout", "Timeout (s)", timeout),
  ]);
  form.append(advanced);

  // --- notices and buttons ---------------------------------------------------------------
  const keyringNotice = h("div", {
    className: "nec-notice",
    attrs: { "data-testid": "keyring-notice" },
  });
  const sessionOnly = h("input", { attrs: { type: "checkbox", name: "session_only" } });
  sessionOnly.id = fieldId(prefix, "session_only");
  sessionOnly.addEventListener("change", () => {
    model.set("session_only", sessionOnly.checked);
    model.save_changes();
  });
  const sessionRow = h("div", { className: "nec-session" }, [
    sessionOnly,
    h("label", {
      text: " Keep the password for this session only (not in the keyring)",
      attrs: { for: sessionOnly.id },
    }),
  ]);
  const insecureNotice = h("div", {
    className: "nec-notice nec-warning",
    text: "Insecure settings: without TLS or certificate checks the password can be read or the server impersonated.",
    attrs: { "data-testid": "insecure-notice" },
  });

  const testButton = h("button", {
    text: "Test connection",
    attrs: { type: "button", name: "test" },
  });
  const saveButton = h("button", { text: "Save", attrs: { type: "button", name: "save" } });
  const cancelButton = h("button", { text: "Cancel", attrs: { type: "button", name: "cancel" } });
  cancelButton.hidden = true;
  root.append(
    keyringNotice,
    sessionRow,
    insecureNotice,
    h("div", { className: "nec-buttons" }, [testButton, saveButton, cancelButton]),
  );

  const reportBox = h("div", { className: "nec-report", attrs: { "data-testid": "report" } });
  root.append(reportBox);

  // --- saved connections and functions --------------------------------------------------
  const savedBox = h("div", { className: "nec-saved", attrs: { "data-testid": "saved" } });
  const functionsBox = h("div", {
    className: "nec-functions",
    attrs: { "data-testid": "functions" },
  });
  // The guardrails' trait and request are typed in guardrails.ts (not yet in ManagerModel).
  const guardrails = renderGuardrails(model as unknown as Parameters<typeof renderGuardrails>[0]);
  root.append(
    h("div", { className: "nec-section", text: "Saved connections" }),
    savedBox,
    h("div", { className: "nec-section", text: "Functions" }),
    functionsBox,
    h("div", { className: "nec-section", text: "Guardrails" }),
    guardrails.element,
  );

  // --- view updates ---------------------------------------------------------------------
  function showValues(): void {
    for (const [key, control] of controls) {
      if (key === "password") continue;
      const value = (values as unknown as Record<string, unknown>)[key];
      if (control.input instanceof HTMLInputElement && control.input.type === "checkbox") {
        control.input.checked = Boolean(value);
      } else if (
        document.activeElement !== control.input ||
        control.input instanceof HTMLSelectElement
      ) {
        control.input.value =
          value === null || (typeof value === "number" && Number.isNaN(value)) ? "" : String(value);
      }
    }
    imapHelp.textContent = ENCRYPTION_HELP[values.imap_encryption];
    smtpHelp.textContent = ENCRYPTION_HELP[values.smtp_encryption];
    showNotices();
  }

  function showPasswordHint(): void {
    password.placeholder = model.get("password_set")
      ? "stored in the kernel; type to replace"
      : "password or app password";
  }

  function showNotices(): void {
    insecureNotice.hidden = !isInsecure(values);
    const keyring = model.get("keyring") ?? { usable: true, description: "" };
    const forced = !keyring.usable;
    sessionOnly.checked = forced || Boolean(model.get("session_only"));
    sessionOnly.disabled = forced;
    keyringNotice.hidden = !forced;
    keyringNotice.textContent = forced
      ? `No working keyring (${keyring.description}). Save keeps the password for this session only; you will type it again after a restart.`
      : "";
  }

  function showErrors(errors: FieldErrors): void {
    for (const [key, control] of controls) {
      const message = errors[key as keyof FieldErrors] ?? "";
      control.error.textContent = message;
      control.input.setAttribute("aria-invalid", message ? "true" : "false");
    }
    if (
      Object.keys(errors).some((key) =>
        ["from_address", "ca_file", "verify_tls", "timeout"].includes(key),
      )
    ) {
      advanced.open = true;
    }
  }

  function showStatus(): void {
    const status: StatusState = model.get("status") ?? { state: "idle", message: "" };
    statusLine.textContent = status.message;
    statusLine.dataset.state = status.state;
    const live = model.get("connection_name");
    if (live && status.state === "idle") statusLine.textContent = `Connected: ${live}`;
  }

  function showReport(): void {
    clear(reportBox);
    const report = model.get("report");
    if (!report || !("steps" in report) || !Array.isArray(report.steps)) return;
    const list = h("ul", { className: "nec-steps" });
    for (const step of report.steps) {
      list.append(
        h("li", { className: step.ok ? "nec-ok" : "nec-fail", dataset: { ok: String(step.ok) } }, [
          h("span", { className: "nec-mark", text: step.ok ? "✓" : "✗" }),
          h("span", {
            className: "nec-step",
            text: ` ${asText(step.protocol).toUpperCase()} ${asText(step.name)}: `,
          }),
          h("span", { text: asText(step.detail) }),
        ]),
      );
    }
    reportBox.append(
      h("div", {
        className: report.ok ? "nec-ok" : "nec-fail",
        text: report.ok ? "Connection test passed." : "Connection test failed.",
      }),
      list,
    );
  }

  function showSaved(): void {
    clear(savedBox);
    const saved = model.get("saved") ?? [];
    if (saved.length === 0) {
      savedBox.append(h("div", { className: "nec-help", text: "No saved connections yet." }));
      return;
    }
    for (const entry of saved) {
      const load = h("button", { text: "Load", attrs: { type: "button", name: "load" } });
      const forget = h("button", { text: "Forget", attrs: { type: "button", name: "forget" } });
      load.addEventListener("click", () => void run("load", { name: entry.name }));
      forget.addEventListener("click", () => {
        // Two clicks: forgetting deletes the keyring entry too.
        if (forget.dataset.armed !== "true") {
          forget.dataset.armed = "true";
          forget.textContent = "Click again to forget";
          return;
        }
        void run("forget", { name: entry.name });
      });
      const detail = [entry.username, entry.imap_host].filter(Boolean).join(" @ ");
      savedBox.append(
        h("div", { className: "nec-saved-row", dataset: { name: entry.name } }, [
          h("span", { className: "nec-saved-name", text: entry.name }),
          h("span", { className: "nec-help", text: detail ? ` ${detail} ` : " " }),
          load,
          forget,
        ]),
      );
    }
  }

  function showFunctions(): void {
    clear(functionsBox);
    const policies = model.get("policies") ?? {};
    for (const fn of model.get("functions") ?? []) {
      const select = h(
        "select",
        {
          attrs: { name: `policy-${fn.name}`, "aria-label": `Policy for ${fn.name}` },
          dataset: { function: fn.name, writes: String(fn.writes) },
        },
        Object.entries(POLICY_LABELS).map(([value, label]) =>
          h("option", { text: label, attrs: { value } }),
        ),
      );
      select.value = policies[fn.name] ?? fn.default;
      select.addEventListener(
        "change",
        () => void run("set_policy", { function: fn.name, policy: select.value as PolicyValue }),
      );
      functionsBox.append(
        h("div", { className: "nec-function" }, [
          h("code", { text: fn.name }),
          h("span", { className: "nec-help", text: fn.description }),
          select,
        ]),
      );
    }
  }

  function pushValues(): void {
    model.set("values", { ...values });
    model.save_changes();
  }

  function setBusy(controller: AbortController | null): void {
    busy = controller;
    testButton.disabled = controller !== null;
    saveButton.disabled = controller !== null;
    cancelButton.hidden = controller === null;
  }

  // --- requests -------------------------------------------------------------------------
  async function run<K extends keyof ManagerMethods>(
    method: K,
    params: ManagerMethods[K]["params"],
    slow = false,
  ): Promise<ManagerMethods[K]["result"] | undefined> {
    const controller = slow ? new AbortController() : null;
    if (controller) {
      setBusy(controller);
      statusLine.dataset.state = "working";
      statusLine.textContent = method === "test_connection" ? "Testing the connection…" : "Saving…";
    }
    try {
      const result = await client.request(method, params, {
        timeoutMs: slow ? slowRequestTimeoutMs(values) : undefined,
        signal: controller?.signal,
      });
      showErrors({});
      return result;
    } catch (error) {
      const info =
        error instanceof RequestError
          ? error
          : new RequestError({ type: "Error", message: String(error) });
      if (info.field && controls.has(info.field))
        showErrors({ [info.field]: info.message } as FieldErrors);
      statusLine.dataset.state = info.type === "Cancelled" ? "idle" : "error";
      statusLine.textContent = info.type === "Cancelled" ? "Cancelled." : info.message;
      return undefined;
    } finally {
      if (controller) setBusy(null);
    }
  }

  /** Read and clear the password input: the value exists only inside the one request. */
  function takePassword(): string | undefined {
    const secret = password.value;
    password.value = "";
    return secret === "" ? undefined : secret;
  }

  function checkedRequest(): ConnectionTestParams | null {
    const errors = validateForm(values);
    const passwordError = checkPassword(password.value);
    if (passwordError) errors.password = passwordError;
    showErrors(errors);
    if (Object.keys(errors).length > 0) {
      statusLine.dataset.state = "error";
      statusLine.textContent = "Please correct the highlighted fields.";
      return null;
    }
    const params: ConnectionTestParams = { values: { ...values } };
    const secret = takePassword();
    if (secret !== undefined) params.password = secret;
    return params;
  }

  testButton.addEventListener("click", () => {
    const params = checkedRequest();
    if (params) void run("test_connection", params, true);
  });
  saveButton.addEventListener("click", () => {
    const params = checkedRequest();
    if (params) void run("save", { ...params, session_only: sessionOnly.checked }, true);
  });
  cancelButton.addEventListener("click", () => busy?.abort());

  const onValues = () => {
    values = normalizeValues(model.get("values") ?? {});
    ports = new PortFollower(values);
    showValues();
  };
  const handlers: Array<[string, () => void]> = [
    ["change:values", onValues],
    ["change:password_set", showPasswordHint],
    ["change:status", showStatus],
    ["change:connection_name", showStatus],
    ["change:report", showReport],
    ["change:saved", showSaved],
    ["change:policies", showFunctions],
    ["change:functions", showFunctions],
    ["change:keyring", showNotices],
    ["change:session_only", showNotices],
  ];
  for (const [event, handler] of handlers) model.on(event, handler);

  showValues();
  showPasswordHint();
  showStatus();
  showReport();
  showSaved();
  showFunctions();

  return () => {
    for (const [event, handler] of handlers) model.off(event, handler);
    client.dispose();
    guardrails.dispose();
    signIn.dispose();
  };
}

export default {
  render({ model, el }: RenderProps<ManagerModel>) {
    return renderManager(model, el);
  },
};

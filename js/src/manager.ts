// nec.ConnectionManager: the connection form, Test connection, Save, saved connections and
// the Functions (policies) section. The password (and an OAuth client secret) never enters
// the model: it goes to the kernel inside one request and the input is cleared first.
// Enter in a field runs the form's default action: Test connection, or Save once the test of
// these very settings passed; that button is drawn as the primary one.

import type { AnyModel, RenderProps } from "@anywidget/types";
import { h } from "./dom";
import {
  checkPassword,
  type FieldErrors,
  type FormValues,
  isInsecure,
  normalizeValues,
  PortFollower,
  slowRequestTimeoutMs,
  validateForm,
} from "./form";
import { renderGuardrails } from "./guardrails";
import { FormFields } from "./manager_fields";
import { showFunctions, showReport, showSaved } from "./manager_lists";
import type { ConnectionTestParams, ManagerMethods, ManagerModel, StatusState } from "./messages";
import { RequestClient, RequestError } from "./protocol";
import { renderSignIn } from "./signin";
import "./manager.css";

export { POLICY_LABELS } from "./manager_lists";
export type {
  FunctionInfo,
  ManagerModel,
  ReportState as Report,
  SavedConnection,
  StatusState as Status,
  Step,
} from "./messages";

import { listen } from "./events";

type Model = AnyModel<ManagerModel>;

export function renderManager(model: Model, el: HTMLElement): () => void {
  const client = new RequestClient<ManagerMethods>(model, 30_000);
  const prefix = `nec-${Math.random().toString(36).slice(2, 9)}`;
  let values = normalizeValues(model.get("values") ?? {});
  let ports = new PortFollower(values);
  let busy: AbortController | null = null;
  let tested = false; // the test of exactly these values passed: Enter now saves

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

  const fields = new FormFields(
    prefix,
    (change, redraw) => {
      values = change(values, ports);
      setTested(false);
      if (redraw) showValues();
      pushValues();
    },
    () => showValues(),
  );
  const row = fields.row.bind(fields);

  const password = h("input", {
    attrs: {
      type: "password",
      autocomplete: "new-password",
      placeholder: "password or app password",
    },
  });

  // Find settings (Email) first; Authentication after the username (signin.ts).
  const passwordRow = row("password", "Password", password);
  const signIn = renderSignIn(model as unknown as Parameters<typeof renderSignIn>[0], {
    values: () => ({ ...values }),
    apply: (next) => {
      values = normalizeValues(next);
      ports = new PortFollower(values);
      setTested(false);
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
    row("name", "Name", fields.text("name", "work")),
    row("username", "Username", fields.text("username", "alice@example.org")),
    signIn.auth,
    passwordRow,
    h("div", { className: "nec-servers" }, [
      fields.server("imap", "IMAP: incoming mail", "imap.example.org"),
      fields.server("smtp", "SMTP: outgoing mail", "smtp.example.org (default: IMAP host)"),
    ]),
  );

  const verify = h("input", { attrs: { type: "checkbox" } });
  verify.addEventListener("change", () => {
    values = { ...values, verify_tls: verify.checked };
    setTested(false);
    pushValues();
    showNotices();
  });
  const timeout = h("input", { attrs: { type: "text", inputmode: "decimal" } });
  timeout.addEventListener("input", () => {
    values = {
      ...values,
      timeout: timeout.value.trim() === "" ? Number.NaN : Number(timeout.value),
    };
    setTested(false);
    pushValues();
  });
  const advanced = h("details", { className: "nec-advanced" }, [
    h("summary", { text: "Advanced options" }),
    row("from_address", "From address", fields.text("from_address", "default: the username")),
    row("ca_file", "CA file", fields.text("ca_file", "extra trusted CA (PEM path in the kernel)")),
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
  sessionOnly.id = `${prefix}-session_only`;
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
    fields.show(values);
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
    if (fields.showErrors(errors)) advanced.open = true;
  }

  function showStatus(): void {
    const status: StatusState = model.get("status") ?? { state: "idle", message: "" };
    statusLine.textContent = status.message;
    statusLine.dataset.state = status.state;
    const live = model.get("connection_name");
    if (live && status.state === "idle") statusLine.textContent = `Connected: ${live}`;
  }

  /** The button Enter presses: Test connection, then Save once these settings passed. */
  function setTested(passed: boolean): void {
    tested = passed;
    testButton.classList.toggle("nec-primary", !passed);
    saveButton.classList.toggle("nec-primary", passed);
    testButton.dataset.default = String(!passed);
    saveButton.dataset.default = String(passed);
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
      if (info.field && fields.controls.has(info.field))
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
    const clientSecret = signIn.takeClientSecret();
    if (clientSecret !== undefined) params.client_secret = clientSecret;
    return params;
  }

  async function test(): Promise<void> {
    const params = checkedRequest();
    if (!params) return;
    const tried: FormValues = { ...values };
    const result = await run("test_connection", params, true);
    // Enter saves next only if the settings that passed are still the ones in the form.
    if (result?.ok && JSON.stringify(tried) === JSON.stringify(values)) setTested(true);
  }

  function save(): void {
    const params = checkedRequest();
    if (params) void run("save", { ...params, session_only: sessionOnly.checked }, true);
  }

  testButton.addEventListener("click", () => void test());
  saveButton.addEventListener("click", save);
  cancelButton.addEventListener("click", () => busy?.abort());
  // Enter in a field presses the default button; fields with their own Enter (Email: Find
  // settings, Client id / secret: Sign in, the pasted address) handle it first.
  form.addEventListener("keydown", (event) => {
    const target = event.target as HTMLElement;
    if (event.key !== "Enter" || event.defaultPrevented || event.isComposing) return;
    if (!(target instanceof HTMLInputElement) || target.type === "checkbox") return;
    event.preventDefault();
    if (busy) return;
    if (tested) save();
    else void test();
  });

  const onValues = () => {
    const next = normalizeValues(model.get("values") ?? {});
    if (JSON.stringify(next) !== JSON.stringify(values)) setTested(false);
    values = next;
    ports = new PortFollower(values);
    showValues();
  };
  const onSaved = () => showSaved(savedBox, model.get("saved") ?? [], run);
  const onFunctions = () =>
    showFunctions(functionsBox, model.get("functions") ?? [], model.get("policies") ?? {}, run);
  const onReport = () => showReport(reportBox, model.get("report"));
  const handlers: Array<[string, () => void]> = [
    ["change:values", onValues],
    ["change:password_set", showPasswordHint],
    ["change:status", showStatus],
    ["change:connection_name", showStatus],
    ["change:report", onReport],
    ["change:saved", onSaved],
    ["change:policies", onFunctions],
    ["change:functions", onFunctions],
    ["change:keyring", showNotices],
    ["change:session_only", showNotices],
  ];
  const unlisten = listen(model, handlers);

  setTested(false);
  showValues();
  showPasswordHint();
  showStatus();
  onReport();
  onSaved();
  onFunctions();

  return () => {
    unlisten();
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

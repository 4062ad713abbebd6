// The manager's read-only lists, drawn from synced traits: the connection test's report, the
// saved connections (Load, Forget with a second click) and the Functions with their policies.
// Every value is shown as text, never as HTML.

import { asText, clear, h } from "./dom";
import type {
  FunctionInfo,
  ManagerMethods,
  PolicyValue,
  ReportState,
  SavedConnection,
} from "./messages";

export const POLICY_LABELS: Record<PolicyValue, string> = {
  enabled: "Enabled",
  confirm: "Enabled with confirmation",
  disabled: "Disabled",
};

/** Sends one request of the manager (the manager shows errors and the status). */
export type Run = <K extends keyof ManagerMethods>(
  method: K,
  params: ManagerMethods[K]["params"],
) => Promise<unknown>;

export function showReport(
  box: HTMLElement,
  report: ReportState | Record<string, never> | undefined,
) {
  clear(box);
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
  box.append(
    h("div", {
      className: report.ok ? "nec-ok" : "nec-fail",
      text: report.ok ? "Connection test passed." : "Connection test failed.",
    }),
    list,
  );
}

export function showSaved(box: HTMLElement, saved: SavedConnection[], run: Run): void {
  clear(box);
  if (saved.length === 0) {
    box.append(h("div", { className: "nec-help", text: "No saved connections yet." }));
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
    box.append(
      h("div", { className: "nec-saved-row", dataset: { name: entry.name } }, [
        h("span", { className: "nec-saved-name", text: entry.name }),
        h("span", { className: "nec-help", text: detail ? ` ${detail} ` : " " }),
        load,
        forget,
      ]),
    );
  }
}

export function showFunctions(
  box: HTMLElement,
  functions: FunctionInfo[],
  policies: Record<string, PolicyValue>,
  run: Run,
): void {
  clear(box);
  for (const fn of functions) {
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
    box.append(
      h("div", { className: "nec-function" }, [
        h("code", { text: fn.name }),
        h("span", { className: "nec-help", text: fn.description }),
        select,
      ]),
    );
  }
}

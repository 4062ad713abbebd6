// The manager's Guardrails section: allowed recipients, recipients per message, sends per
// hour and dry run. The kernel checks and enforces them (nb_email_conn/guardrails.py); this
// view only shows the ones in force and asks for new ones with one set_guardrails request.

import { h } from "./dom";
import { listen } from "./events";
import type { GuardrailsState, ManagerMethods } from "./messages";
import { type MessageModel, RequestClient, RequestError } from "./protocol";

/** The one request this section sends (its shapes are in messages.ts). */
export type GuardrailsMethods = Pick<ManagerMethods, "set_guardrails">;

export const NO_GUARDRAILS: GuardrailsState = {
  allowed_recipients: null,
  max_recipients: null,
  max_sends_per_hour: null,
  dry_run: false,
};

interface GuardrailsModel extends MessageModel {
  get(key: "guardrails"): GuardrailsState | undefined;
  on(eventName: string, callback: (...args: unknown[]) => void): void;
  off(eventName: string, callback: (...args: unknown[]) => void): void;
}

/** "*@example.org, bob@partner.com" as a list; empty means anyone (null). */
export function parseRecipients(text: string): string[] | null {
  const items = text
    .split(/[,;\s]+/)
    .map((item) => item.trim())
    .filter((item) => item !== "");
  return items.length === 0 ? null : items;
}

/** A positive whole number, null for "no limit" (empty), or an error message. */
export function parseLimit(text: string): number | null | string {
  const value = text.trim();
  if (value === "") return null;
  if (!/^\d+$/.test(value) || Number(value) < 1)
    return "a whole number of at least 1, or empty for no limit";
  return Number(value);
}

/** One line saying what is in force. */
export function describeGuardrails(state: GuardrailsState): string {
  const parts: string[] = [];
  if (state.allowed_recipients) parts.push(`only to ${state.allowed_recipients.join(", ")}`);
  if (state.max_recipients !== null)
    parts.push(`at most ${state.max_recipients} recipients per message`);
  if (state.max_sends_per_hour !== null)
    parts.push(`at most ${state.max_sends_per_hour} sends per hour`);
  if (state.dry_run) parts.push("dry run: write functions change nothing");
  return parts.length === 0
    ? "No guardrails: any recipient, no limits."
    : `In force: ${parts.join("; ")}.`;
}

export function renderGuardrails(model: GuardrailsModel): {
  element: HTMLElement;
  dispose: () => void;
} {
  const client = new RequestClient<GuardrailsMethods>(model, 30_000);
  const id = `nec-g-${Math.random().toString(36).slice(2, 9)}`;
  const allowed = h("input", {
    attrs: {
      type: "text",
      name: "allowed_recipients",
      id: `${id}-allowed`,
      spellcheck: "false",
      placeholder: "anyone (e.g. *@example.org, bob@partner.com)",
    },
  });
  const maxRecipients = h("input", {
    attrs: {
      type: "text",
      inputmode: "numeric",
      name: "max_recipients",
      id: `${id}-max`,
      placeholder: "no limit",
    },
  });
  const perHour = h("input", {
    attrs: {
      type: "text",
      inputmode: "numeric",
      name: "max_sends_per_hour",
      id: `${id}-hour`,
      placeholder: "no limit",
    },
  });
  const dryRun = h("input", { attrs: { type: "checkbox", name: "dry_run", id: `${id}-dry` } });
  const apply = h("button", {
    text: "Apply guardrails",
    attrs: { type: "button", name: "apply-guardrails" },
  });
  const summary = h("div", {
    className: "nec-help",
    attrs: { "data-testid": "guardrails-summary" },
  });
  const error = h("div", {
    className: "nec-error",
    attrs: { role: "alert", "data-testid": "guardrails-error" },
  });
  const inputs: Record<string, HTMLInputElement> = {
    allowed_recipients: allowed,
    max_recipients: maxRecipients,
    max_sends_per_hour: perHour,
    dry_run: dryRun,
  };

  function row(label: string, input: HTMLInputElement): HTMLElement {
    return h("div", { className: "nec-row" }, [
      h("label", { text: label, attrs: { for: input.id } }),
      h("div", { className: "nec-cell" }, [input]),
    ]);
  }

  function show(): void {
    const state = model.get("guardrails") ?? NO_GUARDRAILS;
    allowed.value = (state.allowed_recipients ?? []).join(", ");
    maxRecipients.value = state.max_recipients === null ? "" : String(state.max_recipients);
    perHour.value = state.max_sends_per_hour === null ? "" : String(state.max_sends_per_hour);
    dryRun.checked = state.dry_run;
    summary.textContent = describeGuardrails(state);
  }

  function fail(field: string | null, message: string): void {
    error.textContent = message;
    for (const [name, input] of Object.entries(inputs)) {
      input.setAttribute("aria-invalid", name === field ? "true" : "false");
    }
  }

  apply.addEventListener("click", () => {
    const limit = parseLimit(maxRecipients.value);
    const hourly = parseLimit(perHour.value);
    if (typeof limit === "string")
      return fail("max_recipients", `Recipients per message: ${limit}.`);
    if (typeof hourly === "string") return fail("max_sends_per_hour", `Sends per hour: ${hourly}.`);
    const guardrails: GuardrailsState = {
      allowed_recipients: parseRecipients(allowed.value),
      max_recipients: limit,
      max_sends_per_hour: hourly,
      dry_run: dryRun.checked,
    };
    apply.disabled = true;
    client
      .request("set_guardrails", { guardrails })
      .then(() => fail(null, ""))
      .catch((caught: unknown) => {
        const info =
          caught instanceof RequestError
            ? caught
            : new RequestError({ type: "Error", message: String(caught) });
        fail(info.field, info.message);
      })
      .finally(() => {
        apply.disabled = false;
      });
  });

  const element = h(
    "div",
    { className: "nec-guardrails", attrs: { "data-testid": "guardrails" } },
    [
      summary,
      row("Allowed recipients", allowed),
      row("Max recipients per message", maxRecipients),
      row("Max sends per hour", perHour),
      row("Dry run (change nothing)", dryRun),
      h("div", { className: "nec-buttons" }, [apply]),
      error,
    ],
  );
  const unlisten = listen(model, [["change:guardrails", show]]);
  show();
  return {
    element,
    dispose: () => {
      unlisten();
      client.dispose();
    },
  };
}

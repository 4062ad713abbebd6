// Renders every state of the shared fixture (tests/widgets/widget_messages.json, which pytest
// proves the Python widgets produce exactly) and checks what a reviewer sees and can do.
import { beforeEach, describe, expect, it } from "vitest";
import data from "../../tests/widgets/widget_messages.json";
import { EDIT_HINTS, renderApproval, STATE_TEXT } from "../src/approval";
import { POLICY_LABELS, renderManager } from "../src/manager";
import type {
  ApprovalModel,
  DecideParams,
  ManagerMethods,
  ManagerModel,
  ReplyMessage,
} from "../src/messages";
import { FakeModel } from "./fake-model";

interface ApprovalEntry {
  name: string;
  sees: string[];
  model: ApprovalModel;
  steps: Array<{ decide?: DecideParams }>;
}

type ManagerRequest = {
  [K in keyof ManagerMethods]: { method: K; params: ManagerMethods[K]["params"] };
}[keyof ManagerMethods];

interface ManagerEntry {
  name: string;
  sees: string[];
  model: ManagerModel;
  requests: ManagerRequest[];
  replies: ReplyMessage[];
}

// The JSON's literal types are widened to string; pytest checks the shapes field by field.
const fixture = data as unknown as { approval: ApprovalEntry[]; manager: ManagerEntry[] };

function render<T extends object>(
  state: T,
  view: (model: never, el: HTMLElement) => () => void,
): { model: FakeModel<T & Record<string, unknown>>; el: HTMLElement } {
  const model = new FakeModel(structuredClone(state) as T & Record<string, unknown>);
  const el = document.createElement("div");
  document.body.replaceChildren(el);
  view(model as never, el);
  return { model, el };
}

function button(el: HTMLElement, name: string): HTMLButtonElement {
  return el.querySelector(`button[name="${name}"]`) as HTMLButtonElement;
}

describe("the shared fixture", () => {
  it("has the states the tests below rely on", () => {
    expect(fixture.approval.length).toBeGreaterThanOrEqual(4);
    expect(fixture.manager.length).toBeGreaterThanOrEqual(2);
  });
});

describe.each(fixture.approval)("approval: $name", (entry) => {
  beforeEach(() => document.body.replaceChildren());
  const { request, state, outcome } = entry.model;

  it("shows what the reviewer needs to judge the call", () => {
    const { el } = render(entry.model, renderApproval);
    for (const text of entry.sees) expect(el.textContent).toContain(text);
    expect(el.textContent).toContain(`${request.function} needs your approval`);
    expect(el.querySelector(".nec-summary")?.textContent).toBe(request.summary);
    for (const tag of ["script", "img", "b", "u"]) expect(el.querySelector(tag)).toBeNull();
    const preview: Record<string, unknown> = { ...request.preview };
    const original = el.querySelector('[data-testid="original"]');
    if ("replying_to" in preview) expect(original?.textContent).toMatch(/^In reply to /);
    else if ("forwarding" in preview) expect(original?.textContent).toMatch(/^Forwarding /);
    else expect(original).toBeNull();
    const rows = el.querySelectorAll('[data-testid="messages"] tbody tr');
    expect(rows).toHaveLength(Array.isArray(preview.messages) ? preview.messages.length : 0);
  });

  it("has one input per editable argument, by kind, with its label, value and hint", () => {
    const { el } = render(entry.model, renderApproval);
    expect(button(el, "edit").hidden).toBe(request.editable.length === 0);
    const inputs = el.querySelectorAll('[data-testid="editor"] [name^="edit-"]');
    expect([...inputs].map((input) => input.getAttribute("name"))).toEqual(
      request.editable.map((field) => `edit-${field.name}`),
    );
    for (const field of request.editable) {
      const input = el.querySelector(`[name="edit-${field.name}"]`) as
        | HTMLInputElement
        | HTMLTextAreaElement;
      expect(el.querySelector(`label[for="${input.id}"]`)?.textContent).toBe(field.label);
      if (field.kind === "boolean") {
        expect((input as HTMLInputElement).type).toBe("checkbox");
        expect((input as HTMLInputElement).checked).toBe(field.value);
      } else {
        expect(input.tagName).toBe(field.kind === "multiline" ? "TEXTAREA" : "INPUT");
        expect(input.value).toBe(field.value);
      }
      const hint = input.getAttribute("aria-describedby");
      const hintText = hint ? el.querySelector(`[id="${hint}"]`)?.textContent : undefined;
      expect(hintText).toBe(EDIT_HINTS[field.kind]);
    }
  });

  it("offers the decisions its state allows and says where it stands", () => {
    const { el } = render(entry.model, renderApproval);
    for (const name of ["approve", "edit", "reject"]) {
      expect(button(el, name).disabled).toBe(state !== "pending");
    }
    const line = el.querySelector('[role="status"]')?.textContent;
    if ("status" in outcome) {
      const label = { done: "Done", failed: "Failed", rejected: "Rejected" }[outcome.status];
      expect(line).toBe(`${label}: ${outcome.detail}`);
    } else {
      expect(line).toBe(STATE_TEXT[state]);
    }
  });

  if (state === "pending" && request.editable.length > 0) {
    it("sends back only the field the reviewer changed", () => {
      const { model, el } = render(entry.model, renderApproval);
      button(el, "edit").click();
      const field = request.editable[request.editable.length - 1];
      const input = el.querySelector(`[name="edit-${field.name}"]`) as HTMLInputElement;
      let changed: string | boolean;
      if (field.kind === "boolean") {
        input.checked = !field.value;
        changed = !field.value;
      } else {
        changed = `${field.value} (changed)`;
        input.value = changed;
      }
      button(el, "approve-edited").click();
      expect(model.requests()[0].params).toEqual({
        action: "edit",
        changes: { [field.name]: changed },
      });
    });
  }

  const decided = entry.steps.find((step) => step.decide)?.decide;
  if (decided) {
    it("sends the decision the fixture's kernel received", () => {
      const pending: ApprovalModel = {
        ...entry.model,
        state: "pending",
        decision: {},
        outcome: {},
      };
      const { model, el } = render(pending, renderApproval);
      if (decided.action === "approve") button(el, "approve").click();
      if (decided.action === "reject") {
        button(el, "reject").click();
        (el.querySelector('input[name="reason"]') as HTMLInputElement).value = decided.reason ?? "";
        button(el, "confirm-reject").click();
      }
      if (decided.action === "edit") {
        button(el, "edit").click();
        for (const [name, value] of Object.entries(decided.changes ?? {})) {
          const input = el.querySelector(`[name="edit-${name}"]`) as HTMLInputElement;
          if (typeof value === "boolean") input.checked = value;
          else input.value = value;
        }
        button(el, "approve-edited").click();
      }
      expect(model.requests()).toHaveLength(1);
      expect(model.requests()[0]).toMatchObject({ method: "decide", params: decided });
    });
  }
});

describe.each(fixture.manager)("manager: $name", (entry) => {
  beforeEach(() => document.body.replaceChildren());
  const { functions, policies, report, keyring } = entry.model;

  it("shows the form's state as the kernel synced it", () => {
    const { el } = render(entry.model, renderManager);
    for (const text of entry.sees) expect(el.textContent).toContain(text);
    const steps = el.querySelectorAll('[data-testid="report"] li');
    expect(steps).toHaveLength("steps" in report ? report.steps.length : 0);
    const notice = el.querySelector('[data-testid="keyring-notice"]') as HTMLElement;
    expect(notice.hidden).toBe(keyring.usable);
  });

  it("lists every function of the registry with its policy", () => {
    const { el } = render(entry.model, renderManager);
    const rows = el.querySelectorAll('[data-testid="functions"] .nec-function');
    expect(rows).toHaveLength(functions.length);
    functions.forEach((fn, index) => {
      expect(rows[index].querySelector("code")?.textContent).toBe(fn.name);
      expect(rows[index].textContent).toContain(fn.description);
      const select = rows[index].querySelector("select") as HTMLSelectElement;
      expect(select.value).toBe(policies[fn.name] ?? fn.default);
      expect(select.dataset.writes).toBe(String(fn.writes));
      expect([...select.options].map((option) => option.textContent)).toEqual(
        Object.values(POLICY_LABELS),
      );
    });
  });

  const call = entry.requests.find((request) => request.method === "set_policy");
  if (call) {
    it("sends a policy change as the fixture's kernel received it", () => {
      const { model, el } = render(entry.model, renderManager);
      const select = el.querySelector(
        `select[data-function="${call.params.function}"]`,
      ) as HTMLSelectElement;
      select.value = call.params.policy;
      select.dispatchEvent(new Event("change"));
      expect(model.requests()[0]).toMatchObject({ method: "set_policy", params: call.params });
    });
  }
});

describe.each(fixture.manager)("manager, Find settings and Sign in: $name", (entry) => {
  beforeEach(() => document.body.replaceChildren());
  const { discovered, sign_in, client_secret_set } = entry.model;

  it("lists every discovered result, marking the insecure ones with their warnings", () => {
    const { el } = render(entry.model, renderManager);
    const rows = el.querySelectorAll('[data-testid="discovered"] .nec-found-row');
    expect(rows).toHaveLength(discovered.length);
    discovered.forEach((option, index) => {
      expect(rows[index].getAttribute("data-secure")).toBe(String(option.secure));
      expect(rows[index].textContent).toContain(option.secure ? "✓" : "⚠");
      for (const warning of option.warnings) expect(rows[index].textContent).toContain(warning);
    });
  });

  it("shows the sign-in as the kernel synced it, and never a secret", () => {
    const { el } = render(entry.model, renderManager);
    const flow = el.querySelector('[data-testid="sign-in"]') as HTMLElement;
    const code = el.querySelector('[data-testid="user-code"]');
    const cancel = button(el, "cancel-sign-in");
    if ("state" in sign_in) {
      expect(flow.dataset.state).toBe(sign_in.state);
      expect(flow.textContent).toContain(sign_in.message);
      expect(code?.textContent ?? null).toBe(sign_in.user_code);
      expect(cancel.hidden).toBe(sign_in.state !== "pending");
      if (sign_in.verification_uri) {
        expect(flow.querySelector("a")?.getAttribute("href")).toBe(sign_in.verification_uri);
      }
    } else {
      expect(code).toBeNull();
      expect(cancel.hidden).toBe(true);
    }
    const secret = el.querySelector('input[name="client_secret"]') as HTMLInputElement;
    expect(secret.value).toBe("");
    expect(secret.placeholder.includes("stored in the kernel")).toBe(client_secret_set);
  });

  for (const call of entry.requests) {
    if (call.method === "discover") {
      it("asks to discover the address as the fixture's kernel received it", () => {
        const { model, el } = render({ ...entry.model, discovered: [] }, renderManager);
        const email = el.querySelector('input[name="email"]') as HTMLInputElement;
        email.value = call.params.address;
        button(el, "find-settings").click();
        expect(model.requests()[0]).toMatchObject({ method: "discover", params: call.params });
      });
    }
    if (call.method === "sign_in") {
      it("sends the sign-in as the fixture's kernel received it; the secret only there", () => {
        const { model, el } = render({ ...entry.model, sign_in: {} }, renderManager);
        const secret = el.querySelector('input[name="client_secret"]') as HTMLInputElement;
        if (call.params.client_secret) secret.value = call.params.client_secret;
        const method = el.querySelector('select[name="sign_in_method"]') as HTMLSelectElement;
        method.value = call.params.method ?? "";
        button(el, "sign-in").click();
        const sent = model.requests()[0];
        expect(sent).toMatchObject({ method: "sign_in", params: call.params });
        expect(secret.value).toBe("");
        if (call.params.client_secret) {
          const keys = Object.keys(entry.model) as Array<keyof ManagerModel>;
          const synced = JSON.stringify(keys.map((key) => model.get(key)));
          expect(synced).not.toContain(call.params.client_secret);
        }
      });
    }
    if (call.method === "cancel_sign_in") {
      it("cancels a pending sign-in with the fixture's request", () => {
        const pending = fixture.manager.find((other) => {
          const state = other.model.sign_in;
          return "state" in state && state.state === "pending";
        });
        const { model, el } = render(pending?.model ?? entry.model, renderManager);
        button(el, "cancel-sign-in").click();
        expect(model.requests()[0]).toMatchObject({
          method: "cancel_sign_in",
          params: call.params,
        });
      });
    }
  }
});

import { beforeEach, describe, expect, it } from "vitest";
import data from "../../tests/widgets/widget_messages.json";
import { describeGuardrails, NO_GUARDRAILS, parseLimit, parseRecipients } from "../src/guardrails";
import { renderManager } from "../src/manager";
import type { ErrorInfo, ManagerModel, ReplyMessage, SetGuardrailsParams } from "../src/messages";
import { FakeModel } from "./fake-model";

interface GuardrailsEntry {
  name: string;
  sees: string[];
  model: ManagerModel;
  requests: Array<{ method: string; params: SetGuardrailsParams }>;
  replies: ReplyMessage[];
}

// The kernel's own states and replies (pytest proves the manager produces them exactly).
const entries = (data as unknown as { manager: GuardrailsEntry[] }).manager.filter((entry) =>
  entry.requests.some((request) => request.method === "set_guardrails"),
);

const RAILS = {
  allowed_recipients: ["*@example.org", "bob@partner.com"],
  max_recipients: 5,
  max_sends_per_hour: 20,
  dry_run: false,
};

function setup(guardrails = NO_GUARDRAILS) {
  const state: ManagerModel = {
    values: { name: "work", username: "alice@example.org", imap_host: "imap.example.org" },
    password_set: false,
    saved: [],
    policies: {},
    functions: [],
    status: { state: "idle", message: "" },
    report: {},
    keyring: { usable: true, description: "test" },
    session_only: false,
    connection_name: "",
    guardrails,
    discovered: [],
    sign_in: {},
    client_secret_set: false,
  };
  const model = new FakeModel(state);
  const el = document.createElement("div");
  document.body.replaceChildren(el);
  // biome-ignore lint/suspicious/noExplicitAny: the fake stands in for the anywidget model
  renderManager(model as any, el);
  const box = el.querySelector('[data-testid="guardrails"]') as HTMLElement;
  const input = (name: string) => box.querySelector(`[name="${name}"]`) as HTMLInputElement;
  const apply = box.querySelector('button[name="apply-guardrails"]') as HTMLButtonElement;
  return { model, box, input, apply };
}

function type(input: HTMLInputElement, value: string) {
  input.value = value;
  input.dispatchEvent(new Event("input"));
}

describe("the Guardrails section", () => {
  beforeEach(() => document.body.replaceChildren());

  it("parses what people type", () => {
    expect(parseRecipients(" *@example.org,bob@partner.com; ")).toEqual([
      "*@example.org",
      "bob@partner.com",
    ]);
    expect(parseRecipients("  ")).toBeNull();
    expect(parseLimit("")).toBeNull();
    expect(parseLimit("12")).toBe(12);
    expect(typeof parseLimit("0")).toBe("string");
    expect(typeof parseLimit("2.5")).toBe("string");
    expect(describeGuardrails(NO_GUARDRAILS)).toBe("No guardrails: any recipient, no limits.");
  });

  it("shows the guardrails in force and follows the kernel", () => {
    const { model, box, input } = setup(RAILS);
    expect(input("allowed_recipients").value).toBe("*@example.org, bob@partner.com");
    expect(input("max_recipients").value).toBe("5");
    expect(input("max_sends_per_hour").value).toBe("20");
    expect(input("dry_run").checked).toBe(false);
    expect(box.textContent).toContain("at most 20 sends per hour");
    model.kernelSet("guardrails", { ...NO_GUARDRAILS, dry_run: true });
    expect(input("dry_run").checked).toBe(true);
    expect(input("allowed_recipients").value).toBe("");
    expect(box.textContent).toContain("dry run");
  });

  it("sends one set_guardrails request with the typed settings", () => {
    const { model, input, apply } = setup();
    type(input("allowed_recipients"), "*@example.org");
    type(input("max_sends_per_hour"), "3");
    input("dry_run").checked = true;
    apply.click();
    const [sent] = model.requests();
    expect(sent.method).toBe("set_guardrails");
    expect(sent.params).toEqual({
      guardrails: {
        allowed_recipients: ["*@example.org"],
        max_recipients: null,
        max_sends_per_hour: 3,
        dry_run: true,
      },
    });
  });

  it("refuses a bad limit before asking and shows the kernel's refusal on its field", async () => {
    const { model, box, input, apply } = setup();
    type(input("max_recipients"), "zero");
    apply.click();
    expect(model.requests()).toEqual([]);
    expect(input("max_recipients").getAttribute("aria-invalid")).toBe("true");
    type(input("max_recipients"), "");
    type(input("allowed_recipients"), "bob");
    apply.click();
    model.reply(
      {
        type: "InvalidInputError",
        message: "allowed_recipients: 'bob' is neither an address nor a '*@domain' pattern.",
        field: "allowed_recipients",
      },
      false,
    );
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(box.querySelector('[data-testid="guardrails-error"]')?.textContent).toContain("'bob'");
    expect(input("allowed_recipients").getAttribute("aria-invalid")).toBe("true");
  });
});

describe.each(entries)("the shared fixture: $name", (entry) => {
  beforeEach(() => document.body.replaceChildren());

  it("shows the guardrails the kernel synced", () => {
    const { box, input } = setup(entry.model.guardrails);
    for (const text of entry.sees) expect(box.textContent).toContain(text);
    const rails = entry.model.guardrails;
    expect(input("allowed_recipients").value).toBe((rails.allowed_recipients ?? []).join(", "));
    expect(input("dry_run").checked).toBe(rails.dry_run);
  });

  it("sends each request as the kernel received it and shows its refusals", async () => {
    for (const [index, request] of entry.requests.entries()) {
      const { model, box, input, apply } = setup();
      const rails = request.params.guardrails;
      type(input("allowed_recipients"), (rails.allowed_recipients ?? []).join(", "));
      type(
        input("max_recipients"),
        rails.max_recipients === null ? "" : String(rails.max_recipients),
      );
      type(
        input("max_sends_per_hour"),
        rails.max_sends_per_hour === null ? "" : String(rails.max_sends_per_hour),
      );
      input("dry_run").checked = rails.dry_run;
      apply.click();
      expect(model.requests()).toHaveLength(1);
      expect(model.requests()[0]).toMatchObject({
        method: "set_guardrails",
        params: request.params,
      });
      const reply = entry.replies[index];
      if (reply.ok) model.reply(reply.result);
      else model.reply(reply.error, false);
      await new Promise((resolve) => setTimeout(resolve, 0));
      const error = box.querySelector('[data-testid="guardrails-error"]')?.textContent ?? "";
      if (reply.ok) expect(error).toBe("");
      else {
        const info: ErrorInfo = reply.error;
        expect(error).toBe(info.message);
        expect(input(info.field ?? "").getAttribute("aria-invalid")).toBe("true");
      }
    }
  });
});

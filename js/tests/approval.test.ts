import { beforeEach, describe, expect, it } from "vitest";
import { type ApprovalModel, renderApproval } from "../src/approval";
import { FakeModel } from "./fake-model";

function initial(fn = "send_email"): ApprovalModel {
  return {
    request: {
      id: 1,
      function: fn,
      connection: "work",
      summary: 'send_email: "<script>alert(1)</script>" to bob@example.org',
      preview: {
        to: ["bob@example.org"],
        subject: "<img src=x onerror=alert(1)>",
        body_excerpt: "<b>bold?</b>",
        attachments: [{ filename: "<i>q3</i>.pdf", content_type: "application/pdf", size: 2048 }],
        messages:
          fn === "delete_emails"
            ? [{ date: "2024-01-01", from: "x@y", subject: "<u>hi</u>" }]
            : undefined,
        count: fn === "delete_emails" ? 1 : undefined,
      },
      editable:
        fn === "send_email"
          ? { to: "bob@example.org", cc: "", bcc: "", subject: "Q3", body: "Hi" }
          : null,
    },
    state: "pending",
    decision: {},
    outcome: {},
  };
}

function setup(state = initial()) {
  const model = new FakeModel(state);
  const el = document.createElement("div");
  document.body.replaceChildren(el);
  // biome-ignore lint/suspicious/noExplicitAny: the fake stands in for the anywidget model
  renderApproval(model as any, el);
  const button = (name: string) => el.querySelector(`button[name="${name}"]`) as HTMLButtonElement;
  return { model, el, button };
}

describe("approval widget", () => {
  beforeEach(() => document.body.replaceChildren());

  it("shows attacker-controlled text as text", () => {
    const { el } = setup(initial("delete_emails"));
    for (const tag of ["script", "img", "b", "i", "u"]) expect(el.querySelector(tag)).toBeNull();
    expect(el.textContent).toContain("<img src=x onerror=alert(1)>");
    expect(el.textContent).toContain("<u>hi</u>");
    expect(el.textContent).toContain("2.0 KB");
    expect(el.querySelectorAll('[data-testid="messages"] tbody tr')).toHaveLength(1);
  });

  it("shows the message size in human units", () => {
    const state = initial();
    state.request.preview.size = 48_213;
    const { el } = setup(state);
    const rows = [...el.querySelectorAll(".nec-preview tr")].map((row) => row.textContent);
    expect(rows).toContain("message size47.1 KB");
  });

  it("sends one decision only, even on a double click", () => {
    const { model, button } = setup();
    button("approve").click();
    button("approve").click();
    button("reject").click();
    expect(model.requests()).toHaveLength(1);
    expect(model.requests()[0]).toMatchObject({ method: "decide", params: { action: "approve" } });
    expect(button("approve").disabled).toBe(true);
  });

  it("reject asks for a reason and sends it", () => {
    const { model, el, button } = setup();
    button("reject").click();
    const reason = el.querySelector('input[name="reason"]') as HTMLInputElement;
    reason.value = "wrong recipient";
    button("confirm-reject").click();
    expect(model.requests()[0].params).toEqual({ action: "reject", reason: "wrong recipient" });
  });

  it("edit sends only the fields that changed", () => {
    const { model, el, button } = setup();
    button("edit").click();
    const subject = el.querySelector('input[name="edit-subject"]') as HTMLInputElement;
    subject.value = "Q3 final";
    button("approve-edited").click();
    expect(model.requests()[0].params).toEqual({
      action: "edit",
      changes: { subject: "Q3 final" },
    });
  });

  it("bulk actions have no Edit button", () => {
    const { button } = setup(initial("delete_emails"));
    expect(button("edit").hidden).toBe(true);
  });

  it("shows the outcome and stays closed to decisions", () => {
    const { model, el, button } = setup();
    model.kernelSet("state", "done");
    model.kernelSet("outcome", { status: "done", detail: "sent <abc@example.org>" });
    expect(el.querySelector('[role="status"]')?.textContent).toBe("Done: sent <abc@example.org>");
    button("approve").click();
    expect(model.requests()).toHaveLength(0);
  });
});

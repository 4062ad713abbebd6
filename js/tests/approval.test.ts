import { beforeEach, describe, expect, it } from "vitest";
import { renderApproval } from "../src/approval";
import type { ApprovalModel, ComposePreview, EditField } from "../src/messages";
import { FakeModel } from "./fake-model";

function initial(fn = "send_email"): ApprovalModel {
  const messages =
    fn === "delete_emails"
      ? [
          {
            ref: "imap://a@h/INBOX;UIDVALIDITY=1/;UID=1",
            folder: "INBOX",
            date: "2024-01-01",
            from: "x@y",
            subject: "<u>hi</u>",
          },
        ]
      : [];
  const preview =
    fn === "delete_emails"
      ? { summary: "delete 1 message(s)", count: 1, permanent: false, messages }
      : {
          summary: 'send_email: "<script>alert(1)</script>" to bob@example.org',
          from: "alice@example.org",
          to: ["bob@example.org"],
          cc: [],
          bcc: [],
          recipients: ["bob@example.org"],
          subject: "<img src=x onerror=alert(1)>",
          body_excerpt: "<b>bold?</b>",
          attachments: [{ filename: "<i>q3</i>.pdf", content_type: "application/pdf", size: 2048 }],
          size: 4096,
        };
  const editable: EditField[] =
    fn === "send_email"
      ? [
          { name: "to", kind: "addresses", label: "to", value: "bob@example.org" },
          { name: "cc", kind: "addresses", label: "cc", value: "" },
          { name: "bcc", kind: "addresses", label: "bcc", value: "" },
          { name: "subject", kind: "text", label: "subject", value: "Q3" },
          { name: "body", kind: "multiline", label: "body", value: "Hi" },
          { name: "html", kind: "multiline", label: "HTML body", value: "" },
        ]
      : fn === "delete_emails"
        ? [{ name: "permanent", kind: "boolean", label: "delete permanently", value: false }]
        : [];
  return {
    request: {
      id: 1,
      function: fn,
      connection: "work",
      summary: preview.summary,
      preview,
      editable,
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
    const { el } = setup();
    for (const tag of ["script", "img", "b", "i"]) expect(el.querySelector(tag)).toBeNull();
    expect(el.textContent).toContain("<img src=x onerror=alert(1)>");
    expect(el.textContent).toContain("<b>bold?</b>");
    expect(el.textContent).toContain("<i>q3</i>.pdf (application/pdf, 2.0 KB)");
    const bulk = setup(initial("delete_emails")).el;
    expect(bulk.querySelector("u")).toBeNull();
    expect(bulk.textContent).toContain("<u>hi</u>");
    expect(bulk.querySelectorAll('[data-testid="messages"] tbody tr')).toHaveLength(1);
  });

  it("shows the message size in human units", () => {
    const state = initial();
    (state.request.preview as ComposePreview).size = 48_213;
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

  it("a function with nothing to edit has no Edit button", () => {
    const { button } = setup(initial("list_folders"));
    expect(button("edit").hidden).toBe(true);
  });

  it("a boolean argument is a checkbox and sends a boolean", () => {
    const { model, el, button } = setup(initial("delete_emails"));
    expect(button("edit").hidden).toBe(false);
    button("edit").click();
    const box = el.querySelector('input[name="edit-permanent"]') as HTMLInputElement;
    expect(box.type).toBe("checkbox");
    expect(box.checked).toBe(false);
    box.checked = true;
    button("approve-edited").click();
    expect(model.requests()[0].params).toEqual({ action: "edit", changes: { permanent: true } });
  });

  it("an edit that changes nothing is a plain approval", () => {
    const { model, button } = setup();
    button("edit").click();
    button("approve-edited").click();
    expect(model.requests()[0].params).toEqual({ action: "approve" });
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

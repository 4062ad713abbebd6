// The inline approval widget: shows what a gated call would do and takes exactly one
// decision (Approve, Approve with edits, Reject with a reason), then shows the outcome.
// Every value shown comes from mail or from a tool call, so it is set as text only.

import type { AnyModel, RenderProps } from "@anywidget/types";
import { asText, clear, h, humanSize } from "./dom";
import { RequestClient, RequestError } from "./protocol";
import "./approval.css";

export const EDITABLE_FIELDS = ["to", "cc", "bcc", "subject", "body"] as const;
export type EditableField = (typeof EDITABLE_FIELDS)[number];

export interface ApprovalRequest {
  id: number;
  function: string;
  connection: string;
  summary: string;
  preview: Record<string, unknown>;
  editable: Partial<Record<EditableField, string>> | null;
}

export interface ApprovalModel {
  request: ApprovalRequest;
  state: string;
  decision: { action?: string; reason?: string | null; changes?: Record<string, unknown> };
  outcome: { status?: string; detail?: string };
}

type Model = AnyModel<ApprovalModel>;

const PREVIEW_ORDER = [
  "from",
  "to",
  "cc",
  "bcc",
  "subject",
  "folder",
  "target",
  "count",
  "flags_added",
  "flags_removed",
];
const SKIPPED = new Set(["summary", "messages", "attachments", "body_excerpt"]);
const MAX_ROWS = 200;

const STATE_TEXT: Record<string, string> = {
  pending: "Waiting for your decision.",
  approved: "Approved; running…",
  edited: "Approved with changes; running…",
  rejected: "Rejected.",
  done: "Done.",
  failed: "Failed.",
  expired: "No longer waiting for a decision.",
};

function previewTable(preview: Record<string, unknown>): HTMLElement {
  const table = h("table", { className: "nec-preview" });
  const keys = [
    ...PREVIEW_ORDER.filter((key) => key in preview),
    ...Object.keys(preview).filter((key) => !PREVIEW_ORDER.includes(key) && !SKIPPED.has(key)),
  ];
  for (const key of keys) {
    const value = preview[key];
    if (value === null || value === undefined || (Array.isArray(value) && value.length === 0))
      continue;
    // "size" is the whole message in bytes: shown as a human size, like the attachments.
    const label = key === "size" ? "message size" : key.replace(/_/g, " ");
    const text = key === "size" ? humanSize(value) : asText(value);
    table.append(h("tr", {}, [h("th", { text: label }), h("td", { text })]));
  }
  const attachments = preview.attachments;
  if (Array.isArray(attachments) && attachments.length > 0) {
    const list = h("ul", { className: "nec-attachments" });
    for (const item of attachments) {
      const a = (item ?? {}) as Record<string, unknown>;
      list.append(
        h("li", {
          text: `${asText(a.filename)} (${asText(a.content_type)}, ${humanSize(a.size)})`,
        }),
      );
    }
    table.append(h("tr", {}, [h("th", { text: "attachments" }), h("td", {}, [list])]));
  }
  return table;
}

function messagesTable(messages: unknown[]): HTMLElement {
  const body = h("tbody");
  for (const item of messages.slice(0, MAX_ROWS)) {
    const m = (item ?? {}) as Record<string, unknown>;
    body.append(
      h("tr", {}, [
        h("td", { text: asText(m.date) }),
        h("td", { text: asText(m.from) }),
        h("td", { text: asText(m.subject) }),
      ]),
    );
  }
  const table = h("table", { className: "nec-messages", attrs: { "data-testid": "messages" } }, [
    h("thead", {}, [
      h("tr", {}, [
        h("th", { text: "date" }),
        h("th", { text: "from" }),
        h("th", { text: "subject" }),
      ]),
    ]),
    body,
  ]);
  const more =
    messages.length > MAX_ROWS
      ? h("div", { text: `… and ${messages.length - MAX_ROWS} more` })
      : null;
  return h("div", { className: "nec-messages-box" }, [table, more]);
}

export function renderApproval(model: Model, el: HTMLElement): () => void {
  const client = new RequestClient(model, 30_000);
  let sent = false; // one decision per request, also before the kernel's reply arrives

  const root = h("div", { className: "nec-approval", attrs: { "data-testid": "nec-approval" } });
  el.append(root);
  const header = h("div", { className: "nec-approval-header" });
  const details = h("div", { className: "nec-approval-details" });
  const editor = h("div", { className: "nec-editor" });
  editor.hidden = true;
  const reasonBox = h("div", { className: "nec-reason" });
  reasonBox.hidden = true;
  const buttons = h("div", { className: "nec-buttons" });
  const stateLine = h("div", {
    className: "nec-state",
    attrs: { role: "status", "aria-live": "polite" },
  });
  root.append(header, details, editor, reasonBox, buttons, stateLine);

  const approveButton = h("button", {
    text: "Approve",
    attrs: { type: "button", name: "approve" },
  });
  const editButton = h("button", { text: "Edit", attrs: { type: "button", name: "edit" } });
  const rejectButton = h("button", { text: "Reject", attrs: { type: "button", name: "reject" } });
  buttons.append(approveButton, editButton, rejectButton);

  const reason = h("input", {
    attrs: { type: "text", name: "reason", placeholder: "Why? (shown to the caller)" },
  });
  const confirmReject = h("button", {
    text: "Confirm reject",
    attrs: { type: "button", name: "confirm-reject" },
  });
  reasonBox.append(h("label", { text: "Reason " }, [reason]), confirmReject);

  const editInputs = new Map<EditableField, HTMLInputElement | HTMLTextAreaElement>();
  const sendEdited = h("button", {
    text: "Approve with changes",
    attrs: { type: "button", name: "approve-edited" },
  });

  function buildEditor(request: ApprovalRequest): void {
    clear(editor);
    editInputs.clear();
    if (!request.editable) return;
    for (const field of EDITABLE_FIELDS) {
      if (!(field in request.editable)) continue;
      const input =
        field === "body"
          ? h("textarea", { attrs: { name: `edit-${field}`, rows: "8" } })
          : h("input", { attrs: { type: "text", name: `edit-${field}` } });
      input.value = request.editable[field] ?? "";
      editInputs.set(field, input);
      editor.append(h("label", { className: "nec-edit-row", text: `${field} ` }, [input]));
    }
    editor.append(sendEdited);
  }

  function showRequest(): void {
    const request = model.get("request");
    clear(header);
    clear(details);
    header.append(h("strong", { text: `${asText(request.function)} needs your approval` }));
    if (request.connection) {
      header.append(
        h("span", { className: "nec-help", text: ` (connection ${request.connection})` }),
      );
    }
    details.append(h("div", { className: "nec-summary", text: asText(request.summary) }));
    details.append(previewTable(request.preview ?? {}));
    const excerpt = request.preview?.body_excerpt;
    if (excerpt) details.append(h("pre", { className: "nec-body", text: asText(excerpt) }));
    const messages = request.preview?.messages;
    if (Array.isArray(messages) && messages.length > 0) details.append(messagesTable(messages));
    editButton.hidden = !request.editable;
    buildEditor(request);
  }

  function showState(): void {
    const state = model.get("state") || "pending";
    const outcome = model.get("outcome") ?? {};
    const decision = model.get("decision") ?? {};
    const decided = state !== "pending";
    for (const button of [approveButton, editButton, rejectButton, confirmReject, sendEdited]) {
      button.disabled = decided || sent;
    }
    if (decided) {
      editor.hidden = true;
      reasonBox.hidden = true;
    }
    root.dataset.state = state;
    let text = STATE_TEXT[state] ?? state;
    if (state === "rejected" && decision.reason) text = `Rejected: ${decision.reason}`;
    if (outcome.status) {
      const label =
        { done: "Done", failed: "Failed", rejected: "Rejected" }[outcome.status] ?? outcome.status;
      text = outcome.detail ? `${label}: ${outcome.detail}` : `${label}.`;
    }
    stateLine.textContent = text;
    stateLine.dataset.status = outcome.status ?? state;
  }

  async function decide(params: Record<string, unknown>): Promise<void> {
    if (sent || model.get("state") !== "pending") return;
    sent = true;
    showState();
    try {
      // The kernel may be busy with another cell; the click is queued, so wait long.
      stateLine.textContent = "Sending your decision…";
      await client.request("decide", params, { timeoutMs: 600_000 });
    } catch (error) {
      const message = error instanceof RequestError ? error.message : String(error);
      stateLine.textContent = message;
      // The kernel refused it (for example the call was already decided): stay disabled.
    }
  }

  approveButton.addEventListener("click", () => void decide({ action: "approve" }));
  rejectButton.addEventListener("click", () => {
    reasonBox.hidden = false;
    editor.hidden = true;
    reason.focus();
  });
  confirmReject.addEventListener(
    "click",
    () => void decide({ action: "reject", reason: reason.value.trim() }),
  );
  editButton.addEventListener("click", () => {
    editor.hidden = !editor.hidden;
    reasonBox.hidden = true;
  });
  sendEdited.addEventListener("click", () => {
    const request = model.get("request");
    const changes: Record<string, string> = {};
    for (const [field, input] of editInputs) {
      if (input.value !== (request.editable?.[field] ?? "")) changes[field] = input.value;
    }
    void decide(
      Object.keys(changes).length > 0 ? { action: "edit", changes } : { action: "approve" },
    );
  });

  const handlers: Array<[string, () => void]> = [
    ["change:request", showRequest],
    ["change:state", showState],
    ["change:outcome", showState],
    ["change:decision", showState],
  ];
  for (const [event, handler] of handlers) model.on(event, handler);
  showRequest();
  showState();

  return () => {
    for (const [event, handler] of handlers) model.off(event, handler);
    client.dispose();
  };
}

export default {
  render({ model, el }: RenderProps<ApprovalModel>) {
    return renderApproval(model, el);
  },
};

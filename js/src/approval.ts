// The inline approval widget: shows what a gated call would do and takes exactly one
// decision (Approve, Approve with edits, Reject with a reason), then shows the outcome.
// Every value shown comes from mail or from a tool call, so it is set as text only.
// The shapes (the previews Python builds, the edit form, the states) are in messages.ts.

import type { AnyModel, RenderProps } from "@anywidget/types";
import { asText, clear, h, humanSize } from "./dom";
import type {
  ApprovalMethods,
  ApprovalModel,
  ApprovalRequest,
  ApprovalState,
  BulkPreview,
  ComposePreview,
  DecideParams,
  EditField,
  EditKind,
  MessageRow,
  OriginalMessage,
  OutcomeStatus,
} from "./messages";
import { RequestClient, RequestError } from "./protocol";
import "./approval.css";
import { listen } from "./events";

export type { ApprovalModel, ApprovalRequest } from "./messages";

type Model = AnyModel<ApprovalModel>;
/** Any of the previews, read key by key (each key is absent from the previews that lack it). */
type AnyPreview = Partial<ComposePreview> & Partial<BulkPreview>;

const MAX_ROWS = 200;

export const STATE_TEXT: Record<ApprovalState, string> = {
  pending: "Waiting for your decision.",
  approved: "Approved; running…",
  edited: "Approved with changes; running…",
  rejected: "Rejected.",
  done: "Done.",
  failed: "Failed.",
};

const OUTCOME_LABEL: Record<OutcomeStatus, string> = {
  done: "Done",
  failed: "Failed",
  rejected: "Rejected",
};

/** What the form says under an input, by kind (how to write several values). */
export const EDIT_HINTS: Partial<Record<EditKind, string>> = {
  addresses: "comma-separated",
  flags: "space-separated, e.g. \\Seen \\Flagged",
};

/** The preview rows, in order: key, label, and how the value reads. */
const PREVIEW_ROWS: Array<[keyof AnyPreview, string, (value: unknown) => string]> = [
  ["from", "from", asText],
  ["to", "to", asText],
  ["cc", "cc", asText],
  ["bcc", "bcc", asText],
  ["subject", "subject", asText],
  ["folder", "to folder", asText],
  ["count", "messages", asText],
  ["add", "flags to add", (value) => (Array.isArray(value) ? value.join(" ") : asText(value))],
  [
    "remove",
    "flags to remove",
    (value) => (Array.isArray(value) ? value.join(" ") : asText(value)),
  ],
  [
    "permanent",
    "delete permanently",
    (value) => (value === true ? "yes, it cannot be undone" : "no, move to Trash"),
  ],
  ["size", "message size", humanSize],
];
/** Keys shown elsewhere (the summary line, the original, the body, the lists) or not at all
 * (`recipients` repeats to + cc + bcc as bare addresses). */
const SHOWN_ELSEWHERE = new Set([
  "summary",
  "recipients",
  "body_excerpt",
  "attachments",
  "messages",
  "replying_to",
  "forwarding",
]);

/** An ISO 8601 time as "2024-05-01 10:00"; anything else as it is. */
export function shortDate(value: string | null | undefined): string {
  if (!value) return "";
  const match = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2})/.exec(value);
  return match ? `${match[1]} ${match[2]}` : value;
}

function originalLine(label: string, original: OriginalMessage): HTMLElement {
  const parts = [asText(original.from), original.subject ? `“${original.subject}”` : ""];
  const when = shortDate(original.date);
  const text = parts.filter(Boolean).join(": ") + (when ? ` (${when})` : "");
  return h("div", { className: "nec-original", attrs: { "data-testid": "original" } }, [
    h("span", { className: "nec-original-label", text: `${label} ` }),
    h("span", { text }),
  ]);
}

function previewTable(preview: AnyPreview): HTMLElement {
  const table = h("table", { className: "nec-preview" });
  const row = (label: string, cell: HTMLElement | string) =>
    h("tr", {}, [
      h("th", { text: label }),
      typeof cell === "string" ? h("td", { text: cell }) : h("td", {}, [cell]),
    ]);
  const known = new Set<string>(SHOWN_ELSEWHERE);
  for (const [key, label, format] of PREVIEW_ROWS) {
    known.add(key);
    const value = preview[key];
    if (value === null || value === undefined || (Array.isArray(value) && value.length === 0))
      continue;
    table.append(row(label, format(value)));
  }
  // A key a newer kernel sends that this view does not know yet: shown plainly, not lost.
  for (const [key, value] of Object.entries(preview as Record<string, unknown>)) {
    if (known.has(key) || value === null || value === undefined) continue;
    table.append(row(key.replace(/_/g, " "), asText(value)));
  }
  const attachments = preview.attachments ?? [];
  if (attachments.length > 0) {
    const list = h("ul", { className: "nec-attachments" });
    for (const a of attachments) {
      list.append(
        h("li", {
          text: `${asText(a.filename)} (${asText(a.content_type)}, ${humanSize(a.size)})`,
        }),
      );
    }
    table.append(row("attachments", list));
  }
  return table;
}

function messagesTable(messages: MessageRow[], count: number): HTMLElement {
  const body = h("tbody");
  const shown = messages.slice(0, MAX_ROWS);
  for (const m of shown) {
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
  const rest = Math.max(count, messages.length) - shown.length;
  const more = rest > 0 ? h("div", { className: "nec-help", text: `… and ${rest} more` }) : null;
  return h("div", { className: "nec-messages-box" }, [table, more]);
}

interface EditInput {
  field: EditField;
  /** The value now, if the reviewer changed it; undefined when it is as Python sent it. */
  changed(): string | boolean | undefined;
}

function editRow(field: EditField, id: string): { row: HTMLElement; input: EditInput } {
  const label = h("label", { text: field.label, attrs: { for: id } });
  const cell = h("div", { className: "nec-edit-cell" });
  const row = h("div", { className: "nec-edit-row", dataset: { kind: field.kind } }, [label, cell]);
  if (field.kind === "boolean") {
    const box = h("input", { attrs: { type: "checkbox", id, name: `edit-${field.name}` } });
    box.checked = field.value;
    cell.append(box);
    return {
      row,
      input: { field, changed: () => (box.checked !== field.value ? box.checked : undefined) },
    };
  }
  const input =
    field.kind === "multiline"
      ? h("textarea", { attrs: { id, name: `edit-${field.name}`, rows: "8" } })
      : h("input", {
          attrs: { type: "text", id, name: `edit-${field.name}`, spellcheck: "false" },
        });
  input.value = field.value;
  cell.append(input);
  const hint = EDIT_HINTS[field.kind];
  if (hint) {
    const hintId = `${id}-hint`;
    input.setAttribute("aria-describedby", hintId);
    cell.append(h("div", { className: "nec-help nec-hint", text: hint, attrs: { id: hintId } }));
  }
  return {
    row,
    input: { field, changed: () => (input.value !== field.value ? input.value : undefined) },
  };
}

export function renderApproval(model: Model, el: HTMLElement): () => void {
  const client = new RequestClient<ApprovalMethods>(model, 30_000);
  const prefix = `nec-a-${Math.random().toString(36).slice(2, 9)}`;
  let sent = false; // one decision per request, also before the kernel's reply arrives

  const root = h("div", { className: "nec-approval", attrs: { "data-testid": "nec-approval" } });
  el.append(root);
  const header = h("div", { className: "nec-approval-header" });
  const details = h("div", { className: "nec-approval-details" });
  const editor = h("div", { className: "nec-editor", attrs: { "data-testid": "editor" } });
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

  let editInputs: EditInput[] = [];
  const sendEdited = h("button", {
    text: "Approve with changes",
    attrs: { type: "button", name: "approve-edited" },
  });

  function buildEditor(request: ApprovalRequest): void {
    clear(editor);
    editInputs = [];
    const fields = request.editable ?? [];
    if (fields.length === 0) return;
    for (const field of fields) {
      const { row, input } = editRow(field, `${prefix}-${field.name}`);
      editInputs.push(input);
      editor.append(row);
    }
    editor.append(sendEdited);
  }

  function showRequest(): void {
    const request = model.get("request");
    const preview = (request.preview ?? {}) as AnyPreview;
    clear(header);
    clear(details);
    header.append(h("strong", { text: `${asText(request.function)} needs your approval` }));
    if (request.connection) {
      header.append(
        h("span", { className: "nec-help", text: ` (connection ${request.connection})` }),
      );
    }
    details.append(h("div", { className: "nec-summary", text: asText(request.summary) }));
    if (preview.replying_to) details.append(originalLine("In reply to", preview.replying_to));
    if (preview.forwarding) details.append(originalLine("Forwarding", preview.forwarding));
    details.append(previewTable(preview));
    if (preview.body_excerpt) {
      details.append(h("pre", { className: "nec-body", text: preview.body_excerpt }));
    }
    const messages = preview.messages ?? [];
    if (messages.length > 0) details.append(messagesTable(messages, preview.count ?? 0));
    editButton.hidden = (request.editable ?? []).length === 0;
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
    if (state === "rejected" && "reason" in decision && decision.reason) {
      text = `Rejected: ${decision.reason}`;
    }
    if ("status" in outcome) {
      const label = OUTCOME_LABEL[outcome.status] ?? outcome.status;
      text = outcome.detail ? `${label}: ${outcome.detail}` : `${label}.`;
    }
    stateLine.textContent = text;
    stateLine.dataset.status = "status" in outcome ? outcome.status : state;
  }

  async function decide(params: DecideParams): Promise<void> {
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
    const changes: Record<string, string | boolean> = {};
    for (const input of editInputs) {
      const value = input.changed();
      if (value !== undefined) changes[input.field.name] = value;
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
  const unlisten = listen(model, handlers);
  showRequest();
  showState();

  return () => {
    unlisten();
    client.dispose();
  };
}

export default {
  render({ model, el }: RenderProps<ApprovalModel>) {
    return renderApproval(model, el);
  },
};

// The live inbox: a folder's newest messages, new mail at the top as the kernel's watch hands
// it over, a status line and a Stop button. Every value shown comes from mail, so it is set as
// text only (dom.ts). The shapes mirror nb_email_conn/widgets/inbox_messages.py.

import type { AnyModel, RenderProps } from "@anywidget/types";
import { clear, h } from "./dom";
import { RequestClient, RequestError } from "./protocol";
import "./inbox.css";
import { listen } from "./events";

export type InboxState = "starting" | "watching" | "reconnecting" | "stopped" | "error";

export interface InboxStatus {
  state: InboxState;
  message: string;
}

export interface InboxMessage {
  ref: string;
  from: string;
  address: string;
  subject: string;
  /** ISO 8601 (UTC), or null when the message has no usable date. */
  date: string | null;
  unread: boolean;
  /** Handed over by the watch (arrived while the widget was shown). */
  arrived: boolean;
}

export interface InboxModel {
  folder: string;
  limit: number;
  messages: InboxMessage[];
  status: InboxStatus;
}

export type InboxMethods = {
  stop: { params: Record<string, never>; result: { state: InboxState } };
};

type Model = AnyModel<InboxModel>;

export const STATE_LABEL: Record<InboxState, string> = {
  starting: "Starting",
  watching: "Watching",
  reconnecting: "Reconnecting",
  stopped: "Stopped",
  error: "Error",
};

const ENDED = new Set<InboxState>(["stopped", "error"]);

/** "14:05" for today, "3 Jun" this year, "3 Jun 2024" before; "" without a date. */
export function shortDate(iso: string | null | undefined, now: Date = new Date()): string {
  if (!iso) return "";
  const when = new Date(iso);
  if (Number.isNaN(when.getTime())) return "";
  const sameDay = when.toDateString() === now.toDateString();
  if (sameDay) {
    return when.toLocaleTimeString(undefined, { hour: "2-digit", minute: "2-digit" });
  }
  const options: Intl.DateTimeFormatOptions = { day: "numeric", month: "short" };
  if (when.getFullYear() !== now.getFullYear()) options.year = "numeric";
  return when.toLocaleDateString(undefined, options);
}

function messageRow(message: InboxMessage): HTMLElement {
  const unread = message.unread === true;
  const from = String(message.from || message.address || "(no sender)");
  const subject = String(message.subject || "(no subject)");
  const row = h(
    "li",
    {
      className: "nec-inbox-row",
      dataset: { unread: String(unread), arrived: String(message.arrived === true) },
      attrs: { "data-testid": "inbox-message" },
    },
    [
      h("span", {
        className: "nec-inbox-marker",
        text: unread ? "●" : "",
        attrs: unread
          ? { role: "img", "aria-label": "unread", title: "unread" }
          : { "aria-hidden": "true" },
      }),
      h("span", {
        className: "nec-inbox-from",
        text: from,
        attrs: { title: String(message.address || "") },
      }),
      h("span", { className: "nec-inbox-subject", text: subject, attrs: { title: subject } }),
      h("time", {
        className: "nec-inbox-date",
        text: shortDate(message.date),
        attrs: message.date ? { datetime: String(message.date), title: String(message.date) } : {},
      }),
    ],
  );
  return row;
}

export function renderInbox(model: Model, el: HTMLElement): () => void {
  const client = new RequestClient<InboxMethods>(model, 30_000);
  let stopping = false;

  const root = h("div", { className: "nec-inbox", attrs: { "data-testid": "nec-inbox" } });
  const title = h("span", { className: "nec-inbox-title" });
  const dot = h("span", { className: "nec-inbox-dot", attrs: { "aria-hidden": "true" } });
  const statusText = h("span", { className: "nec-inbox-status-text" });
  const status = h(
    "span",
    {
      className: "nec-inbox-status",
      attrs: { role: "status", "aria-live": "polite", "data-testid": "inbox-status" },
    },
    [dot, statusText],
  );
  const stopButton = h("button", { text: "Stop", attrs: { type: "button", name: "stop" } });
  const header = h("div", { className: "nec-inbox-header" }, [title, status, stopButton]);
  const list = h("ul", {
    className: "nec-inbox-list",
    attrs: { "data-testid": "inbox-messages", "aria-label": "messages, newest first" },
  });
  const empty = h("div", { className: "nec-inbox-empty", text: "No messages yet." });
  root.append(header, list, empty);
  el.append(root);

  function showTitle(): void {
    title.textContent = `Live inbox · ${String(model.get("folder") ?? "")}`;
  }

  function showMessages(): void {
    const messages = model.get("messages") ?? [];
    const limit = Number(model.get("limit")) || messages.length;
    clear(list);
    for (const message of messages.slice(0, limit)) list.append(messageRow(message));
    empty.hidden = messages.length > 0;
  }

  function showStatus(): void {
    const current = model.get("status") ?? { state: "starting", message: "" };
    const state: InboxState = current.state in STATE_LABEL ? current.state : "error";
    root.dataset.state = state;
    status.dataset.state = state;
    const text = current.message || `${STATE_LABEL[state]}.`;
    statusText.textContent = stopping && !ENDED.has(state) ? "Stopping…" : text;
    stopButton.disabled = stopping || ENDED.has(state);
    if (state === "starting" || state === "watching" || state === "reconnecting") {
      empty.textContent = state === "watching" ? "No messages yet." : "Loading…";
    } else {
      empty.textContent = "No messages.";
    }
  }

  stopButton.addEventListener("click", async () => {
    if (stopping) return;
    stopping = true;
    showStatus();
    try {
      await client.request("stop", {});
    } catch (error) {
      stopping = false;
      statusText.textContent = error instanceof RequestError ? error.message : String(error);
      stopButton.disabled = false;
    }
  });

  const handlers: Array<[string, () => void]> = [
    ["change:folder", showTitle],
    ["change:messages", showMessages],
    ["change:limit", showMessages],
    ["change:status", showStatus],
  ];
  const unlisten = listen(model, handlers);
  showTitle();
  showMessages();
  showStatus();

  return () => {
    unlisten();
    client.dispose();
  };
}

export default {
  render({ model, el }: RenderProps<InboxModel>) {
    return renderInbox(model, el);
  },
};

import { afterEach, describe, expect, it } from "vitest";
import { type InboxMessage, type InboxModel, renderInbox, shortDate } from "../src/inbox";
import { FakeModel } from "./fake-model";

const HOSTILE = '<img src=x onerror="window.__pwned=1">Invoice';

function message(overrides: Partial<InboxMessage> = {}): InboxMessage {
  return {
    ref: "imap://alice@h/INBOX;UIDVALIDITY=7/;UID=1",
    from: "Bob Example",
    address: "bob@example.org",
    subject: "Q3 numbers",
    date: "2024-06-01T10:00:00+00:00",
    unread: false,
    arrived: false,
    ...overrides,
  };
}

function state(overrides: Partial<InboxModel> = {}): InboxModel {
  return {
    folder: "INBOX",
    limit: 20,
    messages: [],
    status: { state: "watching", message: "Watching 'INBOX' (IDLE)." },
    ...overrides,
  };
}

function render(initial: InboxModel) {
  const model = new FakeModel<InboxModel>(initial);
  const el = document.createElement("div");
  document.body.append(el);
  const dispose = renderInbox(model as never, el);
  return { model, el, dispose };
}

afterEach(() => {
  document.body.replaceChildren();
});

describe("live inbox", () => {
  it("renders the messages newest first with the unread marker and the status", () => {
    const { el } = render(
      state({
        messages: [
          message({ ref: "r2", subject: "new one", unread: true, arrived: true }),
          message({ ref: "r1", from: "", address: "carol@example.org", subject: "" }),
        ],
      }),
    );
    const rows = [...el.querySelectorAll("[data-testid=inbox-message]")] as HTMLElement[];
    expect(rows).toHaveLength(2);
    expect(rows[0].querySelector(".nec-inbox-subject")?.textContent).toBe("new one");
    expect(rows[0].dataset.unread).toBe("true");
    expect(rows[0].dataset.arrived).toBe("true");
    expect(rows[0].querySelector("[aria-label=unread]")).not.toBeNull();
    expect(rows[1].querySelector(".nec-inbox-from")?.textContent).toBe("carol@example.org");
    expect(rows[1].querySelector(".nec-inbox-subject")?.textContent).toBe("(no subject)");
    expect(rows[1].querySelector("[aria-label=unread]")).toBeNull();
    expect(rows[1].querySelector("time")?.getAttribute("datetime")).toBe(
      "2024-06-01T10:00:00+00:00",
    );
    expect(el.querySelector(".nec-inbox-title")?.textContent).toBe("Live inbox · INBOX");
    expect(el.querySelector("[data-testid=inbox-status]")?.textContent).toBe(
      "Watching 'INBOX' (IDLE).",
    );
    expect((el.querySelector(".nec-inbox-empty") as HTMLElement).hidden).toBe(true);
  });

  it("shows a hostile subject and sender as text, never as HTML", () => {
    const { el } = render(
      state({
        messages: [
          message({ subject: HOSTILE, from: "<script>alert(1)</script>", address: HOSTILE }),
        ],
      }),
    );
    const row = el.querySelector("[data-testid=inbox-message]") as HTMLElement;
    expect(row.querySelector(".nec-inbox-subject")?.textContent).toBe(HOSTILE);
    expect(row.querySelector(".nec-inbox-from")?.textContent).toBe("<script>alert(1)</script>");
    expect(el.querySelector("img")).toBeNull();
    expect(el.querySelector("script")).toBeNull();
    expect((window as unknown as Record<string, unknown>).__pwned).toBeUndefined();
  });

  it("adds an arrival at the top when the kernel changes the list, and keeps to the limit", () => {
    const { el, model } = render(
      state({ limit: 2, messages: [message({ ref: "a", subject: "a" })] }),
    );
    model.kernelSet("messages", [
      message({ ref: "c", subject: "c", arrived: true }),
      message({ ref: "b", subject: "b", arrived: true }),
      message({ ref: "a", subject: "a" }),
    ]);
    const subjects = [...el.querySelectorAll(".nec-inbox-subject")].map((s) => s.textContent);
    expect(subjects).toEqual(["c", "b"]);
  });

  it("Stop sends one request and the button stays off once stopped", () => {
    const { el, model } = render(state());
    const stop = el.querySelector("button[name=stop]") as HTMLButtonElement;
    expect(stop.disabled).toBe(false);
    stop.click();
    stop.click();
    expect(model.requests()).toHaveLength(1);
    expect(model.requests()[0].method).toBe("stop");
    expect(stop.disabled).toBe(true);
    expect(el.querySelector("[data-testid=inbox-status]")?.textContent).toBe("Stopping…");
    model.reply({ state: "watching" });
    model.kernelSet("status", { state: "stopped", message: "Stopped." });
    expect(stop.disabled).toBe(true);
    expect(el.querySelector("[data-testid=inbox-status]")?.textContent).toBe("Stopped.");
    expect((el.querySelector(".nec-inbox") as HTMLElement).dataset.state).toBe("stopped");
  });

  it("shows an error state and an empty list plainly", () => {
    const { el } = render(
      state({ status: { state: "error", message: "InvalidInputError: there is no folder" } }),
    );
    expect(el.querySelector("[data-testid=inbox-status]")?.textContent).toBe(
      "InvalidInputError: there is no folder",
    );
    expect((el.querySelector("button[name=stop]") as HTMLButtonElement).disabled).toBe(true);
    expect((el.querySelector(".nec-inbox-empty") as HTMLElement).hidden).toBe(false);
  });

  it("formats dates briefly", () => {
    const now = new Date(2026, 5, 1, 15, 0);
    expect(shortDate(null, now)).toBe("");
    expect(shortDate("not a date", now)).toBe("");
    expect(shortDate(new Date(2026, 5, 1, 9, 5).toISOString(), now)).toMatch(/09.05/);
    expect(shortDate(new Date(2024, 0, 3, 9, 5).toISOString(), now)).toMatch(/2024/);
  });
});

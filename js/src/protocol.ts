// Request/reply over anywidget custom messages (the quak pattern): every request carries an
// id, the kernel always answers {kind: "reply", id, ok, result | error}, and a request the
// kernel never answers still ends, by its timeout or by cancel(), so the UI never hangs.
// The message shapes are in messages.ts; a client is typed by its widget's MethodMap.

import type {
  CancelMessage,
  ErrorInfo,
  MethodMap,
  ReplyError,
  ReplyMessage,
  RequestMessage,
} from "./messages";

export type { ErrorInfo } from "./messages";

/** The kernel's ErrorInfo, or an error of the client itself (a timeout, a cancel: no field). */
export type ErrorDetails = Omit<ErrorInfo, "field"> & { field?: string | null };

export class RequestError extends Error {
  readonly type: string;
  readonly field: string | null;

  constructor(info: ErrorDetails) {
    super(info.message);
    this.name = "RequestError";
    this.type = info.type;
    this.field = info.field ?? null;
  }
}

/** The part of an anywidget model the client needs (small, so tests can fake it). */
export interface MessageModel {
  send(content: unknown): void;
  on(eventName: "msg:custom", callback: (msg: unknown) => void): void;
  off(eventName: "msg:custom", callback: (msg: unknown) => void): void;
}

export interface RequestOptions {
  /** Milliseconds before giving up; 0 or undefined means the client's default. */
  timeoutMs?: number;
  /** Aborting the signal ends the request with a "Cancelled" error. */
  signal?: AbortSignal;
}

interface Pending {
  resolve: (value: unknown) => void;
  reject: (error: RequestError) => void;
  timer: ReturnType<typeof setTimeout> | null;
}

function isReply(msg: unknown): msg is ReplyMessage {
  if (typeof msg !== "object" || msg === null) return false;
  const candidate = msg as Record<string, unknown>;
  return candidate.kind === "reply" && typeof candidate.id === "string";
}

/** The kernel's error, or a stand-in when a malformed failure reply carries none. */
function errorOf(reply: ReplyError): ErrorDetails {
  const info = reply.error as ErrorInfo | undefined;
  return info && typeof info.message === "string"
    ? info
    : { type: "Error", message: "Unknown error." };
}

let counter = 0;

export class RequestClient<M extends MethodMap = MethodMap> {
  private readonly pending = new Map<string, Pending>();
  private readonly prefix = `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
  private readonly listener = (msg: unknown) => this.onMessage(msg);

  constructor(
    private readonly model: MessageModel,
    private readonly defaultTimeoutMs = 30_000,
  ) {
    model.on("msg:custom", this.listener);
  }

  request<K extends keyof M & string>(
    method: K,
    params: M[K]["params"],
    options: RequestOptions = {},
  ): Promise<M[K]["result"]> {
    counter += 1;
    const id = `${this.prefix}-${counter}`;
    const timeoutMs = options.timeoutMs || this.defaultTimeoutMs;
    return new Promise<M[K]["result"]>((resolve, reject) => {
      const entry: Pending = { resolve: resolve as (value: unknown) => void, reject, timer: null };
      entry.timer = setTimeout(() => {
        this.finish(id, {
          type: "Timeout",
          message: `The kernel did not answer within ${Math.round(timeoutMs / 1000)} s. Is it busy or stopped?`,
        });
      }, timeoutMs);
      this.pending.set(id, entry);
      if (options.signal) {
        if (options.signal.aborted) {
          this.finish(id, { type: "Cancelled", message: "Cancelled." });
          return;
        }
        options.signal.addEventListener("abort", () => {
          if (this.pending.has(id)) {
            const cancel: CancelMessage = { kind: "cancel", id };
            this.model.send(cancel);
            this.finish(id, { type: "Cancelled", message: "Cancelled." });
          }
        });
      }
      const message: RequestMessage = { kind: "request", id, method, params };
      this.model.send(message);
    });
  }

  /** Fail every outstanding request (the view is going away). */
  dispose(): void {
    this.model.off("msg:custom", this.listener);
    for (const id of [...this.pending.keys()]) {
      this.finish(id, { type: "Cancelled", message: "The view was closed." });
    }
  }

  get outstanding(): number {
    return this.pending.size;
  }

  private onMessage(msg: unknown): void {
    if (!isReply(msg)) return;
    const entry = this.pending.get(msg.id);
    if (!entry) return; // a late reply to a cancelled or timed-out request
    this.pending.delete(msg.id);
    if (entry.timer !== null) clearTimeout(entry.timer);
    if (msg.ok === true) {
      entry.resolve(msg.result);
    } else {
      entry.reject(new RequestError(errorOf(msg)));
    }
  }

  private finish(id: string, error: ErrorDetails): void {
    const entry = this.pending.get(id);
    if (!entry) return;
    this.pending.delete(id);
    if (entry.timer !== null) clearTimeout(entry.timer);
    entry.reject(new RequestError(error));
  }
}

// A stand-in for the anywidget model: traits in a map, events, and the messages sent.
type Callback = (...args: unknown[]) => void;

// biome-ignore lint/suspicious/noExplicitAny: any model shape
export class FakeModel<T extends Record<string, any>> {
  sent: Array<Record<string, unknown>> = [];
  saves = 0;
  private listeners = new Map<string, Set<Callback>>();
  widget_manager = {} as never;

  constructor(private state: T) {}

  get<K extends keyof T>(key: K): T[K] {
    return this.state[key];
  }

  set<K extends keyof T>(key: K, value: T[K]): void {
    this.state[key] = value;
    this.emit(`change:${String(key)}`);
  }

  /** A change made by the kernel. */
  kernelSet<K extends keyof T>(key: K, value: T[K]): void {
    this.set(key, value);
  }

  save_changes(): void {
    this.saves += 1;
  }

  send(content: unknown): void {
    this.sent.push(content as Record<string, unknown>);
  }

  on(event: string, callback: Callback): void {
    if (!this.listeners.has(event)) this.listeners.set(event, new Set());
    this.listeners.get(event)?.add(callback);
  }

  off(event?: string | null, callback?: Callback | null): void {
    if (event && callback) this.listeners.get(event)?.delete(callback);
  }

  emit(event: string, ...args: unknown[]): void {
    for (const callback of this.listeners.get(event) ?? []) callback(...args);
  }

  /** The kernel answers the last request. */
  reply(result: unknown, ok = true): void {
    const last = [...this.sent].reverse().find((m) => m.kind === "request");
    if (!last) throw new Error("no request was sent");
    this.emit(
      "msg:custom",
      ok
        ? { kind: "reply", id: last.id, ok: true, result }
        : { kind: "reply", id: last.id, ok: false, error: result },
    );
  }

  requests(): Array<Record<string, unknown>> {
    return this.sent.filter((m) => m.kind === "request");
  }
}

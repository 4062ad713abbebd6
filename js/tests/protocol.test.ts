import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { RequestClient, RequestError } from "../src/protocol";
import { FakeModel } from "./fake-model";

describe("RequestClient", () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it("resolves with the kernel's result for the matching id", async () => {
    const model = new FakeModel({});
    const client = new RequestClient(model);
    const promise = client.request("echo", { text: "hi" });
    const sent = model.requests()[0];
    expect(sent).toMatchObject({ kind: "request", method: "echo", params: { text: "hi" } });
    model.emit("msg:custom", { kind: "reply", id: "someone-else", ok: true, result: 1 });
    model.emit("msg:custom", { kind: "reply", id: sent.id, ok: true, result: { echo: "hi" } });
    await expect(promise).resolves.toEqual({ echo: "hi" });
    expect(client.outstanding).toBe(0);
  });

  it("rejects with the kernel's typed error and field", async () => {
    const model = new FakeModel({});
    const client = new RequestClient(model);
    const promise = client.request("save", {});
    model.reply({ type: "InvalidInputError", message: "bad port", field: "imap_port" }, false);
    const error = await promise.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RequestError);
    expect(error).toMatchObject({
      type: "InvalidInputError",
      message: "bad port",
      field: "imap_port",
    });
  });

  it("gives up after its timeout and ignores the late reply", async () => {
    const model = new FakeModel({});
    const client = new RequestClient(model, 1000);
    const promise = client.request("slow", {});
    const caught = promise.catch((e: unknown) => e);
    vi.advanceTimersByTime(1001);
    expect(await caught).toMatchObject({ type: "Timeout" });
    model.reply("late");
    expect(client.outstanding).toBe(0);
  });

  it("a per-request timeout longer than the default lets slow logins finish", async () => {
    const model = new FakeModel({});
    const client = new RequestClient(model, 1000);
    const promise = client.request("test_connection", {}, { timeoutMs: 200_000 });
    vi.advanceTimersByTime(150_000);
    model.reply({ ok: true });
    await expect(promise).resolves.toEqual({ ok: true });
  });

  it("cancel tells the kernel and ends the request at once", async () => {
    const model = new FakeModel({});
    const client = new RequestClient(model);
    const controller = new AbortController();
    const promise = client.request("test_connection", {}, { signal: controller.signal });
    controller.abort();
    await expect(promise).rejects.toMatchObject({ type: "Cancelled" });
    expect(model.sent.at(-1)).toMatchObject({ kind: "cancel", id: model.requests()[0].id });
  });

  it("dispose fails everything outstanding", async () => {
    const model = new FakeModel({});
    const client = new RequestClient(model);
    const promise = client.request("x", {});
    client.dispose();
    await expect(promise).rejects.toMatchObject({ type: "Cancelled" });
  });
});

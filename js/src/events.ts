// Model change listeners that come off together: a view subscribes on render and must
// unsubscribe the same handlers when it is removed.

export interface EventSource {
  on(eventName: string, callback: () => void): void;
  off(eventName: string, callback: () => void): void;
}

/** Call each handler on its event from now on; the returned function removes them all. */
export function listen(model: EventSource, handlers: Array<[string, () => void]>): () => void {
  for (const [event, handler] of handlers) model.on(event, handler);
  return () => {
    for (const [event, handler] of handlers) model.off(event, handler);
  };
}

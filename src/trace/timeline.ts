/**
 * A bounded record of the backend's wait returns (epoll_wait, poll or select): when each
 * happened and which [fd, events] it returned, for the lab's timelines (where LT re-reports
 * readiness and ET reports edges).
 */

/** One wait's return. */
export interface RecordedWait {
  /** Milliseconds since the trace started. */
  t: number;
  events: [fd: number, events: number][];
}

/** Keeps the first `limit` waits that returned events; costs one branch per wait after that. */
export class WaitTrace {
  readonly waits: RecordedWait[] = [];
  readonly #limit: number;
  readonly #start = performance.now();

  constructor(limit: number) {
    this.#limit = limit;
  }

  /** Pass to HttpServer.setRecorder. */
  record = (events: Uint32Array, count: number): void => {
    if (this.waits.length >= this.#limit) return;
    const list = new Array<[number, number]>(count);
    for (let i = 0; i < count; i++) list[i] = [events[2 * i]!, events[2 * i + 1]!];
    this.waits.push({ t: Math.round((performance.now() - this.#start) * 1000) / 1000, events: list });
  };
}

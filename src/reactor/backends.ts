/** The one place a polling backend is made by name. */
import type { BackendName, PollBackend } from './backend.js';
import { EpollBackend } from './epoll-backend.js';
import { PollSetBackend } from './poll-backend.js';
import { SelectBackend } from './select-backend.js';

/** How each backend is made: a name without a maker does not compile. */
const MAKERS: Readonly<Record<BackendName, () => PollBackend>> = {
  epoll: () => new EpollBackend(),
  poll: () => new PollSetBackend(),
  select: () => new SelectBackend(),
};

/** A new, empty backend of kind `name`. */
export function createBackend(name: BackendName): PollBackend {
  return MAKERS[name]();
}

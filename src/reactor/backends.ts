/** The one place a polling backend is made by name. */
import type { BackendName, PollBackend } from './backend.js';
import { EpollBackend } from './epoll-backend.js';
import { PollSetBackend } from './poll-backend.js';
import { SelectBackend } from './select-backend.js';

/** A new, empty backend of kind `name`. */
export function createBackend(name: BackendName): PollBackend {
  if (name === 'poll') return new PollSetBackend();
  if (name === 'select') return new SelectBackend();
  return new EpollBackend();
}

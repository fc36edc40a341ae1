/**
 * `etlt/select`: Python's `select` module (select(), poll, epoll and their constants),
 * without the HTTP server.
 */
export { select, Poll } from '../select.js';
export type { FileObject, PollEvent } from '../select.js';
export { Epoll } from '../epoll.js';
export type { EpollEvent, EpollListener } from '../epoll.js';
export type { HasFileno } from '../validate.js';
export {
  EPOLLIN,
  EPOLLOUT,
  EPOLLPRI,
  EPOLLERR,
  EPOLLHUP,
  EPOLLRDHUP,
  EPOLLET,
  EPOLLONESHOT,
  EPOLLEXCLUSIVE,
  EPOLLWAKEUP,
  EPOLLRDNORM,
  EPOLLRDBAND,
  EPOLLWRNORM,
  EPOLLWRBAND,
  EPOLLMSG,
  EPOLL_CLOEXEC,
  POLLIN,
  POLLPRI,
  POLLOUT,
  POLLERR,
  POLLHUP,
  POLLNVAL,
  POLLRDNORM,
  POLLRDBAND,
  POLLWRNORM,
  POLLWRBAND,
  POLLMSG,
  POLLRDHUP,
} from '../constants.js';
